/**
 * Informer caches lag behind our own writes. A reconcile that starts right after a status write
 * must not act on the older status in the cache (it would, for example, pull again on a node whose
 * success it just recorded and whose Pod it just deleted). This remembers each object we wrote
 * until the cache shows it or something newer.
 *
 * @module
 */
import { type Condition, type KindRef, setCondition } from "../api/mod.ts";
import { type KubeClient, type KubeObject, writeStatus } from "../kube/mod.ts";
import type { RawObject } from "./context.ts";

interface Written<T> {
  /** resourceVersions our writes replaced, oldest first: the cache may still show any of them. */
  superseded: Set<string>;
  object: T;
}

/** Tracks objects written by this process until the informer catches up. */
export class FreshObjects<T extends KubeObject> {
  #written = new Map<string, Written<T>>();

  /** Records that `before` was replaced by `after`. */
  wrote(key: string, before: T, after: T): void {
    const rv = before.metadata?.resourceVersion;
    if (!rv) return;
    const prev = this.#written.get(key);
    // A second write before the cache caught up replaces our own copy: the cache may still show
    // the version the first write replaced, which is just as stale.
    const superseded = prev && prev.object.metadata?.resourceVersion === rv
      ? prev.superseded
      : new Set<string>();
    superseded.add(rv);
    this.#written.set(key, { superseded, object: after });
  }

  /**
   * The freshest known version: our write when the cache still holds a version it replaced,
   * otherwise the cached object (ours or a newer change by someone else).
   */
  resolve(key: string, cached: T): T {
    const w = this.#written.get(key);
    if (!w) return cached;
    const rv = cached.metadata?.resourceVersion;
    if (rv !== undefined && w.superseded.has(rv)) return w.object;
    this.#written.delete(key);
    return cached;
  }

  /** Whether `rv` is the version our own latest write of `key` produced. */
  isOwn(key: string, rv: string | undefined): boolean {
    return rv !== undefined && this.#written.get(key)?.object.metadata?.resourceVersion === rv;
  }

  forget(key: string): void {
    this.#written.delete(key);
  }
}

/** Names of objects being deleted by this process, hidden until the cache drops them. */
export class PendingDeletes {
  #until = new Map<string, number>();
  readonly #ttlMs: number;

  constructor(ttlMs = 60_000) {
    this.#ttlMs = ttlMs;
  }

  add(key: string, now: number): void {
    this.#until.set(key, now + this.#ttlMs);
  }

  has(key: string, now: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until <= now) {
      this.#until.delete(key);
      return false;
    }
    return true;
  }

  /** The cache no longer holds the object. */
  gone(key: string): void {
    this.#until.delete(key);
  }
}

/**
 * Status writes of one kind through the `/status` subresource, remembering each written object
 * until the cache catches up (see {@linkcode FreshObjects}).
 */
export class FreshStatusWriter<S> {
  readonly #fresh = new FreshObjects<RawObject>();
  readonly #client: KubeClient;
  readonly #kind: KindRef;

  constructor(client: KubeClient, kind: KindRef) {
    this.#client = client;
    this.#kind = kind;
  }

  /** The freshest known version of a cached object. */
  resolve(name: string, cached: RawObject): RawObject {
    return this.#fresh.resolve(name, cached);
  }

  /** The object is gone. */
  forget(name: string): void {
    this.#fresh.forget(name);
  }

  /** Whether the cached object is the one our own latest write produced. */
  isOwnWrite(cached: RawObject): boolean {
    return this.#fresh.isOwn(cached.metadata?.name ?? "", cached.metadata?.resourceVersion);
  }

  /**
   * Writes the status `compute` derives from the current one; nothing is sent when it is
   * unchanged. Resolves whether a write was made. With `retryConflicts` a 409 re-reads and computes again; without, it is thrown so
   * the reconcile starts over from fresh state.
   */
  async write(
    raw: RawObject,
    compute: (prev: S) => S,
    signal: AbortSignal,
    retryConflicts = false,
  ): Promise<boolean> {
    type WithStatus = RawObject & { status?: S };
    const result = await writeStatus(
      this.#client.resource<WithStatus>(this.#kind),
      raw.metadata!.name!,
      (current) => compute((current.status ?? {}) as S),
      { current: raw as WithStatus, maxAttempts: retryConflicts ? 5 : 1, signal },
    );
    if (result.written) this.#fresh.wrote(raw.metadata!.name!, raw, result.object);
    return result.written;
  }

  /** Writes Ready=False with reason InvalidSpec and `message` (and `phase`, when the kind has one). */
  async writeInvalid(
    raw: RawObject,
    message: string,
    now: Date,
    signal: AbortSignal,
    phase?: string,
  ): Promise<void> {
    await this.write(
      raw,
      (prev) =>
        invalidSpecStatus(
          prev as { conditions?: Condition[] },
          raw.metadata?.generation,
          message,
          now,
          phase,
        ) as S,
      signal,
      true,
    );
  }
}

/** A status marking the spec invalid: Ready False with reason InvalidSpec and the message. */
export function invalidSpecStatus<
  S extends { observedGeneration?: number; conditions?: Condition[]; phase?: string },
>(prev: S, generation: number | undefined, message: string, now: Date, phase?: string): S {
  return {
    ...prev,
    observedGeneration: generation,
    ...(phase ? { phase } : {}),
    conditions: setCondition(prev.conditions, {
      type: "Ready",
      status: "False",
      reason: "InvalidSpec",
      message,
      observedGeneration: generation,
    }, now),
  };
}
