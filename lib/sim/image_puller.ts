/**
 * A node's serial image puller, as the kubelet's with `serializeImagePulls: true`: one pull at a
 * time, the others wait in arrival order. A pull takes the registry's latency plus the image
 * size over the node's bandwidth, in simulated time scaled into wall time.
 *
 * @module
 */
import type { ImageStore } from "./image_store.ts";
import type { ImageManifest, RegistryCatalogue, ResolveFailure } from "./registry_catalogue.ts";
import type { Scheduler } from "./scheduler.ts";

/** One pull as the kubelet asks for it. */
export interface PullRequest {
  ref: string;
  /** Whether credentials for the registry were found (imagePullSecrets). */
  authenticated: boolean;
  /** Aborting removes a waiting pull or cancels the running one. */
  signal: AbortSignal;
}

/** The outcome of a pull; durations are simulated milliseconds. */
export type PullOutcome =
  & { pullMs: number; totalMs: number }
  & (
    | { ok: true; manifest: ImageManifest; imageID: string }
    | { ok: false; failure: ResolveFailure }
  );

/** A finished or cancelled pull, recorded for tests and benchmarks (wall-clock milliseconds). */
export interface PullRecord {
  ref: string;
  queuedAt: number;
  startedAt: number;
  finishedAt: number;
  result: "pulled" | ResolveFailure | "cancelled";
}

/** Options of {@linkcode ImagePuller}. */
export interface ImagePullerOptions {
  catalogue: RegistryCatalogue;
  store: ImageStore;
  scheduler: Scheduler;
  /** Wall milliseconds per simulated millisecond. */
  timeScale: number;
  /** Bytes per simulated second; read at the start of every pull. */
  bandwidth: () => number;
  /** Resolves when the node may pull (its runtime is up). */
  whenReady?: (signal: AbortSignal) => Promise<void>;
  /** Called for each finished pull. */
  onRecord?: (record: PullRecord) => void;
  /** Wall clock (ms). */
  now?: () => number;
}

/** Round trip of a manifest request, simulated milliseconds. */
const ROUND_TRIP_MS = 50;
/** containerd's dial timeout, simulated milliseconds. */
const DIAL_TIMEOUT_MS = 30_000;

interface Waiter {
  req: PullRequest;
  queuedAt: number;
  start: () => void;
}

/** Pulls images onto one node, one at a time. */
export class ImagePuller {
  readonly #opts: ImagePullerOptions;
  readonly #now: () => number;
  readonly #queue: Waiter[] = [];
  #busy = false;

  constructor(opts: ImagePullerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Pulls waiting for their turn. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Whether a pull is running. */
  get busy(): boolean {
    return this.#busy;
  }

  /**
   * Pulls `req.ref` once every earlier pull finished. Resolves with the outcome (failures
   * included); rejects with the signal's reason when aborted.
   */
  async pull(req: PullRequest): Promise<PullOutcome> {
    const queuedAt = this.#now();
    await this.#turn(req, queuedAt);
    const startedAt = this.#now();
    let result: PullRecord["result"] = "cancelled";
    try {
      await this.#opts.whenReady?.(req.signal);
      const outcome = await this.#transfer(req, queuedAt, startedAt);
      result = outcome.ok ? "pulled" : outcome.failure;
      return outcome;
    } finally {
      this.#opts.onRecord?.({ ref: req.ref, queuedAt, startedAt, finishedAt: this.#now(), result });
      this.#next();
    }
  }

  #turn(req: PullRequest, queuedAt: number): Promise<void> {
    req.signal.throwIfAborted();
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        req,
        queuedAt,
        start: () => {
          req.signal.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(req.signal.reason);
      };
      req.signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #next(): void {
    const waiter = this.#queue.shift();
    if (waiter) waiter.start();
    else this.#busy = false;
  }

  async #transfer(req: PullRequest, queuedAt: number, startedAt: number): Promise<PullOutcome> {
    const { catalogue, store, scheduler, timeScale } = this.#opts;
    const resolution = catalogue.resolve(req.ref, { authenticated: req.authenticated });
    let simMs = resolution.latencyMs;
    if (resolution.ok) {
      simMs += ROUND_TRIP_MS;
      // Layers already on the node are not fetched again (a re-pull of the same digest).
      if (
        !store.has(
          `${resolution.manifest.registry}/${resolution.manifest.repository}@${resolution.manifest.digest}`,
        )
      ) {
        simMs += (resolution.manifest.size / Math.max(1, this.#opts.bandwidth())) * 1000;
      }
    } else {
      simMs += failureMs(resolution.failure);
    }
    await scheduler.sleep(simMs * timeScale, req.signal);
    const waitedMs = (startedAt - queuedAt) / timeScale;
    const durations = { pullMs: simMs, totalMs: simMs + waitedMs };
    if (!resolution.ok) return { ok: false, failure: resolution.failure, ...durations };
    const imageID = store.add(resolution.manifest);
    return { ok: true, manifest: resolution.manifest, imageID, ...durations };
  }
}

function failureMs(failure: ResolveFailure): number {
  switch (failure) {
    case "dns":
      return 20;
    case "connection-refused":
      return 5;
    case "timeout":
      return DIAL_TIMEOUT_MS;
    default:
      return ROUND_TRIP_MS;
  }
}
