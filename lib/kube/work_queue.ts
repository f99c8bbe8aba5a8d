import { MinHeap } from "./_min_heap.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate_limiter.ts";

/** Metrics callbacks of a work queue (injected; lib/kube has no metrics library). */
export interface WorkQueueHooks {
  /** A key entered the queue (not counted when it was already queued). */
  onAdd?(queue: string): void;
  /** Queue length after every change. */
  onDepth?(queue: string, depth: number): void;
  /** Seconds a key waited between being queued and handed to a worker. */
  onLatency?(queue: string, seconds: number): void;
  /** Seconds a worker held a key (get to done). */
  onWorkDuration?(queue: string, seconds: number): void;
  /** A key was re-added through the rate limiter. */
  onRetry?(queue: string): void;
}

/** Options of {@linkcode WorkQueue}. */
export interface WorkQueueOptions<K> {
  /** Name for metrics and logs. */
  name?: string;
  /** Limiter of `addRateLimited`; default client-go's controller limiter. */
  rateLimiter?: RateLimiter<K>;
  /** Metrics callbacks. */
  hooks?: WorkQueueHooks;
}

/**
 * A work queue with client-go semantics: a key is queued at most once however often it is added
 * (triggers collapse), a key being processed is never handed to a second worker (adding it marks
 * it dirty and it is re-queued on `done`), delayed adds keep the earliest time, and rate-limited
 * adds back off per key.
 */
export class WorkQueue<K = string> {
  /** Name for metrics and logs. */
  readonly name: string;
  readonly #limiter: RateLimiter<K>;
  readonly #hooks: WorkQueueHooks;
  #queue: K[] = [];
  #head = 0;
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  readonly #queuedAt = new Map<K, number>();
  readonly #startedAt = new Map<K, number>();
  readonly #waiters: ((key: K | undefined) => void)[] = [];
  // Delayed adds: the earliest due time per key; heap entries that disagree with it are stale.
  readonly #delayedAt = new Map<K, number>();
  readonly #delayHeap = new MinHeap<K>();
  #delayTimer?: ReturnType<typeof setTimeout>;
  #delayTimerAt = Number.POSITIVE_INFINITY;
  #shuttingDown = false;
  #draining = false;
  #drained?: () => void;

  /** Creates an empty queue. */
  constructor(opts: WorkQueueOptions<K> = {}) {
    this.name = opts.name ?? "queue";
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>();
    this.#hooks = opts.hooks ?? {};
  }

  /** Queues `key` unless it is already queued; a key being processed is queued again on `done`. */
  add(key: K): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#hooks.onAdd?.(this.name);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Queues `key` after `ms`; if it is already waiting, the earlier time wins. */
  addAfter(key: K, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = performance.now() + ms;
    const existing = this.#delayedAt.get(key);
    if (existing !== undefined && existing <= at) return;
    this.#delayedAt.set(key, at);
    this.#delayHeap.push(at, key);
    this.#armDelayTimer();
  }

  /** Queues `key` after the rate limiter's delay for it (one more failure). */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.#hooks.onRetry?.(this.name);
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Clears the rate limiter's failure history of `key` (call after a success). */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  /** How many rate-limited retries `key` had since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * Waits for the next key and marks it as processing; the caller must call `done(key)`.
   * Resolves `undefined` once the queue is shut down (after a drain: once it is empty).
   */
  get(): Promise<K | undefined> {
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    // While draining, a key in progress may still be re-queued, so idle workers keep waiting.
    if (this.#shuttingDown && (!this.#draining || this.#processing.size === 0)) {
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends processing of `key`; if it was added meanwhile it is queued again. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) {
      this.#hooks.onWorkDuration?.(this.name, (performance.now() - started) / 1000);
    }
    if (this.#dirty.has(key)) {
      if (!this.#shuttingDown || this.#draining) this.#push(key);
      else this.#dirty.delete(key);
    }
    this.#checkDrained();
  }

  /** Number of keys waiting to be handed out (not counting delayed or processing ones). */
  len(): number {
    return this.#queue.length - this.#head;
  }

  /** True once `shutDown` or `shutDownWithDrain` was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops at once: new adds are ignored, queued and delayed keys dropped, waiting `get`s get undefined. */
  shutDown(): void {
    this.#shuttingDown = true;
    this.#clearDelayed();
    for (const k of this.#queue.slice(this.#head)) {
      this.#dirty.delete(k);
      this.#queuedAt.delete(k);
    }
    this.#queue = [];
    this.#head = 0;
    this.#wakeAll();
    this.#checkDrained();
  }

  /**
   * Stops gracefully: new adds are ignored and delayed keys dropped, but keys already queued are
   * still handed out; resolves when the queue is empty and every key in progress is done.
   */
  shutDownWithDrain(): Promise<void> {
    this.#shuttingDown = true;
    this.#draining = true;
    this.#clearDelayed();
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
    });
    this.#checkDrained();
    return drained;
  }

  #push(key: K): void {
    this.#queue.push(key);
    this.#queuedAt.set(key, performance.now());
    this.#hooks.onDepth?.(this.name, this.len());
    const waiter = this.#waiters.shift();
    if (waiter) waiter(this.#take());
  }

  #take(): K | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const key = this.#queue[this.#head++];
    // Compact now and then so the array does not grow without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(key);
    this.#processing.add(key);
    const now = performance.now();
    const queued = this.#queuedAt.get(key);
    this.#queuedAt.delete(key);
    if (queued !== undefined) this.#hooks.onLatency?.(this.name, (now - queued) / 1000);
    this.#startedAt.set(key, now);
    this.#hooks.onDepth?.(this.name, this.len());
    return key;
  }

  #checkDrained(): void {
    if (!this.#shuttingDown) return;
    const idle = this.len() === 0 && this.#processing.size === 0;
    if (idle || (!this.#draining && this.len() === 0)) this.#wakeAll();
    if (this.#drained && idle) {
      const resolve = this.#drained;
      this.#drained = undefined;
      resolve();
    }
  }

  #wakeAll(): void {
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #armDelayTimer(): void {
    const top = this.#delayHeap.peek();
    if (!top) return;
    if (this.#delayTimer !== undefined && this.#delayTimerAt <= top.at) return;
    if (this.#delayTimer !== undefined) clearTimeout(this.#delayTimer);
    this.#delayTimerAt = top.at;
    this.#delayTimer = setTimeout(
      () => this.#fireDelayed(),
      Math.max(0, top.at - performance.now()),
    );
  }

  #fireDelayed(): void {
    this.#delayTimer = undefined;
    this.#delayTimerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    while (true) {
      const top = this.#delayHeap.peek();
      if (!top || top.at > now) break;
      this.#delayHeap.pop();
      if (this.#delayedAt.get(top.value) !== top.at) continue;
      this.#delayedAt.delete(top.value);
      this.add(top.value);
    }
    this.#armDelayTimer();
  }

  #clearDelayed(): void {
    if (this.#delayTimer !== undefined) clearTimeout(this.#delayTimer);
    this.#delayTimer = undefined;
    this.#delayTimerAt = Number.POSITIVE_INFINITY;
    this.#delayHeap.clear();
    this.#delayedAt.clear();
  }
}
