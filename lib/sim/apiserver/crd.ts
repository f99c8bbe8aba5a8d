/**
 * CustomResourceDefinitions: the CRD resource itself (defaults, validation, the status the
 * apiextensions controllers would write) and the served resources a CRD yields, with their
 * schema, printer columns, selectable fields and version conversion (strategy None).
 *
 * @module
 */
import { CRD_TABLE } from "./builtin_tables.ts";
import { humanDuration } from "./duration.ts";
import * as fe from "./field_errors.ts";
import { isObject, type JsonObject } from "./json_util.ts";
import { compileJsonPath, evaluateJsonPath, type JsonPath } from "./jsonpath.ts";
import { nameError } from "./names.ts";
import {
  metaFields,
  type ResourceDef,
  type Strategy,
  type TableColumn,
  type TableSpec,
} from "./resource_def.ts";
import { checkSchema, type SchemaNode } from "./schema.ts";
import type { StatusCause } from "./status.ts";

/** The finalizer kube-apiserver puts on CRDs so instances are removed before the CRD. */
export const CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

const ALL_VERBS = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];

function obj(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}

function arr(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function applyCrdDefaults(crd: JsonObject): void {
  const spec = obj(crd.spec);
  crd.spec = spec;
  const names = obj(spec.names);
  spec.names = names;
  if (typeof names.kind === "string") {
    names.singular ??= names.kind.toLowerCase();
    names.listKind ??= `${names.kind}List`;
  }
  spec.conversion ??= { strategy: "None" };
  for (const v of arr(spec.versions)) {
    const schema = obj(v.schema);
    if (isObject(schema.openAPIV3Schema)) v.schema = schema;
  }
}

function validateCrd(crd: JsonObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = obj(crd.spec);
  const names = obj(spec.names);
  const meta = obj(crd.metadata);
  const group = spec.group;
  if (typeof group !== "string" || group === "") causes.push(fe.required("spec.group"));
  else if (!group.includes(".")) {
    causes.push(fe.invalidValue("spec.group", group, "should be a domain with at least one dot"));
  }
  for (const f of ["plural", "kind"]) {
    if (typeof names[f] !== "string" || names[f] === "") {
      causes.push(fe.required(`spec.names.${f}`));
    }
  }
  if (typeof names.plural === "string" && names.plural && nameError(names.plural, "label")) {
    causes.push(
      fe.invalidValue("spec.names.plural", names.plural, nameError(names.plural, "label")!),
    );
  }
  if (
    typeof names.plural === "string" && typeof group === "string" &&
    meta.name !== `${names.plural}.${group}`
  ) {
    causes.push(
      fe.invalidValue("metadata.name", meta.name ?? "", 'must be spec.names.plural+"."+spec.group'),
    );
  }
  if (spec.scope !== "Cluster" && spec.scope !== "Namespaced") {
    causes.push(fe.notSupported("spec.scope", spec.scope ?? "", ["Cluster", "Namespaced"]));
  }
  const versions = arr(spec.versions);
  if (versions.length === 0) {
    causes.push(
      fe.required("spec.versions", "must have exactly one version marked as storage version"),
    );
  }
  const storage = versions.filter((v) => v.storage === true);
  if (versions.length > 0 && storage.length !== 1) {
    causes.push(
      fe.invalidValue(
        "spec.versions",
        versions.length,
        "must have exactly one version marked as storage version",
      ),
    );
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (typeof v.name !== "string" || v.name === "") causes.push(fe.required(`${at}.name`));
    else if (seen.has(v.name)) causes.push(fe.duplicate(`${at}.name`, v.name));
    else seen.add(v.name);
    const schema = obj(v.schema).openAPIV3Schema;
    if (!isObject(schema)) {
      causes.push(fe.required(`${at}.schema.openAPIV3Schema`, "schemas are required"));
    } else {
      causes.push(...checkSchema(schema, `${at}.schema.openAPIV3Schema`));
    }
    arr(v.additionalPrinterColumns).forEach((c, j) => {
      try {
        compileJsonPath(String(c.jsonPath ?? ""));
      } catch (e) {
        causes.push(
          fe.invalidValue(
            `${at}.additionalPrinterColumns[${j}].JSONPath`,
            c.jsonPath,
            (e as Error).message,
          ),
        );
      }
    });
  });
  return causes;
}

function establishedStatus(
  crd: JsonObject,
  now: string,
  previous: JsonObject | undefined,
): JsonObject {
  const spec = obj(crd.spec);
  const names = obj(spec.names);
  const prevConds = arr(previous?.conditions);
  const since = (type: string) =>
    prevConds.find((c) => c.type === type && c.status === "True")?.lastTransitionTime ?? now;
  const stored = new Set<string>(
    Array.isArray(previous?.storedVersions) ? previous.storedVersions as string[] : [],
  );
  for (const v of arr(spec.versions)) if (v.storage === true) stored.add(String(v.name));
  return {
    acceptedNames: { ...names },
    conditions: [
      {
        type: "NamesAccepted",
        status: "True",
        lastTransitionTime: since("NamesAccepted"),
        reason: "NoConflicts",
        message: "no conflicts found",
      },
      {
        type: "Established",
        status: "True",
        lastTransitionTime: since("Established"),
        reason: "InitialNamesAccepted",
        message: "the initial names have been accepted",
      },
    ],
    storedVersions: [...stored],
  };
}

/** Status of a CRD whose instances are being removed before it goes. */
export function terminatingStatus(status: JsonObject, now: string): JsonObject {
  const conds = arr(status.conditions).filter((c) => c.type !== "Terminating");
  conds.push({
    type: "Terminating",
    status: "True",
    lastTransitionTime: now,
    reason: "InstanceDeletionInProgress",
    message: "CustomResource deletion is in progress",
  });
  return { ...status, conditions: conds };
}

const CRD_STRATEGY: Strategy = {
  prepareCreate(crd, ctx) {
    applyCrdDefaults(crd);
    const meta = crd.metadata as JsonObject;
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers as string[] : [];
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) {
      meta.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
    }
    crd.status = establishedStatus(crd, ctx.now, undefined);
  },
  prepareUpdate(crd, old, ctx) {
    applyCrdDefaults(crd);
    if (!obj(crd.metadata).deletionTimestamp) {
      crd.status = establishedStatus(crd, ctx.now, obj(old.status));
    }
  },
  validateCreate: validateCrd,
  validateUpdate(crd, old) {
    const causes = validateCrd(crd);
    const spec = obj(crd.spec);
    const oldSpec = obj(old.spec);
    if (spec.group !== oldSpec.group) {
      causes.push(fe.invalidValue("spec.group", spec.group, "field is immutable"));
    }
    if (obj(spec.names).plural !== obj(oldSpec.names).plural) {
      causes.push(
        fe.invalidValue("spec.names.plural", obj(spec.names).plural, "field is immutable"),
      );
    }
    if (spec.scope !== oldSpec.scope) {
      causes.push(fe.invalidValue("spec.scope", spec.scope, "field is immutable"));
    }
    return causes;
  },
};

/** The def of `customresourcedefinitions.apiextensions.k8s.io/v1`. */
export function crdResourceDef(): ResourceDef {
  return {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    singular: "customresourcedefinition",
    kind: "CustomResourceDefinition",
    listKind: "CustomResourceDefinitionList",
    namespaced: false,
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
    verbs: ALL_VERBS,
    subresources: ["status"],
    storageKey: "apiextensions.k8s.io/customresourcedefinitions",
    fieldLabels: new Set(),
    fields: (o) => metaFields(o, false),
    table: CRD_TABLE,
    strategy: CRD_STRATEGY,
    statusSubresource: true,
    tracksGeneration: true,
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
    nameRule: "subdomain",
    strategicMerge: true,
    returnDeletedObject: false,
    description:
      "CustomResourceDefinition represents a resource that should be exposed on the API server.",
  };
}

interface PrinterColumn {
  def: TableColumn;
  path: JsonPath;
}

function cellValue(type: string, value: unknown, now: number): unknown {
  switch (type) {
    case "date": {
      const t = typeof value === "string" ? Date.parse(value) : NaN;
      return Number.isNaN(t) ? "<invalid>" : humanDuration(now - t);
    }
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    default:
      return typeof value === "string" ? value : JSON.stringify(value);
  }
}

function customTable(version: JsonObject): TableSpec {
  let raw = arr(version.additionalPrinterColumns);
  if (raw.length === 0) {
    raw = [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }];
  }
  const cols: PrinterColumn[] = raw.map((c) => ({
    def: {
      name: String(c.name),
      type: String(c.type ?? "string"),
      format: typeof c.format === "string" ? c.format : "",
      description: typeof c.description === "string" ? c.description : "",
      priority: typeof c.priority === "number" ? c.priority : 0,
    },
    path: compileJsonPath(String(c.jsonPath)),
  }));
  return {
    columns: [
      {
        name: "Name",
        type: "string",
        format: "name",
        description: "Name must be unique within a namespace.",
        priority: 0,
      },
      ...cols.map((c) => c.def),
    ],
    cells(o, now) {
      const cells: unknown[] = [obj(o.metadata).name];
      for (const c of cols) {
        const found = evaluateJsonPath(c.path, o);
        cells.push(
          found.length === 0 || found[0] === undefined
            ? null
            : cellValue(c.def.type, found[0], now),
        );
      }
      return cells;
    },
  };
}

function customStrategy(statusSubresource: boolean): Strategy {
  return {
    prepareCreate(o) {
      if (statusSubresource) delete o.status;
    },
  };
}

function selectableFields(version: JsonObject): { label: string; path: JsonPath }[] {
  return arr(version.selectableFields).map((f) => {
    const p = String(f.jsonPath);
    return { label: p.replace(/^\./, ""), path: compileJsonPath(p) };
  });
}

/** The resources a CRD serves: one def per served version, sharing one storage bucket. */
export function defsFromCrd(crd: JsonObject): ResourceDef[] {
  const spec = obj(crd.spec);
  const names = obj(spec.names);
  const group = String(spec.group);
  const versions = arr(spec.versions);
  const storageVersion = String(versions.find((v) => v.storage === true)?.name ?? "");
  const namespaced = spec.scope === "Namespaced";
  return versions.filter((v) => v.served !== false).map((v) => {
    const version = String(v.name);
    const statusSub = isObject(obj(v.subresources).status);
    const selectable = selectableFields(v);
    const apiVersion = `${group}/${version}`;
    const storageApiVersion = `${group}/${storageVersion}`;
    const converts = version !== storageVersion;
    const def: ResourceDef = {
      group,
      version,
      plural: String(names.plural),
      singular: String(names.singular ?? String(names.kind).toLowerCase()),
      kind: String(names.kind),
      listKind: String(names.listKind ?? `${names.kind}List`),
      namespaced,
      shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
      categories: Array.isArray(names.categories) ? names.categories.map(String) : [],
      verbs: ALL_VERBS,
      subresources: statusSub ? ["status"] : [],
      storageKey: `${group}/${names.plural}`,
      fieldLabels: new Set(selectable.map((s) => s.label)),
      fields(o) {
        const out = metaFields(o, namespaced);
        for (const s of selectable) {
          const found = evaluateJsonPath(s.path, o);
          out[s.label] = found.length && found[0] !== null && found[0] !== undefined
            ? String(found[0])
            : "";
        }
        return out;
      },
      table: customTable(v),
      strategy: customStrategy(statusSub),
      statusSubresource: statusSub,
      tracksGeneration: true,
      allowCreateOnUpdate: false,
      allowUnconditionalUpdate: false,
      nameRule: "subdomain",
      schema: obj(v.schema).openAPIV3Schema as SchemaNode | undefined,
      strategicMerge: false,
      returnDeletedObject: true,
      description: typeof obj(obj(v.schema).openAPIV3Schema).description === "string"
        ? String(obj(obj(v.schema).openAPIV3Schema).description)
        : undefined,
    };
    if (converts) {
      def.toView = (stored) => ({ ...stored, apiVersion });
      def.fromView = (o) => ({ ...o, apiVersion: storageApiVersion });
    }
    return def;
  });
}
