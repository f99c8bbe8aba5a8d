/**
 * Assembles the operator: informers over every resource the reconcilers read, one work queue and
 * controller per kind, handlers that only enqueue keys, leader election, and an orderly shutdown.
 *
 * @module
 */
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { CACHED_IMAGE, CACHED_IMAGE_SET, DISCOVERY_POLICY, PULL_POLICY } from "../api/mod.ts";
import {
  Controller,
  EventRecorder,
  EVENTS,
  Informer,
  type KubeClient,
  LeaderElector,
  LEASES,
  NODES,
  PODS,
  WorkQueue,
} from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { DropMetrics } from "../metrics/mod.ts";
import { PULL_POD_SELECTOR } from "../podbuilder/mod.ts";
import {
  cachedImageOfPod,
  CachedImageReconciler,
  DEFAULT_BUDGET,
  PODS_BY_CACHED_IMAGE,
} from "./cachedimage_controller.ts";
import type { OperatorContext, RawObject } from "./context.ts";
import type { Pacer } from "./pacer.ts";
import { trimNode, trimPod } from "./trim.ts";

/** Options of `startOperator`. */
export interface OperatorOptions {
  client: KubeClient;
  podNamespace: string;
  metrics: DropMetrics;
  log: Logger;
  pacer: Pacer;
  /** Elect a leader through a Lease before reconciling. */
  leaderElection?: { namespace: string; name?: string; identity: string };
  workers?: number;
  pullDeadlineSeconds?: number;
  now?: () => number;
}

/** A running operator. */
export interface Operator {
  /** True once every informer has synced. */
  ready(): boolean;
  /** Resolves when the caches have synced. */
  synced: Promise<void>;
  /** True while this process leads (always true without leader election). */
  leading(): boolean;
  /** Stops taking work, drains the workers, releases the lease. */
  stop(): Promise<void>;
  context: OperatorContext;
}

/** Starts informers, controllers and (optionally) leader election. */
export function startOperator(opts: OperatorOptions): Operator {
  const { client, log, metrics } = opts;
  const stop = new AbortController();
  const informerOpts = (name: string) => ({
    name,
    onError: (e: unknown) =>
      log.warn("Watch failed, retrying", { informer: name, error: String(e) }),
  });
  const cachedImages = new Informer<RawObject>(
    client.resource(CACHED_IMAGE),
    informerOpts("cachedimages"),
  );
  const cachedImageSets = new Informer<RawObject>(
    client.resource(CACHED_IMAGE_SET),
    informerOpts("cachedimagesets"),
  );
  const discoveryPolicies = new Informer<RawObject>(
    client.resource(DISCOVERY_POLICY),
    informerOpts("discoverypolicies"),
  );
  const pullPolicies = new Informer<RawObject>(
    client.resource(PULL_POLICY),
    informerOpts("pullpolicies"),
  );
  const nodes = new Informer<Node>(client.resource(NODES), {
    ...informerOpts("nodes"),
    transform: trimNode,
  });
  const pods = new Informer<Pod>(client.resource(PODS, opts.podNamespace), {
    ...informerOpts("pods"),
    labelSelector: PULL_POD_SELECTOR,
    transform: trimPod,
    indexers: {
      [PODS_BY_CACHED_IMAGE]: (p: Pod) => {
        const ci = cachedImageOfPod(p);
        return ci ? [ci] : [];
      },
    },
  });
  const events = new EventRecorder({
    client: client.resource(EVENTS),
    component: "drop-controller",
    onError: (e) => log.debug("Event write failed", { error: String(e) }),
  });
  const ctx: OperatorContext = {
    client,
    podNamespace: opts.podNamespace,
    cachedImages,
    cachedImageSets,
    discoveryPolicies,
    pullPolicies,
    nodes,
    pods,
    pacer: opts.pacer,
    metrics,
    events,
    log,
    now: opts.now ?? Date.now,
    pullDeadlineSeconds: opts.pullDeadlineSeconds ?? 600,
  };

  const queueHooks = {
    onAdd: (q: string) => metrics.queueAdds.inc({ name: q }),
    onDepth: (q: string, d: number) => metrics.queueDepth.set({ name: q }, d),
    onLatency: (q: string, s: number) => metrics.queueLatency.observe({ name: q }, s),
    onRetry: (q: string) => metrics.queueRetries.inc({ name: q }),
  };
  const ciQueue = new WorkQueue<string>({ name: "cachedimage", hooks: queueHooks });
  const ciReconciler = new CachedImageReconciler(ctx);
  const controllerHooks = {
    onReconcile(controller: string, result: string, seconds: number) {
      metrics.reconcileTotal.inc({ controller, result });
      metrics.reconcileTime.observe({ controller }, seconds);
    },
  };
  const controllers = [
    new Controller<string>({
      name: "cachedimage",
      queue: ciQueue,
      workers: opts.workers ?? 2,
      reconcile: (key, signal) => ciReconciler.reconcile(key, signal),
      hooks: controllerHooks,
      onError: (key, e, retries) =>
        log.error("Reconcile failed", {
          controller: "cachedimage",
          cachedimage: key,
          retries,
          error: e instanceof Error ? e.message : String(e),
        }),
    }),
  ];

  // Handlers only enqueue keys.
  const enqueueAllImages = () => {
    for (const key of cachedImages.keys()) ciQueue.add(key);
  };
  const enqueueImagesOfPolicy = (policy: string) => {
    for (const ci of cachedImages.list()) {
      const ref = (ci.spec as { policyRef?: { name?: string } } | undefined)?.policyRef?.name;
      if (ref === policy) ciQueue.add(ci.metadata!.name!);
    }
  };
  cachedImages.on({
    add: (o) => ciQueue.add(o.metadata!.name!),
    update: (_, o) => ciQueue.add(o.metadata!.name!),
    delete: (o) => ciQueue.add(o.metadata!.name!),
  });
  pullPolicies.on({
    add: (o) => enqueueImagesOfPolicy(o.metadata!.name!),
    update: (_, o) => enqueueImagesOfPolicy(o.metadata!.name!),
    delete: (o) => enqueueImagesOfPolicy(o.metadata!.name!),
  });
  nodes.on({
    add: enqueueAllImages,
    update: (a, b) => {
      if (targetingChanged(a, b)) enqueueAllImages();
    },
    delete: enqueueAllImages,
  });
  const onPod = (pod: Pod) => {
    const owner = cachedImageOfPod(pod);
    if (owner) ciQueue.add(owner);
  };
  const wakeBudget = (pod: Pod) => {
    // A pull ending frees a slot in its budget: images waiting there may start now.
    const budget = pod.metadata?.annotations?.["drop.corewire.io/policy"] ?? DEFAULT_BUDGET;
    for (const image of opts.pacer.waiting(budget)) ciQueue.add(image);
  };
  pods.on({
    add: onPod,
    update: (_, p) => {
      onPod(p);
      if (p.status?.containerStatuses?.[0]?.imageID || p.status?.phase === "Failed") wakeBudget(p);
    },
    delete: (p) => {
      ciReconciler.podGone(p);
      onPod(p);
      wakeBudget(p);
    },
  });

  const informers = [cachedImages, cachedImageSets, discoveryPolicies, pullPolicies, nodes, pods];
  const informerRuns = informers.map((i) => i.start(stop.signal));
  const synced = Promise.all(informers.map((i) => i.synced)).then(() => {});
  let isSynced = false;
  synced.then(() => {
    isSynced = true;
    log.info("Caches synced", {
      cachedimages: cachedImages.list().length,
      nodes: nodes.list().length,
    });
  }, () => {});
  metrics.setActivePullsSource(() => countActivePulls(pods.list()));

  let isLeading = !opts.leaderElection;
  const runControllers = async (signal: AbortSignal) => {
    await synced;
    if (signal.aborted) return;
    await Promise.all(controllers.map((c) => c.run(signal)));
  };
  let work: Promise<void>;
  if (opts.leaderElection) {
    const le = opts.leaderElection;
    const elector = new LeaderElector({
      client: client.resource(LEASES, le.namespace),
      name: le.name ?? "drop-leader",
      identity: le.identity,
      onStartedLeading: (signal) => {
        isLeading = true;
        metrics.leader.set({ name: le.name ?? "drop-leader" }, 1);
        log.info("Became leader", { identity: le.identity });
        return runControllers(signal);
      },
      onStoppedLeading: () => {
        isLeading = false;
        metrics.leader.set({ name: le.name ?? "drop-leader" }, 0);
        log.info("Stopped leading", { identity: le.identity });
      },
    });
    work = elector.run(stop.signal);
  } else {
    work = runControllers(stop.signal);
  }
  // Keep the initial pull of every image going once the caches are ready.
  synced.then(enqueueAllImages, () => {});

  return {
    ready: () => isSynced,
    synced,
    leading: () => isLeading,
    context: ctx,
    async stop() {
      stop.abort();
      await work.catch(() => {});
      await Promise.allSettled(informerRuns);
      await events.flush();
    },
  };
}

/** Whether a node change can change which images target it. */
function targetingChanged(a: Node, b: Node): boolean {
  const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === "Ready")?.status;
  return JSON.stringify(a.metadata?.labels) !== JSON.stringify(b.metadata?.labels) ||
    JSON.stringify(a.spec?.taints) !== JSON.stringify(b.spec?.taints) ||
    ready(a) !== ready(b) || a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp;
}

/** Active pull Pods per budget, for `drop_active_pulls`. */
function countActivePulls(pods: Pod[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    if (p.status?.phase !== "Pending" && p.status?.phase !== "Running") continue;
    if (p.status?.containerStatuses?.[0]?.imageID) continue;
    const budget = p.metadata?.annotations?.["drop.corewire.io/policy"] ?? DEFAULT_BUDGET;
    out.set(budget, (out.get(budget) ?? 0) + 1);
  }
  return out;
}
