/**
 * The objects the benchmarks create: a PullPolicy, CachedImages of distinct repositories (so the
 * simulated registry gives each its own size), and the status of an image that is already cached
 * everywhere, for scenarios that start from a warm cluster.
 *
 * @module
 */
import { API_VERSION, pullReference } from "../lib/api/mod.ts";

/** Registry host of the benchmark images; the simulated registry serves any repository on it. */
export const BENCH_REGISTRY = "registry.bench.local";
/** Tag of every benchmark image. */
export const BENCH_TAG = "1.0";
/** Name of the PullPolicy the benchmark images reference. */
export const BENCH_POLICY = "bench";

/** A Kubernetes object as plain JSON. */
export type Json = Record<string, unknown>;

/** What every scenario is made of: the cluster, the images, the policy and how the operator runs. */
export interface ScenarioShape {
  /** Extra `deno run` flags of the operator (e.g. `--v8-flags=...`), to try runtime settings. */
  operatorFlags?: string[];
  nodes: number;
  images: number;
  timeScale: number;
  maxConcurrentNodes: number;
  minDelayMs: number;
}

/** Name of the `i`-th benchmark CachedImage (zero-padded so that name order is index order). */
export function imageName(i: number): string {
  return `bench-${String(i).padStart(4, "0")}`;
}

/** Repository of the `i`-th benchmark image. */
export function imageRepository(i: number): string {
  return `${BENCH_REGISTRY}/bench/app-${String(i).padStart(4, "0")}`;
}

/** The pull reference of the `i`-th image, as the kubelet pulls it. */
export function imageReference(i: number): string {
  return `${imageRepository(i)}:${BENCH_TAG}`;
}

/** The PullPolicy of the benchmark. */
export function pullPolicy(
  maxConcurrentNodes: number,
  minDelayMs: number,
  name = BENCH_POLICY,
): Json {
  return {
    apiVersion: API_VERSION,
    kind: "PullPolicy",
    metadata: { name },
    spec: { maxConcurrentNodes, minDelayBetweenPulls: `${minDelayMs}ms` },
  };
}

/** The `i`-th benchmark CachedImage, under `policy`. */
export function cachedImage(i: number, policy = BENCH_POLICY): Json {
  return {
    apiVersion: API_VERSION,
    kind: "CachedImage",
    metadata: { name: imageName(i) },
    spec: { image: imageRepository(i), tag: BENCH_TAG, policyRef: { name: policy } },
  };
}

/**
 * The status of an image cached on every node of `nodes`, as the CachedImage reconciler writes
 * it: the reconciler carries `cachedNodes` over from the stored status, so a cluster seeded
 * with this status is warm from the operator's point of view and no pull starts.
 */
export function warmStatus(i: number, nodes: readonly string[], digest: string, at: Date): Json {
  const when = at.toISOString().replace(/\.\d{3}Z$/, "Z");
  const n = nodes.length;
  return {
    observedGeneration: 1,
    phase: "Ready",
    ready: `${n}/${n}`,
    resolvedDigest: digest,
    pullReference: pullReference({ image: imageRepository(i), tag: BENCH_TAG }),
    nodesTargeted: n,
    nodesReady: n,
    nodesPulling: 0,
    nodesFailed: 0,
    consecutiveFailures: 0,
    cachedNodes: [...nodes],
    lastPulledAt: when,
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "Cached",
        message: `Image cached on all ${n} target nodes`,
        lastTransitionTime: when,
        observedGeneration: 1,
      },
      {
        type: "PullProgress",
        status: "False",
        reason: "Complete",
        message: "All pulls complete",
        lastTransitionTime: when,
        observedGeneration: 1,
      },
    ],
  };
}
