/**
 * Evaluator of the CEL subset parsed by `cel_parser.ts`, with the standard functions and the
 * Kubernetes string and list extensions CRD rules commonly use. Errors follow CEL's
 * commutative semantics for `&&` and `||` (a definite answer on one side wins over an error).
 *
 * @module
 */
import type { CelNode } from "./cel_parser.ts";
import { formatGoDuration, parseGoDuration } from "./duration.ts";
import { isObject, jsonEqual } from "./json_util.ts";

/** A CEL runtime error (no such key, no matching overload, ...). */
export class CelEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CelEvalError";
  }
}

/** A CEL duration, held in nanoseconds. */
export class CelDuration {
  constructor(readonly ns: number) {}
}

/** A CEL timestamp, held in milliseconds since the epoch. */
export class CelTimestamp {
  constructor(readonly ms: number) {}
}

/** Variables of an evaluation, e.g. `{ self, oldSelf }`. */
export type CelVars = Record<string, unknown>;

function typeName(v: unknown): string {
  if (v === null || v === undefined) return "null_type";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "double";
  if (typeof v === "string") return "string";
  if (Array.isArray(v)) return "list";
  if (v instanceof CelDuration) return "google.protobuf.Duration";
  if (v instanceof CelTimestamp) return "google.protobuf.Timestamp";
  return "map";
}

function noOverload(fn: string, ...args: unknown[]): never {
  throw new CelEvalError(`no such overload: ${fn}(${args.map(typeName).join(", ")})`);
}

function truthy(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") {
    throw new CelEvalError(`no such overload: ${what} applied to ${typeName(v)}`);
  }
  return v;
}

function celEqual(a: unknown, b: unknown): boolean {
  if (a instanceof CelDuration && b instanceof CelDuration) return a.ns === b.ns;
  if (a instanceof CelTimestamp && b instanceof CelTimestamp) return a.ms === b.ms;
  return jsonEqual(a ?? null, b ?? null);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  let x: number | string;
  let y: number | string;
  if (typeof a === "number" && typeof b === "number") [x, y] = [a, b];
  else if (typeof a === "string" && typeof b === "string") [x, y] = [a, b];
  else if (typeof a === "boolean" && typeof b === "boolean") [x, y] = [Number(a), Number(b)];
  else if (a instanceof CelDuration && b instanceof CelDuration) [x, y] = [a.ns, b.ns];
  else if (a instanceof CelTimestamp && b instanceof CelTimestamp) [x, y] = [a.ms, b.ms];
  else noOverload(op, a, b);
  switch (op) {
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    default:
      return x >= y;
  }
}

function arith(op: string, a: unknown, b: unknown): unknown {
  if (typeof a === "number" && typeof b === "number") {
    const ints = Number.isInteger(a) && Number.isInteger(b);
    switch (op) {
      case "+":
        return a + b;
      case "-":
        return a - b;
      case "*":
        return a * b;
      case "/":
        if (ints && b === 0) throw new CelEvalError("division by zero");
        return ints ? Math.trunc(a / b) : a / b;
      case "%":
        if (b === 0) throw new CelEvalError("modulus by zero");
        return a % b;
    }
  }
  if (op === "+") {
    if (typeof a === "string" && typeof b === "string") return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (a instanceof CelDuration && b instanceof CelDuration) return new CelDuration(a.ns + b.ns);
    if (a instanceof CelTimestamp && b instanceof CelDuration) {
      return new CelTimestamp(a.ms + b.ns / 1e6);
    }
    if (a instanceof CelDuration && b instanceof CelTimestamp) {
      return new CelTimestamp(b.ms + a.ns / 1e6);
    }
  }
  if (op === "-") {
    if (a instanceof CelDuration && b instanceof CelDuration) return new CelDuration(a.ns - b.ns);
    if (a instanceof CelTimestamp && b instanceof CelTimestamp) {
      return new CelDuration((a.ms - b.ms) * 1e6);
    }
    if (a instanceof CelTimestamp && b instanceof CelDuration) {
      return new CelTimestamp(a.ms - b.ns / 1e6);
    }
  }
  return noOverload(op, a, b);
}

function size(v: unknown): number {
  if (typeof v === "string") return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  return noOverload("size", v);
}

function toDuration(v: unknown): CelDuration {
  if (v instanceof CelDuration) return v;
  if (typeof v !== "string") return noOverload("duration", v);
  const ns = parseGoDuration(v);
  if (ns === undefined) throw new CelEvalError(`invalid duration argument: "${v}"`);
  return new CelDuration(ns);
}

function toTimestamp(v: unknown): CelTimestamp {
  if (v instanceof CelTimestamp) return v;
  if (typeof v !== "string") return noOverload("timestamp", v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new CelEvalError(`invalid timestamp "${v}"`);
  return new CelTimestamp(ms);
}

function toStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof CelDuration) return formatGoDuration(v.ns);
  if (v instanceof CelTimestamp) return new Date(v.ms).toISOString().replace(".000Z", "Z");
  return noOverload("string", v);
}

function regex(pattern: unknown): RegExp {
  if (typeof pattern !== "string") return noOverload("matches", pattern);
  try {
    return new RegExp(pattern, "u");
  } catch {
    throw new CelEvalError(`invalid regular expression: ${pattern}`);
  }
}

function callFunction(fn: string, target: unknown, hasTarget: boolean, args: unknown[]): unknown {
  const [a0, a1] = args;
  switch (fn) {
    case "size":
      return size(hasTarget ? target : a0);
    case "contains":
      if (typeof target === "string" && typeof a0 === "string") return target.includes(a0);
      return noOverload(fn, target, a0);
    case "startsWith":
      if (typeof target === "string" && typeof a0 === "string") return target.startsWith(a0);
      return noOverload(fn, target, a0);
    case "endsWith":
      if (typeof target === "string" && typeof a0 === "string") return target.endsWith(a0);
      return noOverload(fn, target, a0);
    case "matches": {
      const s = hasTarget ? target : a0;
      const p = hasTarget ? a0 : a1;
      if (typeof s !== "string") return noOverload(fn, s, p);
      return regex(p).test(s);
    }
    case "lowerAscii":
      if (typeof target === "string") return target.replace(/[A-Z]/g, (c) => c.toLowerCase());
      return noOverload(fn, target);
    case "upperAscii":
      if (typeof target === "string") return target.replace(/[a-z]/g, (c) => c.toUpperCase());
      return noOverload(fn, target);
    case "trim":
      if (typeof target === "string") return target.trim();
      return noOverload(fn, target);
    case "split":
      if (typeof target === "string" && typeof a0 === "string") {
        const parts = target.split(a0);
        return typeof a1 === "number" && a1 >= 0
          ? [...parts.slice(0, a1 - 1), parts.slice(a1 - 1).join(a0)].slice(0, a1)
          : parts;
      }
      return noOverload(fn, target, a0);
    case "join":
      if (Array.isArray(target)) {
        return target.map((x) => toStr(x)).join(typeof a0 === "string" ? a0 : "");
      }
      return noOverload(fn, target);
    case "indexOf":
      if (typeof target === "string" && typeof a0 === "string") {
        return target.indexOf(a0, (a1 as number) ?? 0);
      }
      if (Array.isArray(target)) return target.findIndex((x) => celEqual(x, a0));
      return noOverload(fn, target, a0);
    case "lastIndexOf":
      if (typeof target === "string" && typeof a0 === "string") return target.lastIndexOf(a0);
      if (Array.isArray(target)) return target.findLastIndex((x) => celEqual(x, a0));
      return noOverload(fn, target, a0);
    case "replace":
      if (typeof target === "string" && typeof a0 === "string" && typeof a1 === "string") {
        return target.replaceAll(a0, a1);
      }
      return noOverload(fn, target, a0, a1);
    case "substring":
      if (typeof target === "string" && typeof a0 === "number") {
        return [...target].slice(a0, typeof a1 === "number" ? a1 : undefined).join("");
      }
      return noOverload(fn, target, a0);
    case "int":
    case "uint": {
      const v = hasTarget ? target : a0;
      if (typeof v === "number") return Math.trunc(v);
      if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
      if (v instanceof CelDuration) return Math.trunc(v.ns);
      if (v instanceof CelTimestamp) return Math.trunc(v.ms / 1000);
      return noOverload(fn, v);
    }
    case "double": {
      const v = a0;
      if (typeof v === "number") return v;
      if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
      return noOverload(fn, v);
    }
    case "string":
      return toStr(a0);
    case "bool":
      if (typeof a0 === "boolean") return a0;
      if (a0 === "true" || a0 === "false") return a0 === "true";
      return noOverload(fn, a0);
    case "dyn":
      return a0;
    case "type":
      return typeName(a0);
    case "duration":
      return toDuration(a0);
    case "timestamp":
      return toTimestamp(a0);
    case "getSeconds":
      if (target instanceof CelDuration) return Math.trunc(target.ns / 1e9);
      if (target instanceof CelTimestamp) return new Date(target.ms).getUTCSeconds();
      return noOverload(fn, target);
    case "getMinutes":
      if (target instanceof CelDuration) return Math.trunc(target.ns / 60e9);
      if (target instanceof CelTimestamp) return new Date(target.ms).getUTCMinutes();
      return noOverload(fn, target);
    case "getHours":
      if (target instanceof CelDuration) return Math.trunc(target.ns / 3600e9);
      if (target instanceof CelTimestamp) return new Date(target.ms).getUTCHours();
      return noOverload(fn, target);
    case "getMilliseconds":
      if (target instanceof CelDuration) return Math.trunc(target.ns / 1e6);
      if (target instanceof CelTimestamp) return new Date(target.ms).getUTCMilliseconds();
      return noOverload(fn, target);
    case "isSorted":
      if (Array.isArray(target)) {
        return target.every((x, i) => i === 0 || compare(">=", x, target[i - 1]));
      }
      return noOverload(fn, target);
    case "sum":
      if (Array.isArray(target)) return target.reduce((acc: unknown, x) => arith("+", acc, x), 0);
      return noOverload(fn, target);
    case "min":
    case "max":
      if (Array.isArray(target) && target.length > 0) {
        return target.reduce((acc, x) => (compare(fn === "min" ? "<" : ">", x, acc) ? x : acc));
      }
      return noOverload(fn, target);
  }
  throw new CelEvalError(`undeclared reference to '${fn}'`);
}

function select(operand: unknown, field: string): unknown {
  if (isObject(operand)) {
    if (!Object.hasOwn(operand, field)) throw new CelEvalError(`no such key: ${field}`);
    return operand[field];
  }
  throw new CelEvalError(`no such overload: select ${field} on ${typeName(operand)}`);
}

function evalMacro(node: Extract<CelNode, { k: "macro" }>, vars: CelVars): unknown {
  const range = evaluateCel(node.target, vars);
  const items = Array.isArray(range)
    ? range
    : isObject(range)
    ? Object.keys(range)
    : noOverload(node.fn, range);
  const withVar = (x: unknown): CelVars => ({ ...vars, [node.v]: x });
  const [a, b] = node.args;
  switch (node.fn) {
    case "all": {
      let err: unknown;
      for (const x of items) {
        try {
          if (!truthy(evaluateCel(a, withVar(x)), "all")) return false;
        } catch (e) {
          err ??= e;
        }
      }
      if (err) throw err;
      return true;
    }
    case "exists": {
      let err: unknown;
      for (const x of items) {
        try {
          if (truthy(evaluateCel(a, withVar(x)), "exists")) return true;
        } catch (e) {
          err ??= e;
        }
      }
      if (err) throw err;
      return false;
    }
    case "exists_one":
      return items.filter((x) => truthy(evaluateCel(a, withVar(x)), "exists_one")).length === 1;
    case "filter":
      return items.filter((x) => truthy(evaluateCel(a, withVar(x)), "filter"));
    case "map":
      if (b !== undefined) {
        return items.filter((x) => truthy(evaluateCel(a, withVar(x)), "map")).map((x) =>
          evaluateCel(b, withVar(x))
        );
      }
      return items.map((x) => evaluateCel(a, withVar(x)));
  }
  throw new CelEvalError(`unknown macro ${node.fn}`);
}

/** Evaluates a parsed expression with the given variables. */
export function evaluateCel(node: CelNode, vars: CelVars): unknown {
  switch (node.k) {
    case "lit":
      return node.v;
    case "ident":
      if (!Object.hasOwn(vars, node.name)) {
        throw new CelEvalError(`undeclared reference to '${node.name}'`);
      }
      return vars[node.name];
    case "select":
      return select(evaluateCel(node.operand, vars), node.field);
    case "has": {
      const v = evaluateCel(node.operand, vars);
      if (isObject(v)) return Object.hasOwn(v, node.field) && v[node.field] !== null;
      return noOverload("has", v);
    }
    case "index": {
      const v = evaluateCel(node.operand, vars);
      const i = evaluateCel(node.index, vars);
      if (Array.isArray(v) && typeof i === "number") {
        if (i < 0 || i >= v.length) throw new CelEvalError(`index out of bounds: ${i}`);
        return v[i];
      }
      if (isObject(v) && typeof i === "string") return select(v, i);
      return noOverload("_[_]", v, i);
    }
    case "list":
      return node.items.map((x) => evaluateCel(x, vars));
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of node.entries) out[String(evaluateCel(k, vars))] = evaluateCel(v, vars);
      return out;
    }
    case "call": {
      const hasTarget = node.target !== undefined;
      const target = hasTarget ? evaluateCel(node.target!, vars) : undefined;
      return callFunction(node.fn, target, hasTarget, node.args.map((a) => evaluateCel(a, vars)));
    }
    case "macro":
      return evalMacro(node, vars);
    case "unary": {
      const v = evaluateCel(node.operand, vars);
      if (node.op === "!") return !truthy(v, "!_");
      if (typeof v === "number") return -v;
      if (v instanceof CelDuration) return new CelDuration(-v.ns);
      return noOverload("-_", v);
    }
    case "cond":
      return truthy(evaluateCel(node.test, vars), "_?_:_")
        ? evaluateCel(node.then, vars)
        : evaluateCel(node.else, vars);
    case "binary":
      return evalBinary(node, vars);
  }
}

function evalBinary(node: Extract<CelNode, { k: "binary" }>, vars: CelVars): unknown {
  if (node.op === "&&" || node.op === "||") {
    const decisive = node.op === "||";
    let err: unknown;
    for (const side of [node.left, node.right]) {
      try {
        if (truthy(evaluateCel(side, vars), node.op) === decisive) return decisive;
      } catch (e) {
        err ??= e;
      }
    }
    if (err) throw err;
    return !decisive;
  }
  const a = evaluateCel(node.left, vars);
  const b = evaluateCel(node.right, vars);
  switch (node.op) {
    case "==":
      return celEqual(a, b);
    case "!=":
      return !celEqual(a, b);
    case "<":
    case "<=":
    case ">":
    case ">=":
      return compare(node.op, a, b);
    case "in":
      if (Array.isArray(b)) return b.some((x) => celEqual(x, a));
      if (isObject(b)) return typeof a === "string" && Object.hasOwn(b, a);
      return noOverload("@in", a, b);
    default:
      return arith(node.op, a, b);
  }
}
