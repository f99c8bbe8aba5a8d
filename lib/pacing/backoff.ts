/**
 * Retry delays after failed pulls.
 *
 * @module
 */
import { parseDuration, type PullPolicySpec } from "../api/mod.ts";

/** Exponential backoff bounds, in ms. */
export interface BackoffBounds {
  /** Delay after the first failure. */
  initialMs: number;
  /** Largest delay. */
  maxMs: number;
}

/** Backoff without a PullPolicy, or with one that leaves `failureBackoff` unset: 30 s to 5 min. */
export const DEFAULT_BACKOFF: Readonly<BackoffBounds> = Object.freeze({
  initialMs: 30_000,
  maxMs: 300_000,
});

/** Default relative spread of a delay: plus or minus 20 %. */
export const BACKOFF_JITTER = 0.2;

/**
 * The delay before retrying after `failures` consecutive failures: `initialMs` doubled for each
 * failure after the first, capped at `maxMs`, then spread by up to plus or minus `jitter` (so
 * images and nodes that failed together do not retry together) and never above `maxMs`.
 * Returns 0 when there is no failure.
 *
 * @param random a source of numbers in [0, 1), injectable for tests.
 */
export function backoffDelay(
  failures: number,
  bounds: BackoffBounds,
  random: () => number = Math.random,
  jitter: number = BACKOFF_JITTER,
): number {
  if (!(failures >= 1)) return 0;
  // 2 ** n grows past any max long before it overflows to Infinity, and min() handles Infinity.
  const base = Math.min(bounds.initialMs * 2 ** (Math.floor(failures) - 1), bounds.maxMs);
  const spread = base * (1 + jitter * (2 * random() - 1));
  return Math.max(0, Math.min(Math.round(spread), bounds.maxMs));
}

/** The backoff bounds of a PullPolicy spec, or the defaults when there is none. */
export function backoffFromPolicy(
  spec?: Pick<PullPolicySpec, "failureBackoff">,
): BackoffBounds {
  const fb = spec?.failureBackoff;
  if (!fb) return { ...DEFAULT_BACKOFF };
  return { initialMs: parseDuration(fb.initial), maxMs: parseDuration(fb.max) };
}
