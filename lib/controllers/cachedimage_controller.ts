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
import type { OperatorContext, RawObject } from "./context.ts";
import { FreshStatusWriter } from "./fresh_status.ts";
import { PodReaper } from "./pod_reaper.ts";
import { pullStage } from "./pull_outcome.ts";
import { PodStarter } from "./pod_starter.ts";
import { SingleFlight } from "./single_flight.ts";
import { TaskPool } from "./task_pool.ts";
import {
  type AcquireResult,
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

/** Pull Pod creates in flight at once, across all images. */
const POD_CREATES_AT_ONCE = 16;

/** Deletions of finished pull Pods in flight at once, across all images. */
const POD_DELETES_AT_ONCE = 16;

/** Status writes in flight at once, across all images (one per image at a time). */
const STATUS_WRITES_AT_ONCE = 8;

/** What a full plan leaves for the grants made between plans. */
interface LastPlan {
  /** `#epoch` at the plan. */
  epoch: number;
  ci: CachedImage;
  policy?: PullPolicy;
  /** Attempt numbers of demanded nodes that failed before. */
  attempts: ReadonlyMap<string, number>;
}

/** How the reconciler asks its controller to look at an image again. */
export interface ReconcileRequests {
  /** Reconcile `image` again with backoff: background work for it failed. */
  retry(image: string): void;
  /** Reconcile `image` again now: a reconcile skipped its status while a write was running. */
  wake(image: string): void;
}

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

/**
 * The CachedImage reconciler with its per-process memory of recent writes. A reconcile only
 * decides: the Pod creates, status writes and Pod deletions it decides on run in the background
 * (bounded pools), so it never waits on the API server and the next reconcile of the same image
 * is not held up by the requests of the previous one.
 */
export class CachedImageReconciler {
  readonly #ctx: OperatorContext;
  readonly #status: FreshStatusWriter<CachedImageStatus>;
  readonly #reaper: PodReaper;
  readonly #starter: PodStarter;
  readonly #statusWrites: SingleFlight;
  readonly #writePool = new TaskPool(STATUS_WRITES_AT_ONCE);
  readonly #pods: ResourceClient<Pod>;
  readonly #retry: (image: string) => void;
  /** When this process last wrote each image's status: progress is written once per interval. */
  readonly #lastWrite = new Map<string, number>();
  /** What the last full plan of each image left for grants between plans (see `#fastPath`). */
  readonly #lastPlan = new Map<string, LastPlan>();
  /** Bumped when something every plan depends on changes (nodes, policies). */
  #epoch = 0;

  constructor(
    ctx: OperatorContext,
    requests: ReconcileRequests = { retry: () => {}, wake: () => {} },
  ) {
    this.#ctx = ctx;
    this.#retry = requests.retry;
    this.#pods = ctx.client.resource<Pod>(PODS, ctx.podNamespace);
    this.#status = new FreshStatusWriter(ctx.client, CACHED_IMAGE);
    this.#statusWrites = new SingleFlight(this.#writePool, requests.wake);
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
        this.replan(image);
        requests.retry(image);
      },
    });
    this.#starter = new PodStarter({
      limit: POD_CREATES_AT_ONCE,
      create: async ({ pod, signal }) => {
        try {
          await this.#pods.create(pod, { signal });
        } catch (e) {
          // Our Pod from an earlier run that the cache has not shown yet: it is working, and
          // the cache will confirm the reservation when it delivers it.
          if (isAlreadyExists(e) && this.#samePull(pod)) return;
          throw isAlreadyExists(e)
            ? new Error(`An older pull Pod "${pod.metadata!.name}" is still being removed`)
            : e;
        }
      },
      onStarted: ({ image, node, pod }) => {
        const ci = ctx.cachedImages.get(image);
        if (!ci) return;
        ctx.events.event(
          ci,
          "Normal",
          "PullStarted",
          `Pulling ${pod.spec!.containers[0].image} on node ${node}`,
        );
      },
      onDropped: ({ image, node }) => void ctx.pacer.release(image, node),
      // The reconcile that reports the failure throws it, which brings the backoff.
      onFailed: (image) => {
        const failure = this.#starter.failure(image);
        ctx.log.warn("Cannot create pull Pods", {
          cachedimage: image,
          error: errorMessage(failure?.error),
          retryInMs: Math.max(0, (failure?.retryAt ?? 0) - ctx.now()),
        });
        requests.wake(image);
      },
    });
  }

  /** Resolves once the background work handed over so far (creates, writes, deletes) is done. */
  async settled(): Promise<void> {
    await Promise.all([this.#starter.idle(), this.#writePool.idle()]);
    await this.#reaper.idle();
  }

  /**
   * Whether a change of a pull Pod can change its image's plan: its pull moved on (started Pods
   * that are still pulling change nothing), or it is going away and it was not this process
   * that removed it after storing its result. `before` is undefined for a new Pod.
   */
  podMatters(before: Pod | undefined, after: Pod): boolean {
    const stage = pullStage(after);
    if (before === undefined ? stage !== "pending" : stage !== pullStage(before)) {
      // A success only frees a slot and adds a result the next plan records; anything else
      // changes what the image needs.
      if (stage !== "succeeded") this.#replanOwner(after);
      return true;
    }
    const deleting = after.metadata?.deletionTimestamp !== undefined;
    const matters = deleting && before?.metadata?.deletionTimestamp === undefined &&
      !this.#reaper.hides(after.metadata?.name ?? "", this.#ctx.now());
    if (matters) this.#replanOwner(after);
    return matters;
  }

  /**
   * Something the image's plan depends on changed (its spec, a Pod failing or removed by someone
   * else): its next reconcile plans in full.
   */
  replan(image: string): void {
    this.#lastPlan.delete(image);
  }

  /** Something every plan depends on changed (nodes, policies): every image plans in full. */
  replanAll(): void {
    this.#epoch++;
  }

  #replanOwner(pod: Pod): void {
    const owner = cachedImageOfPod(pod);
    if (owner) this.replan(owner);
  }

  /**
   * The Pod informer dropped a Pod: it is no longer pending deletion. Returns whether its image
   * should look again: not when this process deleted it after storing its result.
   */
  podGone(pod: Pod): boolean {
    const name = pod.metadata?.name ?? "";
    const reaped = this.#reaper.hides(name, this.#ctx.now());
    this.#reaper.gone(name);
    if (!reaped) this.#replanOwner(pod);
    return !reaped;
  }

  /** Whether a CachedImage in the cache is just our own latest status write arriving. */
  isOwnWrite(cached: RawObject): boolean {
    return this.#status.isOwnWrite(cached);
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
      targetIndex: targets.index,
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
    blockedUntil?: number,
  ): void {
    // The shared node records, not copies: hundreds of images waiting on thousands of nodes.
    const nodes: TargetNode[] = [];
    for (const n of plan.demand) {
      const i = targets.index.get(n);
      if (i !== undefined) nodes.push(targets.nodes[i]);
    }
    this.#ctx.pacer.setDemand(ci.metadata.name!, {
      priority: ci.spec.priority ?? 0,
      budget: effective.key,
      nodes,
      // The plan lists the demand in target order.
      ordered: true,
      blockedUntil,
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

  /**
   * Between full plans, a reconcile woken because a pull succeeded or a slot freed only needs the
   * next grants: the pacing engine still holds the demand of the last plan (nodes granted since
   * are marked taken there, nodes that were busy then were left out), so granting from it is what
   * a full plan would do, without the cost of one (a pass over every target node and new status
   * lists, thousands of entries per image). It applies while nodes of that demand remain, no
   * status write is due (results wait at most the status interval, as they would anyway), and
   * nothing else changed: a failure, a spec, node or policy change, a failed create or delete
   * all mean a full plan.
   */
  #fastPath(name: string, signal: AbortSignal): ReconcileResult | undefined {
    const ctx = this.#ctx;
    const last = this.#lastPlan.get(name);
    const lastWrite = this.#lastWrite.get(name);
    if (!last || last.epoch !== this.#epoch || lastWrite === undefined) return undefined;
    const now = ctx.now();
    const flushAt = lastWrite + STATUS_INTERVAL_MS;
    if (flushAt <= now || this.#starter.failure(name) !== undefined) return undefined;
    if (ctx.pacer.pendingNodes(name) === 0) return undefined;
    const answer = ctx.pacer.tryAcquire(name);
    this.#start(last, answer, signal);
    const due = answer.retryAfterMs === undefined
      ? flushAt
      : Math.min(flushAt, answer.at + answer.retryAfterMs);
    return { requeueAfter: Math.max(1, due - ctx.now()) };
  }

  /** Hands the granted starts to the background creates. */
  #start(last: LastPlan, answer: AcquireResult, signal: AbortSignal): void {
    const ctx = this.#ctx;
    const name = last.ci.metadata.name!;
    for (const node of answer.grants) {
      const pod = buildPullPod(last.ci, { name: node }, last.attempts.get(node) ?? 0, {
        namespace: ctx.podNamespace,
        policy: last.policy,
        activeDeadlineSeconds: ctx.pullDeadlineSeconds,
        startedAt: answer.at,
      });
      this.#starter.start({ image: name, node, pod, signal });
    }
  }

  /**
   * Reconciles one CachedImage by name. Synchronous but for the write of an invalid spec's
   * status: everything else it decides runs in the background.
   */
  reconcile(name: string, signal: AbortSignal): ReconcileResult | void | Promise<void> {
    const ctx = this.#ctx;
    const log = ctx.log.with({ controller: "cachedimage", cachedimage: name });
    const cached = ctx.cachedImages.get(name);
    if (!cached || cached.metadata?.deletionTimestamp) {
      ctx.pacer.clearDemand(name);
      this.#status.forget(name);
      this.#lastWrite.delete(name);
      this.#lastPlan.delete(name);
      this.#starter.forget(name);
      if (!cached) ctx.metrics.forgetCachedImage(name);
      return;
    }
    const fast = this.#fastPath(name, signal);
    if (fast) return fast;
    this.#lastPlan.delete(name);
    const raw = this.#status.resolve(name, cached);
    let ci: CachedImage;
    try {
      ci = parseCachedImage(raw);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      ctx.pacer.clearDemand(name);
      ctx.events.event(raw, "Warning", "InvalidSpec", e.message);
      log.warn("Invalid CachedImage", { error: e.message });
      return this.#status.writeInvalid(raw, e.message, new Date(ctx.now()), signal, "Degraded");
    }
    const now = ctx.now();

    // 1-5. Targets, policy, our Pods and their results, failures, backoff, re-pull rounds.
    const { plan, effective, policy, targets } = this.#plan(ci, now);

    // 6. Start the pulls the pacing engine allows; after a failed round of creates, not before
    //    its backoff ends (the failure shows in status until a create succeeds).
    const createFailure = this.#starter.failure(name);
    const createError = createFailure?.error;
    let started: string[] = [];
    let retryAt: number | undefined;
    if (plan.demand.length > 0) {
      this.#setDemand(ci, plan, effective, targets, createFailure?.retryAt);
      this.#lastPlan.set(name, { epoch: this.#epoch, ci, policy, attempts: plan.attempts });
      const answer = ctx.pacer.tryAcquire(name);
      if (log.enabled("debug")) {
        log.debug("Pacing", {
          demand: plan.demand.length,
          grants: answer.grants.length,
          waiting: answer.waiting,
          retryAfterMs: answer.retryAfterMs,
        });
      }
      if (answer.retryAfterMs !== undefined) retryAt = answer.at + answer.retryAfterMs;
      started = answer.grants;
      this.#start(this.#lastPlan.get(name)!, answer, signal);
    } else {
      ctx.pacer.clearDemand(name);
    }

    // 7. Status, written only when it changed, and progress alone at most once per interval
    //    (the Pods that carry the results stay until it is written, so nothing is lost). One
    //    write per image at a time: while one runs, the reconcile after it writes instead.
    const status = finishStatus(
      plan,
      ci,
      effective,
      started,
      now,
      createError,
      this.#starter.pending(name) - started.length,
    );
    let deferredUntil: number | undefined;
    if (!this.#statusWrites.again(name)) {
      const lastWrite = this.#lastWrite.get(name);
      const flushAt = lastWrite === undefined ? now : lastWrite + STATUS_INTERVAL_MS;
      if (deepEqual(ci.status, status)) {
        this.#stored(name, raw, plan, now, false);
      } else if (flushAt <= now || statusUrgent(ci.status, status)) {
        this.#statusWrites.run(name, async () => {
          try {
            const wrote = await this.#status.write(raw, () => status, signal);
            this.#stored(name, raw, plan, now, wrote);
            if (wrote && ci.status?.phase !== status.phase) {
              log.info("Phase changed", { phase: status.phase, ready: status.ready });
            }
          } catch (e) {
            if (signal.aborted) return;
            log.warn("Cannot write status", { error: errorMessage(e) });
            this.replan(name);
            this.#retry(name);
          }
        });
      } else {
        // The next reconcile derives the same results from the same Pods, and reports them then.
        deferredUntil = flushAt;
      }
    }
    ctx.metrics.nodesTargeted.set({ cachedimage: name }, status.nodesTargeted ?? 0);
    ctx.metrics.nodesCached.set({ cachedimage: name }, status.nodesReady ?? 0);
    ctx.metrics.consecutiveFailures.set({ cachedimage: name }, status.consecutiveFailures ?? 0);
    if (started.length > 0 && log.enabled("debug")) {
      log.debug("Started pulls", { started: started.length, phase: status.phase });
    }

    // 8. Look again when a backoff ends, a re-pull is due or pacing frees a slot. The times are
    //    absolute: the reconcile took time, and a pull paced 25 ms apart must not wait longer.
    const due = [
      plan.requeueAfterMs === undefined ? undefined : now + plan.requeueAfterMs,
      retryAt,
      deferredUntil,
    ].filter((v): v is number => v !== undefined);
    if (due.length > 0) return { requeueAfter: Math.max(1, Math.min(...due) - ctx.now()) };
  }

  /**
   * The status of `plan` is stored (`wrote`: by a write just made; otherwise it already was):
   * only now may the Pods that carried its results go, and are its results counted.
   */
  #stored(
    name: string,
    raw: RawObject,
    plan: Plan,
    now: number,
    wrote: boolean,
  ): void {
    const ctx = this.#ctx;
    if (wrote) this.#lastWrite.set(name, now);
    this.#reaper.reap(name, plan.deletePods, now);
    for (const e of plan.events) ctx.events.event(raw, e.type, e.reason, e.message);
    for (const seconds of plan.pulled) {
      ctx.metrics.imagesCached.inc({ cachedimage: name });
      ctx.metrics.pullDuration.observe({ cachedimage: name }, seconds);
    }
    for (const reason of plan.failed) ctx.metrics.pullFailed(name, reason);
    if ((plan.pulled.length || plan.failed.length) && ctx.log.enabled("debug")) {
      ctx.log.debug("Stored results", {
        controller: "cachedimage",
        cachedimage: name,
        pulled: plan.pulled.length,
        failed: plan.failed.length,
      });
    }
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Which CachedImage a pull Pod belongs to (full name from its annotation). */
export function cachedImageOfPod(pod: Pod): string | undefined {
  return pod.metadata?.annotations?.[CACHED_IMAGE_KEY];
}
