/**
 * What the CRD generator and the clients need to know about one of our kinds besides its schema.
 *
 * @module
 */
import type { z } from "zod";

/** The API group of every kind we define. */
export const GROUP = "drop.corewire.io";
/** The served and stored version. */
export const VERSION = "v1alpha1";
/** `apiVersion` of our objects. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A column shown by `kubectl get`. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  /** 0 shows by default; 1 only with `-o wide`. */
  priority?: 0 | 1;
}

/** A resource reference, structurally compatible with the Kubernetes client's `ResourceRef`. */
export interface KindRef {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

/** Everything about one of our kinds. */
export interface KindInfo extends KindRef {
  singular: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
  description: string;
  /** Whether the kind has a `/status` subresource. */
  statusSubresource: boolean;
  printerColumns: PrinterColumn[];
  spec: z.ZodType;
  status?: z.ZodType;
}

/** Builds the `KindInfo` of a cluster-scoped kind of our group. */
export function clusterKind(
  info: Omit<KindInfo, "group" | "version" | "namespaced" | "listKind" | "categories">,
): KindInfo {
  return {
    group: GROUP,
    version: VERSION,
    namespaced: false,
    listKind: `${info.kind}List`,
    categories: ["drop"],
    ...info,
  };
}

/** The `Ready` condition's reason and message, as printer columns. */
export const READY_REASON_COLUMN: PrinterColumn = {
  name: "Status",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
};
/** The `Ready` condition's message, shown with `-o wide`. */
export const READY_MESSAGE_COLUMN: PrinterColumn = {
  name: "Message",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].message',
  priority: 1,
};
/** The object's age. */
export const AGE_COLUMN: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
};
