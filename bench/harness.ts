/**
 * The benchmark's moving parts: a simulated cluster in this process, the operator in its own
 * process (the bundle with its declared permissions, as users run it), an observer that watches
 * the cluster as a third identity, and the operator's own metrics.
 *
 * Each party authenticates with its own token, so the API server's counters by user separate the
 * operator's requests from the kubelets' and the benchmark's own.
 *
 * @module
 */
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { CACHED_IMAGE, parseCachedImage, PULL_POLICY } from "../lib/api/mod.ts";
import {
  type EffectivePolicy,
  finishStatus,
  planCachedImage,
} from "../lib/controllers/cachedimage_plan.ts";
import { selectTargets } from "../lib/controllers/targets.ts";
import { pullStage } from "../lib/controllers/pull_outcome.ts";
import { STARTED_AT_ANNOTATION } from "../lib/podbuilder/mod.ts";
import {
  forEachLimited,
  Informer,
  type KubeClient,
  type KubeObject,
  NODES,
  PODS,
} from "../lib/kube/mod.ts";
import { backoffFromPolicy } from "../lib/pacing/mod.ts";

export { forEachLimited };
import { OPERATOR_NAMESPACE, type SimCluster, startSimCluster } from "../lib/sim/mod.ts";
import {
  operatorBundle,
  type OperatorProcess,
  startOperatorProcess,
} from "../tests/_operator_process.ts";
import { BENCH_POLICY, cachedImage, type Json, pullPolicy, warmStatus } from "./fixtures.ts";
import { parsePrometheusText, type Sample, sumBy } from "./prometheus_text.ts";
import { ProcessSampler } from "./process_sampler.ts";
import type { PodTimes } from "./pull_cycle.ts";

/** User name of the operator's token. */
export const OPERATOR_USER = "system:serviceaccount:drop-system:drop";
/** User name of the benchmark's observer. */
export const OBSERVER_USER = "bench:observer";

/** Options of {@linkcode startBenchCluster}. */
export interface BenchClusterOptions {
  nodes: number;
  /** Wall ms per simulated ms of pulls. */
  timeScale: number;
  /** Node pull bandwidth, bytes per simulated second (default the simulator's 100 MB/s). */
  bandwidth?: number;
  /**
   * Kubelet Lease renewal period (wall ms). The simulator scales it with the time scale, which
   * at thousands of nodes would flood the API server the operator shares; kubelets renew every
   * 10 s, so that is the default here.
   */
  leaseRenewIntervalMs?: number;
  /**
   * Let the kubelets record Normal pod Events (default true, as real ones do). Off only to
   * measure how much of a run the simulator's own load is.
   */
  kubeletEvents?: boolean;
}

/** A simulated cluster with kubeconfigs for the operator and the observer. */
export interface BenchCluster {
  sim: SimCluster;
  opts: BenchClusterOptions;
  /** Kubeconfig file of the operator's identity. */
  operatorKubeconfig: string;
  /** Client of the observer identity (watches, object creation). */
  observer: KubeClient;
  stop(): Promise<void>;
}

function token(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Starts the simulated cluster with `nodes` Ready nodes. */
export async function startBenchCluster(opts: BenchClusterOptions): Promise<BenchCluster> {
  const operatorToken = token();
  const observerToken = token();
  const sim = await startSimCluster({
    nodes: opts.nodes,
    timeScale: opts.timeScale,
    nodeBandwidth: opts.bandwidth,
    registry: { serve: false },
    apiServer: {
      authTokens: { [operatorToken]: OPERATOR_USER, [observerToken]: OBSERVER_USER },
      // Thousands of pull Pods churn through the watch cache; a short window would turn every
      // watch reconnect into a relist.
      watchWindow: 100_000,
      bookmarkIntervalMs: 5_000,
    },
    kubelets: {
      leaseRenewIntervalMs: opts.leaseRenewIntervalMs ?? 10_000,
      // The kubelet's nodeStatusReportFrequency: unchanged status is posted every 5 minutes.
      nodeStatusReportIntervalMs: 300_000,
      // nodeStatusUpdateFrequency: a changed status (new images) is posted within 10 s.
      nodeStatusUpdateIntervalMs: 10_000,
      maxConcurrentRequests: 64,
      normalPodEvents: opts.kubeletEvents ?? true,
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "drop-bench-" });
  const operatorKubeconfig = `${dir}/operator.kubeconfig`;
  await Deno.writeTextFile(
    operatorKubeconfig,
    sim.apiServer.kubeconfig({ token: operatorToken, namespace: OPERATOR_NAMESPACE }),
    { mode: 0o600 },
  );
  // In-process, like the kubelets: the observer's watches cost the simulator no HTTP, and its
  // timings (when a Pod was seen) do not wait behind the simulator's own socket work.
  const observer = sim.inProcessClient(observerToken, { userAgent: "drop-bench" });
  return {
    sim,
    opts,
    operatorKubeconfig,
    observer,
    async stop() {
      observer.close();
      await sim.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Names of the cluster's nodes, sorted. */
export function nodeNames(cluster: BenchCluster): string[] {
  return cluster.sim.nodes.names().sort();
}

/** Creates the PullPolicy. */
export async function createPolicy(
  cluster: BenchCluster,
  maxConcurrentNodes: number,
  minDelayMs: number,
): Promise<void> {
  await cluster.observer.resource<KubeObject>(PULL_POLICY).create(
    pullPolicy(maxConcurrentNodes, minDelayMs) as KubeObject,
  );
}

/** Creates CachedImages `from..to-1`, a few at a time. */
export async function createImages(cluster: BenchCluster, from: number, to: number): Promise<void> {
  const client = cluster.observer.resource<KubeObject>(CACHED_IMAGE);
  const indexes = Array.from({ length: to - from }, (_, k) => from + k);
  await forEachLimited(indexes, 16, async (i) => {
    await client.create(cachedImage(i) as KubeObject);
  });
}

/**
 * Creates CachedImages `0..count-1` already cached on every node (see `warmStatus`): a warm
 * cluster without first pulling every image everywhere.
 */
export async function seedWarmImages(cluster: BenchCluster, count: number): Promise<void> {
  const client = cluster.observer.resource<KubeObject>(CACHED_IMAGE);
  // The operator's own planning turns a status that lists every node into exactly the status it
  // would write, so that a start on the seeded cluster has nothing to rewrite.
  const nodeList = (await cluster.observer.resource<Node>(NODES).listAll()).items;
  const nodes = selectTargets(nodeList, { nodeSelectors: [], tolerations: [] }).map((n) =>
    n.metadata!.name!
  );
  const policy: EffectivePolicy = {
    key: BENCH_POLICY,
    backoff: backoffFromPolicy(undefined),
    repullIntervalMs: 0,
  };
  const now = new Date();
  const indexes = Array.from({ length: count }, (_, i) => i);
  await forEachLimited(indexes, 8, async (i) => {
    const created = await client.create(cachedImage(i) as KubeObject);
    const resolution = cluster.sim.registry.catalogue.resolve(
      `${(created as Json & { spec: { image: string; tag: string } }).spec.image}:${
        (created as Json & { spec: { tag: string } }).spec.tag
      }`,
    );
    const digest = resolution.ok ? resolution.manifest.digest : "";
    const ci = parseCachedImage({ ...created, status: warmStatus(i, nodes, digest, now) });
    const plan = planCachedImage({ ci, policy, targets: nodes, pods: [], now: now.getTime() });
    const status = finishStatus(plan, ci, policy, [], now.getTime());
    await client.replaceStatus({ ...created, status } as KubeObject);
  });
}

/** What the observer saw of one CachedImage. */
export interface ImageObservation {
  name: string;
  phase?: string;
  /** performance.now() when the observer first saw it Ready. */
  readyAt?: number;
  cachedNodes: Set<string>;
}

/**
 * Watches CachedImages as the observer and notes when each becomes Ready and which of the
 * `trackNodes` it lists as cached (to time node joins), keeping nothing else.
 */
export class ImageWatcher {
  readonly #informer: Informer<KubeObject>;
  readonly #stop = new AbortController();
  readonly #trackNodes: Set<string>;
  readonly images = new Map<string, ImageObservation>();
  /** node -> image -> performance.now() when the image first listed the node as cached. */
  readonly nodeCachedAt = new Map<string, Map<string, number>>();
  #running?: Promise<void>;

  constructor(cluster: BenchCluster, trackNodes: Iterable<string> = []) {
    this.#trackNodes = new Set(trackNodes);
    this.#informer = new Informer<KubeObject>(cluster.observer.resource<KubeObject>(CACHED_IMAGE), {
      name: "bench cachedimages",
      // The observer needs only the phase and the tracked nodes; keeping full statuses of
      // thousands of nodes would load the benchmark process, not the operator.
      transform: (o) => {
        const status = (o as Json).status as { phase?: string; cachedNodes?: string[] } | undefined;
        const tracked = (status?.cachedNodes ?? []).filter((n) => this.#trackNodes.has(n));
        return {
          metadata: { name: o.metadata?.name, resourceVersion: o.metadata?.resourceVersion },
          status: { phase: status?.phase, cachedNodes: tracked },
        } as KubeObject;
      },
    });
    const seen = (o: KubeObject) => this.#seen(o);
    this.#informer.on({ add: seen, update: (_, o) => seen(o) });
  }

  /** Tracks one more node (before it joins). */
  track(node: string): void {
    this.#trackNodes.add(node);
  }

  #seen(o: KubeObject): void {
    const now = performance.now();
    const name = o.metadata?.name ?? "";
    const status = (o as Json).status as { phase?: string; cachedNodes?: string[] };
    let obs = this.images.get(name);
    if (!obs) this.images.set(name, obs = { name, cachedNodes: new Set() });
    obs.phase = status.phase;
    if (status.phase === "Ready" && obs.readyAt === undefined) obs.readyAt = now;
    for (const node of status.cachedNodes ?? []) {
      if (obs.cachedNodes.has(node)) continue;
      obs.cachedNodes.add(node);
      let m = this.nodeCachedAt.get(node);
      if (!m) this.nodeCachedAt.set(node, m = new Map());
      m.set(name, now);
    }
  }

  /** Starts watching; resolves once the first list is in. */
  async start(): Promise<void> {
    this.#running = this.#informer.start(this.#stop.signal);
    await this.#informer.synced;
  }

  /** Images seen Ready, of those whose names are in `names` (all when omitted). */
  readyCount(names?: readonly string[]): number {
    let n = 0;
    for (const obs of this.images.values()) {
      if (obs.phase === "Ready" && (!names || names.includes(obs.name))) n++;
    }
    return n;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }
}

/**
 * Notes when the first pull Pod for each node appears, as the observer's watch delivers it, and
 * (with `trace`) each Pod's grant, arrival and result times for {@linkcode pullCycle}.
 */
export class PodWatcher {
  readonly #informer: Informer<Pod>;
  readonly #stop = new AbortController();
  /** node -> performance.now() of its first pull Pod. */
  readonly firstPodAt = new Map<string, number>();
  /** Pod name -> its times (epoch ms), with `trace` only. */
  readonly times = new Map<string, PodTimes>();
  /** Pods seen. */
  seen = 0;
  #running?: Promise<void>;

  constructor(cluster: BenchCluster, opts: { trace?: boolean } = {}) {
    this.#informer = new Informer<Pod>(cluster.observer.resource<Pod>(PODS, OPERATOR_NAMESPACE), {
      name: "bench pods",
      transform: (p) => ({
        metadata: {
          name: p.metadata?.name,
          namespace: p.metadata?.namespace,
          resourceVersion: p.metadata?.resourceVersion,
          annotations: opts.trace
            ? {
              [STARTED_AT_ANNOTATION]: p.metadata?.annotations?.[STARTED_AT_ANNOTATION] ?? "",
              [TRACE_STAGE]: pullStage(p),
            }
            : undefined,
        },
        spec: {
          nodeName: p.spec?.nodeName,
          containers: opts.trace ? [{ name: "pull", image: p.spec?.containers?.[0]?.image }] : [],
        },
      }),
    });
    const onPod = (p: Pod) => {
      const now = performance.now();
      this.seen++;
      const node = p.spec?.nodeName;
      if (node && !this.firstPodAt.has(node)) this.firstPodAt.set(node, now);
      if (opts.trace) this.#trace(p);
    };
    this.#informer.on({ add: onPod, update: (_, p) => opts.trace && this.#trace(p) });
  }

  #trace(p: Pod): void {
    const wall = Date.now();
    const name = p.metadata?.name ?? "";
    let t = this.times.get(name);
    if (!t) {
      t = {
        node: p.spec?.nodeName ?? "",
        ref: p.spec?.containers?.[0]?.image ?? "",
        grantAt: Date.parse(p.metadata?.annotations?.[STARTED_AT_ANNOTATION] ?? ""),
        seenAt: wall,
      };
      this.times.set(name, t);
    }
    if (t.doneSeenAt === undefined && p.metadata?.annotations?.[TRACE_STAGE] !== "pending") {
      t.doneSeenAt = wall;
    }
  }

  async start(): Promise<void> {
    this.#running = this.#informer.start(this.#stop.signal);
    await this.#informer.synced;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }
}

/** Annotation the tracing watcher keeps its Pods' pull stage in (in its own cache only). */
const TRACE_STAGE = "bench/stage";

/** The operator process with its sampler and metrics. */
export interface BenchOperator {
  proc: OperatorProcess;
  pid: number;
  sampler: ProcessSampler;
  /** Date.now() right before the process was spawned. */
  spawnedAtMs: number;
  /** Seconds from spawn to the "Caches synced" log line (by the line's own timestamp). */
  waitSynced(timeoutMs?: number): Promise<number>;
  /** Parsed `/metrics`. */
  scrape(): Promise<Sample[]>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
  /** Throws, with the end of its log, when the process has exited: a run cannot go on. */
  assertRunning(): void;
}

/** Builds the operator bundle ahead of time so that spawn-to-synced excludes bundling. */
export async function prepareOperator(): Promise<void> {
  await operatorBundle();
}

/** Starts the operator against the cluster and begins sampling its RSS and CPU. */
export async function startBenchOperator(
  cluster: BenchCluster,
  opts: {
    workers?: number;
    logLevel?: string;
    extraArgs?: string[];
    /**
     * Extra flags of `deno run` for the operator, e.g. `--inspect=127.0.0.1:9229` for profiles
     * or `--v8-flags=...` to try heap settings. Without them the test helper starts it exactly
     * as shipped.
     */
    denoFlags?: string[];
  } = {},
): Promise<BenchOperator> {
  await operatorBundle();
  // Leader election as deployed (deploy/ passes --leader-elect), so its Lease renewals count.
  const args = [
    "--leader-elect",
    `--log-level=${opts.logLevel ?? "info"}`,
    ...(opts.workers ? [`--workers=${opts.workers}`] : []),
    ...(opts.extraArgs ?? []),
  ];
  const spawnedAtMs = Date.now();
  const proc = await startOperatorProcess(cluster.operatorKubeconfig, args, opts.denoFlags ?? []);
  const pid = proc.child.pid;
  const sampler = new ProcessSampler(pid, 250).start();
  let exited: Deno.CommandStatus | undefined;
  proc.status.then((status) => exited = status);
  return {
    proc,
    pid,
    sampler,
    spawnedAtMs,
    async waitSynced(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const logs = proc.logs();
        const at = logs.indexOf('"msg":"Caches synced"');
        if (at >= 0) {
          const start = logs.lastIndexOf("\n", at) + 1;
          const end = logs.indexOf("\n", at);
          const line = JSON.parse(logs.slice(start, end < 0 ? undefined : end)) as { ts: string };
          return (Date.parse(line.ts) - spawnedAtMs) / 1000;
        }
        if (exited) throw new Error(`The operator exited before its caches synced:\n${tail(logs)}`);
        if (Date.now() > deadline) {
          throw new Error(
            `The operator did not sync its caches in ${timeoutMs / 1000} s:\n${tail(logs)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    assertRunning() {
      if (!exited) return;
      const how = exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`;
      throw new Error(
        `The operator exited (${how}); its last log lines:\n${tail(proc.logs(), 40)}`,
      );
    },
    async scrape() {
      const res = await proc.get("/metrics", proc.metricsPort);
      return parsePrometheusText(res.body);
    },
    async stop() {
      sampler.stop();
      try {
        if (!exited) {
          try {
            proc.child.kill("SIGTERM");
          } catch { /* already gone */ }
          const timer = setTimeout(() => {
            try {
              proc.child.kill("SIGKILL");
            } catch { /* already gone */ }
          }, 15_000);
          await proc.status;
          clearTimeout(timer);
        }
      } finally {
        // For a look at what the operator did: DROP_BENCH_OPERATOR_LOG=/tmp/op.log
        const keep = Deno.env.get("DROP_BENCH_OPERATOR_LOG");
        if (keep) await Deno.writeTextFile(keep, proc.logs());
      }
    },
  };
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** The operator's requests by `verb/resource` from its `rest_client_requests_total`. */
export function operatorRequests(samples: readonly Sample[]): Map<string, number> {
  return sumBy(samples, "rest_client_requests_total", ["verb", "resource"]);
}

/** `after - before` per key, dropping zeros. */
export function counterDelta(
  after: Map<string, number>,
  before: Map<string, number> = new Map(),
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of [...after].sort(([a], [b]) => a.localeCompare(b))) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/**
 * Waits until the operator has made no request but watches and Lease renewals for `quietMs`:
 * the start-up writes (status of every image) are done and the steady state begins.
 */
export async function waitQuiescent(
  op: BenchOperator,
  quietMs = 3000,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const nonWatch = (m: Map<string, number>) => {
    let n = 0;
    for (const [k, v] of m) if (!k.startsWith("watch/") && !k.endsWith("/leases")) n += v;
    return n;
  };
  let last = nonWatch(operatorRequests(await op.scrape()));
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error("The operator did not become quiet");
    await new Promise((r) => setTimeout(r, 250));
    const n = nonWatch(operatorRequests(await op.scrape()));
    if (n !== last) {
      last = n;
      since = Date.now();
    }
  }
}
