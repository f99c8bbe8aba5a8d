/**
 * Scenario 6: a smaller warm-up on a real control plane (etcd, kube-apiserver,
 * kube-controller-manager from tests/envtest), the simulated kubelets as API clients, the
 * operator in its own process. API load comes from kube-apiserver's own
 * `apiserver_request_total` (all clients: it has no user label) beside the operator's
 * client-side count.
 *
 * @module
 */
import type { Namespace, Node, ServiceAccount } from "kubernetes-types/core/v1.d.ts";
import { CACHED_IMAGE, PULL_POLICY } from "../../lib/api/mod.ts";
import {
  Informer,
  KubeClient,
  type KubeObject,
  loadKubeConfig,
  NAMESPACES,
  NODES,
  SERVICEACCOUNTS,
} from "../../lib/kube/mod.ts";
import {
  DEFAULT_BANDWIDTH,
  KubeletPool,
  MANAGED_LABEL,
  OPERATOR_NAMESPACE,
  RegistryCatalogue,
} from "../../lib/sim/mod.ts";
import {
  type ControlPlane,
  DEFAULT_CONTROLLERS,
  findControlPlaneAssets,
  startControlPlane,
} from "../../tests/envtest/control_plane.ts";
import { operatorBundle, startOperatorProcess } from "../../tests/_operator_process.ts";
import {
  cachedImage,
  imageName,
  imageReference,
  type Json,
  pullPolicy,
  type ScenarioShape,
} from "../fixtures.ts";
import { forEachLimited } from "../harness.ts";
import { pacingLowerBound, type PullTime, simulatedPullMs } from "../lower_bound.ts";
import { type ApiLoad, apiLoad, type ReconcileFigures, reconcileFigures } from "../measure.ts";
import { parsePrometheusText, type Sample } from "../prometheus_text.ts";
import { ProcessSampler } from "../process_sampler.ts";
import { round } from "../stats.ts";
import { SIM_ROUND_TRIP_MS } from "./warmup.ts";

/** Parameters of the control-plane warm-up. */
export interface ControlPlaneParams extends Omit<ScenarioShape, "operatorFlags"> {
  timeoutS: number;
}

/** What the control-plane warm-up shows, or why it could not run. */
export type ControlPlaneResult =
  | { skipped: string }
  | {
    params: ControlPlaneParams;
    control_plane_start_s: number;
    completed: boolean;
    time_to_warm_s: number;
    lower_bound_s: number;
    ratio_to_bound: number;
    pulls_completed: number;
    /** kube-apiserver's `apiserver_request_total` growth by `verb/resource[/subresource]`. */
    apiserver_requests: Record<string, number>;
    apiserver_total: number;
    /** The operator's own count (the API server cannot tell clients apart). */
    operator_api: ApiLoad;
    requests_per_pull: number;
    reconcile: Record<string, ReconcileFigures>;
    operator_synced_s: number;
  };

/** kube-apiserver's request counts by `verb/resource[/subresource]`, watches apart from nothing. */
async function apiserverRequests(cp: ControlPlane): Promise<Map<string, number>> {
  const res = await cp.fetch("/metrics");
  const samples = parsePrometheusText(await res.text());
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== "apiserver_request_total") continue;
    const sub = s.labels.subresource ? `/${s.labels.subresource}` : "";
    const key = `${s.labels.verb.toLowerCase()}/${s.labels.resource}${sub}`;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Runs the warm-up on a real control plane; skips with a reason when its binaries are absent. */
export async function runControlPlaneWarmup(
  p: ControlPlaneParams,
  log: (msg: string) => void,
): Promise<ControlPlaneResult> {
  const assets = findControlPlaneAssets();
  if ("skip" in assets) return { skipped: assets.skip };
  const crds = [...Deno.readDirSync(new URL("../../crds/", import.meta.url))]
    .filter((e) => e.isFile && e.name.endsWith(".yaml"))
    .map((e) => new URL(`../../crds/${e.name}`, import.meta.url).pathname)
    .sort();
  await operatorBundle();
  const started = performance.now();
  log(`control plane: starting etcd, kube-apiserver, kube-controller-manager`);
  // The node lifecycle controller lifts the not-ready taint the API server puts on every new
  // Node once its kubelet reports Ready; the pod GC removes pods of deleted Nodes.
  const cp = await startControlPlane({
    assets,
    crds,
    controllers: [
      ...DEFAULT_CONTROLLERS,
      "node-lifecycle-controller",
      "pod-garbage-collector-controller",
    ],
  });
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => cp.stop()];
  try {
    const startS = (performance.now() - started) / 1000;
    const client = new KubeClient(await loadKubeConfig({ kubeconfig: cp.admin.kubeconfig }), {
      userAgent: "drop-bench",
    });
    cleanups.push(() => client.close());
    await client.resource<Namespace>(NAMESPACES).create({ metadata: { name: OPERATOR_NAMESPACE } });
    // Pods need the namespace's default ServiceAccount, which the controller manager creates.
    const accounts = client.resource<ServiceAccount>(SERVICEACCOUNTS, OPERATOR_NAMESPACE);
    for (let i = 0; i < 600; i++) {
      if ((await accounts.list()).items.some((a) => a.metadata?.name === "default")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const catalogue = new RegistryCatalogue();
    const kubelets = new KubeletPool({
      client,
      catalogue,
      timeScale: p.timeScale,
      leaseRenewIntervalMs: 10_000,
      nodeStatusReportIntervalMs: 300_000,
      nodeStatusUpdateIntervalMs: 10_000,
      deletePodsOfDeletedNodes: true,
    });
    cleanups.push(() => kubelets.stop());
    await kubelets.start();
    const names = Array.from({ length: p.nodes }, (_, i) => `sim-node-${i + 1}`);
    await forEachLimited(names, 16, async (name) => {
      await client.resource<Node>(NODES).create({
        metadata: { name, labels: { [MANAGED_LABEL]: "true", "kubernetes.io/hostname": name } },
      });
    });
    await kubelets.waitForReady(names);
    for (let i = 0; i < 1200; i++) {
      const tainted = (await client.resource<Node>(NODES).list()).items.filter((n) =>
        (n.spec?.taints ?? []).some((t) => t.key === "node.kubernetes.io/not-ready")
      );
      if (tainted.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    log(`control plane: up in ${startS.toFixed(1)} s, ${p.nodes} nodes Ready`);

    const op = await startOperatorProcess(cp.admin.kubeconfig, ["--leader-elect"]);
    const sampler = new ProcessSampler(op.child.pid).start();
    cleanups.push(async () => {
      sampler.stop();
      try {
        op.child.kill("SIGTERM");
      } catch { /* gone */ }
      await op.status;
    });
    const spawned = Date.now();
    const scrape = async (): Promise<Sample[]> =>
      parsePrometheusText((await op.get("/metrics", op.metricsPort)).body);
    let synced = Number.NaN;
    for (let i = 0; i < 1200 && Number.isNaN(synced); i++) {
      const m = /\{[^\n]*"msg":"Caches synced"[^\n]*\}/.exec(op.logs());
      if (m) synced = (Date.parse(JSON.parse(m[0]).ts) - spawned) / 1000;
      else await new Promise((r) => setTimeout(r, 50));
    }

    const ready = new Set<string>();
    const watcher = new Informer<KubeObject>(client.resource<KubeObject>(CACHED_IMAGE), {
      name: "bench cachedimages",
    });
    let lastReadyAt = 0;
    const seen = (o: KubeObject) => {
      if ((o as Json & { status?: { phase?: string } }).status?.phase === "Ready") {
        if (!ready.has(o.metadata!.name!)) lastReadyAt = performance.now();
        ready.add(o.metadata!.name!);
      }
    };
    watcher.on({ add: seen, update: (_, o) => seen(o) });
    const stopWatch = new AbortController();
    const watching = watcher.start(stopWatch.signal);
    cleanups.push(async () => {
      stopWatch.abort();
      await watching;
    });
    await watcher.synced;

    const apiBefore = await apiserverRequests(cp);
    const metricsBefore = await scrape();
    const pullsBefore = kubelets.stats().pulls;
    await client.resource<KubeObject>(PULL_POLICY).create(
      pullPolicy(p.maxConcurrentNodes, p.minDelayMs) as KubeObject,
    );
    const t0 = performance.now();
    await forEachLimited(Array.from({ length: p.images }, (_, i) => i), 8, async (i) => {
      await client.resource<KubeObject>(CACHED_IMAGE).create(cachedImage(i) as KubeObject);
    });
    const deadline = t0 + p.timeoutS * 1000;
    while (ready.size < p.images && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const completed = ready.size >= p.images;
    const end = completed ? lastReadyAt : performance.now();
    const apiAfter = await apiserverRequests(cp);
    const metricsAfter = await scrape();
    const pulls = kubelets.stats().pulls - pullsBefore;

    const apiserver: Record<string, number> = {};
    let apiserverTotal = 0;
    for (const [k, v] of [...apiAfter].sort()) {
      const d = v - (apiBefore.get(k) ?? 0);
      if (d > 0) {
        apiserver[k] = d;
        apiserverTotal += d;
      }
    }
    const empty = { total: 0, byVerb: {}, byCode: {}, byUser: {}, openWatches: 0 };
    const operatorApi = apiLoad(metricsBefore, metricsAfter, empty, empty, "");
    const modelled: PullTime[] = [];
    for (const node of names) {
      for (let i = 0; i < p.images; i++) {
        const r = catalogue.resolve(imageReference(i));
        if (!r.ok) throw new Error(`Cannot model the pull of ${imageName(i)}: ${r.failure}`);
        modelled.push({
          node,
          ms: simulatedPullMs({
            sizeBytes: r.manifest.size,
            bandwidth: DEFAULT_BANDWIDTH,
            hostLatencyMs: r.latencyMs,
            roundTripMs: SIM_ROUND_TRIP_MS,
            timeScale: p.timeScale,
          }),
        });
      }
    }
    const bound = pacingLowerBound(modelled, {
      maxConcurrent: p.maxConcurrentNodes,
      minDelayMs: p.minDelayMs,
    });
    const timeToWarm = (end - t0) / 1000;
    return {
      params: p,
      control_plane_start_s: round(startS, 1),
      completed,
      time_to_warm_s: round(timeToWarm),
      lower_bound_s: round(bound.bound_ms / 1000),
      ratio_to_bound: round(timeToWarm / (bound.bound_ms / 1000), 4),
      pulls_completed: pulls,
      apiserver_requests: apiserver,
      apiserver_total: apiserverTotal,
      operator_api: operatorApi,
      requests_per_pull: round(operatorApi.total / Math.max(1, pulls), 3),
      reconcile: reconcileFigures(metricsBefore, metricsAfter),
      operator_synced_s: round(synced),
    };
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // Stopping goes on whatever one part says.
      }
    }
  }
}
