/**
 * What apiextensions-apiserver's controllers do with CRDs: serve the resources of an
 * established CRD (and stop serving removed versions), and on deletion mark it Terminating,
 * delete every instance, then drop the cleanup finalizer so the CRD goes and its resources
 * stop being served.
 *
 * @module
 */
import { type ControllerHost, CRDS_KEY, finalizersOf, nowIso } from "./controller_host.ts";
import { CRD_CLEANUP_FINALIZER, defsFromCrd, terminatingStatus } from "./crd.ts";
import type { Rec } from "./event_log.ts";
import { isObject, type JsonObject, metaOf } from "./json_util.ts";
import { dropEmptyMeta } from "./object_meta.ts";
import type { ResourceDef } from "./resource_def.ts";

/** CRD lifecycle over a host's store and registry. */
export class CrdController {
  #host: ControllerHost;
  #defs = new Map<string, ResourceDef[]>();
  #onRemoved: (storageKey: string) => void;

  constructor(host: ControllerHost, onRemoved: (storageKey: string) => void) {
    this.#host = host;
    this.#onRemoved = onRemoved;
  }

  /** A CRD was stored (created or updated). */
  stored(rec: Rec, prev: Rec | undefined): void {
    const meta = metaOf(rec.obj);
    if (!meta.deletionTimestamp) {
      this.#register(rec.obj);
    } else if (!prev || !metaOf(prev.obj).deletionTimestamp) {
      const name = String(meta.name);
      this.#host.later(() => this.#cleanup(name));
    }
  }

  /** A CRD was removed: its resources are no longer served. */
  crdRemoved(rec: Rec): void {
    const name = String(metaOf(rec.obj).name);
    const defs = this.#defs.get(name) ?? [];
    for (const d of defs) this.#host.registry.remove(d.group, d.version, d.plural);
    this.#defs.delete(name);
    if (defs.length) {
      this.#host.store.dropBucket(defs[0].storageKey);
      this.#onRemoved(defs[0].storageKey);
    }
  }

  /** An object of some bucket was removed: finish a terminating CRD whose last instance went. */
  instanceRemoved(storageKey: string): void {
    for (const [name, defs] of this.#defs) {
      if (defs[0]?.storageKey !== storageKey) continue;
      const crd = this.#host.store.bucket(CRDS_KEY).objects.get(name);
      if (crd && metaOf(crd.obj).deletionTimestamp) this.#host.later(() => this.#finish(name));
    }
  }

  #register(crd: JsonObject): void {
    const name = String(metaOf(crd).name);
    const defs = defsFromCrd(crd);
    const registry = this.#host.registry;
    for (const d of this.#defs.get(name) ?? []) {
      if (!defs.some((n) => n.version === d.version)) registry.remove(d.group, d.version, d.plural);
    }
    for (const d of defs) registry.add(d);
    this.#defs.set(name, defs);
  }

  #cleanup(name: string): void {
    const store = this.#host.store;
    const crdBucket = store.bucket(CRDS_KEY);
    const rec = crdBucket.objects.get(name);
    if (!rec) return;
    const obj = JSON.parse(rec.json) as JsonObject;
    obj.status = terminatingStatus(isObject(obj.status) ? obj.status : {}, nowIso());
    store.replace(crdBucket, name, obj);
    const defs = this.#defs.get(name) ?? [];
    if (defs.length) {
      const bucket = store.bucket(defs[0].storageKey);
      for (const key of [...bucket.sortedKeys()]) {
        const r = bucket.objects.get(key);
        if (r && !metaOf(r.obj).deletionTimestamp) this.#host.delete(bucket, key, "Background");
      }
    }
    this.#finish(name);
  }

  #finish(name: string): void {
    const store = this.#host.store;
    const crdBucket = store.bucket(CRDS_KEY);
    const rec = crdBucket.objects.get(name);
    if (!rec || !metaOf(rec.obj).deletionTimestamp) return;
    const defs = this.#defs.get(name) ?? [];
    if (defs.length && store.bucket(defs[0].storageKey).objects.size > 0) return;
    const obj = JSON.parse(rec.json) as JsonObject;
    const meta = metaOf(obj);
    meta.finalizers = finalizersOf(obj).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    dropEmptyMeta(meta);
    this.#host.commitUpdate(crdBucket, name, obj);
  }
}
