import type { ListMeta, ObjectMeta } from "kubernetes-types/meta/v1.d.ts";

/** The minimal shape every Kubernetes object has. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A list response: `items` plus list metadata (resourceVersion, continue). */
export interface ObjectList<T> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

/** Type of a watch event as sent by the API server. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/**
 * One event of a watch stream. For `ERROR` events the object is a `Status`;
 * {@linkcode ResourceClient.watch} turns those into thrown `KubeApiError`s instead of yielding them.
 */
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** Options of a list call. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  /** "NotOlderThan" | "Exact"; only meaningful with resourceVersion. */
  resourceVersionMatch?: string;
}

/** Options of a watch call. */
export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
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
  dryRun?: boolean;
  fieldManager?: string;
}

/** Patch flavours and their content types. */
export type PatchType = "merge" | "json" | "strategic" | "apply";

/** Options of a patch call. */
export interface PatchOptions {
  fieldManager?: string;
  /** Only for apply patches: take ownership of conflicting fields. */
  force?: boolean;
  dryRun?: boolean;
}

/** Options of a delete call. */
export interface DeleteOptions {
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: boolean;
}
