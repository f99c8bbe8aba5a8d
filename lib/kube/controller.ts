import type { WorkQueue } from "./work_queue.ts";

/** What a reconcile may ask for after a success. */
export interface ReconcileResult {
  /** Reconcile this key again after this many ms (level-triggered periodic work). */
  requeueAfter?: number;
  /** Reconcile again through the rate limiter, without treating it as an error. */
  requeue?: boolean;
}

/**
 * An error that retrying cannot fix (e.g. an invalid spec). The runner records it but does not
 * requeue the key; the next change of the object triggers a new reconcile.
 */
export class TerminalError extends Error {
  /** Creates a terminal error; `cause` may carry the underlying error. */
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = "TerminalError";
  }
}

/** Metrics callbacks of a controller. */
export interface ControllerHooks {
  /** After every reconcile; `result` is "success", "requeue", "requeue_after", "error" or "terminal". */
  onReconcile?(controller: string, result: string, seconds: number): void;
  /** Workers busy right now. */
  onActiveWorkers?(controller: string, active: number): void;
}

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Options of {@linkcode Controller}. */
export interface ControllerOptions<K> {
  /** Name for logs and metrics. */
  name: string;
  /** The queue event handlers add keys to. */
  queue: WorkQueue<K>;
  /**
   * Level-triggered reconcile of one key; throw to retry with backoff. A reconcile that needs no
   * I/O may return its result directly: its duration is then its own run time, not also the
   * other workers' work that runs before an `await` would resume.
   */
  reconcile(key: K, signal: AbortSignal): MaybePromise<ReconcileResult | void>;
  /** Concurrent workers. Default 1. The queue guarantees one worker per key. */
  workers?: number;
  /** Called with every failed reconcile; default logs to stderr. */
  onError?(key: K, error: unknown, retries: number): void;
  /** Metrics callbacks. */
  hooks?: ControllerHooks;
  /** Clock for reconcile durations (ms). Default `performance.now`. */
  now?: () => number;
}

/**
 * Runs reconcile workers over a work queue (controller-runtime's controller): a success forgets
 * the key's backoff and honours `requeueAfter`; a throw re-adds the key through the rate limiter.
 */
export class Controller<K = string> {
  /** Name for logs and metrics. */
  readonly name: string;
  readonly #opts: ControllerOptions<K>;
  #active = 0;

  /** Creates a controller; throws when fewer than one worker is asked for. */
  constructor(opts: ControllerOptions<K>) {
    if ((opts.workers ?? 1) < 1) {
      throw new Error(`Cannot create controller "${opts.name}": workers must be at least 1`);
    }
    this.name = opts.name;
    this.#opts = opts;
  }

  /**
   * Runs the workers until `signal` aborts, then shuts the queue down and resolves once every
   * in-flight reconcile has returned.
   */
  async run(signal: AbortSignal): Promise<void> {
    const queue = this.#opts.queue;
    const stop = () => queue.shutDown();
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    const workers = Array.from({ length: this.#opts.workers ?? 1 }, () => this.#worker(signal));
    try {
      await Promise.all(workers);
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }

  async #worker(signal: AbortSignal): Promise<void> {
    const { queue, hooks } = this.#opts;
    while (true) {
      const key = await queue.get();
      if (key === undefined) return;
      this.#active++;
      hooks?.onActiveWorkers?.(this.name, this.#active);
      const now = this.#opts.now ?? (() => performance.now());
      const started = now();
      let ended: number | undefined;
      let outcome = "success";
      try {
        const pending = this.#opts.reconcile(key, signal);
        let result: ReconcileResult | void;
        if (pending instanceof Promise) {
          result = await pending;
        } else {
          ended = now();
          result = pending;
        }
        if (result?.requeue) {
          outcome = "requeue";
          queue.addRateLimited(key);
        } else {
          queue.forget(key);
          if (result?.requeueAfter !== undefined && result.requeueAfter >= 0) {
            outcome = "requeue_after";
            queue.addAfter(key, result.requeueAfter);
          }
        }
      } catch (e) {
        if (!signal.aborted) {
          const retries = queue.numRequeues(key);
          this.#report(key, e, retries);
          if (e instanceof TerminalError) {
            outcome = "terminal";
            queue.forget(key);
          } else {
            outcome = "error";
            queue.addRateLimited(key);
          }
        }
      } finally {
        queue.done(key);
        this.#active--;
        hooks?.onActiveWorkers?.(this.name, this.#active);
        const seconds = ((ended ?? now()) - started) / 1000;
        hooks?.onReconcile?.(this.name, outcome, seconds);
      }
    }
  }

  #report(key: K, e: unknown, retries: number): void {
    if (this.#opts.onError) {
      try {
        this.#opts.onError(key, e, retries);
      } catch {
        // A failing error reporter must not kill the worker.
      }
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    console.error(
      `Reconcile of ${this.name} "${String(key)}" failed (retry ${retries}): ${message}`,
    );
  }
}
