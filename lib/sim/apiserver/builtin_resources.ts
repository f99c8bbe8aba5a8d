/**
 * The built-in resources this server serves, with their discovery data, field selectors,
 * tables and write strategies.
 *
 * @module
 */
import {
  CONFIGMAP_TABLE,
  EVENT_TABLE,
  LEASE_TABLE,
  NAMESPACE_TABLE,
  NODE_TABLE,
  POD_TABLE,
  SECRET_TABLE,
  SERVICEACCOUNT_TABLE,
} from "./builtin_tables.ts";
import { coreToEventsV1, eventsV1ToCore } from "./event_conversion.ts";
import * as fe from "./field_errors.ts";
import { isObject, jsonEqual, type JsonObject } from "./json_util.ts";
import { POD_STRATEGY } from "./pod_strategy.ts";
import { metaFields, type ResourceDef, type Strategy } from "./resource_def.ts";
import type { StatusCause } from "./status.ts";
import { MERGE_KEYS } from "./strategic_merge.ts";

const ALL_VERBS = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];

function str(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

function sub(obj: JsonObject, key: string): JsonObject {
  const v = obj[key];
  return isObject(v) ? v : {};
}

type DefInput =
  & Pick<ResourceDef, "group" | "version" | "plural" | "kind" | "namespaced" | "table">
  & Partial<ResourceDef>
  & { extraFields?: (obj: JsonObject) => Record<string, string> };

function builtin(d: DefInput): ResourceDef {
  const extra = d.extraFields;
  const labels = new Set(extra ? Object.keys(extra({})) : []);
  return {
    singular: d.kind.toLowerCase(),
    listKind: `${d.kind}List`,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    subresources: [],
    storageKey: `${d.group}/${d.plural}`,
    strategy: {},
    statusSubresource: false,
    tracksGeneration: false,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    nameRule: "subdomain",
    strategicMerge: true,
    returnDeletedObject: false,
    listMapKeys: MERGE_KEYS,
    fieldLabels: labels,
    fields: (obj) => ({ ...metaFields(obj, d.namespaced), ...(extra ? extra(obj) : {}) }),
    ...d,
  };
}

function isBase64(s: unknown): boolean {
  return typeof s === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;
}

function utf8ToBase64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function base64ToUtf8(s: string): string {
  const bin = atob(s);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function normaliseSecret(secret: JsonObject): void {
  secret.type ??= "Opaque";
  const stringData = secret.stringData;
  if (isObject(stringData)) {
    const data = isObject(secret.data) ? { ...secret.data } : {};
    for (const [k, v] of Object.entries(stringData)) data[k] = utf8ToBase64(String(v));
    secret.data = data;
  }
  delete secret.stringData;
}

function validateSecret(secret: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const data = sub(secret, "data");
  for (const [k, v] of Object.entries(data)) {
    if (!CONFIG_KEY.test(k)) {
      causes.push(
        fe.invalidValue(
          `data[${k}]`,
          k,
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
        ),
      );
    }
    if (!isBase64(v)) {
      causes.push(
        fe.invalidValue(`data[${k}]`, "<secret contents redacted>", "illegal base64 data"),
      );
    }
  }
  if (secret.type === "kubernetes.io/dockerconfigjson") {
    const raw = data[".dockerconfigjson"];
    if (raw === undefined) causes.push(fe.required("data[.dockerconfigjson]"));
    else if (isBase64(raw)) {
      try {
        JSON.parse(base64ToUtf8(String(raw)));
      } catch (e) {
        causes.push(
          fe.invalidValue(
            "data[.dockerconfigjson]",
            "<secret contents redacted>",
            (e as Error).message,
          ),
        );
      }
    }
  }
  return causes;
}

const SECRET_STRATEGY: Strategy = {
  prepareCreate: normaliseSecret,
  prepareUpdate: normaliseSecret,
  validateCreate: validateSecret,
  validateUpdate(secret, old) {
    const causes = validateSecret(secret);
    if (secret.type !== old.type) {
      causes.push(fe.invalidValue("type", secret.type, "field is immutable"));
    }
    if (old.immutable === true) {
      if (!jsonEqual(secret.data ?? {}, old.data ?? {})) {
        causes.push(fe.forbiddenField("data", "field is immutable when `immutable` is set"));
      }
      if (secret.immutable !== true) {
        causes.push(fe.forbiddenField("immutable", "field is immutable when `immutable` is set"));
      }
    }
    return causes;
  },
};

const CONFIGMAP_STRATEGY: Strategy = {
  validateUpdate(cm, old) {
    if (old.immutable !== true) return [];
    if (
      !jsonEqual(cm.data ?? {}, old.data ?? {}) ||
      !jsonEqual(cm.binaryData ?? {}, old.binaryData ?? {})
    ) {
      return [fe.forbiddenField("data", "field is immutable when `immutable` is set")];
    }
    return [];
  },
};

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

function validateNode(node: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const taints = sub(node, "spec").taints;
  if (Array.isArray(taints)) {
    const seen = new Set<string>();
    taints.forEach((t, i) => {
      if (!isObject(t)) return;
      if (typeof t.key !== "string" || t.key === "") {
        causes.push(fe.required(`spec.taints[${i}].key`));
      }
      if (!TAINT_EFFECTS.includes(String(t.effect))) {
        causes.push(fe.notSupported(`spec.taints[${i}].effect`, t.effect ?? "", TAINT_EFFECTS));
      }
      const id = `${t.key}:${t.effect}`;
      if (seen.has(id)) {
        causes.push(
          fe.duplicate(`spec.taints[${i}]`, `taints must be unique by key and effect pair`),
        );
      }
      seen.add(id);
    });
  }
  return causes;
}

const NODE_STRATEGY: Strategy = {
  prepareCreate(node) {
    node.spec ??= {};
  },
  validateCreate: validateNode,
  validateUpdate: validateNode,
};

const NAMESPACE_STRATEGY: Strategy = {
  prepareCreate(ns) {
    const meta = ns.metadata as JsonObject;
    meta.labels = { ...sub(meta, "labels"), "kubernetes.io/metadata.name": str(meta.name) };
    ns.spec = { finalizers: ["kubernetes"] };
    ns.status = { phase: "Active" };
  },
  prepareUpdate(ns, old) {
    const meta = ns.metadata as JsonObject;
    meta.labels = { ...sub(meta, "labels"), "kubernetes.io/metadata.name": str(meta.name) };
    ns.spec = old.spec;
  },
};

const EVENTS_V1_REQUIRED = [
  "eventTime",
  "reportingController",
  "reportingInstance",
  "action",
  "reason",
];

const EVENTS_V1_STRATEGY: Strategy = {
  validateCreate(core) {
    const v1 = coreToEventsV1(core);
    const causes = EVENTS_V1_REQUIRED.filter((f) => v1[f] === undefined || v1[f] === "").map((f) =>
      fe.required(f)
    );
    if (v1.type !== "Normal" && v1.type !== "Warning") {
      causes.push(fe.notSupported("type", v1.type ?? "", ["Normal", "Warning"]));
    }
    if (typeof v1.note === "string" && new TextEncoder().encode(v1.note).length > 1024) {
      causes.push(fe.tooLong("note", 1024));
    }
    return causes;
  },
};

function podFields(pod: JsonObject): Record<string, string> {
  const spec = sub(pod, "spec");
  const status = sub(pod, "status");
  return {
    "spec.nodeName": str(spec.nodeName),
    "spec.restartPolicy": str(spec.restartPolicy),
    "spec.schedulerName": str(spec.schedulerName),
    "spec.serviceAccountName": str(spec.serviceAccountName),
    "spec.hostNetwork": String(spec.hostNetwork === true),
    "status.phase": str(status.phase),
    "status.podIP": str(status.podIP),
    "status.nominatedNodeName": str(status.nominatedNodeName),
  };
}

function eventFields(ev: JsonObject): Record<string, string> {
  const io = sub(ev, "involvedObject");
  const src = sub(ev, "source");
  return {
    "involvedObject.kind": str(io.kind),
    "involvedObject.namespace": str(io.namespace),
    "involvedObject.name": str(io.name),
    "involvedObject.uid": str(io.uid),
    "involvedObject.apiVersion": str(io.apiVersion),
    "involvedObject.resourceVersion": str(io.resourceVersion),
    "involvedObject.fieldPath": str(io.fieldPath),
    reason: str(ev.reason),
    reportingComponent: str(ev.reportingComponent),
    source: str(src.component),
    type: str(ev.type),
  };
}

function eventsV1Fields(ev: JsonObject): Record<string, string> {
  const core = eventFields(ev);
  const out: Record<string, string> = { ...core };
  for (const [k, v] of Object.entries(core)) {
    if (k.startsWith("involvedObject.")) out[`regarding.${k.slice("involvedObject.".length)}`] = v;
  }
  out.reportingController = core.reportingComponent;
  out.deprecatedSource = core.source;
  return out;
}

/** Every built-in resource, in discovery order. */
export function builtinResources(): ResourceDef[] {
  return [
    builtin({
      group: "",
      version: "v1",
      plural: "namespaces",
      returnDeletedObject: true,
      kind: "Namespace",
      namespaced: false,
      shortNames: ["ns"],
      verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      subresources: ["status", "finalize"],
      statusSubresource: true,
      nameRule: "label",
      table: NAMESPACE_TABLE,
      strategy: NAMESPACE_STRATEGY,
      extraFields: (o) => ({ "status.phase": str(sub(o, "status").phase) }),
      description: "Namespace provides a scope for Names.",
    }),
    builtin({
      group: "",
      version: "v1",
      plural: "nodes",
      kind: "Node",
      namespaced: false,
      shortNames: ["no"],
      subresources: ["status"],
      statusSubresource: true,
      table: NODE_TABLE,
      strategy: NODE_STRATEGY,
      extraFields: (o) => ({ "spec.unschedulable": String(sub(o, "spec").unschedulable === true) }),
      description: "Node is a worker node in Kubernetes.",
    }),
    builtin({
      group: "",
      version: "v1",
      plural: "pods",
      returnDeletedObject: true,
      kind: "Pod",
      namespaced: true,
      shortNames: ["po"],
      categories: ["all"],
      subresources: ["status"],
      statusSubresource: true,
      tracksGeneration: true,
      table: POD_TABLE,
      strategy: POD_STRATEGY,
      extraFields: podFields,
      description: "Pod is a collection of containers that can run on a host.",
    }),
    builtin({
      group: "",
      version: "v1",
      plural: "secrets",
      kind: "Secret",
      namespaced: true,
      table: SECRET_TABLE,
      strategy: SECRET_STRATEGY,
      extraFields: (o) => ({ type: str(o.type) }),
      description: "Secret holds secret data of a certain type.",
    }),
    builtin({
      group: "",
      version: "v1",
      plural: "configmaps",
      kind: "ConfigMap",
      namespaced: true,
      shortNames: ["cm"],
      table: CONFIGMAP_TABLE,
      strategy: CONFIGMAP_STRATEGY,
      description: "ConfigMap holds configuration data for pods to consume.",
    }),
    builtin({
      group: "",
      version: "v1",
      plural: "serviceaccounts",
      returnDeletedObject: true,
      kind: "ServiceAccount",
      namespaced: true,
      shortNames: ["sa"],
      table: SERVICEACCOUNT_TABLE,
      description: "ServiceAccount binds together a name, a principal and a set of secrets.",
    }),
    builtin({
      group: "",
      version: "v1",
      plural: "events",
      kind: "Event",
      namespaced: true,
      shortNames: ["ev"],
      allowCreateOnUpdate: true,
      nameRule: "path",
      table: EVENT_TABLE,
      extraFields: eventFields,
      description: "Event is a report of an event somewhere in the cluster.",
    }),
    builtin({
      group: "events.k8s.io",
      version: "v1",
      plural: "events",
      kind: "Event",
      namespaced: true,
      shortNames: ["ev"],
      storageKey: "/events",
      allowCreateOnUpdate: true,
      nameRule: "path",
      table: EVENT_TABLE,
      strategy: EVENTS_V1_STRATEGY,
      extraFields: eventsV1Fields,
      toView: coreToEventsV1,
      fromView: eventsV1ToCore,
      description: "Event is a report of an event somewhere in the cluster.",
    }),
    builtin({
      group: "coordination.k8s.io",
      version: "v1",
      plural: "leases",
      kind: "Lease",
      namespaced: true,
      allowCreateOnUpdate: true,
      table: LEASE_TABLE,
      description: "Lease defines a lease concept.",
    }),
  ];
}
