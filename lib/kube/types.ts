import type { ListMeta, ObjectMeta } from "kubernetes-types/meta/v1.d.ts";

/** The minimal shape every Kubernetes object has. */
export interface KubeObject {
  /** "v1" or "group/version". */
  apiVersion?: string;
  /** Kind, e.g. "Pod". */
  kind?: string;
  /** Standard object metadata. */
  metadata?: ObjectMeta;
}

/** A list response: `items` plus list metadata (resourceVersion, continue). */
export interface ObjectList<T> {
  /** "v1" or "group/version". */
  apiVersion: string;
  /** Kind of the list, e.g. "PodList". */
  kind: string;
  /** resourceVersion of the snapshot and the continue token of the next page. */
  metadata: ListMeta;
  /** The objects. */
  items: T[];
}

/** Type of a watch event as sent by the API server. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/**
 * One event of a watch stream. For `ERROR` events the object is a `Status`;
 * {@linkcode ResourceClient.watch} turns those into thrown `KubeApiError`s instead of yielding them.
 */
export interface WatchEvent<T> {
  /** What happened. */
  type: WatchEventType;
  /**
   * The object after the change (its last state for DELETED; only metadata.resourceVersion for BOOKMARK).
   */
  object: T;
}

/** Options of a list call. */
export interface ListOptions {
  /** Label selector, e.g. "app=x,tier!=db". */
  labelSelector?: string;
  /** Field selector, e.g. "spec.nodeName=node-1". */
  fieldSelector?: string;
  /** Page size. */
  limit?: number;
  /** Continue token from the previous page. */
  continue?: string;
  /** Snapshot to list from (opaque). */
  resourceVersion?: string;
  /** "NotOlderThan" | "Exact"; only meaningful with resourceVersion. */
  resourceVersionMatch?: string;
}

/** Options of a watch call. */
export interface WatchOptions {
  /** Watch changes after this resourceVersion (opaque). */
  resourceVersion?: string;
  /** Label selector. */
  labelSelector?: string;
  /** Field selector. */
  fieldSelector?: string;
  /** Server-side timeout; a random value in [300, 600] when omitted, as client-go does. */
  timeoutSeconds?: number;
  /** Aborting ends the iteration cleanly (no error is thrown). */
  signal?: AbortSignal;
  /**
   * Abort the stream when nothing (not even a bookmark) arrived for this long.
   * Defaults to timeoutSeconds + 60 s so a healthy but quiet stream is never cut.
   */
  inactivityTimeoutMs?: number;
}

/** Options of create and replace calls. */
export interface WriteOptions {
  /** Validate without persisting. */
  dryRun?: boolean;
  /** Field manager recorded in managedFields. */
  fieldManager?: string;
}

/** Patch flavours and their content types. */
export type PatchType = "merge" | "json" | "strategic" | "apply";

/** Options of a patch call. */
export interface PatchOptions {
  /** Field manager recorded in managedFields; required for apply patches. */
  fieldManager?: string;
  /** Only for apply patches: take ownership of conflicting fields. */
  force?: boolean;
  /** Validate without persisting. */
  dryRun?: boolean;
}

/** Options of a delete call. */
export interface DeleteOptions {
  /** How dependents are garbage-collected. */
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  /** Delete only if the object still has this UID / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  /** Grace period; 0 deletes at once. */
  gracePeriodSeconds?: number;
  /** Validate without deleting. */
  dryRun?: boolean;
}
