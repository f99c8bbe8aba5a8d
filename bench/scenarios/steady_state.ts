/**
 * Scenario 3b: a window of steady state after every image is Ready. The operator should make
 * no request beyond renewing its watches and its leader Lease; everything else it does here is
 * waste. Watch renewals and Lease requests are reported apart from the rest.
 *
 * @module
 */
import {
  type ApiLoad,
  apiLoad,
  type HeapFigures,
  heapFigures,
  type ReconcileFigures,
  reconcileFigures,
} from "../measure.ts";
import { type BenchCluster, type BenchOperator, OPERATOR_USER } from "../harness.ts";
import type { FootprintSummary } from "../process_sampler.ts";
import { round } from "../stats.ts";

/** What a steady-state window shows. */
export interface SteadyStateResult {
  duration_s: number;
  api: ApiLoad;
  /** Requests per minute other than watches (Lease renewals included). */
  requests_per_min: number;
  /** Leader Lease requests per minute (get/update of leases). */
  lease_requests_per_min: number;
  /** Requests per minute other than watches and Lease renewals: the target is 0. */
  other_requests_per_min: number;
  /** Watch requests per minute (renewals after `timeoutSeconds` or a closed stream). */
  watch_requests_per_min: number;
  reconcile: Record<string, ReconcileFigures>;
  footprint: FootprintSummary;
  /** The operator's V8 heap at the end of the window. */
  heap: HeapFigures;
}

/** Measures `seconds` of steady state. */
export async function measureSteadyState(
  cluster: BenchCluster,
  op: BenchOperator,
  seconds: number,
): Promise<SteadyStateResult> {
  const metricsBefore = await op.scrape();
  const serverBefore = cluster.sim.counters.snapshot();
  const windowStart = op.sampler.now();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const duration = (performance.now() - started) / 1000;
  op.sampler.sample();
  const footprint = op.sampler.summary(windowStart);
  const metricsAfter = await op.scrape();
  const serverAfter = cluster.sim.counters.snapshot();
  const api = apiLoad(metricsBefore, metricsAfter, serverBefore, serverAfter, OPERATOR_USER);
  let lease = 0;
  for (const [k, v] of Object.entries(api.requests)) if (k.endsWith("/leases")) lease += v;
  const perMin = (n: number) => round((n * 60) / duration, 2);
  return {
    duration_s: round(duration, 1),
    api,
    requests_per_min: perMin(api.total),
    lease_requests_per_min: perMin(lease),
    other_requests_per_min: perMin(api.total - lease),
    watch_requests_per_min: perMin(api.watch_total),
    reconcile: reconcileFigures(metricsBefore, metricsAfter),
    footprint,
    heap: heapFigures(metricsAfter),
  };
}
