/**
 * The CachedImage reconciler: puts the image on every target node through pull Pods, paced by the
 * shared engine, and reports progress in status, events and metrics. Level-triggered: every run
 * derives everything from the caches and the status stored in the cluster.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  CACHED_IMAGE,
  type CachedImage,
  type CachedImageStatus,
  parseCachedImage,
  parseDuration,
  parsePullPolicy,
  type PullPolicy,
  ValidationError,
} from "../api/mod.ts";
import {
  deepEqual,
  forEachLimited,
  isAlreadyExists,
  isNotFound,
  PODS,
  type ReconcileResult,
  type ResourceClient,
} from "../kube/mod.ts";
import { buildPullPod, CACHED_IMAGE_KEY, IMAGE_ANNOTATION } from "../podbuilder/mod.ts";
import {
  type EffectivePolicy,
  finishStatus,
  type Plan,
  planCachedImage,
  statusUrgent,
} from "./cachedimage_plan.ts";
import type { OperatorContext } from "./context.ts";
import { FreshStatusWriter } from "./fresh_status.ts";
import { PodReaper } from "./pod_reaper.ts";
import {
  backoffFromPolicy,
  type BudgetConfig,
  budgetFromPolicy,
  DEFAULT_BUDGET,
  DEFAULT_BUDGET_CONFIG,
} from "../pacing/mod.ts";
import type { TargetNode, TargetSelection } from "./targets.ts";

/**
 * Least time between two status writes of one image that only report progress (counts, node
 * lists). Changes of phase, conditions or failures are written at once.
 */
export const STATUS_INTERVAL_MS = 1000;

/** Pod creates one reconcile has in flight at once, and pulls it starts. */
const POD_WRITES_AT_ONCE = 8;

/** Deletions of finished pull Pods in flight at once, across all images. */
const POD_DELETES_AT_ONCE = 16;

/** Index of the Pod informer: pull Pods by CachedImage name. */
export const PODS_BY_CACHED_IMAGE = "cachedimage";

/** The effective policy of an image: its PullPolicy when it exists, the defaults otherwise. */
export function resolvePolicy(
  ctx: OperatorContext,
  ci: CachedImage,
): { effective: EffectivePolicy; limits: BudgetConfig; policy?: PullPolicy } {
  const ref = ci.spec.policyRef?.name;
  const raw = ref ? ctx.pullPolicies.get(ref) : undefined;
  let policy: PullPolicy | undefined;
  if (raw) {
    try {
      policy = parsePullPolicy(raw);
    } catch (e) {
      ctx.log.warn("Ignoring invalid PullPolicy", { pullpolicy: ref, error: e });
    }
  }
  if (!policy) {
    return {
      effective: {
        key: DEFAULT_BUDGET,
        backoff: backoffFromPolicy(undefined),
        repullIntervalMs: 0,
        missing: ref,
      },
      limits: DEFAULT_BUDGET_CONFIG,
    };
  }
  const spec = policy.spec;
  return {
    effective: {
      key: ref!,
      backoff: backoffFromPolicy(spec),
      repullIntervalMs: spec.repullInterval ? parseDuration(spec.repullInterval) : 0,
    },
    limits: budgetFromPolicy(spec),
    policy,
  };
}

/** The CachedImage reconciler with its per-process memory of recent writes. */
export class CachedImageReconciler {
  readonly #ctx: OperatorContext;
  readonly #status: FreshStatusWriter<CachedImageStatus>;
  readonly #reaper: PodReaper;
  readonly #pods: ResourceClient<Pod>;
  /** When this process last wrote each image's status: progress is written once per interval. */
  readonly #lastWrite = new Map<string, number>();

  /**
   * `retry` is called with an image whose finished Pods could not be deleted: reconcile it again
   * later (the manager adds it to the work queue with backoff).
   */
  constructor(ctx: OperatorContext, retry: (image: string) => void = () => {}) {
    this.#ctx = ctx;
    this.#pods = ctx.client.resource<Pod>(PODS, ctx.podNamespace);
    this.#status = new FreshStatusWriter(ctx.client, CACHED_IMAGE);
    this.#reaper = new PodReaper({
      limit: POD_DELETES_AT_ONCE,
      delete: async (name) => {
        try {
          await this.#pods.delete(name, { gracePeriodSeconds: 0 });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      },
      onFailed: (image, pod, e) => {
        ctx.log.warn("Cannot delete pull Pod", { cachedimage: image, pod, error: errorMessage(e) });
        retry(image);
      },
    });
  }

  /** Resolves once the Pod deletions handed over so far have finished. */
  settled(): Promise<void> {
    return this.#reaper.idle();
  }

  /** The Pod informer dropped a Pod: it is no longer pending deletion. */
  podGone(pod: Pod): void {
    this.#reaper.gone(pod.metadata?.name ?? "");
  }

  /**
   * Registers what an image needs with the pacing engine without acting on it. Run for every
   * image before the workers start, so the first grants already follow the global order
   * (priority, then name) instead of the order in which images happen to be reconciled.
   */
  prime(name: string): void {
    const cached = this.#ctx.cachedImages.get(name);
    if (!cached || cached.metadata?.deletionTimestamp) return;
    let ci: CachedImage;
    try {
      ci = parseCachedImage(cached);
    } catch {
      return;
    }
    const { plan, effective, targets } = this.#plan(ci, this.#ctx.now());
    if (plan.demand.length > 0) this.#setDemand(ci, plan, effective, targets);
  }

  #plan(ci: CachedImage, now: number) {
    const ctx = this.#ctx;
    const name = ci.metadata.name!;
    const { effective, policy } = resolvePolicy(ctx, ci);
    const targets = ctx.targets.select({
      nodeSelectors: [ci.spec.nodeSelector, policy?.spec.nodeSelector],
      tolerations: [...(ci.spec.tolerations ?? []), ...(policy?.spec.tolerations ?? [])],
    });
    const pods = ctx.pods.byIndex(PODS_BY_CACHED_IMAGE, name).filter((p) =>
      !this.#reaper.hides(p.metadata?.name ?? "", now)
    );
    const plan = planCachedImage({
      ci,
      policy: effective,
      targets: targets.names,
      targetSet: targets.byName,
      pods,
      now,
      held: targets.held,
    });
    return { plan, effective, policy, targets };
  }

  #setDemand(
    ci: CachedImage,
    plan: Plan,
    effective: EffectivePolicy,
    targets: TargetSelection,
  ): void {
    // The shared node records, not copies: hundreds of images waiting on thousands of nodes.
    const nodes: TargetNode[] = [];
    for (const n of plan.demand) {
      const t = targets.byName.get(n);
      if (t) nodes.push(t);
    }
    this.#ctx.pacer.setDemand(ci.metadata.name!, {
      priority: ci.spec.priority ?? 0,
      budget: effective.key,
      nodes,
    });
  }

  /** Whether the cached Pod of `pod`'s name is the same pull (same reference), not an older one. */
  #samePull(pod: Pod): boolean {
    const cached = this.#ctx.pods.get(`${pod.metadata!.namespace}/${pod.metadata!.name}`);
    // Not in the cache yet: a create from our previous run that the watch has not delivered.
    if (!cached) return true;
    const key = IMAGE_ANNOTATION;
    return !cached.metadata?.deletionTimestamp &&
      cached.metadata?.annotations?.[key] === pod.metadata?.annotations?.[key];
  }

  /** Reconciles one CachedImage by name. */
  async reconcile(name: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const ctx = this.#ctx;
    const log = ctx.log.with({ controller: "cachedimage", cachedimage: name });
    const cached = ctx.cachedImages.get(name);
    if (!cached || cached.metadata?.deletionTimestamp) {
      ctx.pacer.clearDemand(name);
      this.#status.forget(name);
      this.#lastWrite.delete(name);
      if (!cached) ctx.metrics.forgetCachedImage(name);
      return;
    }
    const raw = this.#status.resolve(name, cached);
    let ci: CachedImage;
    try {
      ci = parseCachedImage(raw);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      ctx.pacer.clearDemand(name);
      await this.#status.writeInvalid(raw, e.message, new Date(ctx.now()), signal, "Degraded");
      ctx.events.event(raw, "Warning", "InvalidSpec", e.message);
      log.warn("Invalid CachedImage", { error: e.message });
      return;
    }
    const now = ctx.now();

    // 1-5. Targets, policy, our Pods and their results, failures, backoff, re-pull rounds.
    const { plan, effective, policy, targets } = this.#plan(ci, now);

    // 6. Start the pulls the pacing engine allows.
    const started: string[] = [];
    let retryAt: number | undefined;
    let createError: unknown;
    if (plan.demand.length > 0) {
      this.#setDemand(ci, plan, effective, targets);
      // One round of Pod creates per reconcile: a policy with many free slots is served in
      // short reconciles that let other images' results in between, not one long one.
      const answer = ctx.pacer.tryAcquire(name, POD_WRITES_AT_ONCE);
      if (log.enabled("debug")) {
        log.debug("Pacing", {
          demand: plan.demand.length,
          grants: answer.grants.length,
          waiting: answer.waiting,
          retryAfterMs: answer.retryAfterMs,
        });
      }
      if (answer.retryAfterMs !== undefined) retryAt = answer.at + answer.retryAfterMs;
      await forEachLimited(answer.grants, POD_WRITES_AT_ONCE, async (node) => {
        if (createError !== undefined) {
          // Nothing more starts this round; the slot goes back, and the failure is recorded in
          // status below before the reconcile is retried with backoff.
          ctx.pacer.release(name, node);
          return;
        }
        const pod = buildPullPod(ci, { name: node }, plan.attempts.get(node) ?? 0, {
          namespace: ctx.podNamespace,
          policy,
          activeDeadlineSeconds: ctx.pullDeadlineSeconds,
          startedAt: answer.at,
        });
        try {
          await this.#pods.create(pod, { signal });
          started.push(node);
          ctx.events.event(
            raw,
            "Normal",
            "PullStarted",
            `Pulling ${pod.spec!.containers[0].image} on node ${node}`,
          );
        } catch (e) {
          if (isAlreadyExists(e) && this.#samePull(pod)) {
            // Our Pod from an earlier run that the cache has not shown yet: it is working, and
            // the cache will confirm the reservation when it delivers it.
            started.push(node);
            return;
          }
          ctx.pacer.release(name, node);
          createError ??= isAlreadyExists(e)
            ? new Error(`An older pull Pod "${pod.metadata!.name}" is still being removed`)
            : e;
        }
      });
    } else {
      ctx.pacer.clearDemand(name);
    }

    // 7. Status, written only when it changed, and progress alone at most once per interval
    //    (the Pods that carry the results stay until it is written, so nothing is lost).
    const status = finishStatus(plan, ci, effective, started, now, createError);
    const lastWrite = this.#lastWrite.get(name);
    const flushAt = lastWrite === undefined ? now : lastWrite + STATUS_INTERVAL_MS;
    let deferredUntil: number | undefined;
    const writeNow = createError !== undefined || flushAt <= now ||
      statusUrgent(ci.status, status) || deepEqual(ci.status, status);
    if (writeNow) {
      if (await this.#status.write(raw, () => status, signal)) this.#lastWrite.set(name, now);
      // Only now that the results are stored may their Pods go; the reconcile does not wait.
      this.#reaper.reap(name, plan.deletePods, now);
      for (const e of plan.events) ctx.events.event(raw, e.type, e.reason, e.message);
      for (const seconds of plan.pulled) {
        ctx.metrics.imagesCached.inc({ cachedimage: name });
        ctx.metrics.pullDuration.observe({ cachedimage: name }, seconds);
      }
      for (const reason of plan.failed) ctx.metrics.pullFailed(name, reason);
    } else {
      // The next reconcile derives the same results from the same Pods, and reports them then.
      deferredUntil = flushAt;
    }
    ctx.metrics.nodesTargeted.set({ cachedimage: name }, status.nodesTargeted ?? 0);
    ctx.metrics.nodesCached.set({ cachedimage: name }, status.nodesReady ?? 0);
    ctx.metrics.consecutiveFailures.set({ cachedimage: name }, status.consecutiveFailures ?? 0);
    const pulled = writeNow ? plan.pulled.length : 0;
    const failed = writeNow ? plan.failed.length : 0;
    if (pulled || failed || started.length) {
      log.info("Reconciled", {
        ready: status.ready,
        started: started.length,
        pulled,
        failed,
        phase: status.phase,
      });
    }

    if (createError !== undefined) {
      log.warn("Cannot create pull Pods", { error: errorMessage(createError) });
      throw createError;
    }

    // 8. Look again when a backoff ends, a re-pull is due or pacing frees a slot. The times are
    //    absolute: the writes above took time, and a pull paced 25 ms apart must not wait 25 ms
    //    more than that.
    const due = [
      plan.requeueAfterMs === undefined ? undefined : now + plan.requeueAfterMs,
      retryAt,
      deferredUntil,
    ].filter((v): v is number => v !== undefined);
    if (due.length > 0) return { requeueAfter: Math.max(1, Math.min(...due) - ctx.now()) };
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Which CachedImage a pull Pod belongs to (full name from its annotation). */
export function cachedImageOfPod(pod: Pod): string | undefined {
  return pod.metadata?.annotations?.[CACHED_IMAGE_KEY];
}
