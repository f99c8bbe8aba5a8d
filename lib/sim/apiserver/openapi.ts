/**
 * OpenAPI v3 documents per group version, enough for kubectl: the PATCH operations declare the
 * `fieldValidation` parameter (so kubectl leaves validation to the server instead of needing
 * OpenAPI v2), and component schemas carry `x-kubernetes-group-version-kind` so `kubectl
 * explain` finds a kind (CRDs with their full schema, built-ins with a summary). Strategic
 * merge is deliberately not advertised, so `kubectl apply` computes its patches from its
 * compiled-in types.
 *
 * @module
 */
import { shortHash } from "./discovery.ts";
import { isObject, type JsonObject } from "./json_util.ts";
import type { ResourceDef } from "./resource_def.ts";
import type { ResourceRegistry } from "./resource_registry.ts";

const OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

const OBJECT_META_SCHEMA: JsonObject = {
  type: "object",
  description:
    "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
  properties: {
    name: { type: "string", description: "Name must be unique within a namespace." },
    generateName: {
      type: "string",
      description: "An optional prefix used by the server to generate a unique name.",
    },
    namespace: {
      type: "string",
      description: "Namespace defines the space within which each name must be unique.",
    },
    uid: {
      type: "string",
      description: "UID is the unique in time and space value for this object.",
    },
    resourceVersion: {
      type: "string",
      description: "An opaque value that represents the internal version of this object.",
    },
    generation: {
      type: "integer",
      format: "int64",
      description: "A sequence number representing a specific generation of the desired state.",
    },
    creationTimestamp: {
      type: "string",
      format: "date-time",
      description: "The server time when this object was created.",
    },
    deletionTimestamp: {
      type: "string",
      format: "date-time",
      description: "RFC 3339 date and time at which this resource will be deleted.",
    },
    labels: {
      type: "object",
      additionalProperties: { type: "string", default: "" },
      description:
        "Map of string keys and values that can be used to organize and categorize objects.",
    },
    annotations: {
      type: "object",
      additionalProperties: { type: "string", default: "" },
      description: "Annotations is an unstructured key value map stored with a resource.",
    },
    finalizers: {
      type: "array",
      items: { type: "string", default: "" },
      description: "Must be empty before the object is deleted from the registry.",
    },
    ownerReferences: {
      type: "array",
      items: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      description: "List of objects depended by this object.",
    },
  },
};

function gvk(def: ResourceDef): JsonObject {
  return { group: def.group, version: def.version, kind: def.kind };
}

/** Component name of a def's schema, in Kubernetes' reverse-domain style. */
function schemaName(def: ResourceDef): string {
  if (def.group === "") return `io.k8s.api.core.${def.version}.${def.kind}`;
  const reversed = def.group.split(".").reverse().join(".");
  return `${reversed}.${def.version}.${def.kind}`;
}

function builtinSchema(def: ResourceDef): JsonObject {
  return {
    type: "object",
    description: def.description ?? `${def.kind} is a Kubernetes object.`,
    properties: {
      apiVersion: {
        type: "string",
        description: "APIVersion defines the versioned schema of this representation of an object.",
      },
      kind: {
        type: "string",
        description:
          "Kind is a string value representing the REST resource this object represents.",
      },
      metadata: {
        allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }],
        default: {},
        description: "Standard object's metadata.",
      },
      spec: {
        type: "object",
        "x-kubernetes-preserve-unknown-fields": true,
        description: `Specification of the ${def.kind}.`,
      },
      status: {
        type: "object",
        "x-kubernetes-preserve-unknown-fields": true,
        description: `Most recently observed status of the ${def.kind}.`,
      },
    },
  };
}

function crdSchema(def: ResourceDef): JsonObject {
  const schema = structuredClone(def.schema!) as JsonObject;
  const props = isObject(schema.properties) ? schema.properties : {};
  props.metadata = {
    allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }],
    description: "Standard object's metadata.",
  };
  schema.properties = props;
  return schema;
}

function param(name: string, description: string): JsonObject {
  return { name, in: "query", description, schema: { type: "string", uniqueItems: true } };
}

const WRITE_PARAMS = [
  param("dryRun", "When present, indicates that modifications should not be persisted."),
  param(
    "fieldManager",
    "fieldManager is a name associated with the actor or entity that is making these changes.",
  ),
  param(
    "fieldValidation",
    "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.",
  ),
];

function op(def: ResourceDef, action: string, ref: string, extra: JsonObject = {}): JsonObject {
  return {
    description: `${action} ${def.kind}`,
    operationId: `${action}${def.kind}`,
    responses: {
      "200": { description: "OK", content: { "application/json": { schema: { $ref: ref } } } },
    },
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk(def),
    ...extra,
  };
}

function paths(def: ResourceDef, ref: string): Record<string, JsonObject> {
  const prefix = def.group ? `/apis/${def.group}/${def.version}` : `/api/${def.version}`;
  const base = def.namespaced
    ? `${prefix}/namespaces/{namespace}/${def.plural}`
    : `${prefix}/${def.plural}`;
  const body = { content: { "application/json": { schema: { $ref: ref } } }, required: true };
  const patchBody = {
    content: {
      "application/json-patch+json": { schema: { type: "object" } },
      "application/merge-patch+json": { schema: { type: "object" } },
      "application/apply-patch+yaml": { schema: { type: "object" } },
    },
    required: true,
  };
  const item: JsonObject = {
    get: op(def, "get", ref),
    put: op(def, "put", ref, { parameters: WRITE_PARAMS, requestBody: body }),
    patch: op(def, "patch", ref, {
      parameters: [...WRITE_PARAMS, param("force", "Force is going to force Apply requests.")],
      requestBody: patchBody,
    }),
    delete: op(def, "delete", ref),
  };
  const out: Record<string, JsonObject> = {
    [base]: {
      get: op(def, "list", ref),
      post: op(def, "post", ref, { parameters: WRITE_PARAMS, requestBody: body }),
    },
    [`${base}/{name}`]: item,
  };
  for (const sub of def.subresources) {
    if (sub !== "status") continue;
    out[`${base}/{name}/status`] = {
      get: op(def, "get", ref),
      put: op(def, "put", ref, { parameters: WRITE_PARAMS, requestBody: body }),
      patch: op(def, "patch", ref, { parameters: WRITE_PARAMS, requestBody: patchBody }),
    };
  }
  return out;
}

/** The OpenAPI v3 document of one group version. */
export function groupVersionDocument(
  registry: ResourceRegistry,
  group: string,
  version: string,
): JsonObject | undefined {
  const defs = registry.inGroupVersion(group, version);
  if (defs.length === 0) return undefined;
  const schemas: JsonObject = { [OBJECT_META]: OBJECT_META_SCHEMA };
  let allPaths: Record<string, JsonObject> = {};
  for (const def of defs) {
    const name = schemaName(def);
    const ref = `#/components/schemas/${name}`;
    schemas[name] = {
      ...(def.schema ? crdSchema(def) : builtinSchema(def)),
      "x-kubernetes-group-version-kind": [gvk(def)],
    };
    allPaths = { ...allPaths, ...paths(def, ref) };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths: allPaths,
    components: { schemas },
  };
}

/** Caches the per-group-version documents until the set of served resources changes. */
export class OpenApiCache {
  #registry: ResourceRegistry;
  #generation = -1;
  #docs = new Map<string, string>();

  constructor(registry: ResourceRegistry) {
    this.#registry = registry;
  }

  #refresh(): void {
    if (this.#generation === this.#registry.generation) return;
    this.#generation = this.#registry.generation;
    this.#docs.clear();
    for (const group of this.#registry.groups()) {
      for (const version of this.#registry.versions(group)) {
        const doc = groupVersionDocument(this.#registry, group, version);
        if (doc) {
          this.#docs.set(
            group ? `apis/${group}/${version}` : `api/${version}`,
            JSON.stringify(doc),
          );
        }
      }
    }
  }

  /** `/openapi/v3`: the path of every group version with a content hash. */
  root(): string {
    this.#refresh();
    const paths: JsonObject = {};
    for (const [path, text] of this.#docs) {
      const hash = shortHash(text).replace(/[^A-Za-z0-9]/g, "");
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
    return JSON.stringify({ paths });
  }

  /** `/openapi/v3/<path>`, or undefined. */
  document(path: string): string | undefined {
    this.#refresh();
    return this.#docs.get(path);
  }
}
