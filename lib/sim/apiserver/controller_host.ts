/**
 * What the built-in controllers (garbage collector, namespace and CRD cleanup) may do to the
 * store: the same internal writes the API logic uses, without HTTP or validation.
 *
 * @module
 */
import type { Rec } from "./event_log.ts";
import { isObject, type JsonObject, metaOf } from "./json_util.ts";
import type { ResourceDef } from "./resource_def.ts";
import type { ResourceRegistry } from "./resource_registry.ts";
import type { Bucket, ResourceStore } from "./resource_store.ts";

/** The API core as its controllers see it. */
export interface ControllerHost {
  readonly store: ResourceStore;
  readonly registry: ResourceRegistry;
  /** Queues work to run after the current operation. */
  later(task: () => void): void;
  /** Deletes an object as a DELETE with this propagation policy would. */
  delete(bucket: Bucket, key: string, policy: string): void;
  /** Stores an update; an object being deleted that lost its last finalizer goes away. */
  commitUpdate(bucket: Bucket, key: string, obj: JsonObject): Rec;
  /** Creates an object as a POST would (errors are ignored by the caller's task runner). */
  create(def: ResourceDef, ns: string, body: JsonObject): void;
  /** Runs the removal follow-ups of an object the controller removed itself. */
  removed(bucket: Bucket, rec: Rec): void;
}

/** The storage key of Namespaces. */
export const NAMESPACES_KEY = "/namespaces";
/** The storage key of CustomResourceDefinitions. */
export const CRDS_KEY = "apiextensions.k8s.io/customresourcedefinitions";
/** The finalizer of foreground deletion. */
export const FOREGROUND = "foregroundDeletion";

/** An object's `metadata.finalizers`. */
export function finalizersOf(obj: JsonObject): string[] {
  const f = metaOf(obj).finalizers;
  return Array.isArray(f) ? f as string[] : [];
}

/** An object's ownerReferences. */
export function ownerRefsOf(obj: JsonObject): JsonObject[] {
  const refs = metaOf(obj).ownerReferences;
  return Array.isArray(refs) ? refs.filter(isObject) : [];
}

let isoSecond = Number.NaN;
let isoText = "";

/** Now as kube prints timestamps (seconds precision, UTC); formatted once per second. */
export function nowIso(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoText = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  return isoText;
}
