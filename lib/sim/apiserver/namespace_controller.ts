/**
 * What kube's namespace and ServiceAccount controllers do: every namespace gets a "default"
 * ServiceAccount; a deleted namespace turns Terminating, its contents are deleted, and it goes
 * once empty (and its own finalizers are gone).
 *
 * @module
 */
import { type ControllerHost, finalizersOf, NAMESPACES_KEY, nowIso } from "./controller_host.ts";
import type { Rec } from "./event_log.ts";
import { isObject, type JsonObject, metaOf } from "./json_util.ts";
import { objectKey } from "./resource_def.ts";
import type { Bucket } from "./resource_store.ts";

/** Namespace lifecycle over a host's store. */
export class NamespaceController {
  #host: ControllerHost;

  constructor(host: ControllerHost) {
    this.#host = host;
  }

  /** A namespace was created: schedule its default ServiceAccount. */
  created(rec: Rec): void {
    const ns = String(metaOf(rec.obj).name);
    this.#host.later(() => {
      const sa = this.#host.registry.get("", "v1", "serviceaccounts");
      const store = this.#host.store;
      if (!sa || store.bucket(sa.storageKey).objects.has(objectKey(ns, "default"))) return;
      if (!store.bucket(NAMESPACES_KEY).objects.has(ns)) return;
      this.#host.create(sa, ns, { metadata: { name: "default" } });
    });
  }

  /** DELETE of a namespace: mark it Terminating and schedule the removal of its contents. */
  beginDeletion(bucket: Bucket, rec: Rec): { obj: JsonObject; json: string; deleted: boolean } {
    const obj = JSON.parse(rec.json) as JsonObject;
    const meta = metaOf(obj);
    if (meta.deletionTimestamp) return { obj: rec.obj, json: rec.json, deleted: false };
    meta.deletionTimestamp = nowIso();
    meta.deletionGracePeriodSeconds = 0;
    obj.status = { ...(isObject(obj.status) ? obj.status : {}), phase: "Terminating" };
    const updated = this.#host.store.replace(bucket, rec.key, obj);
    const name = String(meta.name);
    this.#host.later(() => this.#empty(name));
    return { obj: updated.obj, json: updated.json, deleted: false };
  }

  /** An object of namespace `ns` was removed: finish the namespace if it is terminating. */
  contentRemoved(ns: string): void {
    const rec = this.#host.store.bucket(NAMESPACES_KEY).objects.get(ns);
    if (rec && metaOf(rec.obj).deletionTimestamp) this.#host.later(() => this.#finalizeIfEmpty(ns));
  }

  #empty(ns: string): void {
    for (const def of this.#host.registry.all()) {
      if (!def.namespaced || def.toView) continue;
      const bucket = this.#host.store.bucket(def.storageKey);
      for (const key of [...bucket.sortedKeys()]) {
        if (!key.startsWith(`${ns}/`)) continue;
        const rec = bucket.objects.get(key);
        if (rec && !metaOf(rec.obj).deletionTimestamp) this.#host.delete(bucket, key, "Background");
      }
    }
    this.#finalizeIfEmpty(ns);
  }

  #finalizeIfEmpty(ns: string): void {
    const store = this.#host.store;
    const bucket = store.bucket(NAMESPACES_KEY);
    const rec = bucket.objects.get(ns);
    if (!rec || !metaOf(rec.obj).deletionTimestamp || store.countInNamespace(ns) > 0) return;
    // The namespace controller clears spec.finalizers ("kubernetes") through /finalize.
    const obj = JSON.parse(rec.json) as JsonObject;
    const spec = isObject(obj.spec) ? { ...obj.spec } : {};
    delete spec.finalizers;
    obj.spec = spec;
    store.replace(bucket, ns, obj);
    if (finalizersOf(obj).length > 0) return;
    const removed = store.remove(bucket, ns)!;
    this.#host.removed(bucket, removed);
  }
}
