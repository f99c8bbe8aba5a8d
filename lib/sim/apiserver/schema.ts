/**
 * Structural OpenAPI v3 schemas of CRDs, as apiextensions-apiserver treats them: nulls of
 * non-nullable fields dropped, defaults applied, unknown fields pruned (and reported for
 * `fieldValidation`), then validated (types, formats, enum, bounds, lengths, patterns, items,
 * properties, required, list types) including `x-kubernetes-validations` CEL rules.
 *
 * @module
 */
import { evaluateCel } from "./cel_eval.ts";
import { type CelNode, CelSyntaxError, parseCel, referencesIdent } from "./cel_parser.ts";
import * as fe from "./field_errors.ts";
import { clone, isObject, jsonEqual, type JsonObject } from "./json_util.ts";
import type { StatusCause } from "./status.ts";

/** An OpenAPI v3 schema node as written in a CRD. */
export type SchemaNode = JsonObject;

/** Fields of ObjectMeta a client may send; anything else is unknown. */
const OBJECT_META_FIELDS = new Set([
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
]);

interface CompiledRule {
  rule: string;
  node: CelNode;
  transition: boolean;
  message?: string;
  messageExpression?: CelNode;
  reason?: string;
  fieldPath?: string;
}

const compiledRules = new WeakMap<SchemaNode, CompiledRule[]>();
const compiledPatterns = new Map<string, RegExp>();

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function pattern(p: string): RegExp {
  let re = compiledPatterns.get(p);
  if (!re) {
    try {
      re = new RegExp(p, "u");
    } catch {
      re = new RegExp(p);
    }
    compiledPatterns.set(p, re);
  }
  return re;
}

function rulesOf(schema: SchemaNode): CompiledRule[] {
  const raw = schema["x-kubernetes-validations"];
  if (!Array.isArray(raw) || raw.length === 0) return [];
  let rules = compiledRules.get(schema);
  if (!rules) {
    rules = raw.map((r: JsonObject) => ({
      rule: String(r.rule),
      node: parseCel(String(r.rule)),
      transition: referencesIdent(parseCel(String(r.rule)), "oldSelf"),
      message: typeof r.message === "string" ? r.message : undefined,
      messageExpression: typeof r.messageExpression === "string"
        ? parseCel(r.messageExpression)
        : undefined,
      reason: typeof r.reason === "string" ? r.reason : undefined,
      fieldPath: typeof r.fieldPath === "string" ? r.fieldPath : undefined,
    }));
    compiledRules.set(schema, rules);
  }
  return rules;
}

function childSchemas(schema: SchemaNode): [string, SchemaNode][] {
  const out: [string, SchemaNode][] = [];
  if (isObject(schema.properties)) {
    for (const [k, v] of Object.entries(schema.properties)) {
      if (isObject(v)) out.push([`properties[${k}]`, v]);
    }
  }
  if (isObject(schema.items)) out.push(["items", schema.items]);
  if (isObject(schema.additionalProperties)) {
    out.push(["additionalProperties", schema.additionalProperties]);
  }
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    const list = schema[key];
    if (Array.isArray(list)) {
      list.forEach((s, i) => isObject(s) && out.push([`${key}[${i}]`, s]));
    }
  }
  if (isObject(schema.not)) out.push(["not", schema.not]);
  return out;
}

/**
 * Checks a CRD version schema: CEL rules must parse and patterns must compile. Returns causes
 * with paths under `base` (e.g. `spec.versions[0].schema.openAPIV3Schema`).
 */
export function checkSchema(schema: SchemaNode, base: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const walk = (s: SchemaNode, path: string) => {
    if (
      s.type !== undefined &&
      !["object", "array", "string", "integer", "number", "boolean"].includes(String(s.type))
    ) {
      causes.push(
        fe.notSupported(`${path}.type`, s.type, [
          "array",
          "boolean",
          "integer",
          "number",
          "object",
          "string",
        ]),
      );
    }
    if (typeof s.pattern === "string") {
      try {
        pattern(s.pattern);
      } catch (e) {
        causes.push(fe.invalidValue(`${path}.pattern`, s.pattern, (e as Error).message));
      }
    }
    const raw = s["x-kubernetes-validations"];
    if (Array.isArray(raw)) {
      raw.forEach((r, i) => {
        const at = `${path}.x-kubernetes-validations[${i}]`;
        for (const field of ["rule", "messageExpression"]) {
          if (!isObject(r) || r[field] === undefined) continue;
          try {
            parseCel(String(r[field]));
          } catch (e) {
            const why = e instanceof CelSyntaxError ? e.message : String(e);
            causes.push(fe.invalidValue(`${at}.${field}`, r[field], `compilation failed: ${why}`));
          }
        }
        if (!isObject(r) || typeof r.rule !== "string") causes.push(fe.required(`${at}.rule`));
      });
    }
    for (const [key, child] of childSchemas(s)) walk(child, `${path}.${key}`);
  };
  walk(schema, base);
  return causes;
}

function isNullable(s: SchemaNode | undefined): boolean {
  return s?.nullable === true;
}

function preservesUnknown(s: SchemaNode): boolean {
  return s["x-kubernetes-preserve-unknown-fields"] === true;
}

/**
 * Drops nulls of non-nullable fields, applies defaults and prunes unknown fields, in place.
 * Returns the paths of pruned unknown fields (for strict field validation).
 */
export function defaultAndPrune(schema: SchemaNode, obj: JsonObject): string[] {
  const unknown: string[] = [];
  const meta = obj.metadata;
  if (isObject(meta)) {
    for (const k of Object.keys(meta)) {
      if (!OBJECT_META_FIELDS.has(k)) {
        unknown.push(`metadata.${k}`);
        delete meta[k];
      }
    }
  }
  walkObject(schema, obj, "", unknown, true);
  return unknown;
}

function walkValue(schema: SchemaNode, value: unknown, path: string, unknown: string[]): unknown {
  if (Array.isArray(value)) {
    const items = isObject(schema.items) ? schema.items : undefined;
    if (items) {
      for (let i = 0; i < value.length; i++) {
        if (value[i] === null && !isNullable(items)) continue;
        value[i] = walkValue(items, value[i], `${path}[${i}]`, unknown);
      }
    }
    return value;
  }
  if (isObject(value)) walkObject(schema, value, path, unknown, false);
  return value;
}

function walkObject(
  schema: SchemaNode,
  obj: JsonObject,
  path: string,
  unknown: string[],
  root: boolean,
): void {
  const props = isObject(schema.properties) ? schema.properties as Record<string, SchemaNode> : {};
  const additional = schema.additionalProperties;
  const embedded = schema["x-kubernetes-embedded-resource"] === true;
  for (const [k, v] of Object.entries(obj)) {
    const ps = props[k] ?? (isObject(additional) ? additional : undefined);
    if (v === null && !isNullable(ps) && ps?.default === undefined) {
      if (ps || additional === true || preservesUnknown(schema)) delete obj[k];
    }
  }
  for (const [k, ps] of Object.entries(props)) {
    if (
      (obj[k] === undefined || (obj[k] === null && !isNullable(ps))) && ps.default !== undefined
    ) {
      obj[k] = clone(ps.default);
    }
  }
  for (const [k, v] of Object.entries(obj)) {
    const p = join(path, k);
    if (root && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
    if (embedded && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
    const ps = props[k] ?? (isObject(additional) ? additional as SchemaNode : undefined);
    if (ps) {
      obj[k] = walkValue(ps, v, isObject(additional) && !props[k] ? `${path}[${k}]` : p, unknown);
    } else if (additional === true || preservesUnknown(schema)) {
      continue;
    } else {
      unknown.push(p);
      delete obj[k];
    }
  }
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "object") return "object";
  return typeof v;
}

function typeMatches(schema: SchemaNode, v: unknown): boolean {
  const t = schema.type;
  if (schema["x-kubernetes-int-or-string"] === true) {
    return typeof v === "string" || (typeof v === "number" && Number.isInteger(v));
  }
  if (t === undefined) return true;
  if (v === null) return isNullable(schema);
  const actual = jsonType(v);
  if (t === "number") return actual === "number" || actual === "integer";
  return actual === t;
}

const FORMAT_CHECKS: Record<string, (s: string) => boolean> = {
  "date-time": (s) =>
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s),
  uri: (s) => {
    try {
      new URL(s);
      return true;
    } catch {
      return s.startsWith("/");
    }
  },
  uuid: (s) =>
    /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(s),
  byte: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0,
  ipv4: (s) => /^(\d{1,3})(\.\d{1,3}){3}$/.test(s),
};

/** Validates an object (already defaulted and pruned) against its schema. */
export function validateSchema(
  schema: SchemaNode,
  obj: unknown,
  oldObj?: unknown,
): StatusCause[] {
  const causes: StatusCause[] = [];
  validateValue(schema, obj, oldObj, "", causes, true);
  if (causes.some((c) => c.reason === "FieldValueTypeInvalid")) {
    return causes.filter((c) => !c.reason.startsWith("Cel:")).map(stripCel);
  }
  return causes.map(stripCel);
}

function stripCel(c: StatusCause): StatusCause {
  return c.reason.startsWith("Cel:") ? { ...c, reason: c.reason.slice(4) } : c;
}

function validateValue(
  s: SchemaNode,
  v: unknown,
  old: unknown,
  path: string,
  causes: StatusCause[],
  root = false,
): void {
  const where = path === "" ? "body" : path;
  if (!typeMatches(s, v)) {
    const expected = s["x-kubernetes-int-or-string"] ? "integer or string" : String(s.type);
    causes.push(
      fe.typeInvalid(
        path,
        jsonType(v),
        `${where} in body must be of type ${expected}: "${jsonType(v)}"`,
      ),
    );
    return;
  }
  if (v === null) return;
  if (Array.isArray(s.enum) && !s.enum.some((e) => jsonEqual(e, v))) {
    causes.push(fe.notSupported(path, v, s.enum));
  }
  if (typeof v === "number") validateNumber(s, v, path, causes);
  if (typeof v === "string") validateString(s, v, path, causes);
  if (Array.isArray(v)) validateArray(s, v, old, path, causes);
  if (isObject(v)) validateObject(s, v, old, path, causes, root);
  for (const key of ["allOf", "anyOf", "oneOf"] as const) {
    const list = s[key];
    if (!Array.isArray(list)) continue;
    const results = list.map((sub: SchemaNode) => {
      const c: StatusCause[] = [];
      validateValue({ ...sub, type: sub.type ?? undefined }, v, old, path, c);
      return c;
    });
    const passing = results.filter((r) => r.length === 0).length;
    if (key === "allOf") results.forEach((r) => causes.push(...r));
    if (key === "anyOf" && passing === 0) {
      causes.push(
        fe.invalidValue(path, v, `${where} in body must match at least one schema (anyOf)`),
      );
    }
    if (key === "oneOf" && passing !== 1) {
      causes.push(
        fe.invalidValue(path, v, `${where} in body must match exactly one schema (oneOf)`),
      );
    }
  }
  if (isObject(s.not)) {
    const c: StatusCause[] = [];
    validateValue(s.not, v, old, path, c);
    if (c.length === 0) {
      causes.push(fe.invalidValue(path, v, `${where} in body must not validate the schema (not)`));
    }
  }
  validateRules(s, v, old, path, causes);
}

function validateNumber(s: SchemaNode, v: number, path: string, causes: StatusCause[]): void {
  const where = path || "body";
  if (typeof s.minimum === "number") {
    if (s.exclusiveMinimum === true ? v <= s.minimum : v < s.minimum) {
      const rel = s.exclusiveMinimum === true ? "greater than" : "greater than or equal to";
      causes.push(fe.invalidValue(path, v, `${where} in body should be ${rel} ${s.minimum}`));
    }
  }
  if (typeof s.maximum === "number") {
    if (s.exclusiveMaximum === true ? v >= s.maximum : v > s.maximum) {
      const rel = s.exclusiveMaximum === true ? "less than" : "less than or equal to";
      causes.push(fe.invalidValue(path, v, `${where} in body should be ${rel} ${s.maximum}`));
    }
  }
  if (typeof s.multipleOf === "number" && v % s.multipleOf !== 0) {
    causes.push(
      fe.invalidValue(path, v, `${where} in body should be a multiple of ${s.multipleOf}`),
    );
  }
  if (s.format === "int32" && (v < -2147483648 || v > 2147483647)) {
    causes.push(fe.invalidValue(path, v, `${where} in body must be of type int32: "${v}"`));
  }
}

function validateString(s: SchemaNode, v: string, path: string, causes: StatusCause[]): void {
  const where = path || "body";
  const len = [...v].length;
  if (typeof s.maxLength === "number" && len > s.maxLength) {
    causes.push(fe.tooLong(path, s.maxLength));
  }
  if (typeof s.minLength === "number" && len < s.minLength) {
    causes.push(
      fe.invalidValue(path, v, `${where} in body should be at least ${s.minLength} chars long`),
    );
  }
  if (typeof s.pattern === "string" && !pattern(s.pattern).test(v)) {
    causes.push(fe.invalidValue(path, v, `${where} in body should match '${s.pattern}'`));
  }
  const check = typeof s.format === "string" ? FORMAT_CHECKS[s.format] : undefined;
  if (check && !check(v)) {
    causes.push(fe.invalidValue(path, v, `${where} in body must be of type ${s.format}: "${v}"`));
  }
}

function listMapKey(item: unknown, keys: string[]): string {
  return JSON.stringify(keys.map((k) => (isObject(item) ? item[k] : undefined)));
}

function validateArray(
  s: SchemaNode,
  v: unknown[],
  old: unknown,
  path: string,
  causes: StatusCause[],
): void {
  const where = path || "body";
  if (typeof s.maxItems === "number" && v.length > s.maxItems) {
    causes.push(fe.tooMany(path, v.length, s.maxItems));
  }
  if (typeof s.minItems === "number" && v.length < s.minItems) {
    causes.push(
      fe.invalidValue(path, v.length, `${where} in body should have at least ${s.minItems} items`),
    );
  }
  const listType = s["x-kubernetes-list-type"];
  const mapKeys = Array.isArray(s["x-kubernetes-list-map-keys"])
    ? s["x-kubernetes-list-map-keys"] as string[]
    : [];
  if (listType === "set" || s.uniqueItems === true) {
    const seen = new Set<string>();
    v.forEach((item, i) => {
      const k = JSON.stringify(item);
      if (seen.has(k)) causes.push(fe.duplicate(`${path}[${i}]`, item));
      seen.add(k);
    });
  }
  const oldByKey = new Map<string, unknown>();
  if (listType === "map" && Array.isArray(old)) {
    for (const o of old) oldByKey.set(listMapKey(o, mapKeys), o);
  }
  if (listType === "map") {
    const seen = new Set<string>();
    v.forEach((item, i) => {
      const k = listMapKey(item, mapKeys);
      if (seen.has(k)) causes.push(fe.duplicate(`${path}[${i}]`, item));
      seen.add(k);
    });
  }
  if (isObject(s.items)) {
    v.forEach((item, i) => {
      const o = listType === "map" ? oldByKey.get(listMapKey(item, mapKeys)) : undefined;
      validateValue(s.items as SchemaNode, item, o, `${path}[${i}]`, causes);
    });
  }
}

function validateObject(
  s: SchemaNode,
  v: JsonObject,
  old: unknown,
  path: string,
  causes: StatusCause[],
  root: boolean,
): void {
  const where = path || "body";
  const props = isObject(s.properties) ? s.properties as Record<string, SchemaNode> : {};
  const oldObj = isObject(old) ? old : undefined;
  if (Array.isArray(s.required)) {
    for (const r of s.required) {
      if (v[r] === undefined) causes.push(fe.required(join(path, r)));
    }
  }
  const n = Object.keys(v).length;
  if (typeof s.maxProperties === "number" && n > s.maxProperties) {
    causes.push(fe.tooMany(path, n, s.maxProperties));
  }
  if (typeof s.minProperties === "number" && n < s.minProperties) {
    causes.push(
      fe.invalidValue(
        path,
        n,
        `${where} in body should have at least ${s.minProperties} properties`,
      ),
    );
  }
  for (const [k, val] of Object.entries(v)) {
    if (root && (k === "apiVersion" || k === "kind" || k === "metadata")) continue;
    if (props[k]) {
      validateValue(props[k], val, oldObj?.[k], join(path, k), causes);
    } else if (isObject(s.additionalProperties)) {
      validateValue(s.additionalProperties, val, oldObj?.[k], `${path}[${k}]`, causes);
    }
  }
}

function validateRules(
  s: SchemaNode,
  v: unknown,
  old: unknown,
  path: string,
  causes: StatusCause[],
): void {
  const rules = rulesOf(s);
  for (const r of rules) {
    if (r.transition && old === undefined) continue;
    const vars = r.transition ? { self: v, oldSelf: old } : { self: v };
    let field = path;
    if (r.fieldPath) field = path + (r.fieldPath.startsWith(".") ? r.fieldPath : `.${r.fieldPath}`);
    if (field.startsWith(".")) field = field.slice(1);
    let ok: unknown;
    try {
      ok = evaluateCel(r.node, vars);
    } catch (e) {
      causes.push({
        reason: "Cel:FieldValueInvalid",
        message: `Invalid value: ${fe.describeValue(v)}: ${
          (e as Error).message
        } evaluating rule: ${r.rule}`,
        field,
      });
      continue;
    }
    if (ok === true) continue;
    let message = r.message ?? `failed rule: ${r.rule}`;
    if (r.messageExpression) {
      try {
        const m = evaluateCel(r.messageExpression, vars);
        if (typeof m === "string" && m.trim() !== "") message = m;
      } catch {
        // A failing messageExpression falls back to the static message, as kube does.
      }
    }
    const reason = r.reason ?? "FieldValueInvalid";
    if (reason === "FieldValueRequired") {
      causes.push({ ...fe.required(field, message), reason: `Cel:${reason}` });
    } else if (reason === "FieldValueForbidden") {
      causes.push({ ...fe.forbiddenField(field, message), reason: `Cel:${reason}` });
    } else causes.push({ ...fe.invalidValue(field, v, message), reason: `Cel:${reason}` });
  }
}
