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
import { TaskPool } from "./task_pool.ts";

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
  readonly #pool: TaskPool;

  constructor(opts: PodReaperOptions) {
    this.#opts = opts;
    this.#hidden = new PendingDeletes(opts.hideMs);
    this.#pool = new TaskPool(opts.limit);
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
      this.#pool.run(async () => {
        try {
          await this.#opts.delete(name);
        } catch (e) {
          this.#hidden.gone(name);
          this.#opts.onFailed(owner, name, e);
        }
      });
    }
  }

  /** Resolves once nothing is queued or in flight (for an orderly stop and for tests). */
  idle(): Promise<void> {
    return this.#pool.idle();
  }
}
