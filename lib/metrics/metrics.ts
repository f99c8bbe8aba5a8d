/**
 * The operator's Prometheus metrics: the ones the reference documentation names, with the same
 * names and types, plus work-queue and reconcile metrics in controller-runtime's naming.
 *
 * Series that belong to a deleted object are removed through the `forget*` methods, so the
 * exposition never reports objects that no longer exist.
 *
 * @module
 */
import client from "prom-client";
import { registerProcessMetrics } from "./process_metrics.ts";

const PULL_BUCKETS = [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200];
// From 1 ms: requests to a nearby API server take a few milliseconds.
const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];
// From 0.5 ms: most reconciles only read the informer cache.
const RECONCILE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** All metrics of one operator process, in their own registry. */
export class DropMetrics {
  /** The registry `/metrics` exposes. */
  readonly registry: client.Registry = new client.Registry();

  readonly imagesCached: client.Counter<"cachedimage">;
  readonly pullDuration: client.Histogram<"cachedimage">;
  readonly pullErrors: client.Counter<"cachedimage" | "reason">;
  readonly discoveryImagesFound: client.Gauge<"discoverypolicy">;
  readonly activePulls: client.Gauge<"policy">;
  readonly reconcileTotal: client.Counter<"controller" | "result">;
  readonly reconcileTime: client.Histogram<"controller">;
  readonly discoverySourceHealth: client.Gauge<"discoverypolicy" | "source">;
  readonly discoverySourceLatency: client.Histogram<"discoverypolicy" | "source">;
  readonly nodesTargeted: client.Gauge<"cachedimage">;
  readonly nodesCached: client.Gauge<"cachedimage">;
  readonly consecutiveFailures: client.Gauge<"cachedimage">;
  readonly queueDepth: client.Gauge<"name">;
  readonly queueAdds: client.Counter<"name">;
  readonly queueRetries: client.Counter<"name">;
  readonly queueLatency: client.Histogram<"name">;
  readonly apiRequests: client.Counter<"verb" | "resource" | "code">;
  readonly apiLatency: client.Histogram<"verb" | "resource">;
  readonly leader: client.Gauge<"name">;

  #activePullsSource: () => Map<string, number> = () => new Map();
  #errorReasons = new SeriesTracker();
  #sources = new SeriesTracker();

  /**
   * Creates the metrics. `processMetrics` adds the `process_*` and V8 heap metrics of this
   * process (one registry per process should have them).
   */
  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.imagesCached = new client.Counter({
      name: "drop_images_cached_total",
      help: "Total number of images successfully cached on nodes.",
      labelNames: ["cachedimage"],
      registers,
    });
    this.pullDuration = new client.Histogram({
      name: "drop_pull_duration_seconds",
      help: "Duration of image pull operations in seconds.",
      labelNames: ["cachedimage"],
      buckets: PULL_BUCKETS,
      registers,
    });
    this.pullErrors = new client.Counter({
      name: "drop_pull_errors_total",
      help: "Total number of failed image pull attempts.",
      labelNames: ["cachedimage", "reason"],
      registers,
    });
    this.discoveryImagesFound = new client.Gauge({
      name: "drop_discovery_images_found",
      help: "Number of images found by a discovery policy.",
      labelNames: ["discoverypolicy"],
      registers,
    });
    const activeSource = () => this.#activePullsSource();
    this.activePulls = new client.Gauge({
      name: "drop_active_pulls",
      help: "Current number of active image pull Pods.",
      labelNames: ["policy"],
      registers,
      // Derived from the informer cache at scrape time, so it can never drift from reality.
      collect() {
        this.reset();
        for (const [policy, n] of activeSource()) this.set({ policy }, n);
      },
    });
    this.reconcileTotal = new client.Counter({
      name: "drop_reconcile_total",
      help: "Total number of reconciliation attempts.",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileTime = new client.Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller.",
      labelNames: ["controller"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.discoverySourceHealth = new client.Gauge({
      name: "drop_discovery_source_health",
      help: "Whether a discovery source is reachable and queryable (1=healthy, 0=unhealthy).",
      labelNames: ["discoverypolicy", "source"],
      registers,
    });
    this.discoverySourceLatency = new client.Histogram({
      name: "drop_discovery_source_latency_seconds",
      help: "Latency of discovery source queries in seconds.",
      labelNames: ["discoverypolicy", "source"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.nodesTargeted = new client.Gauge({
      name: "drop_nodes_targeted",
      help: "Number of nodes targeted by each CachedImage resource.",
      labelNames: ["cachedimage"],
      registers,
    });
    this.nodesCached = new client.Gauge({
      name: "drop_nodes_cached",
      help: "Number of nodes where the image is successfully cached.",
      labelNames: ["cachedimage"],
      registers,
    });
    this.consecutiveFailures = new client.Gauge({
      name: "drop_consecutive_failures",
      help: "Current number of consecutive pull failures for a CachedImage.",
      labelNames: ["cachedimage"],
      registers,
    });
    this.queueDepth = new client.Gauge({
      name: "workqueue_depth",
      help: "Current depth of the work queue.",
      labelNames: ["name"],
      registers,
    });
    this.queueAdds = new client.Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by the work queue.",
      labelNames: ["name"],
      registers,
    });
    this.queueRetries = new client.Counter({
      name: "workqueue_retries_total",
      help: "Total number of rate-limited retries handled by the work queue.",
      labelNames: ["name"],
      registers,
    });
    this.queueLatency = new client.Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long an item stays in the work queue before being processed.",
      labelNames: ["name"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.apiRequests = new client.Counter({
      name: "rest_client_requests_total",
      help: "Number of Kubernetes API requests, by verb, resource and status code.",
      labelNames: ["verb", "resource", "code"],
      registers,
    });
    this.apiLatency = new client.Histogram({
      name: "rest_client_request_duration_seconds",
      help: "Kubernetes API request latency, by verb and resource.",
      labelNames: ["verb", "resource"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.leader = new client.Gauge({
      name: "leader_election_master_status",
      help: "1 while this process holds the leader lease, else 0.",
      labelNames: ["name"],
      registers,
    });
    if (opts.processMetrics) registerProcessMetrics(this.registry);
  }

  /** Sets where `drop_active_pulls` reads its values at scrape time (per pacing budget). */
  setActivePullsSource(source: () => Map<string, number>): void {
    this.#activePullsSource = source;
  }

  /** Counts a failed pull attempt of a CachedImage. */
  pullFailed(cachedimage: string, reason: string): void {
    this.#errorReasons.add(cachedimage, reason);
    this.pullErrors.inc({ cachedimage, reason });
  }

  /** Records the outcome of one discovery source query. */
  sourceQueried(discoverypolicy: string, source: string, healthy: boolean, seconds: number): void {
    this.#sources.add(discoverypolicy, source);
    this.discoverySourceHealth.set({ discoverypolicy, source }, healthy ? 1 : 0);
    this.discoverySourceLatency.observe({ discoverypolicy, source }, seconds);
  }

  /** Removes every series of a deleted CachedImage. */
  forgetCachedImage(name: string): void {
    for (const m of [this.imagesCached, this.pullDuration, this.nodesTargeted]) {
      m.remove({ cachedimage: name });
    }
    this.nodesCached.remove({ cachedimage: name });
    this.consecutiveFailures.remove({ cachedimage: name });
    for (const reason of this.#errorReasons.take(name)) {
      this.pullErrors.remove({ cachedimage: name, reason });
    }
  }

  /** Removes every series of a deleted DiscoveryPolicy. */
  forgetDiscoveryPolicy(name: string): void {
    this.discoveryImagesFound.remove({ discoverypolicy: name });
    for (const source of this.#sources.take(name)) {
      this.discoverySourceHealth.remove({ discoverypolicy: name, source });
      this.discoverySourceLatency.remove({ discoverypolicy: name, source });
    }
  }

  /** The text exposition format. */
  async exposition(): Promise<string> {
    return await this.registry.metrics();
  }
}

/** Remembers which second-label values were used with each object, so they can be removed. */
class SeriesTracker {
  #seen = new Map<string, Set<string>>();
  add(owner: string, value: string): void {
    let set = this.#seen.get(owner);
    if (!set) this.#seen.set(owner, set = new Set());
    set.add(value);
  }
  take(owner: string): string[] {
    const values = [...(this.#seen.get(owner) ?? [])];
    this.#seen.delete(owner);
    return values;
  }
}
