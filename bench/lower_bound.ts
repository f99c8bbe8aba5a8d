/**
 * The fastest a warm-up could possibly finish under a PullPolicy, given how long each pull takes
 * on the simulated cluster. Time-to-warm is reported as a ratio to this bound.
 *
 * @module
 */

/** One pull the warm-up needs: an image on a node, and how long it takes (wall ms). */
export interface PullTime {
  node: string;
  ms: number;
}

/** The pacing limits of the policy the images share. */
export interface PacingLimits {
  /** `maxConcurrentNodes`: pulls in flight at once under the policy. */
  maxConcurrent: number;
  /** `minDelayBetweenPulls` in ms: least time between two pull starts under the policy. */
  minDelayMs: number;
}

/** Which constraint sets the bound. */
export type BindingConstraint = "concurrency" | "min_delay" | "node_serial" | "longest_pull";

/** The bound and each of the constraints it is the largest of, in wall ms. */
export interface LowerBound {
  bound_ms: number;
  binding: BindingConstraint;
  /** Total pull time spread over `maxConcurrent` slots. */
  concurrency_ms: number;
  /**
   * Starts at least `minDelay` apart, with the longest pulls first: `max_i(i × minDelay + d_i)`
   * over the pull times sorted in descending order (at least `(pulls - 1) × minDelay` plus the
   * shortest pull).
   */
  min_delay_ms: number;
  /** The node with the most pull time, pulling back to back (the kubelet pulls serially). */
  node_serial_ms: number;
  /** No warm-up ends before its longest single pull. */
  longest_pull_ms: number;
  pulls: number;
  total_pull_ms: number;
}

/**
 * Lower bound of the time from the first pull start to the last pull end. Each term is a valid
 * bound on its own (no schedule can beat any of them), so their maximum is one too:
 * - concurrency: at most `maxConcurrent` pulls run at once, so the work `Σ d` needs at least
 *   `Σ d / maxConcurrent`;
 * - min delay: the `i`-th start (from 0) comes at least `i × minDelay` after the first, so the
 *   end is at least `max_i(i × minDelay + d_σ(i))` for the order σ the pulls start in; the
 *   longest-first order minimises that maximum (swapping two adjacent pulls that are out of that
 *   order never raises it), so its value bounds every schedule;
 * - node serial: a node pulls one image at a time, so its pulls take at least their sum;
 * - longest pull: nothing finishes before its longest pull.
 * It ignores the interplay of the constraints (e.g. the ramp-up of the first `maxConcurrent`
 * starts under a min delay), so it is never above the true optimum; the ratio is then an upper
 * estimate of the operator's own overhead.
 */
export function pacingLowerBound(pulls: readonly PullTime[], limits: PacingLimits): LowerBound {
  if (!(Number.isInteger(limits.maxConcurrent) && limits.maxConcurrent >= 1)) {
    throw new RangeError(
      `Invalid maxConcurrent ${limits.maxConcurrent}: expected a positive integer`,
    );
  }
  if (!(limits.minDelayMs >= 0)) {
    throw new RangeError(`Invalid minDelayMs ${limits.minDelayMs}: expected a non-negative number`);
  }
  const empty = {
    bound_ms: 0,
    binding: "longest_pull" as const,
    concurrency_ms: 0,
    min_delay_ms: 0,
    node_serial_ms: 0,
    longest_pull_ms: 0,
    pulls: 0,
    total_pull_ms: 0,
  };
  if (pulls.length === 0) return empty;
  let total = 0;
  let longest = 0;
  const perNode = new Map<string, number>();
  for (const p of pulls) {
    if (!(p.ms >= 0)) throw new RangeError(`Invalid pull time ${p.ms} on node "${p.node}"`);
    total += p.ms;
    longest = Math.max(longest, p.ms);
    perNode.set(p.node, (perNode.get(p.node) ?? 0) + p.ms);
  }
  const terms: Record<BindingConstraint, number> = {
    concurrency: total / limits.maxConcurrent,
    min_delay: minDelayTerm(pulls, limits.minDelayMs),
    node_serial: Math.max(...perNode.values()),
    longest_pull: longest,
  };
  let binding: BindingConstraint = "longest_pull";
  for (const k of Object.keys(terms) as BindingConstraint[]) {
    if (terms[k] > terms[binding]) binding = k;
  }
  return {
    bound_ms: terms[binding],
    binding,
    concurrency_ms: terms.concurrency,
    min_delay_ms: terms.min_delay,
    node_serial_ms: terms.node_serial,
    longest_pull_ms: terms.longest_pull,
    pulls: pulls.length,
    total_pull_ms: total,
  };
}

/** `max_i(i × minDelay + d_i)` over the pull times sorted longest first. */
function minDelayTerm(pulls: readonly PullTime[], minDelayMs: number): number {
  const desc = pulls.map((p) => p.ms).sort((a, b) => b - a);
  let end = 0;
  for (let i = 0; i < desc.length; i++) end = Math.max(end, i * minDelayMs + desc[i]);
  return end;
}

/**
 * The simulated kubelet's pull time model (lib/sim/image_puller.ts): the registry host's latency
 * plus one manifest round trip, plus the image size over the node's bandwidth, all in simulated
 * milliseconds, then multiplied by the time scale into wall milliseconds. Layers already on the
 * node are not fetched again, which a fresh warm-up never meets.
 */
export interface PullModelInput {
  /** Compressed image size in bytes, as the simulated registry reports it. */
  sizeBytes: number;
  /** Node pull bandwidth in bytes per simulated second. */
  bandwidth: number;
  /** Simulated latency of the registry host (ms). */
  hostLatencyMs: number;
  /** Manifest round trip (simulated ms). */
  roundTripMs: number;
  /** Wall ms per simulated ms. */
  timeScale: number;
}

/** Wall milliseconds one pull takes in the simulated kubelet. */
export function simulatedPullMs(input: PullModelInput): number {
  const transferMs = (input.sizeBytes / Math.max(1, input.bandwidth)) * 1000;
  return (input.hostLatencyMs + input.roundTripMs + transferMs) * input.timeScale;
}

/**
 * The time lost per pull beyond the bound, in the unit of the binding constraint, so that a
 * ratio measured at one time scale can be read at another: under concurrency it is the extra
 * time each pull held its slot (`(T - bound) × maxConcurrent / pulls`), under the min delay the
 * extra spacing of each start (`(T - bound) / (pulls - 1)`), on the busiest node the gap between
 * two of its pulls, and for a single longest pull the whole excess. With real pull times of
 * seconds to minutes, a few tens of milliseconds per pull are a ratio close to 1.
 */
export function overheadPerPullMs(
  bound: LowerBound,
  limits: PacingLimits,
  timeMs: number,
  pullsOnBusiestNode = 1,
): number {
  const excess = timeMs - bound.bound_ms;
  switch (bound.binding) {
    case "concurrency":
      return (excess * limits.maxConcurrent) / Math.max(1, bound.pulls);
    case "min_delay":
      return excess / Math.max(1, bound.pulls - 1);
    case "node_serial":
      return excess / Math.max(1, pullsOnBusiestNode);
    case "longest_pull":
      return excess;
  }
}
