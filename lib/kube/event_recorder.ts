import type { Event } from "kubernetes-types/core/v1.d.ts";
import { withTimeout } from "./_abort.ts";
import { isNotFound } from "./errors.ts";
import { BucketRateLimiter } from "./rate_limiter.ts";
import type { KubeObject, PatchType } from "./types.ts";

/** The Event calls the recorder needs; a cluster-wide `ResourceClient<Event>` for EVENTS provides them. */
export interface EventClient {
  /** Creates an Event. */
  create(obj: Event, opts?: { signal?: AbortSignal }): Promise<Event>;
  /** Patches an Event in `opts.namespace` (the recorder's client spans all namespaces). */
  patch(
    name: string,
    type: PatchType,
    body: unknown,
    opts?: { signal?: AbortSignal; namespace?: string },
  ): Promise<Event>;
}

/** Options of {@linkcode EventRecorder}. */
export interface EventRecorderOptions {
  /** Events client; must not be scoped to a namespace (events go to the object's namespace). */
  client: EventClient;
  /** `source.component` and `reportingComponent`, e.g. "drop-controller". */
  component: string;
  /** `source.host` and `reportingInstance` (pod or host name). */
  instance?: string;
  /** Identical events within this window are aggregated into one. Default 10 min (client-go). */
  aggregateWindowMs?: number;
  /** Per involved object: burst of events, then one per `perObjectRefillMs`. Default 25 and 5 min (client-go). */
  perObjectBurst?: number;
  /** Per-object refill period of one token, in ms. */
  perObjectRefillMs?: number;
  /** Overall cap across all objects: events per second and burst. Default 5/s, burst 50. */
  qps?: number;
  /** Overall burst. */
  burst?: number;
  /** Entries of the aggregation cache before the oldest is forgotten. Default 4096. */
  cacheSize?: number;
  /** Write failures (never thrown to the caller). Default logs to stderr. */
  onError?(error: unknown): void;
  /** An event was dropped by the rate limits. */
  onDropped?(reason: string): void;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

interface Aggregate {
  namespace: string;
  name: string;
  count: number;
  firstTimestamp: string;
  lastSeen: number;
}

const MAX_MESSAGE = 1024;

/** Longest an Event write may take before it is given up. */
const WRITE_TIMEOUT_MS = 30_000;
const WRITE_TIMEOUT_MESSAGE = "The Event write timed out";

/**
 * Records core/v1 Events on involved objects. Repeats of an identical event (same object, type,
 * reason and message) within the aggregation window update one Event's `count` and
 * `lastTimestamp` instead of creating new ones, and per-object plus global token buckets bound
 * the write rate. `event` never blocks or throws; `flush` waits for pending writes.
 */
export class EventRecorder {
  readonly #opts: EventRecorderOptions;
  readonly #now: () => number;
  readonly #window: number;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, Aggregate>();
  readonly #perObject = new Map<string, BucketRateLimiter<string>>();
  readonly #global: BucketRateLimiter<string>;
  #chain: Promise<void> = Promise.resolve();
  #seq = 0;

  /** Creates a recorder; see {@linkcode EventRecorderOptions} for the limits. */
  constructor(opts: EventRecorderOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#window = opts.aggregateWindowMs ?? 600_000;
    this.#cacheSize = opts.cacheSize ?? 4096;
    this.#global = new BucketRateLimiter(opts.qps ?? 5, opts.burst ?? 50, this.#now);
  }

  /**
   * Records an event about `obj`. Cluster-scoped objects get their events in namespace "default",
   * as Kubernetes does.
   */
  event(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || "default";
    const objectId = `${obj.apiVersion}/${obj.kind}/${meta.namespace ?? ""}/${meta.name}/${
      meta.uid ?? ""
    }`;
    const text = message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE - 3) + "..." : message;
    if (!this.#allow(objectId)) {
      this.#opts.onDropped?.(reason);
      return;
    }
    const now = this.#now();
    const timestamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z");
    const aggKey = `${objectId}\u0000${type}\u0000${reason}\u0000${text}`;
    const existing = this.#cache.get(aggKey);
    if (existing && now - existing.lastSeen <= this.#window) {
      existing.count++;
      existing.lastSeen = now;
      this.#touch(aggKey, existing);
      const { name, count, namespace: eventNs } = existing;
      this.#enqueue(async () => {
        try {
          await withTimeout(WRITE_TIMEOUT_MS, (signal) =>
            this.#opts.client.patch(name, "merge", {
              count,
              lastTimestamp: timestamp,
            }, { signal, namespace: eventNs }), WRITE_TIMEOUT_MESSAGE);
        } catch (e) {
          // The Event expired (they live ~1 h) or was deleted: start a new series.
          if (!isNotFound(e)) throw e;
          const fresh = this.#newAggregate(obj, namespace, timestamp, now);
          this.#touch(aggKey, fresh);
          await this.#create(fresh, obj, type, reason, text, timestamp);
        }
      });
      return;
    }
    // The cache entry exists before the write, so repeats recorded meanwhile aggregate into it.
    const agg = this.#newAggregate(obj, namespace, timestamp, now);
    this.#touch(aggKey, agg);
    this.#enqueue(() => this.#create(agg, obj, type, reason, text, timestamp));
  }

  /** Resolves when every event recorded so far has been written (or has failed). */
  flush(): Promise<void> {
    return this.#chain;
  }

  #newAggregate(obj: KubeObject, namespace: string, timestamp: string, now: number): Aggregate {
    // client-go names events "<object>.<unix nanos in hex>"; a sequence keeps same-ms names unique.
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    const name = `${obj.metadata?.name}.${nanos.toString(16)}`;
    return { namespace, name, count: 1, firstTimestamp: timestamp, lastSeen: now };
  }

  async #create(
    agg: Aggregate,
    obj: KubeObject,
    type: string,
    reason: string,
    message: string,
    timestamp: string,
  ): Promise<void> {
    const meta = obj.metadata ?? {};
    const event: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: agg.name, namespace: agg.namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        ...(meta.uid ? { uid: meta.uid } : {}),
        ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: {
        component: this.#opts.component,
        ...(this.#opts.instance ? { host: this.#opts.instance } : {}),
      },
      reportingComponent: this.#opts.component,
      reportingInstance: this.#opts.instance ?? "",
    };
    await withTimeout(WRITE_TIMEOUT_MS, (signal) => this.#opts.client.create(event, { signal }));
  }

  #allow(objectId: string): boolean {
    let bucket = this.#perObject.get(objectId);
    if (!bucket) {
      const refill = this.#opts.perObjectRefillMs ?? 300_000;
      bucket = new BucketRateLimiter<string>(
        1000 / refill,
        this.#opts.perObjectBurst ?? 25,
        this.#now,
      );
      this.#perObject.set(objectId, bucket);
      if (this.#perObject.size > this.#cacheSize) {
        this.#perObject.delete(this.#perObject.keys().next().value!);
      }
    }
    // Token buckets here never go into debt: a refused event does not delay later ones.
    if (!bucket.tryTake()) return false;
    if (!this.#global.tryTake()) return false;
    return true;
  }

  #touch(key: string, agg: Aggregate): void {
    this.#cache.delete(key);
    this.#cache.set(key, agg);
    if (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
  }

  #enqueue(write: () => Promise<void>): void {
    // Writes are serialised so a count patch never overtakes the create of its Event.
    this.#chain = this.#chain.then(write).catch((e) => {
      if (this.#opts.onError) this.#opts.onError(e);
      else console.error(`Cannot record event: ${e instanceof Error ? e.message : String(e)}`);
    });
  }
}
