/**
 * `meta.k8s.io/v1` Table responses (what `kubectl get` asks for), built from a resource's
 * table spec, with the row objects kube includes (`includeObject`: None, Metadata, Object).
 *
 * @module
 */
import { isObject, type JsonObject } from "./json_util.ts";
import type { ResourceDef } from "./resource_def.ts";

/** How much of each object a Table row carries. */
export type IncludeObject = "None" | "Metadata" | "Object";

/** Options of {@linkcode renderTable}. */
export interface TableOptions {
  includeObject: IncludeObject;
  includeColumns: boolean;
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  now?: number;
}

function rowObject(
  def: ResourceDef,
  stored: JsonObject,
  mode: IncludeObject,
): JsonObject | undefined {
  if (mode === "None") return undefined;
  const view = def.toView ? def.toView(stored) : stored;
  if (mode === "Object") return view;
  const meta = isObject(view.metadata) ? { ...view.metadata } : {};
  delete meta.managedFields;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: meta };
}

/** A Table of stored objects. */
export function renderTable(def: ResourceDef, objs: JsonObject[], opts: TableOptions): JsonObject {
  const now = opts.now ?? Date.now();
  const metadata: JsonObject = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  const table: JsonObject = { kind: "Table", apiVersion: "meta.k8s.io/v1", metadata };
  if (opts.includeColumns) table.columnDefinitions = def.table.columns;
  table.rows = objs.map((o) => {
    const row: JsonObject = { cells: def.table.cells(o, now) };
    const obj = rowObject(def, o, opts.includeObject);
    if (obj) row.object = obj;
    return row;
  });
  return table;
}
