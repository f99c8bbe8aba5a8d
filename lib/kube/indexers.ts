import type { KubeObject } from "./types.ts";

/** Maps an object to the index values it should be found under. */
export type IndexFunc<T> = (obj: T) => string[];

/** Indexes objects by the value of one label (objects without it are not indexed). */
export function labelIndexer<T extends KubeObject>(label: string): IndexFunc<T> {
  return (obj) => {
    const v = obj.metadata?.labels?.[label];
    return v === undefined ? [] : [v];
  };
}

/** Indexes objects by the UID of each of their owners (e.g. pull pods by CachedImage). */
export function ownerUidIndexer<T extends KubeObject>(obj: T): string[] {
  return (obj.metadata?.ownerReferences ?? []).map((r) => r.uid).filter((uid) => !!uid);
}

/** Indexes pods (or anything with `spec.nodeName`) by the node they are bound to. */
export function nodeNameIndexer<T extends KubeObject>(obj: T): string[] {
  const nodeName = (obj as { spec?: { nodeName?: unknown } }).spec?.nodeName;
  return typeof nodeName === "string" && nodeName ? [nodeName] : [];
}
