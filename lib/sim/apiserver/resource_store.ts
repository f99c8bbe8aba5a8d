/**
 * The in-memory object store: one bucket per resource (all versions share it), a single
 * global resourceVersion counter as etcd has, an event window per bucket, watcher fan-out,
 * and indexes by uid, by owner uid and by namespace.
 *
 * @module
 */
import {
  EventLog,
  type EventLogOptions,
  type EventType,
  type Rec,
  StoredRec,
  type StoreEvent,
} from "./event_log.ts";
import { isObject, type JsonObject } from "./json_util.ts";
import { WatcherHub } from "./watch_hub.ts";

/** Where an object lives. */
export interface Location {
  bucket: Bucket;
  key: string;
}

/** All objects of one resource. */
export class Bucket {
  readonly storageKey: string;
  readonly objects = new Map<string, Rec>();
  readonly log: EventLog;
  readonly watchers = new WatcherHub();
  #sorted: string[] | undefined;

  constructor(storageKey: string, window: number | EventLogOptions) {
    this.storageKey = storageKey;
    this.log = new EventLog(window);
  }

  /** Keys in list order (namespace, then name), cached until a key is added or removed. */
  sortedKeys(): string[] {
    if (!this.#sorted) this.#sorted = [...this.objects.keys()].sort(compareKeys);
    return this.#sorted;
  }

  /** Drops the cached key order. */
  invalidateOrder(): void {
    this.#sorted = undefined;
  }
}

/** Orders keys as etcd orders `/registry/<resource>/<ns>/<name>`. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function uidOf(obj: JsonObject): string | undefined {
  const m = obj.metadata;
  return isObject(m) && typeof m.uid === "string" ? m.uid : undefined;
}

/** Owner uids of an object's ownerReferences. */
export function ownerUids(obj: JsonObject): string[] {
  const m = obj.metadata;
  const refs = isObject(m) ? m.ownerReferences : undefined;
  if (!Array.isArray(refs)) return [];
  return refs.filter(isObject).map((r) => String(r.uid ?? "")).filter((u) => u !== "");
}

/** The store of every object. All operations are synchronous and therefore atomic. */
export class ResourceStore {
  #rv = 1;
  #window: number | EventLogOptions;
  #buckets = new Map<string, Bucket>();
  #uids = new Map<string, Location>();
  #dependents = new Map<string, Set<string>>();
  #nsCounts = new Map<string, number>();
  #retired: StoredRec[] = [];
  #jsonOnly: ReadonlySet<string>;

  /**
   * `window`: the bounds of each resource's event window (a number: its capacity).
   * `jsonOnly`: storage keys whose objects are held as JSON text alone once written, as etcd
   * holds what kube-apiserver does not cache (Events): many small parsed objects would make
   * every garbage collection of a large simulation longer, and such objects are rarely read.
   */
  constructor(window: number | EventLogOptions, jsonOnly: Iterable<string> = []) {
    this.#window = window;
    this.#jsonOnly = new Set(jsonOnly);
  }

  /** The last issued resourceVersion. */
  get rv(): number {
    return this.#rv;
  }

  /** The bucket of a storage key, created on first use. */
  bucket(storageKey: string): Bucket {
    let b = this.#buckets.get(storageKey);
    if (!b) {
      b = new Bucket(storageKey, this.#window);
      this.#buckets.set(storageKey, b);
    }
    return b;
  }

  /** Every bucket. */
  buckets(): Bucket[] {
    return [...this.#buckets.values()];
  }

  /** Drops a bucket (its resource is no longer served) and closes nothing: callers close watches. */
  dropBucket(storageKey: string): void {
    const b = this.#buckets.get(storageKey);
    if (!b) return;
    for (const key of [...b.objects.keys()]) this.remove(b, key);
    this.#buckets.delete(storageKey);
  }

  /** Where the object with this uid lives. */
  byUid(uid: string): Location | undefined {
    return this.#uids.get(uid);
  }

  /** Current objects that list `ownerUid` among their owners. */
  dependentsOf(ownerUid: string): Location[] {
    const set = this.#dependents.get(ownerUid);
    if (!set) return [];
    const out: Location[] = [];
    for (const id of set) {
      const sep = id.indexOf("\0");
      const bucket = this.#buckets.get(id.slice(0, sep));
      if (bucket) out.push({ bucket, key: id.slice(sep + 1) });
    }
    return out;
  }

  /** Number of namespaced objects in a namespace. */
  countInNamespace(ns: string): number {
    return this.#nsCounts.get(ns) ?? 0;
  }

  #commit(obj: JsonObject, rv: number, key: string, ns: string): StoredRec {
    (obj.metadata as JsonObject).resourceVersion = String(rv);
    return new StoredRec(obj, JSON.stringify(obj), rv, key, ns);
  }

  #index(bucket: Bucket, rec: Rec, prev: Rec | undefined): void {
    const id = `${bucket.storageKey}\0${rec.key}`;
    const oldOwners = prev ? ownerUids(prev.obj) : [];
    const newOwners = ownerUids(rec.obj);
    for (const u of oldOwners) {
      if (!newOwners.includes(u)) {
        const set = this.#dependents.get(u);
        set?.delete(id);
        if (set && set.size === 0) this.#dependents.delete(u);
      }
    }
    for (const u of newOwners) {
      let set = this.#dependents.get(u);
      if (!set) {
        set = new Set();
        this.#dependents.set(u, set);
      }
      set.add(id);
    }
  }

  #emit(bucket: Bucket, type: EventType, cur: Rec, prev: Rec | undefined): void {
    const ev: StoreEvent = { type, rv: cur.rv, key: cur.key, cur, prev };
    bucket.log.push(ev);
    bucket.watchers.dispatch(ev);
    // Every live watcher has its copy; only replays read the event again, and they encode it
    // anew rather than the window keeping a second copy of every object.
    ev.line = undefined;
    // The version replaced is now only history; so is the last state of a deleted object. The
    // caller's follow-ups still read them, so they are compacted at the next write.
    if (prev instanceof StoredRec) this.#retired.push(prev);
    if (
      cur instanceof StoredRec && (type === "DELETED" || this.#jsonOnly.has(bucket.storageKey))
    ) {
      this.#retired.push(cur);
    }
  }

  /** Compacts the versions retired by earlier writes. */
  #compactRetired(): void {
    for (const rec of this.#retired) rec.compact();
    this.#retired.length = 0;
  }

  /** Stores a new object (which must not exist) and emits ADDED. */
  insert(bucket: Bucket, key: string, obj: JsonObject, ns: string): Rec {
    this.#compactRetired();
    const rec = this.#commit(obj, ++this.#rv, key, ns);
    bucket.objects.set(key, rec);
    bucket.invalidateOrder();
    const uid = uidOf(obj);
    if (uid) this.#uids.set(uid, { bucket, key });
    if (ns) this.#nsCounts.set(ns, (this.#nsCounts.get(ns) ?? 0) + 1);
    this.#index(bucket, rec, undefined);
    this.#emit(bucket, "ADDED", rec, undefined);
    return rec;
  }

  /** Replaces an existing object and emits MODIFIED. */
  replace(bucket: Bucket, key: string, obj: JsonObject): Rec {
    this.#compactRetired();
    const prev = bucket.objects.get(key);
    if (!prev) throw new Error(`Cannot replace ${bucket.storageKey} ${key}: it does not exist`);
    const rec = this.#commit(obj, ++this.#rv, key, prev.ns);
    bucket.objects.set(key, rec);
    this.#index(bucket, rec, prev);
    this.#emit(bucket, "MODIFIED", rec, prev);
    return rec;
  }

  /** Removes an object and emits DELETED carrying its last state at a new resourceVersion. */
  remove(bucket: Bucket, key: string): Rec | undefined {
    this.#compactRetired();
    const prev = bucket.objects.get(key);
    if (!prev) return undefined;
    const obj = JSON.parse(prev.json) as JsonObject;
    const rec = this.#commit(obj, ++this.#rv, key, prev.ns);
    bucket.objects.delete(key);
    bucket.invalidateOrder();
    const uid = uidOf(obj);
    if (uid) this.#uids.delete(uid);
    if (prev.ns) {
      const n = (this.#nsCounts.get(prev.ns) ?? 1) - 1;
      if (n <= 0) this.#nsCounts.delete(prev.ns);
      else this.#nsCounts.set(prev.ns, n);
    }
    for (const u of ownerUids(obj)) {
      const set = this.#dependents.get(u);
      set?.delete(`${bucket.storageKey}\0${key}`);
      if (set && set.size === 0) this.#dependents.delete(u);
    }
    this.#emit(bucket, "DELETED", rec, prev);
    return rec;
  }

  /**
   * The objects of a bucket as they were at `rv`, in key order, rebuilt from the event window;
   * undefined when the window no longer reaches back that far.
   */
  snapshot(
    bucket: Bucket,
    rv: number,
  ): { keys: string[]; get(key: string): Rec | undefined } | undefined {
    const events = bucket.log.since(rv);
    if (!events) return undefined;
    if (events.length === 0) {
      return { keys: bucket.sortedKeys(), get: (k) => bucket.objects.get(k) };
    }
    const overlay = new Map<string, Rec | null>();
    for (let i = events.length - 1; i >= 0; i--) {
      const ev = events[i];
      overlay.set(ev.key, ev.type === "ADDED" ? null : ev.prev ?? null);
    }
    const keys = new Set(bucket.sortedKeys());
    for (const [k, v] of overlay) {
      if (v === null) keys.delete(k);
      else keys.add(k);
    }
    const get = (k: string) => {
      if (overlay.has(k)) return overlay.get(k) ?? undefined;
      return bucket.objects.get(k);
    };
    return { keys: [...keys].sort(compareKeys), get };
  }
}
