/**
 * ObjectMeta rules shared by every resource: validation of names, labels, annotations,
 * finalizers and ownerReferences, and the fields only the server may set.
 *
 * @module
 */
import * as fe from "./field_errors.ts";
import { isObject, jsonEqual, type JsonObject } from "./json_util.ts";
import { labelKeyError, labelValueError } from "./label_selector.ts";
import { nameError } from "./names.ts";
import type { StatusCause } from "./status.ts";

const QUALIFIED =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Validation errors of an object's metadata. */
export function validateMeta(
  meta: JsonObject,
  nameRule: "subdomain" | "label" | "path",
): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = meta.name;
  if (typeof name !== "string" || name === "") {
    causes.push(fe.required("metadata.name", "name or generateName is required"));
  } else {
    const err = nameError(name, nameRule);
    if (err) causes.push(fe.invalidValue("metadata.name", name, err));
  }
  for (const field of ["labels", "annotations"] as const) {
    const m = meta[field];
    if (m === undefined || m === null) continue;
    if (!isObject(m)) {
      causes.push(fe.typeInvalid(`metadata.${field}`, m, "must be a map of strings"));
      continue;
    }
    let total = 0;
    for (const [k, v] of Object.entries(m)) {
      const keyErr = labelKeyError(k);
      if (keyErr) causes.push(fe.invalidValue(`metadata.${field}`, k, keyErr));
      if (typeof v !== "string") {
        causes.push(fe.typeInvalid(`metadata.${field}.${k}`, v, "must be a string"));
        continue;
      }
      if (field === "labels") {
        const valErr = labelValueError(v);
        if (valErr) causes.push(fe.invalidValue(`metadata.labels`, v, valErr));
      } else {
        total += k.length + v.length;
      }
    }
    if (total > 256 * 1024) causes.push(fe.tooLong("metadata.annotations", 256 * 1024));
  }
  const finalizers = meta.finalizers;
  if (finalizers !== undefined && finalizers !== null) {
    if (!Array.isArray(finalizers)) {
      causes.push(fe.typeInvalid("metadata.finalizers", finalizers, "must be a list of strings"));
    } else {
      finalizers.forEach((f, i) => {
        if (typeof f !== "string" || !QUALIFIED.test(f)) {
          causes.push(
            fe.invalidValue(
              `metadata.finalizers[${i}]`,
              f,
              "name part must consist of alphanumeric characters, '-', '_' or '.'",
            ),
          );
        }
      });
    }
  }
  const refs = meta.ownerReferences;
  if (Array.isArray(refs)) {
    let controllers = 0;
    refs.forEach((r, i) => {
      const at = `metadata.ownerReferences[${i}]`;
      if (!isObject(r)) return;
      for (const f of ["apiVersion", "kind", "name", "uid"]) {
        if (typeof r[f] !== "string" || r[f] === "") {
          causes.push(fe.invalidValue(`${at}.${f}`, r[f] ?? "", `${f} must not be empty`));
        }
      }
      if (r.controller === true) controllers++;
    });
    if (controllers > 1) {
      causes.push(
        fe.invalidValue(
          "metadata.ownerReferences",
          refs.length,
          "Only one reference can have Controller set to true",
        ),
      );
    }
  }
  return causes;
}

/** Errors for finalizers added to an object that is being deleted. */
export function validateFinalizersWhileDeleting(meta: JsonObject, old: JsonObject): StatusCause[] {
  if (!old.deletionTimestamp) return [];
  const before = Array.isArray(old.finalizers) ? old.finalizers as string[] : [];
  const after = Array.isArray(meta.finalizers) ? meta.finalizers as string[] : [];
  const added = after.filter((f) => !before.includes(f));
  if (added.length === 0) return [];
  return [
    fe.forbiddenField(
      "metadata.finalizers",
      `no new finalizers can be added if the object is being deleted, found new finalizers []string{${
        added.map((f) => JSON.stringify(f)).join(", ")
      }}`,
    ),
  ];
}

/** Copies the fields only the server sets from the stored metadata onto an update. */
export function keepSystemFields(meta: JsonObject, old: JsonObject): void {
  for (
    const f of [
      "uid",
      "creationTimestamp",
      "deletionTimestamp",
      "deletionGracePeriodSeconds",
      "namespace",
      "generation",
      "selfLink",
    ]
  ) {
    if (old[f] === undefined) delete meta[f];
    else meta[f] = old[f];
  }
  if (meta.managedFields === undefined && old.managedFields !== undefined) {
    meta.managedFields = old.managedFields;
  }
  if (meta.generateName === undefined && old.generateName !== undefined) {
    meta.generateName = old.generateName;
  }
}

/** Removes what a client may not set on create. */
export function clearSystemFields(meta: JsonObject): void {
  for (
    const f of [
      "uid",
      "resourceVersion",
      "creationTimestamp",
      "deletionTimestamp",
      "deletionGracePeriodSeconds",
      "generation",
      "selfLink",
    ]
  ) {
    delete meta[f];
  }
}

/** Removes empty optional collections, as Go's omitempty would when re-encoding. */
export function dropEmptyMeta(meta: JsonObject): void {
  for (const f of ["labels", "annotations", "finalizers", "ownerReferences", "managedFields"]) {
    const v = meta[f];
    if (
      v === null || (Array.isArray(v) && v.length === 0) ||
      (isObject(v) && Object.keys(v).length === 0)
    ) {
      delete meta[f];
    }
  }
}

/**
 * Whether two objects differ in anything but metadata (and status, unless `includeStatus`:
 * without a status subresource, status changes count as spec changes).
 */
export function specChanged(a: JsonObject, b: JsonObject, includeStatus = false): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (k === "metadata" || k === "apiVersion" || k === "kind") continue;
    if (k === "status" && !includeStatus) continue;
    if (!jsonEqual(a[k], b[k])) return true;
  }
  return false;
}
