/**
 * The JSONPath subset CRD printer columns use: `.a.b`, escaped dots (`.labels.a\.b/c`),
 * `['key']`, `[n]`, `[*]` and filters `[?(@.type=="Ready")]` with `==`, `!=`, `<`, `>`, `<=`,
 * `>=` or bare existence.
 *
 * @module
 */
import { isObject } from "./json_util.ts";

type Step =
  | { t: "field"; name: string }
  | { t: "index"; index: number }
  | { t: "all" }
  | { t: "filter"; path: string[]; op?: string; value?: unknown };

/** A compiled JSONPath expression. */
export interface JsonPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

/** A JSONPath the compiler does not support or cannot read. */
export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonPathError";
  }
}

function readField(src: string, i: number): [string, number] {
  let name = "";
  while (i < src.length) {
    const c = src[i];
    if (c === "\\" && i + 1 < src.length) {
      name += src[i + 1];
      i += 2;
      continue;
    }
    if (c === "." || c === "[") break;
    name += c;
    i++;
  }
  return [name, i];
}

function parseLiteral(raw: string): unknown {
  const s = raw.trim();
  if ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'"))) {
    return s.slice(1, -1);
  }
  if (s === "true") return true;
  if (s === "false") return false;
  if (s === "null") return null;
  const n = Number(s);
  if (s !== "" && !Number.isNaN(n)) return n;
  throw new JsonPathError(`unrecognized literal ${s} in JSONPath filter`);
}

function parseFilter(body: string): Step {
  const m = body.match(/^@((?:\.[^.=!<>\s]+)+)\s*(==|!=|<=|>=|<|>)?\s*(.*)$/);
  if (!m) throw new JsonPathError(`unsupported JSONPath filter ?(${body})`);
  const path = m[1].slice(1).split(".");
  if (!m[2]) return { t: "filter", path };
  return { t: "filter", path, op: m[2], value: parseLiteral(m[3]) };
}

/** Compiles a JSONPath; a surrounding `{...}` is accepted, as kubectl writes it. */
export function compileJsonPath(source: string): JsonPath {
  let src = source.trim();
  if (src.startsWith("{") && src.endsWith("}")) src = src.slice(1, -1).trim();
  if (src.startsWith("$")) src = src.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ".") {
      if (src[i + 1] === ".") throw new JsonPathError("recursive descent is not supported");
      const [name, next] = readField(src, i + 1);
      if (name === "") throw new JsonPathError(`empty field name in JSONPath ${source}`);
      steps.push(name === "*" ? { t: "all" } : { t: "field", name });
      i = next;
    } else if (c === "[") {
      const close = src.indexOf("]", i);
      if (close < 0) throw new JsonPathError(`unclosed [ in JSONPath ${source}`);
      let body = src.slice(i + 1, close);
      if (body.startsWith("?(")) {
        // A filter literal may itself contain ']', so find the ')]' that closes it.
        const end = src.indexOf(")]", i);
        if (end < 0) throw new JsonPathError(`unclosed filter in JSONPath ${source}`);
        body = src.slice(i + 3, end);
        steps.push(parseFilter(body.trim()));
        i = end + 2;
        continue;
      }
      body = body.trim();
      if (body === "*") steps.push({ t: "all" });
      else if (/^-?\d+$/.test(body)) steps.push({ t: "index", index: Number(body) });
      else if (/^(['"]).*\1$/.test(body)) steps.push({ t: "field", name: body.slice(1, -1) });
      else throw new JsonPathError(`unsupported subscript [${body}] in JSONPath ${source}`);
      i = close + 1;
    } else {
      const [name, next] = readField(src, i);
      steps.push({ t: "field", name });
      i = next;
    }
  }
  return { source, steps };
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return typeof a === typeof b && (a as number) < (b as number);
    case ">":
      return typeof a === typeof b && (a as number) > (b as number);
    case "<=":
      return typeof a === typeof b && (a as number) <= (b as number);
    case ">=":
      return typeof a === typeof b && (a as number) >= (b as number);
  }
  return false;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  return [];
}

/** Every value the path selects in `obj`, in document order. */
export function evaluateJsonPath(path: JsonPath, obj: unknown): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of path.steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      switch (step.t) {
        case "field":
          if (isObject(v) && Object.hasOwn(v, step.name)) next.push(v[step.name]);
          break;
        case "index":
          if (Array.isArray(v)) {
            const i = step.index < 0 ? v.length + step.index : step.index;
            if (i >= 0 && i < v.length) next.push(v[i]);
          }
          break;
        case "all":
          next.push(...children(v));
          break;
        case "filter":
          for (const item of children(v)) {
            let x: unknown = item;
            for (const k of step.path) x = isObject(x) ? x[k] : undefined;
            if (step.op === undefined ? x !== undefined : compare(x, step.op, step.value)) {
              next.push(item);
            }
          }
          break;
      }
    }
    cur = next;
  }
  return cur;
}
