/**
 * Creates pull Pods in the background, a bounded number at once, so that a reconcile hands over
 * the starts the pacing engine granted and returns: it does not wait on the API server, and the
 * next reconcile of the same image (another Pod ended, another slot free) is not held up.
 *
 * While a start is queued or in flight its node stays reserved in the pacing engine, so no other
 * reconcile grants it again. A failed create drops the image's other starts of the same round and
 * puts the image's creates in backoff (doubling per failed round) until one succeeds; the failure
 * stays visible meanwhile so its reconciles can report it.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type BackoffBounds, backoffDelay } from "../pacing/mod.ts";
import { TaskPool } from "./task_pool.ts";

/** One granted start: the Pod to create for `image` on `node`. */
export interface PodStart {
  image: string;
  node: string;
  pod: Pod;
  /** Aborted when the controller stops: a start not yet sent is dropped. */
  signal: AbortSignal;
}

/** A create failure of one image, current until one of its creates succeeds. */
export interface CreateFailure {
  error: unknown;
  /** When the failing round was handed over (ms). */
  at: number;
  /** Failed rounds in a row. */
  count: number;
  /** No new starts of the image before this time (ms). */
  retryAt: number;
}

/** Backoff of an image's creates after failed rounds: 1 s doubling to 1 min. */
export const CREATE_BACKOFF: Readonly<BackoffBounds> = Object.freeze({
  initialMs: 1000,
  maxMs: 60_000,
});

/** Options of {@linkcode PodStarter}. */
export interface PodStarterOptions {
  /** Creates the Pod; resolves once it exists (also when an earlier run created it). */
  create(start: PodStart): Promise<void>;
  /** Creates in flight at once, across all images. */
  limit: number;
  /** The Pod was created. */
  onStarted(start: PodStart): void;
  /**
   * The start did not happen: its create failed (`error` set) or it was dropped before being
   * sent (stop, or a failure of its round). Give its reservation back.
   */
  onDropped(start: PodStart, error?: unknown): void;
  /** A round of `image` failed: reconcile it so the failure reaches its status. */
  onFailed(image: string): void;
  now?: () => number;
  random?: () => number;
}

interface ImageStarts {
  /** Nodes whose create is queued or in flight. */
  nodes: Set<string>;
  failure?: CreateFailure;
}

/** Background creation of pull Pods. */
export class PodStarter {
  readonly #opts: PodStarterOptions;
  readonly #now: () => number;
  readonly #pool: TaskPool;
  readonly #images = new Map<string, ImageStarts>();

  constructor(opts: PodStarterOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#pool = new TaskPool(opts.limit);
  }

  /** Queues the creation of a granted start's Pod. */
  start(start: PodStart): void {
    const queuedAt = this.#now();
    this.#of(start.image).nodes.add(start.node);
    this.#pool.run(async () => {
      const failedSince = (this.#images.get(start.image)?.failure?.at ?? -Infinity) >= queuedAt;
      if (start.signal.aborted || failedSince) {
        this.#done(start);
        this.#opts.onDropped(start);
        return;
      }
      try {
        await this.#opts.create(start);
      } catch (e) {
        const starts = this.#of(start.image);
        const prev = starts.failure;
        // The first failure of a round counts; the others of the same round do not.
        const newRound = !prev || prev.at < queuedAt;
        if (newRound) {
          const count = (prev?.count ?? 0) + 1;
          const delay = backoffDelay(count, CREATE_BACKOFF, this.#opts.random);
          starts.failure = { error: e, at: queuedAt, count, retryAt: this.#now() + delay };
        }
        this.#done(start);
        this.#opts.onDropped(start, e);
        if (newRound && !start.signal.aborted) this.#opts.onFailed(start.image);
        return;
      }
      const starts = this.#images.get(start.image);
      if (starts) starts.failure = undefined;
      this.#done(start);
      this.#opts.onStarted(start);
    });
  }

  /** How many of `image`'s starts are queued or in flight. */
  pending(image: string): number {
    return this.#images.get(image)?.nodes.size ?? 0;
  }

  /** The current create failure of `image`: set from a failed round until a create succeeds. */
  failure(image: string): CreateFailure | undefined {
    return this.#images.get(image)?.failure;
  }

  /** The image is gone: forget its failure. */
  forget(image: string): void {
    const starts = this.#images.get(image);
    if (!starts) return;
    starts.failure = undefined;
    this.#prune(image, starts);
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    return this.#pool.idle();
  }

  #of(image: string): ImageStarts {
    let starts = this.#images.get(image);
    if (!starts) {
      starts = { nodes: new Set() };
      this.#images.set(image, starts);
    }
    return starts;
  }

  #done(start: PodStart): void {
    const starts = this.#images.get(start.image);
    if (!starts) return;
    starts.nodes.delete(start.node);
    this.#prune(start.image, starts);
  }

  #prune(image: string, starts: ImageStarts): void {
    if (starts.nodes.size === 0 && starts.failure === undefined) this.#images.delete(image);
  }
}
