/**
 * Strategic merge patch for the built-in kinds this server serves. Lists are merged by the
 * `patchMergeKey` Kubernetes declares for the field (looked up by field name, which is
 * unambiguous across Pods, Nodes, Secrets, ConfigMaps, ServiceAccounts, Events and Leases);
 * other lists are replaced. Directives `$patch` (replace, delete, merge), `$retainKeys`,
 * `$setElementOrder/<f>` and `$deleteFromPrimitiveList/<f>` are honoured.
 *
 * @module
 */
import { isObject, type JsonObject } from "./json_util.ts";

/** Merge keys of list fields with `patchStrategy: merge` in the core API. */
export const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  env: "name",
  imagePullSecrets: "name",
  ownerReferences: "uid",
  ports: "containerPort",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
  conditions: "type",
  addresses: "type",
  podIPs: "ip",
  hostIPs: "ip",
  secrets: "name",
  schedulingGates: "name",
  resourceClaims: "name",
};

/** Primitive lists merged as sets. */
const MERGED_PRIMITIVE_LISTS = new Set(["finalizers", "podCIDRs"]);

/** A malformed strategic merge patch. */
export class StrategicMergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StrategicMergeError";
  }
}

const ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

function mergeMap(original: JsonObject, patch: JsonObject): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === "delete") return undefined;
  if (directive === "replace") {
    const { $patch: _d, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  const result: JsonObject = { ...original };
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys") continue;
    if (k.startsWith(ORDER)) {
      if (!Array.isArray(v)) throw new StrategicMergeError(`invalid ${k}: must be a list`);
      orders.push([k.slice(ORDER.length), v]);
      continue;
    }
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      if (!Array.isArray(v)) throw new StrategicMergeError(`invalid ${k}: must be a list`);
      const cur = result[field];
      if (Array.isArray(cur)) result[field] = cur.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete result[k];
      continue;
    }
    const cur = result[k];
    if (Array.isArray(v)) {
      result[k] = mergeList(k, Array.isArray(cur) ? cur : [], v);
    } else if (isObject(v)) {
      const merged = mergeMap(isObject(cur) ? cur : {}, v);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    } else {
      result[k] = v;
    }
  }
  for (const [field, order] of orders) {
    const cur = result[field];
    if (Array.isArray(cur)) result[field] = applyOrder(field, cur, order);
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(result)) if (!retain.includes(k)) delete result[k];
  }
  return result;
}

function keyOf(item: unknown, mergeKey: string): unknown {
  return isObject(item) ? item[mergeKey] : item;
}

function mergeList(field: string, original: unknown[], patch: unknown[]): unknown[] {
  const mergeKey = MERGE_KEYS[field];
  if (patch.some((p) => isObject(p) && p.$patch === "replace")) {
    return stripDirectives(
      patch.filter((p) => !(isObject(p) && p.$patch === "replace")),
    ) as unknown[];
  }
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    const out = [...original];
    for (const p of patch) if (!out.includes(p)) out.push(p);
    return out;
  }
  if (!mergeKey) return stripDirectives(patch) as unknown[];
  const out = [...original];
  for (const p of patch) {
    if (!isObject(p)) {
      throw new StrategicMergeError(`invalid list element for merge key ${mergeKey} in ${field}`);
    }
    const key = p[mergeKey];
    const idx = out.findIndex((o) => keyOf(o, mergeKey) === key);
    if (p.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = mergeMap(isObject(out[idx]) ? out[idx] as JsonObject : {}, p);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      out.push(stripDirectives(p));
    }
  }
  return out;
}

function applyOrder(field: string, list: unknown[], order: unknown[]): unknown[] {
  const mergeKey = MERGE_KEYS[field];
  const orderKeys = order.map((o) => (mergeKey ? keyOf(o, mergeKey) : o));
  const rank = (item: unknown) => {
    const i = orderKeys.indexOf(mergeKey ? keyOf(item, mergeKey) : item);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return list.map((item, i) => ({ item, i })).sort((a, b) =>
    rank(a.item) - rank(b.item) || a.i - b.i
  ).map((x) => x.item);
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (
      k === "$patch" || k === "$retainKeys" || k.startsWith(ORDER) || k.startsWith(DELETE_PRIMITIVE)
    ) {
      continue;
    }
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

/** Applies a strategic merge patch to `original`; inputs are not modified. */
export function applyStrategicMergePatch(original: JsonObject, patch: unknown): JsonObject {
  if (!isObject(patch)) {
    throw new StrategicMergeError("strategic merge patch must be a JSON object");
  }
  return mergeMap(original, patch) ?? {};
}
