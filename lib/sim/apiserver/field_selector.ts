/**
 * Field selectors as kube-apiserver parses them: `a=b`, `a==b`, `a!=b` joined by commas, with
 * `\,` `\=` `\\` escapes in values. Which fields exist is decided per resource.
 *
 * @module
 */
import { badRequest } from "./status.ts";

/** One term of a field selector. */
export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** A parsed field selector; matches everything when it has no terms. */
export interface FieldSelector {
  requirements: FieldRequirement[];
}

function splitUnescaped(input: string, sep: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === "\\" && i + 1 < input.length) {
      cur += c + input[i + 1];
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

function unescape(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\") {
      const n = value[i + 1];
      if (n !== "\\" && n !== "," && n !== "=") {
        throw badRequest(`invalid field selector: invalid escape sequence: \\${n ?? ""}`);
      }
      out += n;
      i++;
    } else if (c === "," || c === "=") {
      throw badRequest(`invalid field selector: unescaped ${c} in value`);
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Parses a field selector, rejecting (400) fields outside `supported` the way kube-apiserver
 * does: `field label not supported: x`.
 */
export function parseFieldSelector(
  input: string | null | undefined,
  supported: ReadonlySet<string>,
): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (!input || input.trim() === "") return { requirements };
  for (const term of splitUnescaped(input, ",")) {
    if (term === "") continue;
    let op: "=" | "!=" = "=";
    let at = -1;
    let width = 1;
    for (let i = 0; i < term.length; i++) {
      if (term[i] === "\\") {
        i++;
        continue;
      }
      if (term.startsWith("!=", i)) {
        op = "!=";
        at = i;
        width = 2;
        break;
      }
      if (term.startsWith("==", i)) {
        at = i;
        width = 2;
        break;
      }
      if (term[i] === "=") {
        at = i;
        break;
      }
    }
    if (at < 0) {
      throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    }
    const field = term.slice(0, at).trim();
    const value = unescape(term.slice(at + width));
    if (!supported.has(field)) throw badRequest(`field label not supported: ${field}`);
    requirements.push({ field, op, value });
  }
  return { requirements };
}

/** Whether the object's field values satisfy every term; an absent field counts as "". */
export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  for (const r of sel.requirements) {
    const v = fields[r.field] ?? "";
    if (r.op === "=" ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** The single `metadata.name=x` value of a selector, used to look one object up directly. */
export function exactName(sel: FieldSelector): string | undefined {
  const r = sel.requirements.find((q) => q.field === "metadata.name" && q.op === "=");
  return r?.value;
}
