/**
 * What the server knows about one served resource (a group/version/plural): discovery data,
 * field selectors, table columns and the write strategy, for built-ins and CRDs alike.
 *
 * @module
 */
import type { JsonObject } from "./json_util.ts";
import type { SchemaNode } from "./schema.ts";
import type { StatusCause } from "./status.ts";

/** One column of a Table response. */
export interface TableColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
}

/** Columns and the function computing their cells (Name is always the first column). */
export interface TableSpec {
  columns: TableColumn[];
  cells(obj: JsonObject, now: number): unknown[];
}

/** Context of a write, for strategies that need the clock or the request's options. */
export interface WriteContext {
  now: string;
}

/** Type-specific behaviour on writes, mirroring kube-apiserver's registry strategies. */
export interface Strategy {
  /** Mutates a new object before validation (defaults, status reset, normalisation). */
  prepareCreate?(obj: JsonObject, ctx: WriteContext): void;
  /** Mutates an updated object given the stored one (e.g. keep fields the endpoint may not set). */
  prepareUpdate?(obj: JsonObject, old: JsonObject, ctx: WriteContext): void;
  /** Validation errors of a new object. */
  validateCreate?(obj: JsonObject): StatusCause[];
  /** Validation errors of an update. */
  validateUpdate?(obj: JsonObject, old: JsonObject): StatusCause[];
}

/** A served resource. Several versions of one resource share a storage bucket. */
export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Discovery verbs of the main resource. */
  verbs: string[];
  /** Subresources served, e.g. ["status"]. */
  subresources: string[];
  /** Key of the storage bucket, the same for every version: `<group>/<plural>`. */
  storageKey: string;
  /** Field selector labels supported besides metadata.name / metadata.namespace. */
  fieldLabels: ReadonlySet<string>;
  /** Values of the supported field labels for an object (in storage form). */
  fields(obj: JsonObject): Record<string, string>;
  table: TableSpec;
  strategy: Strategy;
  /** Whether writes to the main resource ignore `status` (status subresource enabled). */
  statusSubresource: boolean;
  /** Whether `metadata.generation` is kept and bumped on spec changes. */
  tracksGeneration: boolean;
  /** PUT of a missing object creates it. */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion is allowed. */
  allowUnconditionalUpdate: boolean;
  /** How names are validated: DNS-1123 subdomain, label, or only path-safe. */
  nameRule: "subdomain" | "label" | "path";
  /** Structural schema (CRDs). */
  schema?: SchemaNode;
  /** Converts the stored object to this version's view; absent when identical. */
  toView?(stored: JsonObject): JsonObject;
  /** Converts a request object of this version to storage form; absent when identical. */
  fromView?(obj: JsonObject): JsonObject;
  /** An immediate DELETE answers the deleted object; otherwise a Success Status (kube's ReturnDeletedObject). */
  returnDeletedObject: boolean;
  /** Whether strategic merge patch is accepted (built-ins only). */
  strategicMerge: boolean;
  /** Map of list-field name to merge keys, for server-side apply of built-ins. */
  listMapKeys?: Readonly<Record<string, string>>;
  /** Short description for OpenAPI and `kubectl explain`. */
  description?: string;
}

/** `apiVersion` served by a def: "v1" for core, else "group/version". */
export function apiVersionOf(def: { group: string; version: string }): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** Resource label used in counters and messages: `plural[.group][/sub]`. */
export function resourceLabel(def: ResourceDef, subresource?: string): string {
  const base = def.group ? `${def.plural}.${def.group}` : def.plural;
  return subresource ? `${base}/${subresource}` : base;
}

/** The default field values every resource supports. */
export function metaFields(obj: JsonObject, namespaced: boolean): Record<string, string> {
  const m = (obj.metadata ?? {}) as JsonObject;
  const out: Record<string, string> = { "metadata.name": String(m.name ?? "") };
  if (namespaced) out["metadata.namespace"] = String(m.namespace ?? "");
  return out;
}

/** Storage key of an object: `namespace/name` or `name`. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
