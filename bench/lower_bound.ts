/**
 * The fastest a warm-up could possibly finish under a PullPolicy, given how long each pull takes
 * on the simulated cluster. Time-to-warm is reported as a ratio to this bound.
 *
 * @module
 */
import { MinHeap } from "../lib/kube/_min_heap.ts";

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

/** One pull of the warm-up with the image it belongs to, for {@linkcode policySchedule}. */
export interface ImagePull extends PullTime {
  image: string;
}

/** The outcome of {@linkcode policySchedule}. */
export interface PolicySchedule {
  /** When the last pull ends, from the first start (ms). */
  end_ms: number;
  /** Time with every slot taken while pulls were still waiting (ms). */
  capacity_wait_ms: number;
}

/**
 * The warm-up as the documented pacing rules run it with no overhead at all: images in the order
 * they first appear in `pulls` (the caller lists them by priority, then name), each image's nodes
 * in list order, every pull started at the first instant the rules allow (a free slot under
 * `maxConcurrent`, `minDelay` since the last start, the node not pulling anything else), skipping
 * to later images or nodes when the next one in order is busy. An operator that follows the rules
 * can at best match this; its end is never below `pacingLowerBound`, and above it when the
 * constraints take turns binding (a run of large images fills every slot, then small ones leave
 * slots empty while the min delay holds them back), which no order-free bound sees.
 *
 * Cost: O(P × I × B + P log P) for P pulls, I images and B pulls in flight (at most
 * `maxConcurrent`); in practice the first image in line has a free node and a start is O(B).
 */
export function policySchedule(
  pulls: readonly ImagePull[],
  limits: PacingLimits,
): PolicySchedule {
  const queues = new Map<string, ImagePull[]>();
  for (const p of pulls) {
    let q = queues.get(p.image);
    if (!q) queues.set(p.image, q = []);
    q.push(p);
  }
  // Per image: its pulls in order, which are started, and the first index not started yet.
  const images = [...queues.values()].map((list) => ({
    list,
    started: new Uint8Array(list.length),
    front: 0,
  }));
  const busy = new Set<string>();
  const ends = new MinHeap<string>();
  let remaining = pulls.length;
  let t = 0;
  let lastStart = -Infinity;
  let end = 0;
  let capacityWait = 0;
  const pick = (): ImagePull | undefined => {
    for (const img of images) {
      while (img.front < img.list.length && img.started[img.front]) img.front++;
      // Past the front, only started pulls and busy nodes are skipped: at most B of each.
      for (let i = img.front; i < img.list.length; i++) {
        if (img.started[i] || busy.has(img.list[i].node)) continue;
        img.started[i] = 1;
        return img.list[i];
      }
    }
    return undefined;
  };
  while (remaining > 0) {
    while (ends.size > 0 && ends.peek()!.at <= t) busy.delete(ends.pop()!.value);
    // Compared as sums: `t - lastStart` can round below the delay that `t` was advanced by.
    const delayOk = t >= lastStart + limits.minDelayMs;
    if (ends.size < limits.maxConcurrent && delayOk) {
      const p = pick();
      if (p) {
        busy.add(p.node);
        ends.push(t + p.ms, p.node);
        end = Math.max(end, t + p.ms);
        lastStart = t;
        remaining--;
        continue;
      }
    }
    // Nothing may start now: move to the next instant something changes.
    const next = Math.min(
      ends.size > 0 ? ends.peek()!.at : Infinity,
      delayOk ? Infinity : lastStart + limits.minDelayMs,
    );
    if (!Number.isFinite(next)) {
      throw new Error("Cannot schedule the remaining pulls: no event left");
    }
    if (ends.size >= limits.maxConcurrent) capacityWait += next - t;
    t = next;
  }
  return { end_ms: end, capacity_wait_ms: capacityWait };
}
