/**
 * Scenario 1 (and the warm-up half of 3 and 4): N nodes × M images under one PullPolicy, from
 * the creation of the CachedImages until every one is Ready. Reports the time against the pacing
 * lower bound, the operator's requests per completed pull, its reconcile latency, RSS and CPU,
 * and optionally a steady-state window after everything is Ready.
 *
 * @module
 */
import {
  type ApiLoad,
  apiLoad,
  type QueueWait,
  queueWait,
  type ReconcileFigures,
  reconcileFigures,
  type RequestLatency,
  requestLatency,
  serverDelta,
} from "../measure.ts";
import {
  type BenchCluster,
  createImages,
  createPolicy,
  ImageWatcher,
  nodeNames,
  OPERATOR_USER,
  PodWatcher,
  startBenchCluster,
  startBenchOperator,
} from "../harness.ts";
import { imageName, imageReference, type ScenarioShape } from "../fixtures.ts";
import {
  type ImagePull,
  type LowerBound,
  overheadPerPullMs,
  pacingLowerBound,
  type PolicySchedule,
  policySchedule,
  type PullTime,
  simulatedPullMs,
} from "../lower_bound.ts";
import { type LoopLag, LoopLagMonitor } from "../loop_lag.ts";
import { type FootprintSummary, ProcessSampler } from "../process_sampler.ts";
import { type KubeletPull, type PullCycle, pullCycle } from "../pull_cycle.ts";
import { type SlotUse, slotUse } from "../slot_use.ts";
import { percentile, round } from "../stats.ts";
import { DEFAULT_BANDWIDTH } from "../../lib/sim/mod.ts";
import { measureSteadyState, type SteadyStateResult } from "./steady_state.ts";

/**
 * Manifest round trip of every pull in the simulated kubelet, in simulated ms
 * (`ROUND_TRIP_MS` of lib/sim/image_puller.ts, which does not export it). The recorded pull
 * durations are reported beside the model, so a change there shows up as a mismatch.
 */
export const SIM_ROUND_TRIP_MS = 50;

/** Parameters of one warm-up. */
export interface WarmupParams extends ScenarioShape {
  /** Give up after this long (wall seconds); the result then says it timed out. */
  timeoutS: number;
  /** Seconds of steady state to measure after everything is Ready (0: none). */
  steadyS?: number;
  workers?: number;
  /** Simulated kubelets record Normal pod Events (default true; see `BenchClusterOptions`). */
  kubeletEvents?: boolean;
}

/** The outcome of one warm-up. */
export interface WarmupResult {
  params: WarmupParams;
  completed: boolean;
  ready_images: number;
  /** From the first CachedImage create to the last one seen Ready. */
  time_to_warm_s: number;
  /** From the first CachedImage create to the end of the last pull (kubelet records). */
  last_pull_end_s: number;
  /** Order-free lower bound: no schedule under the policy's limits ends sooner. */
  lower_bound: LowerBound;
  /**
   * The documented rules (priority then name, concurrency, min delay, one pull per node) run
   * with no overhead: the best an operator that follows them can do. At least `lower_bound`.
   */
  policy_schedule: PolicySchedule;
  /** Time to warm over `policy_schedule.end_ms`: the operator's own overhead. */
  ratio_to_policy: number;
  /** Bound from the recorded pull durations instead of the model. */
  lower_bound_recorded_ms: number;
  /** Largest relative difference between a recorded pull duration and the model. */
  model_vs_recorded_max_rel: number;
  ratio_to_bound: number;
  /** Time lost per pull beyond the bound (see `overheadPerPullMs`), wall ms. */
  overhead_ms_per_pull: number;
  pulls_completed: number;
  api: ApiLoad;
  requests_per_pull: number;
  /** Everything the API server counted during the warm-up, by `verb/resource` (all users). */
  server_requests: Record<string, number>;
  /** Requests by user during the warm-up. */
  server_requests_by_user: Record<string, number>;
  reconcile: Record<string, ReconcileFigures>;
  /** Time keys waited in each work queue (a woken image waiting for a worker). */
  queue_wait: Record<string, QueueWait>;
  /** The operator's own request latency by `verb/resource` (how much of a reconcile is I/O). */
  request_latency: Record<string, RequestLatency>;
  /** How the pull starts were spaced (kubelet records): where time beyond the bound went. */
  starts: StartSpacing;
  /** Where a pull slot's time went between pulls (the benchmark's Pod watch and kubelet records). */
  cycle: PullCycle;
  /** Slot time left idle: ramp-up, body and tail, by pull time, and the worst windows. */
  slot_use: SlotUse;
  footprint: FootprintSummary;
  /**
   * The benchmark's own process (simulated API server, kubelets and watchers on one thread) over
   * the warm-up: its CPU and how late its event loop ran. High lag means the run measured the
   * simulator's limits as much as the operator.
   */
  simulator: { cpu_cores: number; rss_mib_max: number; loop_lag: LoopLag };
  operator_synced_s: number;
  steady_state?: SteadyStateResult;
}

/** The pulls the warm-up needs and their modelled wall durations. */
export function modelPulls(cluster: BenchCluster, images: number): ImagePull[] {
  const { catalogue } = cluster.sim.registry;
  const bandwidth = cluster.opts.bandwidth ?? DEFAULT_BANDWIDTH;
  const perImage: number[] = [];
  for (let i = 0; i < images; i++) {
    const r = catalogue.resolve(imageReference(i));
    if (!r.ok) throw new Error(`Cannot model the pull of ${imageReference(i)}: ${r.failure}`);
    perImage.push(simulatedPullMs({
      sizeBytes: r.manifest.size,
      bandwidth,
      hostLatencyMs: r.latencyMs,
      roundTripMs: SIM_ROUND_TRIP_MS,
      timeScale: cluster.opts.timeScale,
    }));
  }
  // In the order the rules serve them: images by name (all share priority 0), then nodes (all
  // joined together; by name).
  const out: ImagePull[] = [];
  const nodes = nodeNames(cluster);
  perImage.forEach((ms, i) => {
    for (const node of nodes) out.push({ image: imageName(i), node, ms });
  });
  return out;
}

/** Runs one warm-up on a fresh cluster and operator. */
export async function runWarmup(
  p: WarmupParams,
  log: (msg: string) => void,
): Promise<WarmupResult> {
  log(`warm-up ${p.nodes} nodes x ${p.images} images: starting the cluster`);
  const cluster = await startBenchCluster({
    nodes: p.nodes,
    timeScale: p.timeScale,
    kubeletEvents: p.kubeletEvents,
  });
  const op = await startBenchOperator(cluster, { workers: p.workers, denoFlags: p.operatorFlags });
  try {
    const synced = await op.waitSynced();
    const watcher = new ImageWatcher(cluster);
    await watcher.start();
    const podWatcher = new PodWatcher(cluster, { trace: true });
    await podWatcher.start();
    const modelled = modelPulls(cluster, p.images);
    const limits = { maxConcurrent: p.maxConcurrentNodes, minDelayMs: p.minDelayMs };
    const bound = pacingLowerBound(modelled, limits);
    const ideal = policySchedule(modelled, limits);
    log(
      `warm-up: operator synced in ${synced.toFixed(2)} s; lower bound ${
        (bound.bound_ms / 1000).toFixed(1)
      } s (${bound.binding}); the rules with no overhead ${(ideal.end_ms / 1000).toFixed(1)} s`,
    );

    const metricsBefore = await op.scrape();
    const serverBefore = cluster.sim.counters.snapshot();
    const pullsBefore = cluster.sim.kubelets.stats().pulls;
    const windowStart = op.sampler.now();
    const self = new ProcessSampler(Deno.pid, 1000).start();
    const lag = new LoopLagMonitor().start();
    const wallStart = Date.now();
    await createPolicy(cluster, p.maxConcurrentNodes, p.minDelayMs);
    const t0 = performance.now();
    const t0Wall = Date.now();
    await createImages(cluster, 0, p.images);
    const names = Array.from({ length: p.images }, (_, i) => imageName(i));
    const deadline = t0 + p.timeoutS * 1000;
    let lastLog = t0;
    while (watcher.readyCount(names) < p.images && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      op.assertRunning();
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(
          `warm-up: ${watcher.readyCount(names)}/${p.images} images Ready, ${
            cluster.sim.kubelets.stats().pulls - pullsBefore
          } pulls after ${((lastLog - t0) / 1000).toFixed(0)} s`,
        );
      }
    }
    const completed = watcher.readyCount(names) === p.images;
    const readyTimes = names.map((n) => watcher.images.get(n)?.readyAt ?? Number.NaN);
    const end = completed ? Math.max(...readyTimes) : performance.now();
    op.sampler.sample();
    const footprint = op.sampler.summary(windowStart);
    const loopLag = lag.stop();
    self.stop();
    const own = self.summary();
    const simulator = {
      cpu_cores: round(own.cpu_cores, 2),
      rss_mib_max: round(own.rss_mib_max, 0),
      loop_lag: loopLag,
    };
    const metricsAfter = await op.scrape();
    const serverAfter = cluster.sim.counters.snapshot();
    const pulls = cluster.sim.kubelets.stats().pulls - pullsBefore;

    const recorded = recordedPulls(cluster, wallStart);
    const recordedBound = pacingLowerBound(recorded.pulls, {
      maxConcurrent: p.maxConcurrentNodes,
      minDelayMs: p.minDelayMs,
    });
    const api = apiLoad(metricsBefore, metricsAfter, serverBefore, serverAfter, OPERATOR_USER);
    const byUser: Record<string, number> = {};
    for (const [u, n] of Object.entries(serverAfter.byUser)) {
      const d = n - (serverBefore.byUser[u] ?? 0);
      if (d) byUser[u] = d;
    }
    const timeToWarm = (end - t0) / 1000;
    const result: WarmupResult = {
      params: p,
      completed,
      ready_images: watcher.readyCount(names),
      time_to_warm_s: round(timeToWarm),
      last_pull_end_s: round((recorded.lastEndWallMs - t0Wall) / 1000),
      lower_bound: bound,
      lower_bound_recorded_ms: round(recordedBound.bound_ms),
      model_vs_recorded_max_rel: round(modelDeviation(cluster, p.images, recorded.byRef), 4),
      ratio_to_bound: round(timeToWarm / (bound.bound_ms / 1000), 4),
      policy_schedule: {
        end_ms: round(ideal.end_ms, 1),
        capacity_wait_ms: round(ideal.capacity_wait_ms, 1),
      },
      ratio_to_policy: round(timeToWarm / (ideal.end_ms / 1000), 4),
      overhead_ms_per_pull: round(
        overheadPerPullMs(
          bound,
          { maxConcurrent: p.maxConcurrentNodes, minDelayMs: p.minDelayMs },
          timeToWarm * 1000,
          p.images,
        ),
        1,
      ),
      pulls_completed: pulls,
      api,
      requests_per_pull: round(api.total / Math.max(1, pulls), 3),
      server_requests: serverDelta(serverBefore, serverAfter),
      server_requests_by_user: byUser,
      reconcile: reconcileFigures(metricsBefore, metricsAfter),
      request_latency: requestLatency(metricsBefore, metricsAfter),
      queue_wait: queueWait(metricsBefore, metricsAfter),
      starts: startSpacing(recorded.starts, t0Wall, recorded.lastEndWallMs),
      cycle: pullCycle([...podWatcher.times.values()], recorded.records, p.maxConcurrentNodes),
      slot_use: slotUse(recorded.records, p.maxConcurrentNodes),
      footprint,
      simulator,
      operator_synced_s: round(synced),
    };
    if (completed && p.steadyS) {
      log(`warm-up: all Ready in ${timeToWarm.toFixed(1)} s; steady state for ${p.steadyS} s`);
      result.steady_state = await measureSteadyState(cluster, op, p.steadyS);
    }
    await watcher.stop();
    await podWatcher.stop();
    return result;
  } finally {
    const stopping = performance.now();
    await op.stop();
    const opStopped = performance.now();
    await cluster.stop();
    log(
      `warm-up: stopped the operator in ${
        ((opStopped - stopping) / 1000).toFixed(1)
      } s, the cluster in ${((performance.now() - opStopped) / 1000).toFixed(1)} s`,
    );
  }
}

interface Recorded {
  pulls: PullTime[];
  byRef: Map<string, number[]>;
  /** Wall start time of every pull, unsorted. */
  starts: number[];
  records: KubeletPull[];
  lastEndWallMs: number;
}

/** Spacing of pull starts over a warm-up. */
export interface StartSpacing {
  /** From the first CachedImage create to the first pull start (ms). */
  first_start_ms: number;
  /** Gaps between consecutive starts (ms), all nodes together. */
  gap_p50_ms: number;
  gap_p90_ms: number;
  gap_p99_ms: number;
  gap_max_ms: number;
  gap_mean_ms: number;
  /** From the last start to the last pull end (ms). */
  tail_ms: number;
}

/** Summarises pull start times (wall ms) against the warm-up's start and last pull end. */
export function startSpacing(starts: readonly number[], t0: number, lastEnd: number): StartSpacing {
  const sorted = [...starts].sort((a, b) => a - b);
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) gaps.push(sorted[i] - sorted[i - 1]);
  const last = sorted.at(-1) ?? Number.NaN;
  return {
    first_start_ms: round((sorted[0] ?? Number.NaN) - t0, 1),
    gap_p50_ms: round(gaps.length ? percentile(gaps, 50) : Number.NaN, 1),
    gap_p90_ms: round(gaps.length ? percentile(gaps, 90) : Number.NaN, 1),
    gap_p99_ms: round(gaps.length ? percentile(gaps, 99) : Number.NaN, 1),
    gap_max_ms: round(gaps.length ? Math.max(...gaps) : Number.NaN, 1),
    gap_mean_ms: round(gaps.length ? (last - sorted[0]) / gaps.length : Number.NaN, 1),
    tail_ms: round(lastEnd - last, 1),
  };
}

/** Successful pulls the kubelets recorded since `sinceWallMs` (wall ms durations). */
function recordedPulls(cluster: BenchCluster, sinceWallMs: number): Recorded {
  const pulls: PullTime[] = [];
  const byRef = new Map<string, number[]>();
  const starts: number[] = [];
  const records: KubeletPull[] = [];
  let lastEnd = Number.NaN;
  for (const node of nodeNames(cluster)) {
    for (const r of cluster.sim.kubelets.pullHistory(node)) {
      if (r.result !== "pulled" || r.startedAt < sinceWallMs) continue;
      const ms = r.finishedAt - r.startedAt;
      pulls.push({ node, ms });
      starts.push(r.startedAt);
      records.push({ node, ref: r.ref, startedAt: r.startedAt, finishedAt: r.finishedAt });
      let list = byRef.get(r.ref);
      if (!list) byRef.set(r.ref, list = []);
      list.push(ms);
      if (!(r.finishedAt <= lastEnd)) lastEnd = r.finishedAt;
    }
  }
  return { pulls, byRef, starts, records, lastEndWallMs: lastEnd };
}

/** Largest relative gap between the model's pull time and a recorded median, per image. */
function modelDeviation(
  cluster: BenchCluster,
  images: number,
  byRef: Map<string, number[]>,
): number {
  // modelPulls lists the images of the first node first, in index order.
  const perImage = modelPulls(cluster, images).slice(0, images).map((m) => m.ms);
  let worst = 0;
  for (let i = 0; i < images; i++) {
    const rec = byRef.get(imageReference(i));
    if (!rec?.length) continue;
    const sorted = [...rec].sort((a, b) => a - b);
    const med = sorted[Math.floor(sorted.length / 2)];
    worst = Math.max(worst, Math.abs(med - perImage[i]) / perImage[i]);
  }
  return worst;
}
