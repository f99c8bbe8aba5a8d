/**
 * The garbage collector of kube-controller-manager, run synchronously after each operation:
 * dependents whose owners are all gone are deleted (references to missing owners are dropped
 * when other owners remain), orphaning removes references, and foreground deletion removes
 * dependents before the owner's `foregroundDeletion` finalizer. Cluster-scoped owners of
 * namespaced dependents are allowed.
 *
 * @module
 */
import { type ControllerHost, finalizersOf, FOREGROUND, ownerRefsOf } from "./controller_host.ts";
import type { Rec } from "./event_log.ts";
import { type JsonObject, metaOf } from "./json_util.ts";
import { dropEmptyMeta } from "./object_meta.ts";
import type { Bucket } from "./resource_store.ts";

/** Garbage collection over a host's store. */
export class GarbageCollector {
  #host: ControllerHost;

  constructor(host: ControllerHost) {
    this.#host = host;
  }

  /** Schedules a check of an object whose ownerReferences were set or changed. */
  ownersChanged(bucket: Bucket, rec: Rec): void {
    this.#host.later(() => this.collectIfDangling(bucket, rec.key));
  }

  /** Schedules the follow-ups of a removed object: its dependents, its foreground owners. */
  removed(rec: Rec, policy: string): void {
    const store = this.#host.store;
    const uid = String(metaOf(rec.obj).uid ?? "");
    const depPolicy = policy === "Foreground" ? "Foreground" : "Background";
    for (const dep of store.dependentsOf(uid)) {
      this.#host.later(() => this.collectIfDangling(dep.bucket, dep.key, depPolicy));
    }
    for (const ref of ownerRefsOf(rec.obj)) {
      const owner = store.byUid(String(ref.uid ?? ""));
      const o = owner?.bucket.objects.get(owner.key);
      if (owner && o && finalizersOf(o.obj).includes(FOREGROUND)) {
        this.#host.later(() => this.processForeground(owner.bucket, owner.key));
      }
    }
  }

  /** Deletes a dependent whose owners are all gone, or drops references to the missing ones. */
  collectIfDangling(bucket: Bucket, key: string, policy = "Background"): void {
    const rec = bucket.objects.get(key);
    if (!rec) return;
    const refs = ownerRefsOf(rec.obj);
    if (refs.length === 0) return;
    const absent = refs.filter((r) => this.#ownerAbsent(r, rec.ns));
    if (absent.length === 0) return;
    if (absent.length === refs.length) {
      if (!metaOf(rec.obj).deletionTimestamp) this.#host.delete(bucket, key, policy);
      return;
    }
    const obj = JSON.parse(rec.json) as JsonObject;
    metaOf(obj).ownerReferences = refs.filter((r) => !absent.includes(r));
    this.#host.commitUpdate(bucket, key, obj);
  }

  /** An owner is absent when its kind is served here and no object has its uid (and name). */
  #ownerAbsent(ref: JsonObject, ns: string): boolean {
    const apiVersion = String(ref.apiVersion ?? "");
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const def = this.#host.registry.all().find((d) =>
      d.group === group && d.version === version && d.kind === ref.kind
    );
    // Owners of kinds this server does not serve cannot be verified; kube's GC leaves them too.
    if (!def) return false;
    const loc = this.#host.store.byUid(String(ref.uid ?? ""));
    if (!loc || loc.bucket.storageKey !== def.storageKey) return true;
    const owner = loc.bucket.objects.get(loc.key);
    if (!owner || metaOf(owner.obj).name !== ref.name) return true;
    return def.namespaced && owner.ns !== ns;
  }

  /** Removes references to `uid` from its dependents (propagationPolicy Orphan). */
  orphanDependents(uid: string): void {
    for (const dep of this.#host.store.dependentsOf(uid)) {
      const rec = dep.bucket.objects.get(dep.key);
      if (!rec) continue;
      const obj = JSON.parse(rec.json) as JsonObject;
      const meta = metaOf(obj);
      meta.ownerReferences = ownerRefsOf(obj).filter((r) => r.uid !== uid);
      dropEmptyMeta(meta);
      this.#host.commitUpdate(dep.bucket, dep.key, obj);
    }
  }

  /** Foreground deletion: remove dependents, and the owner's finalizer once none block it. */
  processForeground(bucket: Bucket, key: string): void {
    const store = this.#host.store;
    const rec = bucket.objects.get(key);
    if (!rec || !finalizersOf(rec.obj).includes(FOREGROUND)) return;
    const uid = String(metaOf(rec.obj).uid);
    for (const dep of store.dependentsOf(uid)) {
      const d = dep.bucket.objects.get(dep.key);
      if (!d || metaOf(d.obj).deletionTimestamp) continue;
      const hasOwn = store.dependentsOf(String(metaOf(d.obj).uid)).length > 0;
      this.#host.delete(dep.bucket, dep.key, hasOwn ? "Foreground" : "Background");
    }
    const blocked = store.dependentsOf(uid).some((dep) => {
      const d = dep.bucket.objects.get(dep.key);
      return d && ownerRefsOf(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion === true);
    });
    if (blocked) return;
    const current = bucket.objects.get(key);
    if (!current) return;
    const obj = JSON.parse(current.json) as JsonObject;
    const meta = metaOf(obj);
    meta.finalizers = finalizersOf(obj).filter((f) => f !== FOREGROUND);
    dropEmptyMeta(meta);
    this.#host.commitUpdate(bucket, key, obj);
  }
}
