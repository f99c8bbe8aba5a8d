/**
 * Assembles the operator: informers over every resource the reconcilers read, one work queue and
 * controller per kind, handlers that only enqueue keys, leader election, and an orderly shutdown.
 *
 * @module
 */
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import {
  CACHED_IMAGE,
  CACHED_IMAGE_SET,
  DISCOVERY_POLICY,
  parsePullPolicy,
  PULL_POLICY,
} from "../api/mod.ts";
import {
  Controller,
  EventRecorder,
  EVENTS,
  Informer,
  type KubeClient,
  labelIndexer,
  LeaderElector,
  LEASES,
  type MaybePromise,
  NODES,
  PODS,
  type ReconcileResult,
  WorkQueue,
} from "../kube/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { DropMetrics } from "../metrics/mod.ts";
import { POLICY_ANNOTATION, PULL_POD_SELECTOR } from "../podbuilder/mod.ts";
import {
  cachedImageOfPod,
  CachedImageReconciler,
  PODS_BY_CACHED_IMAGE,
} from "./cachedimage_controller.ts";
import type { OperatorContext, RawObject } from "./context.ts";
import { DiscoveryReconciler } from "./discovery_controller.ts";
import { CHILDREN_BY_SET, ImageSetReconciler, setOfChild } from "./imageset_controller.ts";
import { IMAGESET_LABEL } from "./imageset_plan.ts";
import {
  budgetFromPolicy,
  DEFAULT_BUDGET,
  PacingEngine,
  pullActivity,
  pullPodView,
} from "../pacing/mod.ts";
import { internStatusNodes, NameTable } from "./name_table.ts";
import { TargetCache } from "./targets.ts";
import { trimNode, trimPod } from "./trim.ts";

/** Options of `startOperator`. */
export interface OperatorOptions {
  client: KubeClient;
  podNamespace: string;
  metrics: DropMetrics;
  log: Logger;
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
  /**
   * Settles when the controllers stop on their own: with leader election, when leadership was
   * lost. The process should then exit (and be restarted), as controller-runtime managers do.
   */
  done: Promise<void>;
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
  // Node names are shared between the node cache and every CachedImage status.
  const names = new NameTable();
  const cachedImages = new Informer<RawObject>(client.resource(CACHED_IMAGE), {
    ...informerOpts("cachedimages"),
    transform: (o: RawObject) => internStatusNodes(o, names),
    // Statuses list thousands of nodes (about 40 bytes each): small pages keep the start-up peak
    // down (a page is parsed whole).
    pageSize: 10,
    indexers: { [CHILDREN_BY_SET]: labelIndexer<RawObject>(IMAGESET_LABEL) },
  });
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
    // A Node as the API serves it is several kilobytes (images, conditions, managed fields).
    pageSize: 250,
    transform: (n: Node) => {
      const t = trimNode(n);
      if (t.metadata?.name) t.metadata.name = names.add(t.metadata.name);
      return t;
    },
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
  // The work queue exists before the engine so that the engine can wake images through it.
  const ciQueue = new WorkQueue<string>({ name: "cachedimage", hooks: queueHooks(metrics) });
  const pacer = new PacingEngine({
    now: opts.now,
    // A wake must not cut short the backoff of an image whose last reconcile failed (say, its
    // Pod creation was refused and released the slot, which wakes it again): the rate-limited
    // retry is already scheduled.
    onWake: (image) => {
      if (ciQueue.numRequeues(image) === 0) ciQueue.add(image);
    },
  });
  const events = new EventRecorder({
    client: client.resource(EVENTS),
    component: "drop-controller",
    onError: (e) => log.debug("Event write failed", { error: String(e) }),
  });
  const targets = new TargetCache(() => nodes.list());
  const ctx: OperatorContext = {
    client,
    podNamespace: opts.podNamespace,
    cachedImages,
    cachedImageSets,
    discoveryPolicies,
    pullPolicies,
    nodes,
    targets,
    pods,
    pacer,
    metrics,
    events,
    log,
    now: opts.now ?? Date.now,
    pullDeadlineSeconds: opts.pullDeadlineSeconds ?? 600,
  };

  const ciReconciler = new CachedImageReconciler(ctx, {
    retry: (image) => ciQueue.addRateLimited(image),
    wake: (image) => ciQueue.add(image),
  });
  const controllerHooks = {
    onReconcile(controller: string, result: string, seconds: number) {
      metrics.reconcileTotal.inc({ controller, result });
      metrics.reconcileTime.observe({ controller }, seconds);
    },
  };
  const setQueue = new WorkQueue<string>({ name: "cachedimageset", hooks: queueHooks(metrics) });
  const dpQueue = new WorkQueue<string>({ name: "discoverypolicy", hooks: queueHooks(metrics) });
  const setReconciler = new ImageSetReconciler(ctx);
  const dpReconciler = new DiscoveryReconciler(ctx);
  const controller = (
    name: string,
    queue: WorkQueue<string>,
    reconcile: (key: string, signal: AbortSignal) => MaybePromise<ReconcileResult | void>,
  ) =>
    new Controller<string>({
      name,
      queue,
      workers: opts.workers ?? 2,
      reconcile,
      hooks: controllerHooks,
      onError: (key, e, retries) =>
        log.error("Reconcile failed", {
          controller: name,
          [name]: key,
          retries,
          error: e instanceof Error ? e.message : String(e),
        }),
    });
  const controllers = [
    controller("cachedimage", ciQueue, (k, sig) => ciReconciler.reconcile(k, sig)),
    controller("cachedimageset", setQueue, (k, sig) => setReconciler.reconcile(k, sig)),
    controller("discoverypolicy", dpQueue, (k, sig) => dpReconciler.reconcile(k, sig)),
  ];

  // Handlers only enqueue keys.
  const enqueueAllImages = () => {
    for (const key of cachedImages.keys()) ciQueue.add(key);
  };
  const enqueueImagesOfPolicy = (policy: string) => {
    ciReconciler.replanAll();
    for (const ci of cachedImages.list()) {
      const ref = (ci.spec as { policyRef?: { name?: string } } | undefined)?.policyRef?.name;
      if (ref === policy) ciQueue.add(ci.metadata!.name!);
    }
  };
  const onImage = (o: RawObject) => {
    ciReconciler.replan(o.metadata!.name!);
    ciQueue.add(o.metadata!.name!);
    const set = setOfChild(o);
    if (set) setQueue.add(set);
  };
  cachedImages.on({
    add: onImage,
    update: (_, o) => {
      // Our own status write coming back changes nothing for the image; its set still counts it.
      if (!ciReconciler.isOwnWrite(o)) {
        ciReconciler.replan(o.metadata!.name!);
        ciQueue.add(o.metadata!.name!);
      }
      const set = setOfChild(o);
      if (set) setQueue.add(set);
    },
    delete: onImage,
  });
  const onSet = (o: RawObject) => setQueue.add(o.metadata!.name!);
  cachedImageSets.on({ add: onSet, update: (_, o) => onSet(o), delete: onSet });
  const onPolicy = (o: RawObject) => {
    const name = o.metadata!.name!;
    dpQueue.add(name);
    for (const set of cachedImageSets.list()) {
      const ref = (set.spec as { discoveryPolicyRef?: { name?: string } } | undefined)
        ?.discoveryPolicyRef?.name;
      if (ref === name) setQueue.add(set.metadata!.name!);
    }
  };
  discoveryPolicies.on({ add: onPolicy, update: (_, o) => onPolicy(o), delete: onPolicy });
  const policyChanged = (o: RawObject) => {
    const name = o.metadata!.name!;
    try {
      pacer.setBudget(name, budgetFromPolicy(parsePullPolicy(o).spec));
    } catch (e) {
      log.warn("Invalid PullPolicy: its images use the default budget", {
        pullpolicy: name,
        error: e instanceof Error ? e.message : String(e),
      });
      pacer.deleteBudget(name);
    }
    enqueueImagesOfPolicy(name);
  };
  pullPolicies.on({
    add: policyChanged,
    update: (_, o) => policyChanged(o),
    delete: (o) => {
      pacer.deleteBudget(o.metadata!.name!);
      enqueueImagesOfPolicy(o.metadata!.name!);
    },
  });
  const nodesChanged = () => {
    targets.invalidate();
    ciReconciler.replanAll();
    enqueueAllImages();
  };
  nodes.on({
    add: nodesChanged,
    update: (a, b) => {
      if (targetingChanged(a, b)) nodesChanged();
    },
    delete: (n) => {
      names.delete(n.metadata?.name ?? "");
      nodesChanged();
    },
  });
  // Pull Pods feed the pacing engine (which wakes images when slots free) and their owner's queue
  // when their change can change its plan (a pull ended, a Pod someone else removed).
  const onPod = (before: Pod | undefined, pod: Pod) => {
    const owner = cachedImageOfPod(pod);
    if (!owner) return;
    pacer.observePod(pullPodView(pod, owner, budgetOfPod(pod)));
    if (ciReconciler.podMatters(before, pod)) ciQueue.add(owner);
  };
  pods.on({
    add: (p) => onPod(undefined, p),
    update: onPod,
    delete: (p) => {
      const matters = ciReconciler.podGone(p);
      pacer.forgetPod(`${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`);
      const owner = cachedImageOfPod(p);
      if (owner && matters) ciQueue.add(owner);
    },
  });

  const informers = [cachedImages, cachedImageSets, discoveryPolicies, pullPolicies, nodes, pods];
  const informerRuns = informers.map((i) => i.start(stop.signal));
  const synced = Promise.all(informers.map((i) => i.synced)).then(() => {});
  let isSynced = false;
  synced.then(() => {
    isSynced = true;
    // CachedImages listed before their nodes were known get the shared names now.
    for (const ci of cachedImages.list()) internStatusNodes(ci, names);
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
    for (const key of cachedImages.keys()) ciReconciler.prime(key);
    await Promise.all(controllers.map((c) => c.run(signal)));
  };
  let work: Promise<void>;
  if (opts.leaderElection) {
    const le = opts.leaderElection;
    const elector = new LeaderElector({
      client: client.resource(LEASES, le.namespace),
      name: le.name ?? "drop-leader",
      identity: le.identity,
      // Routine renewal failures are retried within the renew deadline; why leadership ended
      // (the deadline passed, another holder, a controller that failed) must reach the log.
      onError: (e) => log.warn("Leader election", { error: String(e) }),
      onStartedLeading: (signal) => {
        isLeading = true;
        metrics.leader.set({ name: le.name ?? "drop-leader" }, 1);
        log.info("Became leader", { identity: le.identity });
        // A failed controller ends leadership (the process then exits for a restart): say why.
        return runControllers(signal).catch((e) => {
          log.error("A controller failed; giving up leadership", { error: String(e) });
        });
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
    done: work,
    async stop() {
      stop.abort();
      await work.catch(() => {});
      await Promise.allSettled(informerRuns);
      // Background work handed over before the stop gets a moment to finish (creates not yet
      // sent are dropped); what is left is done by the next leader: the Pods of unwritten
      // results are still there.
      await Promise.race([ciReconciler.settled(), delay(5_000)]);
      await events.flush();
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => Deno.unrefTimer(setTimeout(resolve, ms)));
}

/** Whether a node change can change which images target it. */
function targetingChanged(a: Node, b: Node): boolean {
  const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === "Ready")?.status;
  return JSON.stringify(a.metadata?.labels) !== JSON.stringify(b.metadata?.labels) ||
    JSON.stringify(a.spec?.taints) !== JSON.stringify(b.spec?.taints) ||
    ready(a) !== ready(b) || a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp;
}

/** The budget a pull Pod is charged to: the PullPolicy it was started under, or the default. */
function budgetOfPod(pod: Pod): string {
  return pod.metadata?.annotations?.[POLICY_ANNOTATION] ?? DEFAULT_BUDGET;
}

/** Active pull Pods per budget, for `drop_active_pulls`. */
function countActivePulls(pods: Pod[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pods) {
    if (pullActivity(p) !== "active") continue;
    const budget = budgetOfPod(p);
    out.set(budget, (out.get(budget) ?? 0) + 1);
  }
  return out;
}

function queueHooks(metrics: DropMetrics) {
  return {
    onAdd: (q: string) => metrics.queueAdds.inc({ name: q }),
    onDepth: (q: string, d: number) => metrics.queueDepth.set({ name: q }, d),
    onLatency: (q: string, s: number) => metrics.queueLatency.observe({ name: q }, s),
    onRetry: (q: string) => metrics.queueRetries.inc({ name: q }),
  };
}
