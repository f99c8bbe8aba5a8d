/**
 * Figures derived from two scrapes of the operator's `/metrics` (before and after a window) and
 * from the API server's counters: reconcile latency per controller and API requests by verb and
 * resource, with watches apart.
 *
 * @module
 */
import type { CounterSnapshot } from "../lib/sim/mod.ts";
import { counterDelta, operatorRequests } from "./harness.ts";
import { histogramDelta, histogramQuantile, histogramsBy, type Sample } from "./prometheus_text.ts";
import { round } from "./stats.ts";

/** Reconcile latency of one controller inside a window. */
export interface ReconcileFigures {
  reconciles: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
}

const RECONCILE_METRIC = "controller_runtime_reconcile_time_seconds";

/**
 * p50/p99 reconcile time per controller between two scrapes, from the operator's own histogram
 * (interpolated inside its buckets the way `histogram_quantile` does, so the figures are as
 * coarse as the buckets: 0.5, 1, 2.5, 5, 10, 25 ms...).
 */
export function reconcileFigures(
  before: readonly Sample[],
  after: readonly Sample[],
): Record<string, ReconcileFigures> {
  const b = histogramsBy(before, RECONCILE_METRIC, "controller");
  const out: Record<string, ReconcileFigures> = {};
  for (const [controller, h] of histogramsBy(after, RECONCILE_METRIC, "controller")) {
    const d = histogramDelta(h, b.get(controller));
    if (d.count <= 0) continue;
    out[controller] = {
      reconciles: d.count,
      p50_ms: round(histogramQuantile(d, 0.5) * 1000),
      p99_ms: round(histogramQuantile(d, 0.99) * 1000),
      mean_ms: round((d.sum / d.count) * 1000),
    };
  }
  return out;
}

/** The largest p99 over controllers that reconciled at least `minReconciles` times. */
export function worstP99(figures: Record<string, ReconcileFigures>, minReconciles = 20): number {
  const p99s = Object.values(figures).filter((f) => f.reconciles >= minReconciles).map((f) =>
    f.p99_ms
  );
  return p99s.length ? Math.max(...p99s) : Number.NaN;
}

/** The operator's API requests inside a window. */
export interface ApiLoad {
  /** `verb/resource` -> requests, watches excluded. */
  requests: Record<string, number>;
  /** `watch/resource` -> watch requests (initial watches and renewals). */
  watches: Record<string, number>;
  /** Requests other than watches. */
  total: number;
  /** Watch requests. */
  watch_total: number;
  /**
   * What the API server counted for the operator's identity (watches included), to check the
   * operator's own client-side count against.
   */
  server_counted: number;
}

/** Splits the operator's request counts of a window into watches and the rest. */
export function apiLoad(
  before: readonly Sample[],
  after: readonly Sample[],
  serverBefore: CounterSnapshot,
  serverAfter: CounterSnapshot,
  user: string,
): ApiLoad {
  const delta = counterDelta(operatorRequests(after), operatorRequests(before));
  const requests: Record<string, number> = {};
  const watches: Record<string, number> = {};
  let total = 0;
  let watchTotal = 0;
  for (const [k, v] of Object.entries(delta)) {
    if (k.startsWith("watch/")) {
      watches[k] = v;
      watchTotal += v;
    } else {
      requests[k] = v;
      total += v;
    }
  }
  return {
    requests,
    watches,
    total,
    watch_total: watchTotal,
    server_counted: (serverAfter.byUser[user] ?? 0) - (serverBefore.byUser[user] ?? 0),
  };
}

/** `verb/resource` -> count of everything the API server counted between two snapshots. */
export function serverDelta(
  before: CounterSnapshot,
  after: CounterSnapshot,
): Record<string, number> {
  const flat = (s: CounterSnapshot) => {
    const m = new Map<string, number>();
    for (const [verb, byResource] of Object.entries(s.byVerb)) {
      for (const [resource, n] of Object.entries(byResource)) m.set(`${verb}/${resource}`, n);
    }
    return m;
  };
  return counterDelta(flat(after), flat(before));
}

/** Client-side latency of one kind of request inside a window (ms). */
export interface RequestLatency {
  requests: number;
  /** Exact, unlike the quantiles, which are as coarse as the metric's buckets. */
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
}

const REQUEST_LATENCY_METRIC = "rest_client_request_duration_seconds";

/**
 * The operator's request latency by `verb/resource` between two scrapes: how much of a
 * reconcile is spent waiting for the API server rather than computing. Watches are left out
 * (their duration is the stream's life).
 */
export function requestLatency(
  before: readonly Sample[],
  after: readonly Sample[],
): Record<string, RequestLatency> {
  const key = (s: Sample) => `${s.labels.verb}/${s.labels.resource}`;
  const relabel = (samples: readonly Sample[]) =>
    samples
      .filter((s) => s.name.startsWith(REQUEST_LATENCY_METRIC) && s.labels.verb !== "watch")
      .map((s) => ({ ...s, labels: { ...s.labels, key: key(s) } }));
  const b = histogramsBy(relabel(before), REQUEST_LATENCY_METRIC, "key");
  const out: Record<string, RequestLatency> = {};
  for (const [k, h] of histogramsBy(relabel(after), REQUEST_LATENCY_METRIC, "key")) {
    const d = histogramDelta(h, b.get(k));
    if (d.count <= 0) continue;
    out[k] = {
      requests: d.count,
      mean_ms: round((d.sum / d.count) * 1000),
      p50_ms: round(histogramQuantile(d, 0.5) * 1000),
      p99_ms: round(histogramQuantile(d, 0.99) * 1000),
    };
  }
  return out;
}

/** The operator's memory as its own V8 sees it (MiB), beside the RSS measured from outside. */
export interface HeapFigures {
  /**
   * `process_resident_memory_bytes` as the operator reports it, to compare with the RSS read
   * from /proc (a metric that disagrees is not truthful).
   */
  reported_rss_mib: number;
  heap_total_mib: number;
  heap_used_mib: number;
  external_mib: number;
  /** Used bytes per V8 heap space (MiB). */
  spaces: Record<string, number>;
}

/** Heap figures from prom-client's default process metrics in one scrape. */
export function heapFigures(samples: readonly Sample[]): HeapFigures {
  const mib = (v: number | undefined) => round((v ?? Number.NaN) / 2 ** 20, 1);
  const spaces: Record<string, number> = {};
  for (const s of samples) {
    if (s.name === "nodejs_heap_space_size_used_bytes") spaces[s.labels.space] = mib(s.value);
  }
  const find = (name: string) => samples.find((s) => s.name === name)?.value;
  return {
    reported_rss_mib: mib(find("process_resident_memory_bytes")),
    heap_total_mib: mib(find("nodejs_heap_size_total_bytes")),
    heap_used_mib: mib(find("nodejs_heap_size_used_bytes")),
    external_mib: mib(find("nodejs_external_memory_bytes")),
    spaces,
  };
}

/** How long keys waited in a work queue before a worker took them, inside a window. */
export interface QueueWait {
  adds: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
}

/**
 * Queue wait per work queue between two scrapes (`workqueue_queue_duration_seconds`): with few
 * workers and long reconciles, a woken image waits here while a pacing slot stays empty.
 */
export function queueWait(
  before: readonly Sample[],
  after: readonly Sample[],
): Record<string, QueueWait> {
  const metric = "workqueue_queue_duration_seconds";
  const b = histogramsBy(before, metric, "name");
  const out: Record<string, QueueWait> = {};
  for (const [name, h] of histogramsBy(after, metric, "name")) {
    const d = histogramDelta(h, b.get(name));
    if (d.count <= 0) continue;
    out[name] = {
      adds: d.count,
      mean_ms: round((d.sum / d.count) * 1000),
      p50_ms: round(histogramQuantile(d, 0.5) * 1000),
      p99_ms: round(histogramQuantile(d, 0.99) * 1000),
    };
  }
  return out;
}
