/**
 * Deletes pull Pods whose results are stored, in the background and a bounded number at once,
 * so that a reconcile never waits on them: the next start of the same image does not queue behind
 * a hundred deletes. The Pods are hidden from plans from the moment they are handed over until
 * the cache drops them; a delete that fails shows them again and asks for their image to be
 * reconciled, which hands them over anew.
 *
 * @module
 */
import { PendingDeletes } from "./fresh_status.ts";

/** Options of {@linkcode PodReaper}. */
export interface PodReaperOptions {
  /** Deletes one Pod; a Pod that is already gone must resolve, not reject. */
  delete(name: string): Promise<void>;
  /** Deletes in flight at once. */
  limit: number;
  /** A delete failed: the Pod is visible again; reconcile `owner` later. */
  onFailed(owner: string, name: string, error: unknown): void;
  /** How long a handed-over Pod stays hidden at most (ms). Default 60 s. */
  hideMs?: number;
}

/** Background deletion of finished pull Pods. */
export class PodReaper {
  readonly #opts: PodReaperOptions;
  readonly #hidden: PendingDeletes;
  readonly #queue: { owner: string; name: string }[] = [];
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(opts: PodReaperOptions) {
    this.#opts = opts;
    this.#hidden = new PendingDeletes(opts.hideMs);
  }

  /** Whether the Pod was handed over for deletion and should be left out of plans. */
  hides(name: string, now: number): boolean {
    return this.#hidden.has(name, now);
  }

  /** The cache dropped the Pod. */
  gone(name: string): void {
    this.#hidden.gone(name);
  }

  /** Hands Pods of `owner` over for deletion; Pods already handed over are not queued again. */
  reap(owner: string, names: readonly string[], now: number): void {
    for (const name of names) {
      if (this.#hidden.has(name, now)) continue;
      this.#hidden.add(name, now);
      this.#queue.push({ owner, name });
    }
    this.#pump();
  }

  /** Resolves once nothing is queued or in flight (for an orderly stop and for tests). */
  idle(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#opts.limit && this.#queue.length > 0) {
      const { owner, name } = this.#queue.shift()!;
      this.#inFlight++;
      this.#opts.delete(name).catch((e) => {
        this.#hidden.gone(name);
        this.#opts.onFailed(owner, name, e);
      }).finally(() => {
        this.#inFlight--;
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) {
          for (const resolve of this.#idle.splice(0)) resolve();
        }
      });
    }
  }
}
