/**
 * A bounded pool of background API work: tasks run in the order they were handed over, at most
 * `limit` at once, and the caller never waits for them. Used for the requests a reconcile decides
 * on but need not wait for (pull Pod creates, status writes, deletions of finished Pods).
 *
 * @module
 */

/** Runs handed-over tasks in the background, a bounded number at once. */
export class TaskPool {
  readonly #limit: number;
  readonly #onError: (error: unknown) => void;
  readonly #queue: (() => Promise<void>)[] = [];
  #head = 0;
  #running = 0;
  #idle: (() => void)[] = [];

  /**
   * `limit`: tasks in flight at once (at least 1). `onError` receives what a task threw: tasks
   * are meant to handle their own errors, so this is a last resort that keeps the process up.
   */
  constructor(
    limit: number,
    onError: (error: unknown) => void = (e) => console.error("Background task failed:", e),
  ) {
    this.#limit = Math.max(1, limit);
    this.#onError = onError;
  }

  /** Queues a task. */
  run(task: () => Promise<void>): void {
    this.#queue.push(task);
    this.#pump();
  }

  /** Tasks queued or in flight. */
  get size(): number {
    return this.#queue.length - this.#head + this.#running;
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#limit && this.#head < this.#queue.length) {
      const task = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined!;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#running++;
      let done: Promise<void>;
      try {
        done = task();
      } catch (e) {
        done = Promise.reject(e);
      }
      done.catch(this.#onError).finally(() => {
        this.#running--;
        this.#pump();
        if (this.size === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
      });
    }
  }
}
