/**
 * Watch streams: newline-delimited JSON events over a long response, started from a
 * resourceVersion (replayed from the event window, or 410 Expired when it no longer reaches
 * back) or from the current state (synthetic ADDED events), with selectors that turn a change
 * in or out of the selection into ADDED or DELETED, bookmarks, `timeoutSeconds`, Table output
 * for kubectl, back-pressure, and the injected faults (close, 410, stall).
 *
 * @module
 */
import type { Rec, StoreEvent } from "./event_log.ts";
import { exactName } from "./field_selector.ts";
import type { JsonObject } from "./json_util.ts";
import { type Selection, selection, selects } from "./list_query.ts";
import { apiVersionOf, objectKey, type ResourceDef } from "./resource_def.ts";
import type { Bucket, ResourceStore } from "./resource_store.ts";
import { badRequest, type StatusBody } from "./status.ts";
import type { WatchTarget } from "./watch_hub.ts";

/** How watch event objects are rendered. */
export type WatchFormat =
  | { kind: "object" }
  | { kind: "partial" }
  | { kind: "table"; render(objs: JsonObject[], includeColumns: boolean): JsonObject };

/** Parameters of one watch request. */
export interface WatchRequest {
  def: ResourceDef;
  namespace: string;
  labelSelector?: string | null;
  fieldSelector?: string | null;
  resourceVersion?: string | null;
  allowBookmarks: boolean;
  /** Streaming list: current state first, then a bookmark marked `k8s.io/initial-events-end`. */
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  format: WatchFormat;
  /** Faults decided for this request. */
  gone?: boolean;
  stall?: boolean;
  closeAfterMs?: number;
  /**
   * Aborts when the client goes away. Over HTTP, `Deno.serve` cancels the body instead (its
   * `request.signal` is not read: it also aborts after every successful response); in-process
   * callers pass their request's signal.
   */
  signal?: AbortSignal;
  /**
   * Deliver events in a later turn of the event loop, batched, as a socket would. For clients in
   * this process: otherwise a watcher reacts (and sends its own requests) within the microtasks
   * of the write that caused the event, before the writer's answer goes out.
   */
  deliverLater?: boolean;
}

const encoder = new TextEncoder();
/** Events a slow client may leave unread before its watch is closed, as kube drops slow watchers. */
const MAX_QUEUED = 100_000;

function goneStatus(message: string): StatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Expired",
    code: 410,
  };
}

class Watcher implements WatchTarget {
  readonly index?: WatchTarget["index"];
  readonly req: WatchRequest;
  readonly sel: Selection;
  readonly bookmarks: boolean;
  #controller?: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  #timers: ReturnType<typeof setTimeout>[] = [];
  #onClose: (w: Watcher) => void;
  #detach?: () => void;
  /** Events waiting for a later turn (with `deliverLater`), and the timer that sends them. */
  #batch: Uint8Array[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #sentColumns = false;
  lastBookmark = Date.now();

  constructor(req: WatchRequest, sel: Selection, onClose: (w: Watcher) => void) {
    this.req = req;
    this.sel = sel;
    this.bookmarks = req.allowBookmarks && req.format.kind !== "table";
    this.#onClose = onClose;
    const name = exactName(sel.fields);
    if (name !== undefined) {
      this.index = {
        field: "metadata.name",
        value: name,
        extract: (o) => String((o.metadata as JsonObject)?.name ?? ""),
      };
    } else {
      const eq = sel.fields.requirements.find((r) => r.op === "=");
      if (eq) {
        const field = eq.field;
        const def = req.def;
        this.index = { field, value: eq.value, extract: (o) => def.fields(o)[field] ?? "" };
      } else if (sel.namespace) {
        this.index = {
          field: "metadata.namespace",
          value: sel.namespace,
          extract: (o) => String((o.metadata as JsonObject)?.namespace ?? ""),
        };
      }
    }
  }

  attach(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  get closed(): boolean {
    return this.#closed;
  }

  addTimer(id: ReturnType<typeof setTimeout>): void {
    this.#timers.push(id);
  }

  /** Closes the watch once `signal` aborts (at once if it already has). */
  closeOn(signal: AbortSignal): void {
    if (signal.aborted) {
      this.close();
      return;
    }
    const onAbort = () => this.close();
    signal.addEventListener("abort", onAbort, { once: true });
    this.#detach = () => signal.removeEventListener("abort", onAbort);
  }

  #send(bytes: Uint8Array): void {
    if (this.#closed || !this.#controller) return;
    if (this.req.deliverLater) {
      this.#batch.push(bytes);
      this.#flushTimer ??= setTimeout(() => this.#flush(), 0);
      return;
    }
    this.#enqueue(bytes);
  }

  #enqueue(bytes: Uint8Array): void {
    this.#controller!.enqueue(bytes);
    if ((this.#controller!.desiredSize ?? 0) < -MAX_QUEUED) this.close();
  }

  #flush(): void {
    this.#flushTimer = undefined;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    if (batch.length === 1) {
      this.#enqueue(batch[0]);
      return;
    }
    let size = 0;
    for (const b of batch) size += b.length;
    const joined = new Uint8Array(size);
    let at = 0;
    for (const b of batch) {
      joined.set(b, at);
      at += b.length;
    }
    this.#enqueue(joined);
  }

  #render(obj: JsonObject): JsonObject {
    const def = this.req.def;
    const view = def.toView ? def.toView(obj) : obj;
    const f = this.req.format;
    if (f.kind === "partial") {
      return {
        kind: "PartialObjectMetadata",
        apiVersion: "meta.k8s.io/v1",
        metadata: view.metadata,
      };
    }
    if (f.kind === "table") {
      const t = f.render([view], !this.#sentColumns);
      this.#sentColumns = true;
      return t;
    }
    return view;
  }

  /** Sends one event for a stored object version. */
  sendObject(type: string, rec: Rec, ev?: StoreEvent): void {
    const plain = this.req.format.kind === "object" && !this.req.def.toView;
    if (plain && ev && ev.type === type) {
      ev.line ??= encoder.encode(`{"type":"${type}","object":${rec.json}}\n`);
      this.#send(ev.line);
      return;
    }
    if (plain) {
      this.#send(encoder.encode(`{"type":"${type}","object":${rec.json}}\n`));
      return;
    }
    this.#send(encoder.encode(JSON.stringify({ type, object: this.#render(rec.obj) }) + "\n"));
  }

  sendError(status: StatusBody): void {
    this.#send(encoder.encode(JSON.stringify({ type: "ERROR", object: status }) + "\n"));
  }

  bookmark(rv: number, initialEventsEnd = false): void {
    if (!this.bookmarks || this.#closed) return;
    this.lastBookmark = Date.now();
    const def = this.req.def;
    const metadata: Record<string, unknown> = {
      resourceVersion: String(rv),
      creationTimestamp: null,
    };
    if (initialEventsEnd) metadata.annotations = { "k8s.io/initial-events-end": "true" };
    const obj = { kind: def.kind, apiVersion: apiVersionOf(def), metadata };
    this.#send(encoder.encode(JSON.stringify({ type: "BOOKMARK", object: obj }) + "\n"));
  }

  offer(ev: StoreEvent): void {
    if (this.#closed) return;
    const cur = selects(this.sel, ev.cur);
    if (ev.type === "ADDED") {
      if (cur) this.sendObject("ADDED", ev.cur, ev);
    } else if (ev.type === "DELETED") {
      if (cur) this.sendObject("DELETED", ev.cur, ev);
    } else {
      const prev = ev.prev ? selects(this.sel, ev.prev) : false;
      if (cur && prev) this.sendObject("MODIFIED", ev.cur, ev);
      else if (cur) this.sendObject("ADDED", ev.cur, ev);
      else if (prev) this.sendObject("DELETED", ev.cur, ev);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#detach?.();
    clearTimeout(this.#flushTimer);
    try {
      // What was sent before the close still arrives, as over a socket.
      if (this.#batch.length > 0) this.#flush();
      this.#controller?.close();
    } catch {
      // Already closed or errored by the client going away.
    }
    this.#onClose(this);
  }
}

/** All watch streams of a server. */
export class WatchManager {
  #store: ResourceStore;
  #live = new Set<Watcher>();
  #stalled = new Set<Watcher>();
  #buckets = new Map<Watcher, Bucket>();
  #ticker: ReturnType<typeof setInterval>;
  #bookmarkMs: number;

  constructor(store: ResourceStore, bookmarkIntervalMs: number) {
    this.#store = store;
    this.#bookmarkMs = bookmarkIntervalMs;
    const tick = Math.max(10, Math.min(1000, Math.floor(bookmarkIntervalMs / 4)));
    this.#ticker = setInterval(() => this.#tick(), tick);
  }

  /** Open watch streams, stalled ones included. */
  get open(): number {
    return this.#live.size + this.#stalled.size;
  }

  #tick(): void {
    const now = Date.now();
    const rv = this.#store.rv;
    for (const w of this.#live) {
      if (w.bookmarks && now - w.lastBookmark >= this.#bookmarkMs) w.bookmark(rv);
    }
  }

  #register(w: Watcher, bucket: Bucket): void {
    this.#live.add(w);
    this.#buckets.set(w, bucket);
    bucket.watchers.add(w);
  }

  #unregister = (w: Watcher): void => {
    this.#live.delete(w);
    this.#stalled.delete(w);
    this.#buckets.get(w)?.watchers.delete(w);
    this.#buckets.delete(w);
  };

  /** Starts a watch and returns its streaming body. Throws 400 for a malformed request. */
  start(req: WatchRequest): ReadableStream<Uint8Array> {
    const sel = selection(req.def, req.namespace, req.labelSelector, req.fieldSelector);
    const rvText = req.resourceVersion ?? "";
    if (rvText !== "" && !/^\d+$/.test(rvText)) {
      throw badRequest(
        `Invalid value: "${rvText}": resourceVersion must be a valid resource version`,
      );
    }
    const bucket = this.#store.bucket(req.def.storageKey);
    const w = new Watcher(req, sel, this.#unregister);
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        w.attach(controller);
        this.#live.add(w);
        if (req.signal) w.closeOn(req.signal);
        if (w.closed) return;
        const timeoutMs = (req.timeoutSeconds && req.timeoutSeconds > 0
          ? req.timeoutSeconds
          : 1800 + Math.random() * 1800) * 1000;
        w.addTimer(setTimeout(() => {
          w.bookmark(this.#store.rv);
          w.close();
        }, timeoutMs));
        if (req.closeAfterMs !== undefined && req.closeAfterMs >= 0) {
          w.addTimer(setTimeout(() =>
            w.close(), req.closeAfterMs));
        }
        if (req.stall) {
          // A stalled stream: headers sent, then silence until the client or the timeout ends it.
          this.#live.delete(w);
          this.#stalled.add(w);
          return;
        }
        if (req.gone) {
          w.sendError(goneStatus(`too old resource version: ${rvText || "0"} (${this.#store.rv})`));
          w.close();
          return;
        }
        if (req.sendInitialEvents) {
          this.#sendInitial(w, bucket, sel);
          w.bookmark(this.#store.rv, true);
        } else if (rvText === "" || rvText === "0") {
          this.#sendInitial(w, bucket, sel);
        } else {
          const events = bucket.log.since(Number(rvText));
          if (!events) {
            w.sendError(
              goneStatus(`too old resource version: ${rvText} (${bucket.log.floor + 1})`),
            );
            w.close();
            return;
          }
          for (const ev of events) {
            w.offer(ev);
            // A replay encodes for this watcher only; the window keeps no copy.
            ev.line = undefined;
          }
        }
        if (!w.closed) this.#register(w, bucket);
      },
      cancel: () => {
        this.#stalled.delete(w);
        w.close();
      },
    });
  }

  #sendInitial(w: Watcher, bucket: Bucket, sel: Selection): void {
    const name = exactName(sel.fields);
    if (name !== undefined) {
      const rec = bucket.objects.get(objectKey(sel.namespace, name));
      if (rec && selects(sel, rec)) w.sendObject("ADDED", rec);
      return;
    }
    for (const key of bucket.sortedKeys()) {
      const rec = bucket.objects.get(key)!;
      if (selects(sel, rec)) w.sendObject("ADDED", rec);
    }
  }

  /** Ends every watch of a resource that is no longer served. */
  closeBucket(storageKey: string): void {
    for (const [w, b] of [...this.#buckets]) if (b.storageKey === storageKey) w.close();
  }

  /** Ends every watch, stalled ones included, and stops the bookmark ticker. */
  closeAll(): void {
    clearInterval(this.#ticker);
    for (const w of [...this.#live, ...this.#stalled]) w.close();
    this.#stalled.clear();
  }
}
