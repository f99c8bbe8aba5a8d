import type { Status } from "kubernetes-types/meta/v1.d.ts";
import { KubeApiError } from "./errors.ts";
import { LineSplitter } from "./ndjson.ts";
import type { RestTransport } from "./transport.ts";
import type { KubeObject, WatchEvent, WatchEventType } from "./types.ts";

/** A watch stream that sent nothing, not even a bookmark, for longer than allowed. */
export class WatchStalledError extends Error {
  /** Describes a watch of `path` silent for `ms`. */
  constructor(path: string, ms: number) {
    super(`Watch of ${path} stalled: nothing arrived for ${Math.round(ms / 1000)} s`);
    this.name = "WatchStalledError";
  }
}

/** What {@linkcode watchStream} needs to open and decode one watch. */
export interface WatchStreamSpec<T> {
  path: string;
  query: URLSearchParams;
  resource: string;
  signal?: AbortSignal;
  inactivityTimeoutMs: number;
  fill: (obj: T) => T;
}

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/**
 * Opens one watch request and yields its events until the server ends the stream (normal return),
 * the caller's signal aborts (normal return), the stream errs (throws) or stays silent past the
 * inactivity limit (throws {@linkcode WatchStalledError}).
 */
export async function* watchStream<T extends KubeObject>(
  transport: RestTransport,
  spec: WatchStreamSpec<T>,
): AsyncGenerator<WatchEvent<T>> {
  if (spec.signal?.aborted) return;
  const ac = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // Aborting the fetch alone does not always wake a read already waiting on the body (seen with
  // long-lived streams), so a pending read is cancelled too.
  const interrupt = (reason: unknown) => {
    ac.abort(reason);
    reader?.cancel(reason).catch(() => {});
  };
  const onCallerAbort = () => interrupt(spec.signal!.reason);
  spec.signal?.addEventListener("abort", onCallerAbort, { once: true });
  // Time spent by the consumer between two events must not count as silence of the server.
  let lastActivity = Date.now();
  let consuming = false;
  let stalled = false;
  const limit = spec.inactivityTimeoutMs;
  const watchdog = setInterval(() => {
    if (!consuming && Date.now() - lastActivity > limit) {
      stalled = true;
      interrupt(new WatchStalledError(spec.path, limit));
    }
  }, Math.max(50, Math.min(limit / 4, 5_000)));
  try {
    let res: Response;
    try {
      res = await transport.send({
        method: "GET",
        path: spec.path,
        query: spec.query,
        verb: "watch",
        resource: spec.resource,
        signal: ac.signal,
        stream: true,
      });
    } catch (e) {
      if (spec.signal?.aborted) return;
      if (stalled) throw new WatchStalledError(spec.path, limit);
      throw e;
    }
    lastActivity = Date.now();
    if (!res.body) return;
    reader = res.body.getReader();
    const splitter = new LineSplitter();
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (spec.signal?.aborted) return;
        if (stalled) throw new WatchStalledError(spec.path, limit);
        throw new Error(`Watch of ${spec.path} broke: ${(e as Error).message}`, { cause: e });
      }
      if (chunk.done && spec.signal?.aborted) return;
      if (chunk.done && stalled) throw new WatchStalledError(spec.path, limit);
      lastActivity = Date.now();
      const lines = chunk.done ? splitter.flush() : splitter.push(chunk.value);
      for (const line of lines) {
        const event = decodeEvent<T>(line, spec.path);
        if (event.type === "ERROR") {
          throw new KubeApiError(event.object as unknown as Status);
        }
        spec.fill(event.object);
        consuming = true;
        try {
          yield event;
        } finally {
          consuming = false;
          lastActivity = Date.now();
        }
        if (spec.signal?.aborted) return;
      }
      if (chunk.done) return;
    }
  } finally {
    clearInterval(watchdog);
    spec.signal?.removeEventListener("abort", onCallerAbort);
    if (!ac.signal.aborted) ac.abort();
    try {
      await reader?.cancel();
    } catch {
      // The stream is already torn down; nothing more to release.
    }
  }
}

function decodeEvent<T>(line: string, path: string): WatchEvent<T> {
  let parsed: { type?: unknown; object?: unknown };
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`Cannot decode an event of the watch of ${path}: it is not JSON`);
  }
  if (typeof parsed?.type !== "string" || !EVENT_TYPES.has(parsed.type)) {
    throw new Error(
      `Cannot decode an event of the watch of ${path}: unknown type "${String(parsed?.type)}"`,
    );
  }
  if (typeof parsed.object !== "object" || parsed.object === null) {
    throw new Error(`Cannot decode an event of the watch of ${path}: it carries no object`);
  }
  return { type: parsed.type as WatchEventType, object: parsed.object as T };
}
