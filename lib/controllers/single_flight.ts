/**
 * One background task per key at a time. A caller that finds its key busy asks for another turn
 * instead of queueing a second task: when the running task ends, `onAgain` is called with the key
 * so the caller can decide afresh (for status writes: the next reconcile computes the status from
 * what the first write left, rather than writing a status computed before it).
 *
 * @module
 */
import type { TaskPool } from "./task_pool.ts";

/** Keyed single-flight over a {@linkcode TaskPool}. */
export class SingleFlight {
  readonly #pool: TaskPool;
  readonly #onAgain: (key: string) => void;
  /** Keys with a task queued or running; true when another turn was asked for meanwhile. */
  readonly #busy = new Map<string, boolean>();

  constructor(pool: TaskPool, onAgain: (key: string) => void) {
    this.#pool = pool;
    this.#onAgain = onAgain;
  }

  /** Whether a task of `key` is queued or running. */
  busy(key: string): boolean {
    return this.#busy.has(key);
  }

  /** Asks for `onAgain(key)` once the running task of `key` ends; false when none runs. */
  again(key: string): boolean {
    if (!this.#busy.has(key)) return false;
    this.#busy.set(key, true);
    return true;
  }

  /** Runs `task` for `key` in the pool; false (and nothing runs) when `key` is busy. */
  run(key: string, task: () => Promise<void>): boolean {
    if (this.#busy.has(key)) return false;
    this.#busy.set(key, false);
    this.#pool.run(async () => {
      try {
        await task();
      } finally {
        const again = this.#busy.get(key);
        this.#busy.delete(key);
        if (again) this.#onAgain(key);
      }
    });
    return true;
  }
}
