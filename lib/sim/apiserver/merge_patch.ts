/**
 * JSON merge patch (RFC 7386).
 *
 * @module
 */
import { isObject, type JsonObject } from "./json_util.ts";

/** Applies a merge patch to `target` and returns the result; inputs are not modified. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}
