/** Decides how long an item waits before it is retried (client-go's RateLimiter). */
export interface RateLimiter<K> {
  /** Delay in ms before `item` may be processed again; counts as one more failure. */
  when(item: K): number;
  /** Clears the failure history of `item`. */
  forget(item: K): void;
  /** How many times `item` has been rate-limited since it was last forgotten. */
  numRequeues(item: K): number;
}

/** Per-item exponential backoff: base * 2^failures, capped (client-go: 5 ms -> 1000 s). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<K, number>();

  /** Creates a limiter from `baseMs` doubling up to `maxMs`. */
  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(item: K): number {
    const n = this.#failures.get(item) ?? 0;
    this.#failures.set(item, n + 1);
    // 2^n overflows to Infinity long before it matters; min() keeps it bounded.
    return Math.min(this.#baseMs * 2 ** n, this.#maxMs);
  }

  forget(item: K): void {
    this.#failures.delete(item);
  }

  numRequeues(item: K): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket (client-go: 10 qps, burst 100): each `when` reserves one token and
 * returns how long until that token is available.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /** Creates a full bucket of `burst` tokens refilled at `qps` per second. */
  constructor(qps = 10, burst = 100, now: () => number = () => performance.now()) {
    this.#qps = qps;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  when(_item: K): number {
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    // A negative balance is a reservation in the future, as golang.org/x/time/rate does.
    return (-this.#tokens / this.#qps) * 1000;
  }

  /** Takes a token if one is available now; never goes into debt. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  forget(_item: K): void {}

  numRequeues(_item: K): number {
    return 0;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
  }
}

/** Combines limiters: the longest delay wins; forget and counts go to all of them. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: RateLimiter<K>[];

  /** Combines the given limiters. */
  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(item: K): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: K): void {
    for (const l of this.#limiters) l.forget(item);
  }

  numRequeues(item: K): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter: max(per-item 5 ms -> 1000 s, bucket 10 qps / 100). */
export function defaultControllerRateLimiter<K>(): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ItemExponentialRateLimiter<K>(5, 1_000_000),
    new BucketRateLimiter<K>(10, 100),
  );
}
