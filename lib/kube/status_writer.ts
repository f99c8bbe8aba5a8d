import { deepEqual } from "./deep_equal.ts";
import { isConflict } from "./errors.ts";
import type { KubeObject } from "./types.ts";

/** The calls a status write needs; a `ResourceClient` provides them. */
export interface StatusClient<T> {
  /** Reads the object. */
  get(name: string, opts?: { signal?: AbortSignal }): Promise<T>;
  /** Replaces the object's status through `/status`. */
  replaceStatus(obj: T, opts?: { signal?: AbortSignal }): Promise<T>;
}

/** Options of {@linkcode writeStatus}. */
export interface WriteStatusOptions<T> {
  /** The object as the caller last saw it (e.g. from an informer) to save the first GET. */
  current?: T;
  /** Attempts before a persistent conflict is thrown. Default 5. */
  maxAttempts?: number;
  /** Aborts reads and writes. */
  signal?: AbortSignal;
}

/** Outcome of {@linkcode writeStatus}. */
export interface WriteStatusResult<T> {
  /** False when the computed status equalled the stored one and nothing was sent. */
  written: boolean;
  /** The object after the write (or as read, when nothing was written). */
  object: T;
}

/**
 * Writes `status` through the `/status` subresource: computes it from the current object, skips
 * the write when nothing changed, sends the object's resourceVersion for optimistic concurrency
 * and, on 409 Conflict, re-reads the object and computes again.
 */
export async function writeStatus<T extends KubeObject & { status?: unknown }>(
  client: StatusClient<T>,
  name: string,
  compute: (current: T) => NoInfer<T["status"]> | Promise<NoInfer<T["status"]>>,
  opts: WriteStatusOptions<T> = {},
): Promise<WriteStatusResult<T>> {
  const maxAttempts = opts.maxAttempts ?? 5;
  let current = opts.current ?? await client.get(name, { signal: opts.signal });
  for (let attempt = 1;; attempt++) {
    const status = await compute(current);
    if (deepEqual(current.status, status)) return { written: false, object: current };
    try {
      const object = await client.replaceStatus({ ...current, status }, { signal: opts.signal });
      return { written: true, object };
    } catch (e) {
      if (!isConflict(e) || attempt >= maxAttempts) throw e;
      current = await client.get(name, { signal: opts.signal });
    }
  }
}
