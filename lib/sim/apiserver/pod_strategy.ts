/**
 * Pod writes as kube-apiserver's pod registry and default admission plugins treat them:
 * defaults, status reset on create, validation of containers, and the rule that an update
 * may change only container images, `activeDeadlineSeconds` and added tolerations.
 *
 * @module
 */
import * as fe from "./field_errors.ts";
import { isObject, jsonEqual, type JsonObject } from "./json_util.ts";
import { nameError } from "./names.ts";
import type { Strategy } from "./resource_def.ts";
import type { StatusCause } from "./status.ts";

function containers(spec: JsonObject, field: string): JsonObject[] {
  const list = spec[field];
  return Array.isArray(list) ? list.filter(isObject) : [];
}

function defaultImagePullPolicy(image: unknown): string {
  if (typeof image !== "string") return "IfNotPresent";
  if (image.includes("@")) return "IfNotPresent";
  const lastSlash = image.lastIndexOf("/");
  const colon = image.indexOf(":", lastSlash + 1);
  const tag = colon >= 0 ? image.slice(colon + 1) : "";
  return tag === "" || tag === "latest" ? "Always" : "IfNotPresent";
}

function defaultContainer(c: JsonObject): void {
  c.imagePullPolicy ??= defaultImagePullPolicy(c.image);
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.resources ??= {};
}

function qosClass(spec: JsonObject): string {
  let anyRequest = false;
  let guaranteed = true;
  for (const c of [...containers(spec, "containers"), ...containers(spec, "initContainers")]) {
    const res = isObject(c.resources) ? c.resources : {};
    const req = isObject(res.requests) ? res.requests : {};
    const lim = isObject(res.limits) ? res.limits : {};
    if (Object.keys(req).length || Object.keys(lim).length) anyRequest = true;
    for (const r of ["cpu", "memory"]) {
      if (lim[r] === undefined || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
    }
  }
  if (!anyRequest) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

const NOT_READY_TOLERATIONS = [
  {
    key: "node.kubernetes.io/not-ready",
    operator: "Exists",
    effect: "NoExecute",
    tolerationSeconds: 300,
  },
  {
    key: "node.kubernetes.io/unreachable",
    operator: "Exists",
    effect: "NoExecute",
    tolerationSeconds: 300,
  },
];

/** Defaults the API applies when decoding any pod write (create or update). */
function applyDefaults(spec: JsonObject): void {
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  spec.serviceAccountName ??= spec.serviceAccount ?? "default";
  spec.serviceAccount = spec.serviceAccountName;
  for (const f of ["containers", "initContainers"]) containers(spec, f).forEach(defaultContainer);
}

/** What the DefaultTolerationSeconds admission plugin adds on create. */
function admitTolerations(spec: JsonObject): void {
  const tolerations = Array.isArray(spec.tolerations) ? [...spec.tolerations] : [];
  for (const t of NOT_READY_TOLERATIONS) {
    const has = tolerations.some((x) =>
      isObject(x) && (x.key === t.key || (x.key === undefined && x.operator === "Exists")) &&
      (x.effect === undefined || x.effect === "" || x.effect === t.effect)
    );
    if (!has) tolerations.push({ ...t });
  }
  spec.tolerations = tolerations;
}

function validateSpec(spec: unknown): StatusCause[] {
  if (!isObject(spec)) return [fe.required("spec.containers")];
  const causes: StatusCause[] = [];
  const list = containers(spec, "containers");
  if (list.length === 0) causes.push(fe.required("spec.containers"));
  for (const field of ["containers", "initContainers"]) {
    const seen = new Set<string>();
    containers(spec, field).forEach((c, i) => {
      const at = `spec.${field}[${i}]`;
      if (typeof c.name !== "string" || c.name === "") {
        causes.push(fe.required(`${at}.name`));
      } else {
        const err = nameError(c.name, "label");
        if (err) causes.push(fe.invalidValue(`${at}.name`, c.name, err));
        if (seen.has(c.name)) causes.push(fe.duplicate(`${at}.name`, c.name));
        seen.add(c.name);
      }
      if (typeof c.image !== "string" || c.image.trim() === "") {
        causes.push(fe.required(`${at}.image`));
      }
      const pp = c.imagePullPolicy;
      if (pp !== undefined && !["Always", "IfNotPresent", "Never"].includes(String(pp))) {
        causes.push(
          fe.notSupported(`${at}.imagePullPolicy`, pp, ["Always", "IfNotPresent", "Never"]),
        );
      }
    });
  }
  const rp = spec.restartPolicy;
  if (rp !== undefined && !["Always", "OnFailure", "Never"].includes(String(rp))) {
    causes.push(fe.notSupported("spec.restartPolicy", rp, ["Always", "OnFailure", "Never"]));
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && (typeof ads !== "number" || ads <= 0)) {
    causes.push(
      fe.invalidValue("spec.activeDeadlineSeconds", ads, "must be greater than or equal to 1"),
    );
  }
  return causes;
}

/** The spec with the fields an update may change blanked out, for comparison. */
function immutablePart(spec: JsonObject): JsonObject {
  const copy = structuredClone(spec);
  for (const f of ["containers", "initContainers"]) {
    for (const c of containers(copy, f)) delete c.image;
  }
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  return copy;
}

const UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`," +
  "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/** Write strategy of Pods. */
export const POD_STRATEGY: Strategy = {
  prepareCreate(pod) {
    if (!isObject(pod.spec)) pod.spec = {};
    applyDefaults(pod.spec as JsonObject);
    admitTolerations(pod.spec as JsonObject);
    pod.status = { phase: "Pending", qosClass: qosClass(pod.spec as JsonObject) };
  },
  prepareUpdate(pod) {
    if (isObject(pod.spec)) applyDefaults(pod.spec);
  },
  validateCreate(pod) {
    return validateSpec(pod.spec);
  },
  validateUpdate(pod, old) {
    const causes = validateSpec(pod.spec);
    if (causes.length) return causes;
    const spec = pod.spec as JsonObject;
    const oldSpec = isObject(old.spec) ? old.spec : {};
    // A status write keeps the stored spec; only a changed spec needs the field-by-field check.
    if (
      spec !== oldSpec && !jsonEqual(spec, oldSpec) &&
      !jsonEqual(immutablePart(spec), immutablePart(oldSpec))
    ) {
      return [fe.forbiddenField("spec", UPDATE_FORBIDDEN)];
    }
    const oldTol = Array.isArray(oldSpec.tolerations) ? oldSpec.tolerations : [];
    const newTol = Array.isArray(spec.tolerations) ? spec.tolerations : [];
    if (!oldTol.every((t) => newTol.some((n) => jsonEqual(n, t)))) {
      return [
        fe.forbiddenField(
          "spec.tolerations",
          "existing toleration can not be modified except its tolerationSeconds",
        ),
      ];
    }
    return [];
  },
};
