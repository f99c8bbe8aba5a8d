import { sleepUnlessAborted } from "./_abort.ts";
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { isGone, KubeApiError } from "./errors.ts";
import type { IndexFunc } from "./indexers.ts";
import { objectKey } from "./object_key.ts";
import { Store } from "./store.ts";
import type { KubeObject, ListOptions, ObjectList, WatchEvent, WatchOptions } from "./types.ts";

/** The two calls an informer needs; a `ResourceClient` provides them. */
export interface ListWatcher<T> {
  /** Lists every object (following continue tokens). */
  listAll(
    opts?: ListOptions & { signal?: AbortSignal; transform?: (obj: T) => T },
  ): Promise<ObjectList<T>>;
  /** Watches for changes from a resourceVersion. */
  watch(opts?: WatchOptions): AsyncIterable<WatchEvent<T>>;
}

/** Callbacks of an informer. They should only enqueue keys; they run on the informer's loop. */
export interface InformerHandlers<T> {
  /** An object appeared (also for each cached object when handlers register late). */
  add?(obj: T): void;
  /** An object changed (or was seen again after a relist with a new resourceVersion). */
  update?(oldObj: T, newObj: T): void;
  /** An object was deleted; the argument is its last known state. */
  delete?(obj: T): void;
}

/** Options of {@linkcode Informer}. */
export interface InformerOptions<T> {
  /** Only objects matching this label selector are cached. */
  labelSelector?: string;
  /** Only objects matching this field selector are cached. */
  fieldSelector?: string;
  /** Trims objects before they are cached and handed to handlers (memory at thousands of nodes). */
  transform?: (obj: T) => T;
  /** Named index functions for {@linkcode Informer.byIndex}. */
  indexers?: Record<string, IndexFunc<T>>;
  /** List page size. Default 500. */
  pageSize?: number;
  /** Reconnect backoff; default 0.8 s -> 30 s with jitter, reset after 2 healthy minutes. */
  backoff?: BackoffOptions;
  /** Server-side watch timeout; default random in [300, 600] s per watch. */
  watchTimeoutSeconds?: number;
  /** Abort a watch that sent nothing for this long; default watch timeout + 60 s. */
  watchInactivityTimeoutMs?: number;
  /** Called with every list/watch failure before the informer retries; default logs to stderr. */
  onError?(error: unknown): void;
  /** Name for log messages. Default "informer". */
  name?: string;
}

/**
 * A cache of one resource kept current by list + watch, like client-go's shared informer: it lists
 * (paged), watches from the list's resourceVersion, relists on 410 Gone emitting the difference as
 * synthetic events, and reconnects with jittered backoff after failures.
 */
export class Informer<T extends KubeObject> {
  readonly #client: ListWatcher<T>;
  readonly #opts: InformerOptions<T>;
  readonly #store: Store<T>;
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #backoff: Backoff;
  readonly #name: string;
  #resourceVersion = "";
  #synced = false;
  #started = false;
  #events = 0;
  #resolveSynced!: () => void;
  #rejectSynced!: (e: unknown) => void;
  /** Resolves once the first list has been applied; rejects if the informer stops before that. */
  readonly synced: Promise<void>;

  /** Creates an informer; nothing happens until {@linkcode Informer.start}. */
  constructor(client: ListWatcher<T>, opts: InformerOptions<T> = {}) {
    this.#client = client;
    this.#opts = opts;
    this.#store = new Store<T>(opts.indexers);
    this.#backoff = new Backoff(opts.backoff);
    this.#name = opts.name ?? "informer";
    this.synced = new Promise<void>((resolve, reject) => {
      this.#resolveSynced = resolve;
      this.#rejectSynced = reject;
    });
    // Nobody may be awaiting `synced` when we stop early; that must not crash the process.
    this.synced.catch(() => {});
  }

  /**
   * Runs list + watch until `signal` aborts. The returned promise resolves when the informer has
   * stopped; it never rejects (failures are retried and reported through `onError`).
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`Cannot start ${this.#name}: it is already running`);
    this.#started = true;
    try {
      await this.#run(signal);
    } finally {
      if (!this.#synced) {
        this.#rejectSynced(new Error(`${this.#name} stopped before its first list completed`));
      }
    }
  }

  /** True once the first list has been applied. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion the cache is current to (opaque). */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** The cached object of a "namespace/name" or "name" key. Treat it as read-only. */
  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  /** All cached objects. Treat them as read-only. */
  list(): T[] {
    return this.#store.list();
  }

  /** All cache keys. */
  keys(): string[] {
    return this.#store.keys();
  }

  /** Cached objects whose index `indexName` holds `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.#store.byIndex(indexName, value);
  }

  /**
   * Registers handlers. Objects already cached are replayed to `add` at once, so a late
   * registration misses nothing. Returns a function that unregisters them.
   */
  on(handlers: InformerHandlers<T>): () => void {
    this.#handlers.push(handlers);
    if (handlers.add) {
      for (const obj of this.#store.list()) {
        this.#call(() => handlers.add!(obj));
      }
    }
    return () => {
      const i = this.#handlers.indexOf(handlers);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  async #run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      const eventsBefore = this.#events;
      try {
        if (needList) {
          await this.#relist(signal);
          needList = false;
        }
        const started = performance.now();
        await this.#watch(signal);
        if (signal.aborted) return;
        // A watch closed at once with nothing in it means a sick server: back off like client-go.
        if (this.#events === eventsBefore && performance.now() - started < 1000) {
          throw new Error(`Watch closed within a second without any event`);
        }
        continue;
      } catch (e) {
        if (signal.aborted) return;
        let waitMs = 0;
        if (isGone(e)) {
          needList = true;
          // A 410 after events is ordinary compaction: relist at once. Repeated 410s back off.
          if (this.#events !== eventsBefore) continue;
        } else {
          this.#reportError(e);
        }
        if (e instanceof KubeApiError && e.code === 429 && e.retryAfterSeconds !== undefined) {
          waitMs = e.retryAfterSeconds * 1000;
        }
        const delay = Math.max(waitMs, this.#backoff.next());
        if (!(await sleepUnlessAborted(delay, signal))) return;
      }
    }
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const list = await this.#client.listAll({
      labelSelector: this.#opts.labelSelector,
      fieldSelector: this.#opts.fieldSelector,
      limit: this.#opts.pageSize ?? 500,
      signal,
      transform: this.#opts.transform,
    });
    const diff = this.#store.replace(list.items);
    this.#resourceVersion = list.metadata.resourceVersion ?? "";
    for (const obj of diff.added) this.#emit("add", obj);
    for (const { old, obj } of diff.updated) this.#emit("update", obj, old);
    for (const obj of diff.deleted) this.#emit("delete", obj);
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveSynced();
    }
  }

  async #watch(signal: AbortSignal): Promise<void> {
    const events = this.#client.watch({
      resourceVersion: this.#resourceVersion,
      labelSelector: this.#opts.labelSelector,
      fieldSelector: this.#opts.fieldSelector,
      timeoutSeconds: this.#opts.watchTimeoutSeconds,
      inactivityTimeoutMs: this.#opts.watchInactivityTimeoutMs,
      signal,
    });
    for await (const event of events) {
      this.#events++;
      this.#apply(event);
    }
  }

  #apply(event: WatchEvent<T>): void {
    const rv = event.object.metadata?.resourceVersion;
    if (event.type === "BOOKMARK") {
      if (rv) this.#resourceVersion = rv;
      return;
    }
    const obj = this.#opts.transform ? this.#opts.transform(event.object) : event.object;
    if (event.type === "DELETED") {
      const old = this.#store.delete(objectKey(obj));
      this.#emit("delete", obj, old);
    } else {
      const old = this.#store.upsert(obj);
      if (old) this.#emit("update", obj, old);
      else this.#emit("add", obj);
    }
    if (rv) this.#resourceVersion = rv;
  }

  #emit(kind: "add" | "update" | "delete", obj: T, old?: T): void {
    for (const h of this.#handlers) {
      if (kind === "add" && h.add) this.#call(() => h.add!(obj));
      else if (kind === "update" && h.update) this.#call(() => h.update!(old!, obj));
      else if (kind === "delete" && h.delete) this.#call(() => h.delete!(obj));
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#reportError(e);
    }
  }

  #reportError(e: unknown): void {
    if (this.#opts.onError) {
      try {
        this.#opts.onError(e);
      } catch {
        // A failing reporter must not stop the informer.
      }
      return;
    }
    console.error(`${this.#name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
