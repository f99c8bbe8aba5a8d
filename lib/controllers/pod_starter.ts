/**
 * Creates pull Pods in the background, a bounded number at once, so that a reconcile hands over
 * the starts the pacing engine granted and returns: it does not wait on the API server, and the
 * next reconcile of the same image (another Pod ended, another slot free) is not held up.
 *
 * While a start is queued or in flight its node stays reserved in the pacing engine, so no other
 * reconcile grants it again. A failed create stops the image's other queued starts and is kept
 * as the image's error until its reconcile has reported it in status.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { TaskPool } from "./task_pool.ts";

/** One granted start: the Pod to create for `image` on `node`. */
export interface PodStart {
  image: string;
  node: string;
  pod: Pod;
  /** Aborted when the controller stops: a start not yet sent is dropped. */
  signal: AbortSignal;
}

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
   * sent (stop, or an earlier failure of its image). Give its reservation back.
   */
  onDropped(start: PodStart, error?: unknown): void;
  /** A create of `image` failed: reconcile it so the failure reaches its status. */
  onFailed(image: string): void;
}

interface ImageStarts {
  /** Nodes whose create is queued or in flight. */
  nodes: Set<string>;
  /** The first create failure not yet reported. */
  error?: unknown;
}

/** Background creation of pull Pods. */
export class PodStarter {
  readonly #opts: PodStarterOptions;
  readonly #pool: TaskPool;
  readonly #images = new Map<string, ImageStarts>();

  constructor(opts: PodStarterOptions) {
    this.#opts = opts;
    this.#pool = new TaskPool(opts.limit);
  }

  /** Queues the creation of a granted start's Pod. */
  start(start: PodStart): void {
    const starts = this.#of(start.image);
    starts.nodes.add(start.node);
    this.#pool.run(async () => {
      if (start.signal.aborted || starts.error !== undefined) {
        this.#done(start);
        this.#opts.onDropped(start);
        return;
      }
      try {
        await this.#opts.create(start);
      } catch (e) {
        const first = starts.error === undefined;
        if (first) starts.error = e;
        this.#done(start);
        this.#opts.onDropped(start, e);
        if (first && !start.signal.aborted) this.#opts.onFailed(start.image);
        return;
      }
      this.#done(start);
      this.#opts.onStarted(start);
    });
  }

  /** How many of `image`'s starts are queued or in flight. */
  pending(image: string): number {
    return this.#images.get(image)?.nodes.size ?? 0;
  }

  /** The create failure of `image` not yet reported, if any. */
  error(image: string): unknown {
    return this.#images.get(image)?.error;
  }

  /** `error` has been reported: starts of `image` may be queued again. */
  reported(image: string, error: unknown): void {
    const starts = this.#images.get(image);
    if (!starts || starts.error !== error) return;
    starts.error = undefined;
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
    if (starts.nodes.size === 0 && starts.error === undefined) this.#images.delete(image);
  }
}
