/**
 * The API semantics independent of HTTP: create, update, patch, apply, delete and list with
 * kube-apiserver's rules (resourceVersion preconditions, generation, status subresource,
 * schema defaulting, pruning and validation, dry run), plus what kube's controllers would do
 * next: finalizers, garbage collection, namespace and CRD cleanup.
 *
 * @module
 */
import { applyConfiguration, namedListKeys, schemaListKeys } from "./apply.ts";
import { builtinResources } from "./builtin_resources.ts";
import {
  type ControllerHost,
  CRDS_KEY,
  finalizersOf,
  FOREGROUND,
  NAMESPACES_KEY,
  nowIso,
} from "./controller_host.ts";
import { crdResourceDef } from "./crd.ts";
import { CrdController } from "./crd_controller.ts";
import { EventRetention } from "./event_retention.ts";
import { GarbageCollector } from "./garbage_collector.ts";
import { NamespaceController } from "./namespace_controller.ts";
import type { Rec } from "./event_log.ts";
import { applyJsonPatch, JsonPatchError } from "./json_patch.ts";
import { isObject, jsonEquivalent, type JsonObject, metaOf } from "./json_util.ts";
import { listObjects, type ListOptions, type ListResult } from "./list_query.ts";
import { applyMergePatch } from "./merge_patch.ts";
import { generateName } from "./names.ts";
import {
  clearSystemFields,
  dropEmptyMeta,
  keepSystemFields,
  specChanged,
  validateFinalizersWhileDeleting,
  validateMeta,
} from "./object_meta.ts";
import { apiVersionOf, objectKey, type ResourceDef } from "./resource_def.ts";
import { ResourceRegistry } from "./resource_registry.ts";
import { type Bucket, ResourceStore } from "./resource_store.ts";
import { defaultAndPrune, validateSchema } from "./schema.ts";
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  forbidden,
  invalid,
  notFound,
  type StatusCause,
  unprocessable,
  unsupportedMediaType,
} from "./status.ts";
import { applyStrategicMergePatch, StrategicMergeError } from "./strategic_merge.ts";
import { parse as parseYaml } from "yaml";

/** Options of a write request. */
export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: string | null;
  fieldManager?: string | null;
  force?: boolean;
}

/** Options of a delete request. */
export interface DeleteOptions {
  propagationPolicy?: string | null;
  gracePeriodSeconds?: number | null;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** A written or read object in storage form with its JSON. */
export interface ObjectResult {
  obj: JsonObject;
  json: string;
  warnings: string[];
  /** The write created the object (201 instead of 200). */
  created?: boolean;
}

/** Patch content types. */
export type PatchType = "json" | "merge" | "strategic" | "apply";

/** Options of {@linkcode ApiCore}. */
export interface CoreOptions {
  /** Watch events kept per resource at most. */
  watchWindow: number;
  /** Watch events older than this are dropped once newer ones arrive (default: kept). */
  watchWindowMs?: number;
  /** Core Events kept at most; the least recently written go first (default: no limit). */
  maxEvents?: number;
  /** Clock (ms) of the watch window and Event retention. */
  now?: () => number;
  gracefulPodDeletion: boolean;
  /** Called when a resource stops being served (CRD removed or version dropped). */
  onResourceRemoved?: (storageKey: string) => void;
}

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
/** Storage key of core Events (events.k8s.io/v1 Events share it). */
const EVENTS_KEY = "/events";

function target(def: ResourceDef): { group: string; plural: string } {
  return { group: def.group, plural: def.plural };
}

function parseBody(text: string, contentType: string): unknown {
  if (text.trim() === "") {
    throw badRequest(
      "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
    );
  }
  if (contentType.includes("yaml")) {
    try {
      return parseYaml(text);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding request body: ${(e as Error).message}`);
  }
}

/** Whether an update changes nothing but managedFields timestamps (then nothing is written). */
function unchanged(obj: JsonObject, old: JsonObject): boolean {
  const managed = (o: JsonObject) => {
    const mf = metaOf(o).managedFields;
    return Array.isArray(mf) ? mf.map((e) => (isObject(e) ? { ...e, time: undefined } : e)) : mf;
  };
  const strip = (o: JsonObject) => ({
    ...o,
    metadata: { ...metaOf(o), managedFields: managed(o) },
  });
  return jsonEquivalent(strip(obj), strip(old));
}

/** Decodes a request body (JSON or YAML). */
export function decodeBody(text: string, contentType: string): unknown {
  return parseBody(text, contentType);
}

/** The server's API logic over its store. */
export class ApiCore {
  readonly registry = new ResourceRegistry();
  readonly store: ResourceStore;
  #opts: CoreOptions;
  #tasks: (() => void)[] = [];
  #depth = 0;
  #gc: GarbageCollector;
  #namespaces: NamespaceController;
  #crds: CrdController;
  #events = new EventRetention();
  #now: () => number;

  constructor(opts: CoreOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.store = new ResourceStore({
      capacity: opts.watchWindow,
      maxAgeMs: opts.watchWindowMs,
      now: this.#now,
    }, [EVENTS_KEY]);
    const host: ControllerHost = {
      store: this.store,
      registry: this.registry,
      later: (task) => this.#later(task),
      delete: (bucket, key, policy) => void this.#delete(bucket, key, policy),
      commitUpdate: (bucket, key, obj) => this.#commitUpdate(bucket, key, obj),
      create: (def, ns, body) => void this.#create(def, ns, body, {}),
      removed: (bucket, rec) => this.#afterRemove(bucket, rec),
    };
    this.#gc = new GarbageCollector(host);
    this.#namespaces = new NamespaceController(host);
    this.#crds = new CrdController(host, (key) => opts.onResourceRemoved?.(key));
    for (const def of builtinResources()) this.registry.add(def);
    this.registry.add(crdResourceDef());
    const nsDef = this.def("", "v1", "namespaces")!;
    for (const name of SYSTEM_NAMESPACES) {
      this.create(nsDef, "", { apiVersion: "v1", kind: "Namespace", metadata: { name } }, {});
    }
  }

  /** The def serving group/version/plural. */
  def(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.registry.get(group, version, plural);
  }

  /** The def used for internal writes to a bucket (the storage version). */
  #storageDef(storageKey: string): ResourceDef | undefined {
    const defs = this.registry.byStorageKey(storageKey);
    return defs.find((d) => !d.toView) ?? defs[0];
  }

  #bucket(def: ResourceDef): Bucket {
    return this.store.bucket(def.storageKey);
  }

  /** Runs an operation, then the follow-up work it scheduled (GC, cleanup), before returning. */
  #op<T>(fn: () => T): T {
    this.#depth++;
    try {
      return fn();
    } finally {
      this.#depth--;
      if (this.#depth === 0) this.#drain();
    }
  }

  #drain(): void {
    this.#depth++;
    try {
      let n = 0;
      while (this.#tasks.length) {
        const task = this.#tasks.shift()!;
        try {
          task();
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
        }
        if (++n > 1_000_000) {
          throw new Error("Cannot finish follow-up work: more than a million tasks queued");
        }
      }
    } finally {
      this.#depth--;
    }
  }

  #later(task: () => void): void {
    this.#tasks.push(task);
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The stored object, or 404. */
  get(def: ResourceDef, ns: string, name: string): Rec {
    const rec = this.#bucket(def).objects.get(objectKey(ns, name));
    if (!rec) throw notFound(target(def), name);
    return rec;
  }

  /** A list page. */
  list(def: ResourceDef, ns: string, opts: ListOptions): ListResult {
    return listObjects(this.store, this.#bucket(def), def, ns, opts);
  }

  // ---- create ------------------------------------------------------------------------------

  #checkKind(def: ResourceDef, obj: JsonObject): void {
    const apiVersion = apiVersionOf(def);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw badRequest(
        `the kind in the data (${obj.kind}) does not match the expected kind (${def.kind})`,
      );
    }
  }

  #requireNamespace(ns: string, forCreate: boolean): void {
    const rec = this.store.bucket(NAMESPACES_KEY).objects.get(ns);
    if (!rec) throw notFound({ group: "", plural: "namespaces" }, ns);
    if (forCreate && metaOf(rec.obj).deletionTimestamp) {
      throw forbidden(
        `unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }

  /** Schema defaulting and pruning; unknown fields fail (Strict) or warn (Warn, the default). */
  #prune(def: ResourceDef, obj: JsonObject, opts: WriteOptions, warnings: string[]): void {
    if (!def.schema) return;
    const unknown = defaultAndPrune(def.schema, obj);
    if (unknown.length === 0) return;
    const mode = opts.fieldValidation ?? "Warn";
    if (mode === "Strict") {
      throw badRequest(
        `strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(", ")}`,
      );
    }
    if (mode === "Warn") { for (const u of unknown) warnings.push(`unknown field "${u}"`); }
  }

  #validate(def: ResourceDef, obj: JsonObject, old: JsonObject | undefined): void {
    const meta = metaOf(obj);
    const causes: StatusCause[] = validateMeta(meta, def.nameRule);
    if (old) causes.push(...validateFinalizersWhileDeleting(meta, metaOf(old)));
    const strategyCauses = old
      ? def.strategy.validateUpdate?.(obj, old)
      : def.strategy.validateCreate?.(obj);
    if (strategyCauses) causes.push(...strategyCauses);
    if (def.schema) {
      const view = def.toView ? def.toView(obj) : obj;
      const oldView = old && def.toView ? def.toView(old) : old;
      causes.push(...validateSchema(def.schema, view, oldView));
    }
    if (causes.length) throw invalid(def.kind, def.group, String(meta.name ?? ""), causes);
  }

  /** Creates an object (POST). `body` is in the def's version. */
  create(def: ResourceDef, ns: string, body: unknown, opts: WriteOptions): ObjectResult {
    return this.#op(() => this.#create(def, ns, body, opts));
  }

  #create(
    def: ResourceDef,
    ns: string,
    body: unknown,
    opts: WriteOptions,
    fixedName?: string,
  ): ObjectResult {
    if (!isObject(body)) throw badRequest("the body of the request must be a JSON object");
    this.#checkKind(def, body);
    const warnings: string[] = [];
    const view: JsonObject = { apiVersion: apiVersionOf(def), kind: def.kind, ...body };
    view.apiVersion = apiVersionOf(def);
    view.kind = def.kind;
    const meta = metaOf(view);
    this.#prune(def, view, opts, warnings);
    let obj = def.fromView ? def.fromView(view) : view;
    obj = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: metaOf(obj), ...obj };
    if (def.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== ns) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      meta.namespace = ns;
    } else {
      delete meta.namespace;
    }
    if (fixedName !== undefined && meta.name !== fixedName) {
      throw badRequest(
        `the name of the object (${
          meta.name ?? ""
        }) does not match the name on the URL (${fixedName})`,
      );
    }
    const bucket = this.#bucket(def);
    if (
      (meta.name === undefined || meta.name === "") && typeof meta.generateName === "string" &&
      meta.generateName
    ) {
      let candidate = generateName(meta.generateName);
      for (let i = 0; i < 8 && bucket.objects.has(objectKey(ns, candidate)); i++) {
        candidate = generateName(meta.generateName);
      }
      meta.name = candidate;
    }
    if (def.namespaced) this.#requireNamespace(ns, true);
    const now = nowIso();
    clearSystemFields(meta);
    def.strategy.prepareCreate?.(obj, { now });
    dropEmptyMeta(meta);
    this.#validate(def, obj, undefined);
    const name = String(meta.name);
    const key = objectKey(ns, name);
    if (bucket.objects.has(key)) {
      throw alreadyExists(target(def), name);
    }
    meta.uid = crypto.randomUUID();
    meta.creationTimestamp = now;
    if (def.tracksGeneration) meta.generation = 1;
    if (opts.dryRun) {
      return { obj, json: JSON.stringify(obj), warnings, created: true };
    }
    const rec = this.store.insert(bucket, key, obj, ns);
    this.#afterInsert(bucket, rec);
    return { obj: rec.obj, json: rec.json, warnings, created: true };
  }

  // ---- update ------------------------------------------------------------------------------

  /** Replaces an object (PUT), on the main resource or a subresource. */
  update(
    def: ResourceDef,
    ns: string,
    name: string,
    body: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): ObjectResult {
    return this.#op(() => this.#update(def, ns, name, body, opts, subresource, false));
  }

  #update(
    def: ResourceDef,
    ns: string,
    name: string,
    body: unknown,
    opts: WriteOptions,
    subresource: string | undefined,
    fromPatch: boolean,
  ): ObjectResult {
    if (!isObject(body)) throw badRequest("the body of the request must be a JSON object");
    this.#checkKind(def, body);
    const bucket = this.#bucket(def);
    const key = objectKey(ns, name);
    const existing = bucket.objects.get(key);
    const bodyMeta = isObject(body.metadata) ? body.metadata : {};
    if (
      bodyMeta.name !== undefined && bodyMeta.name !== name ||
      (bodyMeta.name === undefined && !fromPatch)
    ) {
      throw badRequest(
        `the name of the object (${
          bodyMeta.name ?? ""
        }) does not match the name on the URL (${name})`,
      );
    }
    if (!existing) {
      if (def.allowCreateOnUpdate && !subresource) {
        return this.#create(def, ns, body, opts, name);
      }
      throw notFound(target(def), name);
    }
    const warnings: string[] = [];
    const rvWanted = bodyMeta.resourceVersion;
    if (rvWanted !== undefined && rvWanted !== "" && rvWanted !== String(existing.rv)) {
      throw conflict(target(def), name);
    }
    if (
      (rvWanted === undefined || rvWanted === "") && !def.allowUnconditionalUpdate && !fromPatch
    ) {
      throw invalid(def.kind, def.group, name, [{
        reason: "FieldValueInvalid",
        message: "Invalid value: 0x0: must be specified for an update",
        field: "metadata.resourceVersion",
      }]);
    }
    const oldMeta = metaOf(existing.obj);
    if (bodyMeta.uid !== undefined && bodyMeta.uid !== "" && bodyMeta.uid !== oldMeta.uid) {
      throw conflict(
        target(def),
        name,
        `Precondition failed: UID in precondition: ${oldMeta.uid}, UID in object meta: ${bodyMeta.uid}`,
      );
    }
    const view: JsonObject = { ...body, apiVersion: apiVersionOf(def), kind: def.kind };
    view.metadata = { ...bodyMeta };
    this.#prune(def, view, opts, warnings);
    const incoming = def.fromView ? def.fromView(view) : view;
    const old = JSON.parse(existing.json) as JsonObject;
    let obj: JsonObject;
    if (subresource === "status") {
      obj = { ...old };
      if (incoming.status === undefined) delete obj.status;
      else obj.status = incoming.status;
    } else if (subresource === "finalize") {
      obj = {
        ...old,
        spec: {
          ...(isObject(old.spec) ? old.spec : {}),
          finalizers: isObject(incoming.spec) ? incoming.spec.finalizers : [],
        },
      };
    } else {
      obj = {
        apiVersion: incoming.apiVersion,
        kind: incoming.kind,
        metadata: metaOf(incoming),
        ...incoming,
      };
      if (def.statusSubresource) {
        if (old.status === undefined) delete obj.status;
        else obj.status = old.status;
      }
      keepSystemFields(metaOf(obj), oldMeta);
    }
    const meta = metaOf(obj);
    const now = nowIso();
    if (subresource !== "status" && subresource !== "finalize") {
      def.strategy.prepareUpdate?.(obj, old, { now });
    } else if (subresource === "status" && def.plural === "customresourcedefinitions") {
      // The CRD status belongs to the server's controllers; clients cannot overwrite it.
      obj.status = old.status;
    }
    dropEmptyMeta(meta);
    if (def.tracksGeneration) {
      const changed = specChanged(obj, old, !def.statusSubresource);
      meta.generation = Number(oldMeta.generation ?? 1) + (changed ? 1 : 0);
    }
    this.#validate(def, obj, old);
    meta.resourceVersion = String(existing.rv);
    if (unchanged(obj, old)) {
      return { obj: existing.obj, json: existing.json, warnings };
    }
    if (opts.dryRun) return { obj, json: JSON.stringify(obj), warnings };
    const rec = this.#commitUpdate(bucket, key, obj);
    return { obj: rec.obj, json: rec.json, warnings };
  }

  /** Stores an update; an object being deleted that lost its last finalizer goes away. */
  #commitUpdate(bucket: Bucket, key: string, obj: JsonObject): Rec {
    const meta = metaOf(obj);
    const prev = bucket.objects.get(key)!;
    if (
      meta.deletionTimestamp && finalizersOf(obj).length === 0 &&
      Number(meta.deletionGracePeriodSeconds ?? 0) === 0
    ) {
      const rec = this.store.replace(bucket, key, obj);
      const removed = this.store.remove(bucket, key)!;
      this.#afterRemove(bucket, removed);
      return rec;
    }
    const rec = this.store.replace(bucket, key, obj);
    this.#afterReplace(bucket, rec, prev);
    return rec;
  }

  // ---- patch -------------------------------------------------------------------------------

  /** Applies a patch (PATCH) of the given type; `apply` may create the object. */
  patch(
    def: ResourceDef,
    ns: string,
    name: string,
    type: PatchType,
    text: string,
    opts: WriteOptions,
    subresource?: string,
  ): ObjectResult {
    return this.#op(() => {
      if (type === "strategic" && !def.strategicMerge) {
        throw unsupportedMediaType(
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
        );
      }
      const patch = parseBody(text, type === "apply" ? "yaml" : "json");
      const bucket = this.#bucket(def);
      const existing = bucket.objects.get(objectKey(ns, name));
      if (type === "apply") return this.#apply(def, ns, name, patch, opts, subresource, existing);
      if (!existing) throw notFound(target(def), name);
      const current = JSON.parse(existing.json) as JsonObject;
      const view = def.toView ? def.toView(current) : current;
      let patched: unknown;
      try {
        if (type === "json") patched = applyJsonPatch(view, patch);
        else if (type === "merge") patched = applyMergePatch(view, patch);
        else patched = applyStrategicMergePatch(view, patch);
      } catch (e) {
        if (e instanceof JsonPatchError) {
          throw e.malformed ? badRequest(e.message) : unprocessable(e.message);
        }
        if (e instanceof StrategicMergeError) throw badRequest(e.message);
        throw e;
      }
      if (!isObject(patched)) throw unprocessable("the patched object is not a JSON object");
      const m = metaOf(patched);
      if (m.resourceVersion === undefined) m.resourceVersion = String(existing.rv);
      return this.#update(def, ns, name, patched, opts, subresource, true);
    });
  }

  #apply(
    def: ResourceDef,
    ns: string,
    name: string,
    patch: unknown,
    opts: WriteOptions,
    subresource: string | undefined,
    existing: Rec | undefined,
  ): ObjectResult {
    if (!opts.fieldManager) {
      throw badRequest("PATCH requests with apply content type require fieldManager to be set");
    }
    if (!isObject(patch)) throw badRequest("apply configuration must be an object");
    if (patch.apiVersion === undefined || patch.kind === undefined) {
      throw badRequest("apiVersion and kind must be set in the applied configuration");
    }
    this.#checkKind(def, patch);
    const pm = metaOf(patch);
    if (pm.name !== undefined && pm.name !== name) {
      throw badRequest(
        `the name of the object (${pm.name}) does not match the name on the URL (${name})`,
      );
    }
    const lookup = def.schema ? schemaListKeys(def.schema) : namedListKeys(def.listMapKeys ?? {});
    const live = existing
      ? (def.toView ? def.toView(JSON.parse(existing.json)) : JSON.parse(existing.json))
      : undefined;
    const merged = applyConfiguration(live, patch, {
      manager: opts.fieldManager,
      apiVersion: apiVersionOf(def),
      now: nowIso(),
      lookup,
      subresource,
    });
    const mm = metaOf(merged);
    mm.name = name;
    if (!existing) {
      if (subresource) throw notFound(target(def), name);
      const result = this.#create(def, ns, merged, opts);
      return result;
    }
    mm.resourceVersion = String(existing.rv);
    return this.#update(def, ns, name, merged, opts, subresource, true);
  }

  // ---- delete ------------------------------------------------------------------------------

  /** Deletes an object (DELETE): at once, or by setting deletionTimestamp when it must wait. */
  delete(
    def: ResourceDef,
    ns: string,
    name: string,
    opts: DeleteOptions,
  ): ObjectResult & { deleted: boolean } {
    return this.#op(() => {
      const bucket = this.#bucket(def);
      const key = objectKey(ns, name);
      const rec = bucket.objects.get(key);
      if (!rec) throw notFound(target(def), name);
      const meta = metaOf(rec.obj);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== meta.uid) {
        throw conflict(
          target(def),
          name,
          `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
        );
      }
      if (pre?.resourceVersion && pre.resourceVersion !== String(rec.rv)) {
        throw conflict(
          target(def),
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${rec.rv}`,
        );
      }
      const policy = opts.propagationPolicy ?? "Background";
      if (!["Background", "Foreground", "Orphan"].includes(policy)) {
        throw invalid("DeleteOptions", "", "", [{
          reason: "FieldValueNotSupported",
          message:
            `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
          field: "propagationPolicy",
        }]);
      }
      if (opts.dryRun) return { obj: rec.obj, json: rec.json, warnings: [], deleted: true };
      const out = this.#delete(bucket, key, policy, opts.gracePeriodSeconds ?? undefined);
      return { ...out, warnings: [] };
    });
  }

  #delete(
    bucket: Bucket,
    key: string,
    policy: string,
    grace?: number,
  ): { obj: JsonObject; json: string; deleted: boolean } {
    const rec = bucket.objects.get(key)!;
    const obj = JSON.parse(rec.json) as JsonObject;
    const meta = metaOf(obj);
    const now = nowIso();
    if (bucket.storageKey === NAMESPACES_KEY) return this.#namespaces.beginDeletion(bucket, rec);
    if (policy === "Orphan") {
      this.#gc.orphanDependents(String(meta.uid));
    }
    const finalizers = [...finalizersOf(obj)];
    if (
      policy === "Foreground" && !finalizers.includes(FOREGROUND) &&
      this.store.dependentsOf(String(meta.uid)).length > 0
    ) {
      finalizers.push(FOREGROUND);
    }
    const graceful = this.#gracePeriod(bucket, obj, grace);
    if (meta.deletionTimestamp) {
      // Already terminating: only a shorter grace period changes anything.
      const current = Number(meta.deletionGracePeriodSeconds ?? 0);
      const next = graceful ?? 0;
      if (next < current) {
        meta.deletionGracePeriodSeconds = next;
        meta.deletionTimestamp = new Date(Date.now() + next * 1000).toISOString().replace(
          /\.\d{3}Z$/,
          "Z",
        );
        meta.finalizers = finalizers;
        dropEmptyMeta(meta);
        const updated = this.#commitUpdate(bucket, key, obj);
        return { obj: updated.obj, json: updated.json, deleted: !bucket.objects.has(key) };
      }
      if (finalizers.includes(FOREGROUND) && !finalizersOf(obj).includes(FOREGROUND)) {
        meta.finalizers = finalizers;
        const updated = this.#commitUpdate(bucket, key, obj);
        this.#later(() => this.#gc.processForeground(bucket, key));
        return { obj: updated.obj, json: updated.json, deleted: false };
      }
      return { obj: rec.obj, json: rec.json, deleted: false };
    }
    if (finalizers.length === 0 && !graceful) {
      const removed = this.store.remove(bucket, key)!;
      this.#afterRemove(bucket, removed, policy);
      return { obj: removed.obj, json: removed.json, deleted: true };
    }
    meta.deletionTimestamp = graceful
      ? new Date(Date.now() + graceful * 1000).toISOString().replace(/\.\d{3}Z$/, "Z")
      : now;
    meta.deletionGracePeriodSeconds = graceful ?? 0;
    meta.finalizers = finalizers;
    if (meta.generation !== undefined) meta.generation = Number(meta.generation) + 1;
    dropEmptyMeta(meta);
    const updated = this.store.replace(bucket, key, obj);
    this.#afterReplace(bucket, updated, rec);
    if (finalizers.includes(FOREGROUND)) this.#later(() => this.#gc.processForeground(bucket, key));
    return { obj: updated.obj, json: updated.json, deleted: false };
  }

  /** Seconds of graceful deletion for pods running on a node; undefined when deleted at once. */
  #gracePeriod(bucket: Bucket, obj: JsonObject, requested?: number): number | undefined {
    if (bucket.storageKey !== "/pods" || !this.#opts.gracefulPodDeletion) return undefined;
    const spec = isObject(obj.spec) ? obj.spec : {};
    const phase = isObject(obj.status) ? obj.status.phase : undefined;
    if (!spec.nodeName || phase === "Succeeded" || phase === "Failed") return undefined;
    const grace = requested ?? Number(spec.terminationGracePeriodSeconds ?? 30);
    return grace > 0 ? grace : undefined;
  }

  /** DELETE of a collection: every selected object, each as a single delete would. */
  deleteCollection(def: ResourceDef, ns: string, list: ListOptions, opts: DeleteOptions): Rec[] {
    return this.#op(() => {
      const page = this.list(def, ns, {
        labelSelector: list.labelSelector,
        fieldSelector: list.fieldSelector,
      });
      const out: Rec[] = [];
      const bucket = this.#bucket(def);
      for (const rec of page.items) {
        if (!bucket.objects.has(rec.key)) continue;
        if (opts.dryRun) {
          out.push(rec);
          continue;
        }
        const r = this.#delete(
          bucket,
          rec.key,
          opts.propagationPolicy ?? "Background",
          opts.gracePeriodSeconds ?? undefined,
        );
        out.push(bucket.objects.get(rec.key) ?? { ...rec, obj: r.obj, json: r.json });
      }
      return out;
    });
  }

  // ---- follow-up work (what kube's controllers do) -----------------------------------------

  #afterInsert(bucket: Bucket, rec: Rec): void {
    if (bucket.storageKey === EVENTS_KEY) {
      this.#events.written(rec.key, this.#now());
      const max = this.#opts.maxEvents;
      if (max !== undefined && this.#events.size > max) {
        this.#removeEvents(this.#events.due(this.#now(), Infinity, Math.max(1, max)));
      }
    }
    if (bucket.storageKey === CRDS_KEY) this.#crds.stored(rec, undefined);
    if (bucket.storageKey === NAMESPACES_KEY) this.#namespaces.created(rec);
    if (metaOf(rec.obj).ownerReferences) this.#gc.ownersChanged(bucket, rec);
  }

  #afterReplace(bucket: Bucket, rec: Rec, prev: Rec): void {
    if (bucket.storageKey === EVENTS_KEY) this.#events.written(rec.key, this.#now());
    if (bucket.storageKey === CRDS_KEY) this.#crds.stored(rec, prev);
    const refsBefore = JSON.stringify(metaOf(prev.obj).ownerReferences ?? null);
    const refsAfter = JSON.stringify(metaOf(rec.obj).ownerReferences ?? null);
    if (refsAfter !== "null" && refsBefore !== refsAfter) this.#gc.ownersChanged(bucket, rec);
  }

  #afterRemove(bucket: Bucket, rec: Rec, policy = "Background"): void {
    if (bucket.storageKey === EVENTS_KEY) this.#events.removed(rec.key);
    this.#gc.removed(rec, policy);
    if (rec.ns) this.#namespaces.contentRemoved(rec.ns);
    if (bucket.storageKey === CRDS_KEY) this.#crds.crdRemoved(rec);
    this.#crds.instanceRemoved(bucket.storageKey);
  }

  /** Creates a CRD, or replaces the stored one (in-process registration). */
  registerCrd(crd: JsonObject): ObjectResult {
    const def = crdResourceDef();
    const served = this.def(def.group, def.version, def.plural)!;
    const name = String(isObject(crd.metadata) ? crd.metadata.name : "");
    const existing = this.store.bucket(CRDS_KEY).objects.get(name);
    if (!existing) return this.create(served, "", crd, {});
    const body = {
      ...crd,
      metadata: { ...(crd.metadata as JsonObject), resourceVersion: String(existing.rv) },
    };
    return this.update(served, "", name, body, {});
  }

  /**
   * Removes the core Events last written more than `ttlSeconds` ago, as the etcd lease that
   * kube-apiserver gives every Event write (`--event-ttl`) does.
   */
  expireEvents(ttlSeconds: number, now = this.#now()): void {
    this.#op(() => this.#removeEvents(this.#events.due(now, ttlSeconds * 1000)));
  }

  #removeEvents(keys: string[]): void {
    const bucket = this.store.bucket(EVENTS_KEY);
    for (const key of keys) {
      const removed = this.store.remove(bucket, key);
      if (removed) this.#afterRemove(bucket, removed);
      else this.#events.removed(key);
    }
  }

  /** The storage-version def of a bucket, for callers outside (watch, in-process store access). */
  storageDef(storageKey: string): ResourceDef | undefined {
    return this.#storageDef(storageKey);
  }
}
