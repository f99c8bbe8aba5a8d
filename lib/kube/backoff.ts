/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** First delay. Default 800 ms (client-go's reflector). */
  initialMs?: number;
  /** Largest delay. Default 30 s. */
  maxMs?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /** Random spread: a delay d becomes d * (1 + jitter * random). Default 1.0, as the reflector. */
  jitter?: number;
  /** Healthy time after which the delay starts over from `initialMs`. Default 2 min. */
  resetAfterMs?: number;
  /** Clock and random source, injectable for tests. */
  now?: () => number;
  /** Random source in [0, 1), injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter that resets after a sustained healthy period, like client-go's
 * reflector backoff manager (0.8 s -> 30 s, reset after 2 min).
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfter: number;
  readonly #now: () => number;
  readonly #random: () => number;
  #current = 0;
  #lastFailure = Number.NEGATIVE_INFINITY;

  /** Creates a backoff; all options have client-go's reflector defaults. */
  constructor(opts: BackoffOptions = {}) {
    this.#initial = opts.initialMs ?? 800;
    this.#max = opts.maxMs ?? 30_000;
    this.#factor = opts.factor ?? 2;
    this.#jitter = opts.jitter ?? 1;
    this.#resetAfter = opts.resetAfterMs ?? 120_000;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    const now = this.#now();
    if (this.#current === 0 || now - this.#lastFailure > this.#resetAfter) {
      this.#current = this.#initial;
    } else {
      this.#current = Math.min(this.#current * this.#factor, this.#max);
    }
    this.#lastFailure = now;
    return Math.min(this.#current * (1 + this.#jitter * this.#random()), this.#max);
  }

  /** Starts over from the initial delay. */
  reset(): void {
    this.#current = 0;
  }
}
