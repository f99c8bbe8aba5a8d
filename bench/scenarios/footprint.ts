/**
 * Scenarios 4 and 5 at scale (5,000 nodes × 200 CachedImages by default): time from process
 * start to caches synced, RSS and CPU at idle on a warm cluster, then RSS, CPU, reconcile
 * latency and requests per pull during a warm-up window of 200 fresh images.
 *
 * @module
 */
import { CACHED_IMAGE } from "../../lib/api/mod.ts";
import type { KubeObject } from "../../lib/kube/mod.ts";
import { imageName, type ScenarioShape } from "../fixtures.ts";
import {
  createImages,
  createPolicy,
  forEachLimited,
  OPERATOR_USER,
  seedWarmImages,
  startBenchCluster,
  startBenchOperator,
  waitQuiescent,
} from "../harness.ts";
import {
  type ApiLoad,
  apiLoad,
  type HeapFigures,
  heapFigures,
  type QueueWait,
  queueWait,
  type ReconcileFigures,
  reconcileFigures,
  type RequestLatency,
  requestLatency,
  worstP99,
} from "../measure.ts";
import type { FootprintSummary } from "../process_sampler.ts";
import { round, type Spread, spread } from "../stats.ts";
import { measureSteadyState, type SteadyStateResult } from "./steady_state.ts";

/** Parameters of the footprint scenario. */
export interface FootprintParams extends ScenarioShape {
  /** Operator starts on the warm cluster, each timed to caches synced. */
  startups: number;
  /** Seconds of idle measured after the last start-up. */
  idleS: number;
  /** Seconds of warm-up measured. */
  warmupS: number;
}

/** The warm-up window of the footprint scenario. */
export interface FootprintWarmup {
  window_s: number;
  pulls_completed: number;
  ready_images: number;
  footprint: FootprintSummary;
  /** The operator's V8 heap at the end of the window. */
  heap: HeapFigures;
  reconcile: Record<string, ReconcileFigures>;
  reconcile_p99_ms: number;
  /** Time keys waited in each work queue (a woken image waiting for a worker). */
  queue_wait: Record<string, QueueWait>;
  api: ApiLoad;
  requests_per_pull: number;
  request_latency: Record<string, RequestLatency>;
  operator_synced_s: number;
}

/** What the footprint scenario shows. */
export interface FootprintResult {
  params: FootprintParams;
  /** Spawn to "Caches synced" for each start on the warm cluster (s). */
  startup_synced_s: number[];
  startup_synced: Spread;
  /** RSS right after the caches synced (MiB), per start. */
  rss_mib_at_synced: number[];
  idle: SteadyStateResult;
  warmup: FootprintWarmup;
  /** Largest RSS seen in either phase (MiB). */
  rss_mib_peak: number;
}

/** Runs the footprint scenario on one cluster. */
export async function runFootprint(
  p: FootprintParams,
  log: (msg: string) => void,
): Promise<FootprintResult> {
  log(`footprint ${p.nodes} nodes x ${p.images} images: starting the cluster`);
  const started = performance.now();
  const cluster = await startBenchCluster({ nodes: p.nodes, timeScale: p.timeScale });
  try {
    await createPolicy(cluster, p.maxConcurrentNodes, p.minDelayMs);
    await seedWarmImages(cluster, p.images);
    log(
      `footprint: cluster and ${p.images} warm images ready in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );

    // Phase A: start-ups and idle on the warm cluster.
    const syncedS: number[] = [];
    const rssAtSynced: number[] = [];
    let idle: SteadyStateResult | undefined;
    for (let k = 1; k <= p.startups; k++) {
      const op = await startBenchOperator(cluster, { denoFlags: p.operatorFlags });
      try {
        const s = await op.waitSynced();
        syncedS.push(round(s));
        rssAtSynced.push(round(op.sampler.sample()?.rss_mib ?? Number.NaN, 1));
        log(`footprint: start ${k}: caches synced ${s.toFixed(2)} s after spawn`);
        if (k === p.startups) {
          await waitQuiescent(op, 3000, 300_000);
          log(`footprint: idle for ${p.idleS} s`);
          idle = await measureSteadyState(cluster, op, p.idleS);
        }
      } finally {
        await op.stop();
      }
    }

    // Phase B: the warm images go, fresh ones arrive under a running operator.
    const ci = cluster.observer.resource<KubeObject>(CACHED_IMAGE);
    await forEachLimited(Array.from({ length: p.images }, (_, i) => i), 16, async (i) => {
      await ci.delete(imageName(i));
    });
    const op = await startBenchOperator(cluster, { denoFlags: p.operatorFlags });
    let warmup: FootprintWarmup;
    try {
      const synced = await op.waitSynced();
      await waitQuiescent(op, 2000, 300_000);
      const metricsBefore = await op.scrape();
      const serverBefore = cluster.sim.counters.snapshot();
      const pullsBefore = cluster.sim.kubelets.stats().pulls;
      const windowStart = op.sampler.now();
      const t0 = performance.now();
      await createImages(cluster, p.images, 2 * p.images);
      log(`footprint: warm-up of ${p.images} fresh images for ${p.warmupS} s`);
      await new Promise((r) => setTimeout(r, p.warmupS * 1000 - (performance.now() - t0)));
      op.sampler.sample();
      const footprint = op.sampler.summary(windowStart);
      const metricsAfter = await op.scrape();
      const serverAfter = cluster.sim.counters.snapshot();
      const pulls = cluster.sim.kubelets.stats().pulls - pullsBefore;
      const api = apiLoad(metricsBefore, metricsAfter, serverBefore, serverAfter, OPERATOR_USER);
      const reconcile = reconcileFigures(metricsBefore, metricsAfter);
      const ready = (await ci.list()).items.filter((o) =>
        (o as { status?: { phase?: string } }).status?.phase === "Ready"
      ).length;
      warmup = {
        window_s: round((performance.now() - t0) / 1000, 1),
        pulls_completed: pulls,
        ready_images: ready,
        footprint,
        heap: heapFigures(metricsAfter),
        reconcile,
        reconcile_p99_ms: worstP99(reconcile),
        queue_wait: queueWait(metricsBefore, metricsAfter),
        api,
        requests_per_pull: round(api.total / Math.max(1, pulls), 3),
        request_latency: requestLatency(metricsBefore, metricsAfter),
        operator_synced_s: round(synced),
      };
    } finally {
      await op.stop();
    }
    const peak = Math.max(idle!.footprint.rss_mib_hwm, warmup.footprint.rss_mib_hwm);
    return {
      params: p,
      startup_synced_s: syncedS,
      startup_synced: spread(syncedS),
      rss_mib_at_synced: rssAtSynced,
      idle: idle!,
      warmup,
      rss_mib_peak: round(peak, 1),
    };
  } finally {
    await cluster.stop();
  }
}
