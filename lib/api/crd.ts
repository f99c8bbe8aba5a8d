/**
 * Generates CustomResourceDefinitions from the zod schemas, so the schemas stay the one source of
 * truth for the API server's validation, defaulting, `kubectl explain` and our own parsing.
 *
 * @module
 */
import { z } from "zod";
import { API_VERSION, type KindInfo } from "./kind.ts";

type JsonSchema = Record<string, unknown>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** Converts a zod schema to a structural OpenAPI v3 schema as CustomResourceDefinitions need it. */
export function openApiSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io: "input",
    target: "openapi-3.0",
    unrepresentable: "throw",
  });
  delete json.$schema;
  return structural(json as JsonSchema, "");
}

function structural(node: JsonSchema, path: string): JsonSchema {
  for (const key of ["anyOf", "oneOf", "allOf", "not", "$ref"]) {
    if (key in node) {
      throw new Error(
        `Cannot generate a structural schema at "${path || "."}": "${key}" is not allowed`,
      );
    }
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "properties") {
      const props: JsonSchema = {};
      for (const [name, child] of Object.entries(value as Record<string, JsonSchema>)) {
        props[name] = structural(child, `${path}.${name}`);
      }
      out.properties = props;
    } else if (key === "items") {
      out.items = structural(value as JsonSchema, `${path}[]`);
    } else if (key === "additionalProperties") {
      if (value === false) continue;
      const inner = value as JsonSchema;
      if (Object.keys(inner).length === 0) out["x-kubernetes-preserve-unknown-fields"] = true;
      else out.additionalProperties = structural(inner, `${path}.*`);
    } else {
      out[key] = value;
    }
  }
  if (out.type === "object" && out.properties && Object.keys(out.properties).length === 0) {
    delete out.properties;
  }
  if (out.type === "integer") integerFormat(out);
  if (out.type === undefined && !out["x-kubernetes-preserve-unknown-fields"]) {
    throw new Error(`Cannot generate a structural schema at "${path || "."}": no type`);
  }
  return out;
}

function integerFormat(out: JsonSchema): void {
  const min = out.minimum as number | undefined;
  const max = out.maximum as number | undefined;
  if (max === INT32_MAX && (min === undefined || min >= INT32_MIN)) {
    out.format = "int32";
    delete out.maximum;
    if (min === INT32_MIN) delete out.minimum;
  } else if (max === SAFE_MAX) {
    out.format = "int64";
    delete out.maximum;
    if (min === -SAFE_MAX) delete out.minimum;
  }
}

/** Whether a schema has required properties, in which case `spec` itself is required. */
function hasRequired(schema: JsonSchema): boolean {
  return Array.isArray(schema.required) && schema.required.length > 0;
}

/** Builds the CustomResourceDefinition object of one kind. */
export function crdFor(kind: KindInfo): JsonSchema {
  const spec = openApiSchema(kind.spec);
  const properties: JsonSchema = {
    apiVersion: {
      type: "string",
      description: "The versioned schema of this representation of an object.",
    },
    kind: { type: "string", description: "The REST resource this object represents." },
    metadata: { type: "object" },
    spec: hasRequired(spec) ? spec : { ...spec, default: {} },
  };
  if (kind.status) properties.status = openApiSchema(kind.status);
  const version: JsonSchema = {
    name: kind.version,
    served: true,
    storage: true,
    schema: {
      openAPIV3Schema: {
        type: "object",
        description: kind.description,
        properties,
        ...(hasRequired(spec) ? { required: ["spec"] } : {}),
      },
    },
    additionalPrinterColumns: kind.printerColumns.map((c) => ({
      name: c.name,
      type: c.type,
      jsonPath: c.jsonPath,
      ...(c.description ? { description: c.description } : {}),
      ...(c.priority ? { priority: c.priority } : {}),
    })),
  };
  if (kind.statusSubresource) version.subresources = { status: {} };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${kind.plural}.${kind.group}`,
      labels: { "app.kubernetes.io/name": "drop", "app.kubernetes.io/part-of": "drop" },
    },
    spec: {
      group: kind.group,
      names: {
        kind: kind.kind,
        listKind: kind.listKind,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: kind.shortNames,
        categories: kind.categories,
      },
      scope: kind.namespaced ? "Namespaced" : "Cluster",
      versions: [version],
    },
  };
}

/** The file name `deno task gen` writes a kind's CRD to. */
export function crdFileName(kind: KindInfo): string {
  return `${kind.group}_${kind.plural}.yaml`;
}

/** `apiVersion` of every generated object, re-exported for callers that build objects. */
export { API_VERSION };
