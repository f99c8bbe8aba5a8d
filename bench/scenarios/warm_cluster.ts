/**
 * Scenarios 2 and 3b on a warm cluster: N nodes whose M images are all cached (seeded, see
 * `seedWarmImages`), the operator started on it. First a steady-state window (requests beyond
 * watch and Lease renewals are waste), then rounds of new nodes joining: time from Node creation
 * to its first pull Pod and to holding every image.
 *
 * @module
 */
import {
  type BenchCluster,
  createPolicy,
  ImageWatcher,
  PodWatcher,
  seedWarmImages,
  startBenchCluster,
  startBenchOperator,
  waitQuiescent,
} from "../harness.ts";
import { imageReference, type ScenarioShape } from "../fixtures.ts";
import { simulatedPullMs } from "../lower_bound.ts";
import { type LatencySummary, latencySummary, round } from "../stats.ts";
import { DEFAULT_BANDWIDTH } from "../../lib/sim/mod.ts";
import { SIM_ROUND_TRIP_MS } from "./warmup.ts";
import { measureSteadyState, type SteadyStateResult } from "./steady_state.ts";

/** Parameters of a warm-cluster run. */
export interface WarmClusterParams extends ScenarioShape {
  /** Seconds of steady state in total (0: none). */
  steadyS: number;
  /** Consecutive windows the steady state is split into, for a median and a spread. */
  steadyWindows: number;
  /** Rounds of joining nodes (0: none). */
  joinRounds: number;
  /** Nodes joining at once per round. */
  joinNodes: number;
  /** Give up on a round after this long (wall seconds). */
  joinTimeoutS: number;
}

/** One joining node. */
export interface JoinedNode {
  node: string;
  round: number;
  /** Node creation to the first pull Pod the observer saw (s). */
  first_pod_s: number;
  /**
   * Node creation to its simulated kubelet's Ready status being stored (s): until then it is no
   * target. `first_pod_s` minus this is the operator's part.
   */
  ready_s: number;
  /** Node creation to every image listing the node as cached (s). */
  warm_s: number;
  /** The node's serial pull time of every image: its own lower bound (s). */
  warm_bound_s: number;
  /**
   * Mean idle time of the node's puller between the end of one pull and the start of the next
   * (ms, from the kubelet's records): the round trip through the operator per image.
   */
  gap_between_pulls_ms: number;
  /** Node creation to the start of its first pull (ms). */
  first_pull_start_ms: number;
}

/** What a warm-cluster run shows. */
export interface WarmClusterResult {
  params: WarmClusterParams;
  operator_synced_s: number;
  /** Consecutive steady-state windows. */
  steady_state: SteadyStateResult[];
  joins: JoinedNode[];
  first_pod_s: LatencySummary;
  /** Ready to the first pull Pod: the operator's reaction to a new target node (s). */
  ready_to_first_pod_s: LatencySummary;
  warm_s: LatencySummary;
  /** warm_s / warm_bound_s per node, summarised. */
  warm_ratio_to_bound: LatencySummary;
  /** Joining nodes not warm before the round's timeout. */
  incomplete: number;
}

/** Runs the steady-state window and the join rounds on one warm cluster. */
export async function runWarmCluster(
  p: WarmClusterParams,
  log: (msg: string) => void,
): Promise<WarmClusterResult> {
  log(`warm cluster ${p.nodes} nodes x ${p.images} images: starting the cluster`);
  const cluster = await startBenchCluster({ nodes: p.nodes, timeScale: p.timeScale });
  // Policy and warm images exist before the operator starts, so it never sees a cold image.
  await createPolicy(cluster, p.maxConcurrentNodes, p.minDelayMs);
  await seedWarmImages(cluster, p.images);
  const op = await startBenchOperator(cluster, { denoFlags: p.operatorFlags });
  const images = new ImageWatcher(cluster);
  const pods = new PodWatcher(cluster);
  try {
    const synced = await op.waitSynced();
    await images.start();
    await pods.start();
    await waitQuiescent(op);
    log(`warm cluster: operator synced in ${synced.toFixed(2)} s and quiet`);
    const result: WarmClusterResult = {
      params: p,
      operator_synced_s: round(synced),
      steady_state: [],
      joins: [],
      first_pod_s: latencySummary([]),
      ready_to_first_pod_s: latencySummary([]),
      warm_s: latencySummary([]),
      warm_ratio_to_bound: latencySummary([]),
      incomplete: 0,
    };
    if (p.steadyS > 0) {
      const windows = Math.max(1, p.steadyWindows);
      log(`warm cluster: steady state for ${p.steadyS} s in ${windows} windows`);
      for (let w = 0; w < windows; w++) {
        result.steady_state.push(await measureSteadyState(cluster, op, p.steadyS / windows));
      }
    }
    const perNodeBound = warmBoundS(cluster, p.images);
    let next = p.nodes + 1;
    for (let joinRound = 1; joinRound <= p.joinRounds; joinRound++) {
      const names = Array.from({ length: p.joinNodes }, () => `sim-node-${next++}`);
      for (const n of names) images.track(n);
      const createdAt = new Map<string, number>();
      // The kubelets record pulls in wall-clock ms.
      const createdWall = new Map<string, number>();
      const readyAt = new Map<string, number>();
      await Promise.all(names.map(async (n) => {
        createdAt.set(n, performance.now());
        createdWall.set(n, Date.now());
        await cluster.sim.nodes.add(n);
        readyAt.set(n, performance.now());
      }));
      const deadline = performance.now() + p.joinTimeoutS * 1000;
      const warm = (n: string) => (images.nodeCachedAt.get(n)?.size ?? 0) >= p.images;
      while (!names.every(warm) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const n of names) {
        const firstPod = pods.firstPodAt.get(n);
        const cachedAt = images.nodeCachedAt.get(n);
        const isWarm = warm(n);
        if (!isWarm) result.incomplete++;
        const created = createdAt.get(n)!;
        const history = cluster.sim.kubelets.pullHistory(n).filter((r) => r.result === "pulled");
        let gaps = 0;
        for (let i = 1; i < history.length; i++) {
          gaps += history[i].startedAt - history[i - 1].finishedAt;
        }
        const warmS = isWarm ? (Math.max(...cachedAt!.values()) - created) / 1000 : Number.NaN;
        result.joins.push({
          node: n,
          round: joinRound,
          first_pod_s: round3(firstPod === undefined ? Number.NaN : (firstPod - created) / 1000),
          ready_s: round3((readyAt.get(n)! - created) / 1000),
          warm_s: round3(warmS),
          warm_bound_s: round3(perNodeBound),
          gap_between_pulls_ms: round(gaps / Math.max(1, history.length - 1), 1),
          first_pull_start_ms: round(
            history.length ? history[0].startedAt - (createdWall.get(n) ?? Number.NaN) : Number.NaN,
            1,
          ),
        });
      }
      const done = result.joins.filter((j) => j.round === joinRound);
      log(
        `warm cluster: join round ${joinRound}: first pod p99 ${
          latencySummary(done.map((j) => j.first_pod_s)).p99.toFixed(3)
        } s, warm p99 ${latencySummary(done.map((j) => j.warm_s)).p99.toFixed(1)} s (bound ${
          perNodeBound.toFixed(1)
        } s)`,
      );
    }
    result.first_pod_s = latencySummary(result.joins.map((j) => j.first_pod_s));
    result.ready_to_first_pod_s = latencySummary(
      result.joins.map((j) => j.first_pod_s - j.ready_s),
    );
    result.warm_s = latencySummary(result.joins.map((j) => j.warm_s));
    result.warm_ratio_to_bound = latencySummary(
      result.joins.map((j) => j.warm_s / j.warm_bound_s),
    );
    return result;
  } finally {
    await images.stop();
    await pods.stop();
    await op.stop();
    await cluster.stop();
  }
}

function round3(v: number): number {
  return round(v, 3);
}

/** A node's serial pull time of every image (s): no joining node can be warm sooner. */
function warmBoundS(cluster: BenchCluster, images: number): number {
  let ms = 0;
  for (let i = 0; i < images; i++) {
    const r = cluster.sim.registry.catalogue.resolve(imageReference(i));
    if (!r.ok) throw new Error(`Cannot model the pull of ${imageReference(i)}: ${r.failure}`);
    ms += simulatedPullMs({
      sizeBytes: r.manifest.size,
      bandwidth: cluster.opts.bandwidth ?? DEFAULT_BANDWIDTH,
      hostLatencyMs: r.latencyMs,
      roundTripMs: SIM_ROUND_TRIP_MS,
      timeScale: cluster.opts.timeScale,
    });
  }
  return ms / 1000;
}
