/**
 * How late this process's event loop runs: a timer asks to run every few milliseconds and the
 * delay beyond that is recorded. The simulated cluster (API server, kubelets, the benchmark's
 * watchers) shares one JavaScript thread, so every millisecond of lag is a millisecond a Pod
 * create, a status write or a watch event waits; the figure says when a run measured the
 * simulator rather than the operator.
 *
 * @module
 */
import { percentile, round } from "./stats.ts";

/** What the lag samples of a window say. */
export interface LoopLag {
  /** Timer ticks measured. */
  ticks: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Share of the window spent in ticks that came more than 10 ms late. */
  late_share: number;
  /** The longest stalls: when each late tick was due (ms since the window began) and its lag. */
  worst: { at_ms: number; lag_ms: number }[];
}

/**
 * Summarises lag samples (ms beyond the interval, one per tick) taken every `intervalMs`: a tick
 * late by L covers L + interval of wall time. `dueAt` (ms since the window began, per tick) dates
 * the worst ones.
 */
export function summarizeLag(
  lags: readonly number[],
  intervalMs: number,
  dueAt: readonly number[] = [],
): LoopLag {
  let late = 0;
  let total = 0;
  for (const lag of lags) {
    const span = intervalMs + Math.max(0, lag);
    total += span;
    if (lag > 10) late += span;
  }
  return {
    ticks: lags.length,
    p50_ms: round(percentile(lags, 50), 1),
    p99_ms: round(percentile(lags, 99), 1),
    max_ms: round(lags.length ? Math.max(...lags) : Number.NaN, 1),
    late_share: round(total > 0 ? late / total : Number.NaN, 4),
    worst: lags.map((lag, i) => ({
      at_ms: round(dueAt[i] ?? Number.NaN, 0),
      lag_ms: round(lag, 1),
    }))
      .sort((a, b) => b.lag_ms - a.lag_ms).slice(0, 5),
  };
}

/** Measures the event loop's lag on a repeating timer until stopped. */
export class LoopLagMonitor {
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lags: number[] = [];
  #dueAt: number[] = [];
  #start = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #due = 0;

  /** `intervalMs`: how often the timer asks to run (default 10 ms). */
  constructor(intervalMs = 10, now: () => number = () => performance.now()) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Starts measuring (again, from an empty window). */
  start(): this {
    this.stop();
    this.#lags = [];
    this.#dueAt = [];
    this.#start = this.#now();
    this.#arm();
    return this;
  }

  /** Stops the timer and returns the window's summary. */
  stop(): LoopLag {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    return summarizeLag(this.#lags, this.#intervalMs, this.#dueAt);
  }

  #arm(): void {
    this.#due = this.#now() + this.#intervalMs;
    this.#timer = setTimeout(() => {
      this.#lags.push(Math.max(0, this.#now() - this.#due));
      this.#dueAt.push(this.#due - this.#start);
      this.#arm();
    }, this.#intervalMs);
  }
}
