/**
 * Server-side apply, simplified: the applied configuration is merged into the live object
 * (maps deeply, list-maps by their keys, other lists atomically), and fields the same manager
 * applied before but no longer applies are removed unless another applier owns them. Each
 * applier's fields are recorded in `managedFields` (FieldsV1). Conflicts with other managers
 * are not detected: apply always wins, as with `--force-conflicts`.
 *
 * @module
 */
import { isObject, type JsonObject } from "./json_util.ts";
import type { SchemaNode } from "./schema.ts";

/** Finds the merge keys of the list at `path` (object keys from the root), if it is a list-map. */
export type ListKeysLookup = (path: readonly string[]) => string[] | undefined;

/** Merge keys of list-maps from a CRD schema (`x-kubernetes-list-type: map`). */
export function schemaListKeys(schema: SchemaNode | undefined): ListKeysLookup {
  return (path) => {
    let s: unknown = schema;
    for (const seg of path) {
      if (!isObject(s)) return undefined;
      if (seg === "[]") s = s.items;
      else if (isObject(s.properties) && isObject(s.properties[seg])) s = s.properties[seg];
      else if (isObject(s.additionalProperties)) s = s.additionalProperties;
      else return undefined;
    }
    if (!isObject(s) || s["x-kubernetes-list-type"] !== "map") return undefined;
    const keys = s["x-kubernetes-list-map-keys"];
    return Array.isArray(keys) ? keys.map(String) : undefined;
  };
}

/** Merge keys of built-in lists, by field name. */
export function namedListKeys(keys: Readonly<Record<string, string>>): ListKeysLookup {
  return (path) => {
    const k = keys[path[path.length - 1]];
    return k ? [k] : undefined;
  };
}

const SKIPPED_META = new Set([
  "managedFields",
  "resourceVersion",
  "uid",
  "creationTimestamp",
  "generation",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "selfLink",
]);

function sameKeys(a: unknown, b: unknown, keys: string[]): boolean {
  return isObject(a) && isObject(b) && keys.every((k) => a[k] === b[k]);
}

function mergeValue(
  live: unknown,
  applied: unknown,
  path: string[],
  lookup: ListKeysLookup,
): unknown {
  if (isObject(applied)) {
    const out: JsonObject = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeValue(out[k], v, [...path, k], lookup);
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const keys = lookup(path);
    if (!keys || !Array.isArray(live)) return applied;
    const out = [...live];
    for (const item of applied) {
      const i = out.findIndex((x) => sameKeys(x, item, keys));
      if (i >= 0) out[i] = mergeValue(out[i], item, [...path, "[]"], lookup);
      else out.push(item);
    }
    return out;
  }
  return applied;
}

/** Leaf field paths of an applied configuration (lists are leaves). */
export function fieldPaths(applied: JsonObject): string[][] {
  const out: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    if (isObject(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) {
        if (path.length === 1 && path[0] === "metadata" && SKIPPED_META.has(k)) continue;
        if (path.length === 0 && (k === "apiVersion" || k === "kind")) continue;
        if (path.length === 1 && path[0] === "metadata" && (k === "name" || k === "namespace")) {
          continue;
        }
        walk(x, [...path, k]);
      }
    } else if (path.length > 0) {
      out.push(path);
    }
  };
  walk(applied, []);
  return out;
}

/** Encodes paths as FieldsV1 (`{"f:spec":{"f:tag":{}}}`). */
export function toFieldsV1(paths: string[][]): JsonObject {
  const root: JsonObject = {};
  for (const p of paths) {
    let node = root;
    for (const seg of p) {
      const k = `f:${seg}`;
      if (!isObject(node[k])) node[k] = {};
      node = node[k] as JsonObject;
    }
  }
  return root;
}

/** Decodes FieldsV1 back to leaf paths. */
export function fromFieldsV1(fields: unknown): string[][] {
  const out: string[][] = [];
  const walk = (node: unknown, path: string[]) => {
    if (!isObject(node)) return;
    const children = Object.keys(node).filter((k) => k.startsWith("f:"));
    if (children.length === 0 && path.length > 0) out.push(path);
    for (const k of children) walk(node[k], [...path, k.slice(2)]);
  };
  walk(fields, []);
  return out;
}

function removePath(obj: JsonObject, path: string[]): void {
  let cur: unknown = obj;
  for (let i = 0; i < path.length - 1; i++) {
    if (!isObject(cur)) return;
    cur = cur[path[i]];
  }
  if (isObject(cur)) delete cur[path[path.length - 1]];
}

function managedEntries(obj: JsonObject | undefined): JsonObject[] {
  const mf = isObject(obj?.metadata) ? (obj!.metadata as JsonObject).managedFields : undefined;
  return Array.isArray(mf) ? mf.filter(isObject) : [];
}

/** Options of {@linkcode applyConfiguration}. */
export interface ApplyOptions {
  manager: string;
  apiVersion: string;
  now: string;
  lookup: ListKeysLookup;
  /** `status` when applying to the status subresource. */
  subresource?: string;
}

/** Merges an applied configuration into the live object (or an empty one) and records ownership. */
export function applyConfiguration(
  live: JsonObject | undefined,
  applied: JsonObject,
  opts: ApplyOptions,
): JsonObject {
  const entries = managedEntries(live);
  const isMine = (e: JsonObject) =>
    e.manager === opts.manager && e.operation === "Apply" &&
    (e.subresource ?? "") === (opts.subresource ?? "");
  const mine = entries.find(isMine);
  const merged = mergeValue(live ?? {}, applied, [], opts.lookup) as JsonObject;
  const newPaths = fieldPaths(applied);
  const newSet = new Set(newPaths.map((p) => JSON.stringify(p)));
  if (mine) {
    const othersApply = entries.filter((e) => !isMine(e) && e.operation === "Apply")
      .flatMap((e) => fromFieldsV1(e.fieldsV1).map((p) => JSON.stringify(p)));
    const others = new Set(othersApply);
    for (const p of fromFieldsV1(mine.fieldsV1)) {
      const id = JSON.stringify(p);
      if (!newSet.has(id) && !others.has(id)) removePath(merged, p);
    }
  }
  const entry: JsonObject = {
    manager: opts.manager,
    operation: "Apply",
    apiVersion: opts.apiVersion,
    time: opts.now,
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(newPaths),
  };
  if (opts.subresource) entry.subresource = opts.subresource;
  const meta = isObject(merged.metadata) ? merged.metadata as JsonObject : {};
  merged.metadata = meta;
  meta.managedFields = [...entries.filter((e) => !isMine(e)), entry];
  return merged;
}
