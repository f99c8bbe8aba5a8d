/**
 * Fixtures shared by this folder's tests.
 *
 * @module
 */
import type { JsonObject } from "./json_util.ts";

/** A small cluster-scoped CRD with a status subresource, defaults, CEL and printer columns. */
export function widgetCrd(scope: "Cluster" | "Namespaced" = "Cluster"): JsonObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      names: { kind: "Widget", plural: "widgets", shortNames: ["wg"], categories: ["all-widgets"] },
      scope,
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: "Size", type: "integer", jsonPath: ".spec.size" },
          {
            name: "Ready",
            type: "string",
            jsonPath: '.status.conditions[?(@.type=="Ready")].status',
          },
          { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: {
                type: "object",
                required: ["size"],
                properties: {
                  size: { type: "integer", minimum: 1 },
                  color: { type: "string", enum: ["red", "blue"], default: "red" },
                  tag: { type: "string" },
                  digest: { type: "string" },
                },
                "x-kubernetes-validations": [{
                  rule: "!(has(self.tag) && has(self.digest))",
                  message: "tag and digest are mutually exclusive",
                }],
              },
              status: {
                type: "object",
                properties: {
                  phase: { type: "string" },
                  conditions: {
                    type: "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["type"],
                    items: {
                      type: "object",
                      properties: { type: { type: "string" }, status: { type: "string" } },
                    },
                  },
                },
              },
            },
          },
        },
      }],
    },
  };
}

/** A minimal valid Pod manifest. */
export function pod(name: string, extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, ...(extra.metadata as JsonObject ?? {}) },
    spec: {
      containers: [{ name: "c", image: "busybox:1.36" }],
      ...(extra.spec as JsonObject ?? {}),
    },
  };
}
