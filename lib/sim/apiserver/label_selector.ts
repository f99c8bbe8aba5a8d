/**
 * Label selectors as kube-apiserver parses them: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by commas.
 *
 * @module
 */
import { badRequest } from "./status.ts";

/** One requirement of a label selector. */
export interface LabelRequirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";
  values: string[];
}

/** A parsed label selector; matches everything when it has no requirements. */
export interface LabelSelector {
  requirements: LabelRequirement[];
}

type Token =
  | { t: "id"; v: string }
  | { t: "op"; v: string }
  | { t: "("; v: "(" }
  | { t: ")"; v: ")" }
  | { t: ","; v: "," }
  | { t: "!"; v: "!" };

const SPECIAL = new Set(["=", "!", "(", ")", ",", "<", ">", " ", "\t", "\n"]);

function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === " " || c === "\t" || c === "\n") {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ t: c, v: c } as Token);
      i++;
    } else if (c === "=" && input[i + 1] === "=") {
      out.push({ t: "op", v: "==" });
      i += 2;
    } else if (c === "!" && input[i + 1] === "=") {
      out.push({ t: "op", v: "!=" });
      i += 2;
    } else if (c === "=" || c === "<" || c === ">") {
      out.push({ t: "op", v: c });
      i++;
    } else if (c === "!") {
      out.push({ t: "!", v: "!" });
      i++;
    } else {
      let j = i;
      while (j < input.length && !SPECIAL.has(input[j])) j++;
      out.push({ t: "id", v: input.slice(i, j) });
      i = j;
    }
  }
  return out;
}

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Reason a label key is invalid, or undefined when it is valid. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !PREFIX.test(prefix)) {
      return "prefix part must be a lowercase RFC 1123 subdomain";
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Reason a label value is invalid, or undefined when it is valid. */
export function labelValueError(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63) return "must be no more than 63 characters";
  if (!NAME.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

function fail(input: string, why: string): never {
  throw badRequest(`unable to parse requirement: found '${input}', ${why}`);
}

/** Parses a label selector string; throws a 400 ApiError on syntax errors. */
export function parseLabelSelector(input: string | null | undefined): LabelSelector {
  const requirements: LabelRequirement[] = [];
  if (!input || input.trim() === "") return { requirements };
  const toks = tokenize(input);
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  while (i < toks.length) {
    let negate = false;
    if (peek()?.t === "!") {
      negate = true;
      next();
    }
    const keyTok = next();
    if (!keyTok || keyTok.t !== "id") fail(keyTok?.v ?? "", "expected: identifier");
    const key = keyTok.v;
    const keyErr = labelKeyError(key);
    if (keyErr) {
      throw badRequest(`unable to parse requirement: invalid label key "${key}": ${keyErr}`);
    }
    const after = peek();
    if (negate) {
      requirements.push({ key, op: "!", values: [] });
    } else if (!after || after.t === ",") {
      requirements.push({ key, op: "exists", values: [] });
    } else if (after.t === "op") {
      next();
      const valTok = peek();
      let value = "";
      if (valTok && valTok.t === "id") {
        value = valTok.v;
        next();
      } else if (valTok && valTok.t !== ",") {
        fail(valTok.v, "expected: identifier");
      }
      if (after.v === "<" || after.v === ">") {
        if (!/^-?\d+$/.test(value)) {
          fail(value, "for 'Gt', 'Lt' operators, the value must be an integer");
        }
        requirements.push({ key, op: after.v, values: [value] });
      } else {
        const valErr = labelValueError(value);
        if (valErr) {
          throw badRequest(
            `unable to parse requirement: invalid label value: "${value}": ${valErr}`,
          );
        }
        requirements.push({ key, op: after.v === "!=" ? "!=" : "=", values: [value] });
      }
    } else if (after.t === "id" && (after.v === "in" || after.v === "notin")) {
      next();
      if (next()?.t !== "(") fail(after.v, "expected: '('");
      const values: string[] = [];
      for (;;) {
        const tok = next();
        if (!tok) fail("", "expected: ')'");
        if (tok.t === ")") break;
        if (tok.t === ",") {
          if (values.length === 0 || peek()?.t === "," || peek()?.t === ")") values.push("");
          continue;
        }
        if (tok.t !== "id") fail(tok.v, "expected: ',', ')' or identifier");
        const valErr = labelValueError(tok.v);
        if (valErr) {
          throw badRequest(
            `unable to parse requirement: invalid label value: "${tok.v}": ${valErr}`,
          );
        }
        values.push(tok.v);
      }
      requirements.push({ key, op: after.v, values });
    } else {
      fail(after.v, "expected: '=', '!=', '==', 'in', 'notin'");
    }
    const sep = next();
    if (sep && sep.t !== ",") fail(sep.v, "expected: ','");
  }
  return { requirements };
}

/** Whether `labels` satisfy every requirement of the selector. */
export function matchesLabels(
  sel: LabelSelector,
  labels: Record<string, string> | undefined,
): boolean {
  for (const r of sel.requirements) {
    const has = labels !== undefined && Object.hasOwn(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    switch (r.op) {
      case "=":
        if (!has || v !== r.values[0]) return false;
        break;
      case "!=":
        if (has && v === r.values[0]) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v!)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v!)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
      case ">":
      case "<": {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (r.op === ">" ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}
