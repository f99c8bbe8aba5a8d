/**
 * Order statistics for benchmark figures: percentiles of samples and the median and spread of
 * repeated runs.
 *
 * @module
 */

/**
 * The `p`-th percentile (0-100) of `values` by linear interpolation between the closest ranks
 * (numpy's default), so that small samples such as ten joining nodes still give a p99 between
 * the two largest values rather than snapping to the maximum. NaN for an empty sample.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`Invalid percentile ${p}: expected 0-100`);
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Median and spread of one figure over repeated runs. */
export interface Spread {
  /** Number of finite values. */
  n: number;
  median: number;
  min: number;
  max: number;
  /**
   * (max - min) / median: how far apart the runs were, relative to the figure. 0 for a single
   * run; NaN when the median is 0.
   */
  relative_spread: number;
}

/** Summarises repeated measurements of one figure. */
export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) {
    return {
      n: 0,
      median: Number.NaN,
      min: Number.NaN,
      max: Number.NaN,
      relative_spread: Number.NaN,
    };
  }
  const m = median(finite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return {
    n: finite.length,
    median: m,
    min,
    max,
    relative_spread: m === 0 ? Number.NaN : (max - min) / m,
  };
}

/** p50, p99 and the maximum of a sample, the shape latency figures are reported in. */
export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** p50/p99/max of `values`. */
export function latencySummary(values: readonly number[]): LatencySummary {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    n: finite.length,
    p50: percentile(finite, 50),
    p99: percentile(finite, 99),
    max: finite.length ? Math.max(...finite) : Number.NaN,
  };
}

/** Rounds to `digits` decimals, keeping NaN (JSON writes it as null). */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
