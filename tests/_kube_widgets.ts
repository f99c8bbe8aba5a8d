/** A tiny test CRD for lib/kube's integration tests (lib/kube knows nothing of our CRDs). */
import type { KubeObject, ResourceRef } from "../lib/kube/mod.ts";

/** A Widget object. */
export type Widget = KubeObject & { spec?: { size?: number }; status?: { observed?: number } };

/** The Widget resource. */
export const WIDGETS: ResourceRef = {
  group: "test.example.com",
  version: "v1",
  plural: "widgets",
  kind: "Widget",
  namespaced: false,
};

/** CRD of Widgets, cluster-scoped, with a status subresource. */
export const WIDGET_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.test.example.com" },
  spec: {
    group: "test.example.com",
    scope: "Cluster",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [{
      name: "v1",
      served: true,
      storage: true,
      subresources: { status: {} },
      schema: {
        openAPIV3Schema: {
          type: "object",
          properties: {
            spec: { type: "object", properties: { size: { type: "integer" } } },
            status: { type: "object", properties: { observed: { type: "integer" } } },
          },
        },
      },
    }],
  },
};
