/**
 * List requests: selectors, namespace ranges, paging with continue tokens shaped like
 * kube-apiserver's (base64 of `{"v","rv","start"}`), and consistent pages rebuilt from the
 * event window, or 410 Expired once it no longer reaches back.
 *
 * @module
 */
import type { Rec } from "./event_log.ts";
import { exactName, matchesFields, parseFieldSelector } from "./field_selector.ts";
import type { FieldSelector } from "./field_selector.ts";
import { isObject } from "./json_util.ts";
import { type LabelSelector, matchesLabels, parseLabelSelector } from "./label_selector.ts";
import { objectKey, type ResourceDef } from "./resource_def.ts";
import type { Bucket, ResourceStore } from "./resource_store.ts";
import { badRequest, expired } from "./status.ts";

/** Query options of a list. */
export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
  resourceVersion?: string | null;
  resourceVersionMatch?: string | null;
}

/** One page of a list, in storage form. */
export interface ListResult {
  items: Rec[];
  resourceVersion: number;
  continue?: string;
  remainingItemCount?: number;
}

/** Compiled selectors of a list or watch. */
export interface Selection {
  namespace: string;
  labels: LabelSelector;
  fields: FieldSelector;
  def: ResourceDef;
}

/** Parses selectors, rejecting unsupported field labels (400). */
export function selection(
  def: ResourceDef,
  namespace: string,
  labelSelector?: string | null,
  fieldSelector?: string | null,
): Selection {
  const supported = new Set(def.fieldLabels);
  supported.add("metadata.name");
  if (def.namespaced) supported.add("metadata.namespace");
  return {
    namespace,
    def,
    labels: parseLabelSelector(labelSelector),
    fields: parseFieldSelector(fieldSelector, supported),
  };
}

/** Whether a stored object is selected. */
export function selects(sel: Selection, rec: Rec): boolean {
  if (sel.namespace && rec.ns !== sel.namespace) return false;
  if (sel.labels.requirements.length) {
    const meta = rec.obj.metadata;
    const labels = isObject(meta) && isObject(meta.labels)
      ? meta.labels as Record<string, string>
      : undefined;
    if (!matchesLabels(sel.labels, labels)) return false;
  }
  if (sel.fields.requirements.length && !matchesFields(sel.fields, sel.def.fields(rec.obj))) {
    return false;
  }
  return true;
}

function encodeContinue(rv: number, start: string): string {
  const raw = JSON.stringify({ v: "meta.k8s.io/v1", rv, start: `${start}\u0000` });
  const bytes = new TextEncoder().encode(raw);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const b64 = token.replaceAll("-", "+").replaceAll("_", "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const raw = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
    if (raw.v !== "meta.k8s.io/v1" || typeof raw.rv !== "number" || typeof raw.start !== "string") {
      throw new Error("unrecognized continue token");
    }
    return { rv: raw.rv, start: raw.start.endsWith("\u0000") ? raw.start.slice(0, -1) : raw.start };
  } catch (e) {
    throw badRequest(`continue key is not valid: ${(e as Error).message}`);
  }
}

function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function parseRv(value: string, what: string): number {
  if (!/^\d+$/.test(value)) {
    throw badRequest(`Invalid value: "${value}": ${what} must be a valid resource version`);
  }
  return Number(value);
}

/** Runs a list against the store. */
export function listObjects(
  store: ResourceStore,
  bucket: Bucket,
  def: ResourceDef,
  namespace: string,
  opts: ListOptions,
): ListResult {
  const sel = selection(def, namespace, opts.labelSelector, opts.fieldSelector);
  let view: { keys: string[]; get(key: string): Rec | undefined } | undefined;
  let rv = store.rv;
  let startAfter: string | undefined;
  let limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
  if (opts.continue) {
    const token = decodeContinue(opts.continue);
    view = store.snapshot(bucket, token.rv);
    if (!view) {
      throw expired(
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
      );
    }
    rv = token.rv;
    startAfter = token.start;
  } else if (opts.resourceVersion && opts.resourceVersionMatch === "Exact") {
    rv = parseRv(opts.resourceVersion, "resourceVersion");
    view = store.snapshot(bucket, rv);
    if (!view) throw expired("The resourceVersion for the provided list is too old.");
  } else {
    if (opts.resourceVersion === "0") limit = 0;
    else if (opts.resourceVersion) parseRv(opts.resourceVersion, "resourceVersion");
    view = { keys: bucket.sortedKeys(), get: (k) => bucket.objects.get(k) };
  }
  const name = exactName(sel.fields);
  let keys: string[];
  if (name !== undefined && (namespace || !def.namespaced)) {
    keys = [objectKey(namespace, name)];
  } else {
    keys = view.keys;
  }
  let i = 0;
  if (namespace && keys === view.keys) i = lowerBound(keys, `${namespace}/`);
  if (startAfter !== undefined) i = Math.max(i, lowerBound(keys, startAfter + "\u0000"));
  const items: Rec[] = [];
  const unfiltered = sel.labels.requirements.length === 0 && sel.fields.requirements.length === 0;
  for (; i < keys.length; i++) {
    const k = keys[i];
    if (namespace && keys === view.keys && !k.startsWith(`${namespace}/`)) break;
    const rec = view.get(k);
    if (!rec || !selects(sel, rec)) continue;
    items.push(rec);
    if (limit && items.length === limit) {
      i++;
      break;
    }
  }
  const result: ListResult = { items, resourceVersion: rv };
  if (limit && items.length === limit) {
    let more = false;
    let remaining = 0;
    for (let j = i; j < keys.length; j++) {
      const k = keys[j];
      if (namespace && keys === view.keys && !k.startsWith(`${namespace}/`)) break;
      const rec = view.get(k);
      if (rec && selects(sel, rec)) {
        more = true;
        remaining++;
        if (!unfiltered) break;
      }
    }
    if (more) {
      result.continue = encodeContinue(rv, items[items.length - 1].key);
      if (unfiltered) result.remainingItemCount = remaining;
    }
  }
  return result;
}
