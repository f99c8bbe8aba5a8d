/**
 * JSON patch (RFC 6902): add, remove, replace, move, copy and test, with JSON pointers
 * (RFC 6901). Messages follow the library kube-apiserver uses.
 *
 * @module
 */
import { clone, isObject, jsonEqual, type JsonObject } from "./json_util.ts";

/** A failed patch: malformed (`malformed` true, answered 400) or not applicable (422). */
export class JsonPatchError extends Error {
  readonly malformed: boolean;
  constructor(message: string, malformed = false) {
    super(message);
    this.name = "JsonPatchError";
    this.malformed = malformed;
  }
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
  hasValue: boolean;
}

function decode(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) {
    throw new JsonPatchError(
      "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
      true,
    );
  }
  return patch.map((raw) => {
    if (!isObject(raw)) throw new JsonPatchError("invalid JSON patch operation", true);
    const op = raw.op;
    const path = raw.path;
    if (typeof op !== "string") throw new JsonPatchError("Unexpected kind: <nil>", true);
    if (typeof path !== "string") throw new JsonPatchError(`${op} operation missing path`, true);
    if ((op === "move" || op === "copy") && typeof raw.from !== "string") {
      throw new JsonPatchError(`${op} operation missing from`, true);
    }
    return {
      op,
      path,
      from: raw.from as string | undefined,
      value: raw.value,
      hasValue: Object.hasOwn(raw, "value"),
    };
  });
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new JsonPatchError(`invalid JSON pointer: "${pointer}"`);
  return pointer.slice(1).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function arrayIndex(token: string, length: number, forAdd: boolean): number {
  if (forAdd && token === "-") return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new JsonPatchError(`invalid array index: ${token}`);
  const i = Number(token);
  if (i > length || (!forAdd && i === length)) {
    throw new JsonPatchError(`index out of range: ${token}`);
  }
  return i;
}

/** Resolves the container of the pointer's last token. */
function parentOf(
  doc: unknown,
  tokens: string[],
  op: string,
  path: string,
): { parent: JsonObject | unknown[]; key: string } {
  let cur: unknown = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (Array.isArray(cur)) {
      const idx = /^(0|[1-9][0-9]*)$/.test(t) ? Number(t) : -1;
      cur = idx >= 0 && idx < cur.length ? cur[idx] : undefined;
    } else if (isObject(cur)) {
      cur = Object.hasOwn(cur, t) ? cur[t] : undefined;
    } else {
      cur = undefined;
    }
    if (cur === undefined) {
      throw new JsonPatchError(
        `${op} operation does not apply: doc is missing path: "${path}": missing value`,
      );
    }
  }
  if (!Array.isArray(cur) && !isObject(cur)) {
    throw new JsonPatchError(
      `${op} operation does not apply: doc is missing path: "${path}": missing value`,
    );
  }
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function getAt(doc: unknown, path: string, op: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(key, parent.length, false);
    return parent[i];
  }
  if (!Object.hasOwn(parent, key)) {
    throw new JsonPatchError(
      `${op} operation does not apply: doc is missing key: ${path}: missing value`,
    );
  }
  return parent[key];
}

function addAt(doc: unknown, path: string, value: unknown, op = "add"): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(key, parent.length, true), 0, value);
  else parent[key] = value;
  return doc;
}

function removeAt(doc: unknown, path: string, op = "remove"): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new JsonPatchError(`${op} operation does not apply: root`);
  const { parent, key } = parentOf(doc, tokens, op, path);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(key, parent.length, false), 1);
  } else {
    if (!Object.hasOwn(parent, key)) {
      throw new JsonPatchError(
        `${op} operation does not apply: doc is missing key: ${path}: missing value`,
      );
    }
    delete parent[key];
  }
  return doc;
}

/** Applies a JSON patch document to a copy of `doc` and returns the copy. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = decode(patch);
  let cur = clone(doc);
  for (const o of ops) {
    switch (o.op) {
      case "add":
        if (!o.hasValue) throw new JsonPatchError("add operation missing value", true);
        cur = addAt(cur, o.path, clone(o.value));
        break;
      case "remove":
        cur = removeAt(cur, o.path);
        break;
      case "replace": {
        if (!o.hasValue) throw new JsonPatchError("replace operation missing value", true);
        getAt(cur, o.path, "replace");
        const tokens = parsePointer(o.path);
        if (tokens.length === 0) {
          cur = clone(o.value);
        } else {
          const { parent, key } = parentOf(cur, tokens, "replace", o.path);
          if (Array.isArray(parent)) parent[arrayIndex(key, parent.length, false)] = clone(o.value);
          else parent[key] = clone(o.value);
        }
        break;
      }
      case "move": {
        const v = getAt(cur, o.from!, "move");
        cur = removeAt(cur, o.from!, "move");
        cur = addAt(cur, o.path, v, "move");
        break;
      }
      case "copy":
        cur = addAt(cur, o.path, clone(getAt(cur, o.from!, "copy")), "copy");
        break;
      case "test": {
        let actual: unknown;
        try {
          actual = getAt(cur, o.path, "test");
        } catch {
          actual = undefined;
        }
        const expected = o.value === undefined ? null : o.value;
        if (!jsonEqual(actual ?? null, expected)) {
          throw new JsonPatchError(`testing value ${o.path} failed: test failed`);
        }
        break;
      }
      default:
        throw new JsonPatchError(`Unexpected kind: ${o.op}`, true);
    }
  }
  return cur;
}
