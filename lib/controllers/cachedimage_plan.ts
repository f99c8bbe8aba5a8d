/**
 * The pure core of the CachedImage reconciler: from the object, its target nodes and its pull
 * Pods, decide the new status, which Pods are done with, which nodes need a pull, what to tell
 * people (events) and when to look again. No I/O happens here.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  type CachedImage,
  type CachedImageStatus,
  type Condition,
  type NodeFailure,
  parseTime,
  pullReference,
  rfc3339,
  setCondition,
} from "../api/mod.ts";
import { type BackoffBounds, backoffDelay } from "../pacing/mod.ts";
import {
  ATTEMPT_ANNOTATION,
  IMAGE_ANNOTATION,
  NODE_KEY,
  STARTED_AT_ANNOTATION,
} from "../podbuilder/mod.ts";
import { indexNames, NodeMarks } from "./node_marks.ts";
import { type PullFailure, pullOutcome } from "./pull_outcome.ts";

/** The effective pacing and retry settings of one image. */
export interface EffectivePolicy {
  /** Budget key: the PullPolicy name, or `default`. */
  key: string;
  backoff: BackoffBounds;
  repullIntervalMs: number;
  /** Set when `policyRef` names a PullPolicy that does not exist. */
  missing?: string;
}

/** An event to record on the CachedImage. */
export interface PlannedEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** The outcome of planning one reconcile. */
export interface Plan {
  /** The status to write once the pulls this reconcile starts are known (see `finishStatus`). */
  status: CachedImageStatus;
  /** Pods whose result is recorded in `status` or that no longer serve a purpose. */
  deletePods: string[];
  /** Nodes that need a pull now, newest first; empty while the image is backing off. */
  demand: string[];
  /** Nodes that hold a pull Pod that is still working. */
  active: string[];
  /** Attempt number of demanded nodes that failed before (used in the Pod name; others: 0). */
  attempts: Map<string, number>;
  events: PlannedEvent[];
  /** Successful pulls this reconcile observed: seconds each. */
  pulled: number[];
  /** Failed pulls this reconcile observed: reason each. */
  failed: string[];
  /** Look again after this long, at the latest (backoff expiry, re-pull round). */
  requeueAfterMs?: number;
}

/** Inputs of `planCachedImage`. */
export interface PlanInput {
  ci: CachedImage;
  policy: EffectivePolicy;
  /** Names of the target nodes, newest first. */
  targets: readonly string[];
  /**
   * The position of each name in `targets`, when the caller has it (spares building it per
   * reconcile; see {@linkcode indexNames}).
   */
  targetIndex?: ReadonlyMap<string, number>;
  /** Pull Pods owned by the CachedImage. */
  pods: Pod[];
  /**
   * Nodes that exist and match the selectors but are not targets right now (NotReady, a taint):
   * they keep the image, so their cache record stays and they need no new pull when they return.
   */
  held?: readonly string[];
  now: number;
  /** Random source in [0, 1) for backoff jitter. */
  random?: () => number;
}

function nodeOf(pod: Pod): string | undefined {
  return pod.spec?.nodeName ?? pod.metadata?.annotations?.[NODE_KEY];
}

function timeMs(text: string | undefined): number | undefined {
  return text ? parseTime(text) : undefined;
}

/** Plans one reconcile of a CachedImage. */
export function planCachedImage(input: PlanInput): Plan {
  const { ci, policy, targets, pods, now } = input;
  const random = input.random ?? Math.random;
  const reference = pullReference(ci.spec);
  const prev: CachedImageStatus = ci.status ?? {};
  const sameImage = prev.pullReference === undefined || prev.pullReference === reference;
  const targetIndex = input.targetIndex ?? indexNames(targets);
  const held = new Set(input.held ?? []);

  // 1. Carry over what the cluster already records, dropping what the spec change invalidated
  //    and nodes that are no longer targets.
  const cached = new NodeMarks(targets, targetIndex);
  if (sameImage) {
    for (const n of prev.cachedNodes ?? []) if (!cached.addTarget(n) && held.has(n)) cached.add(n);
  }
  const nodeFailures = new Map<string, NodeFailure>();
  if (sameImage) {
    for (const f of prev.nodeFailures ?? []) {
      if (targetIndex.has(f.node)) nodeFailures.set(f.node, f);
    }
  }
  const nodeDigests = new Map<string, string>();
  if (sameImage) {
    for (const d of prev.nodeDigests ?? []) {
      if (cached.has(d.node)) nodeDigests.set(d.node, d.digest);
    }
  }
  const repullPending = new Set<string>();
  if (sameImage) {
    for (const n of prev.repullPending ?? []) {
      if (cached.has(n)) repullPending.add(n);
    }
  }
  let resolvedDigest = sameImage ? prev.resolvedDigest : undefined;
  let consecutiveFailures = sameImage ? prev.consecutiveFailures ?? 0 : 0;
  let nextRetryAt = sameImage ? timeMs(prev.nextRetryAt) : undefined;
  const previousRetryAt = nextRetryAt;
  let lastPulledAt = timeMs(prev.lastPulledAt);
  let lastRepullAt = timeMs(prev.lastRepullAt);

  const plan: Plan = {
    status: {},
    deletePods: [],
    demand: [],
    active: [],
    attempts: new Map(),
    events: [],
    pulled: [],
    failed: [],
  };

  // 2. Read every pull Pod: record results, retire Pods of an older spec or of non-targets.
  let imageFailure: PullFailure | undefined;
  let staleImageFailure: PullFailure | undefined;
  const activeNodes = new Set<string>();
  // The newest start among the Pods: a start whose status write was put off still shows.
  let lastAttemptedAt = timeMs(prev.lastAttemptedAt);
  for (const pod of pods) {
    const name = pod.metadata!.name!;
    const node = nodeOf(pod);
    if (pod.metadata?.deletionTimestamp) continue;
    const startedAt = timeMs(pod.metadata?.annotations?.[STARTED_AT_ANNOTATION]);
    if (startedAt !== undefined && !(startedAt <= (lastAttemptedAt ?? -Infinity))) {
      lastAttemptedAt = startedAt;
    }
    const stale = pod.metadata?.annotations?.[IMAGE_ANNOTATION] !== reference;
    if (!node || stale || !targetIndex.has(node)) {
      plan.deletePods.push(name);
      continue;
    }
    const outcome = pullOutcome(pod, now);
    if (outcome.kind === "pending") {
      activeNodes.add(node);
      continue;
    }
    plan.deletePods.push(name);
    if (outcome.kind === "succeeded") {
      // A Pod whose result an earlier reconcile stored but could not delete (a shutdown, an
      // error) is retired without counting its pull again.
      const recorded = cached.has(node) && !repullPending.has(node) &&
        lastPulledAt !== undefined && outcome.finishedAt <= lastPulledAt;
      if (recorded) continue;
      cached.add(node);
      repullPending.delete(node);
      nodeFailures.delete(node);
      consecutiveFailures = 0;
      nextRetryAt = undefined;
      lastPulledAt = Math.max(lastPulledAt ?? 0, outcome.finishedAt);
      plan.pulled.push(outcome.seconds);
      if (outcome.digest) {
        if (resolvedDigest && outcome.digest !== resolvedDigest) {
          // The tag moved: the newest pull is the registry's current answer; nodes that pulled
          // before hold the older digest until they pull again.
          for (const other of cached) {
            if (other !== node && !nodeDigests.has(other)) nodeDigests.set(other, resolvedDigest);
          }
          resolvedDigest = outcome.digest;
        } else if (!resolvedDigest) {
          resolvedDigest = outcome.digest;
        }
        nodeDigests.delete(node);
        if (outcome.digest !== resolvedDigest) nodeDigests.set(node, outcome.digest);
      }
      plan.events.push({
        type: "Normal",
        reason: "PullSucceeded",
        message: `Pulled ${reference} on node ${node} in ${outcome.seconds.toFixed(1)}s`,
      });
      continue;
    }
    const attempt = Number(pod.metadata?.annotations?.[ATTEMPT_ANNOTATION] ?? 0);
    if (outcome.scope === "node" && attempt < (nodeFailures.get(node)?.failures ?? 0)) {
      // This attempt's failure is already counted in nodeFailures (its Pod outlived the write).
      continue;
    }
    plan.failed.push(outcome.reason);
    plan.events.push({
      type: "Warning",
      reason: "PullFailed",
      message: `Pull of ${reference} failed on node ${node}: ${outcome.message}`,
    });
    if (outcome.scope === "image") {
      // Pods started before the current backoff began belong to the round that caused it: their
      // failures are reported but do not count again.
      if (previousRetryAt === undefined || outcome.startedAt >= previousRetryAt) {
        imageFailure = outcome;
      } else {
        staleImageFailure ??= outcome;
      }
    } else {
      const failures = (nodeFailures.get(node)?.failures ?? 0) + 1;
      nodeFailures.set(node, {
        node,
        failures,
        retryAt: rfc3339(
          new Date(outcome.finishedAt + backoffDelay(failures, policy.backoff, random)),
        ),
        reason: outcome.reason,
        // Bounded: with thousands of failing nodes the status must stay far below etcd's limit.
        message: outcome.message.slice(0, 128),
      });
    }
  }
  if (imageFailure) {
    // One reconcile observing several nodes fail for the same image cause is one failure.
    consecutiveFailures += 1;
    nextRetryAt = now + backoffDelay(consecutiveFailures, policy.backoff, random);
  }

  // 3. Re-pull rounds: every repullInterval, every cached node pulls again, paced, while the
  //    image stays Ready.
  if (policy.repullIntervalMs > 0 && repullPending.size === 0 && cached.size > 0) {
    const since = lastRepullAt ?? lastPulledAt ?? now;
    if (now - since >= policy.repullIntervalMs) {
      for (const n of cached) repullPending.add(n);
      lastRepullAt = now;
    }
  }

  // 4. One pass over the targets, newest first. Demand: targets without the image or due for a
  //    re-pull, without a working Pod, out of their own backoff; none at all while the image
  //    itself is backing off. And the per-node status lists, in target order.
  const imageBlocked = nextRetryAt !== undefined && nextRetryAt > now;
  let wakeAt: number | undefined = imageBlocked ? nextRetryAt : undefined;
  const cachedNodes: string[] = [];
  const failureList: NodeFailure[] = [];
  const digestList: { node: string; digest: string }[] = [];
  const repullList: string[] = [];
  for (let i = 0; i < targets.length; i++) {
    const name = targets[i];
    const isCached = cached.hasAt(i);
    const repull = isCached && repullPending.size > 0 && repullPending.has(name);
    if (isCached) {
      cachedNodes.push(name);
      if (repull) repullList.push(name);
      const digest = nodeDigests.size > 0 ? nodeDigests.get(name) : undefined;
      if (digest !== undefined) digestList.push({ node: name, digest });
    }
    const failure = nodeFailures.size > 0 ? nodeFailures.get(name) : undefined;
    if (failure) failureList.push(failure);
    if ((isCached && !repull) || (activeNodes.size > 0 && activeNodes.has(name))) continue;
    const retryAt = timeMs(failure?.retryAt);
    if (retryAt !== undefined && retryAt > now) {
      wakeAt = Math.min(wakeAt ?? retryAt, retryAt);
      continue;
    }
    if (imageBlocked) continue;
    plan.demand.push(name);
    if (failure) plan.attempts.set(name, failure.failures);
  }
  if (policy.repullIntervalMs > 0 && cached.size > 0 && repullPending.size === 0) {
    const due = (lastRepullAt ?? lastPulledAt ?? now) + policy.repullIntervalMs;
    wakeAt = Math.min(wakeAt ?? due, due);
  }
  if (wakeAt !== undefined) plan.requeueAfterMs = Math.max(0, wakeAt - now);
  plan.active = [...activeNodes];

  // 5. Status fields that do not depend on this reconcile's new pulls. Held nodes (not targets
  //    now) keep their record after the targets.
  const readyCount = cachedNodes.length;
  if (cached.others().size > 0) {
    for (const n of [...cached.others()].sort()) {
      cachedNodes.push(n);
    }
  }
  plan.status = {
    ...prev,
    observedGeneration: ci.metadata.generation,
    pullReference: reference,
    resolvedDigest,
    nodesTargeted: targets.length,
    nodesReady: readyCount,
    cachedNodes,
    consecutiveFailures,
    nextRetryAt: nextRetryAt !== undefined && nextRetryAt > now
      ? rfc3339(new Date(nextRetryAt))
      : undefined,
    nodeFailures: failureList,
    nodeDigests: digestList,
    repullPending: repullList,
    lastPulledAt: lastPulledAt ? rfc3339(new Date(lastPulledAt)) : undefined,
    lastRepullAt: lastRepullAt ? rfc3339(new Date(lastRepullAt)) : undefined,
    lastAttemptedAt: lastAttemptedAt !== undefined && Number.isFinite(lastAttemptedAt)
      ? rfc3339(new Date(lastAttemptedAt))
      : undefined,
    nodesFailed: nodeFailures.size,
  };
  const shownFailure = imageFailure ?? staleImageFailure;
  if (shownFailure) {
    plan.status.conditions = setCondition(prev.conditions, {
      type: "Ready",
      status: "False",
      reason: "PullFailed",
      message: `${readyCount}/${targets.length} nodes ready: ${shownFailure.message}`,
      observedGeneration: ci.metadata.generation,
    }, new Date(now));
  }
  return plan;
}

/** Whether the last observed failure message should be kept in the Ready condition. */
function lastFailureMessage(status: CachedImageStatus): string | undefined {
  const ready = status.conditions?.find((c) => c.type === "Ready");
  if (ready?.reason !== "PullFailed") return undefined;
  const sep = ready.message.indexOf(": ");
  return sep >= 0 ? ready.message.slice(sep + 2) : undefined;
}

/**
 * Completes the status once the reconcile knows which pulls it started: counts, phase, `ready`,
 * conditions and `lastAttemptedAt`. `creating`: pulls started by earlier reconciles whose Pods
 * are still being created (not in the cache yet).
 */
export function finishStatus(
  plan: Plan,
  ci: CachedImage,
  policy: EffectivePolicy,
  started: string[],
  now: number,
  createError?: unknown,
  creating = 0,
): CachedImageStatus {
  const s: CachedImageStatus = { ...plan.status };
  const when = new Date(now);
  const generation = ci.metadata.generation;
  const targeted = s.nodesTargeted ?? 0;
  const ready = s.nodesReady ?? 0;
  const pulling = plan.active.length + started.length + creating;
  s.nodesPulling = pulling;
  s.ready = `${ready}/${targeted}`;
  if (started.length > 0) s.lastAttemptedAt = rfc3339(when);
  const backingOff = s.nextRetryAt !== undefined;
  const failedNodes = s.nodesFailed ?? 0;
  const failureMessage = lastFailureMessage(s) ??
    s.nodeFailures?.[0]?.message ?? "pull failed";

  let phase: CachedImageStatus["phase"];
  let readyCond: Omit<Condition, "lastTransitionTime">;
  let progress: Omit<Condition, "lastTransitionTime">;
  if (targeted > 0 && ready === targeted) {
    phase = "Ready";
    readyCond = {
      type: "Ready",
      status: "True",
      reason: "Cached",
      message: `Image cached on all ${targeted} target nodes`,
    };
  } else if (backingOff || (failedNodes > 0 && failedNodes >= targeted - ready && pulling === 0)) {
    // Degraded when the image itself fails, or when every node still missing it has failed; a
    // few failing nodes in a rollout that goes on are progress, not degradation.
    phase = "Degraded";
    readyCond = {
      type: "Ready",
      status: "False",
      reason: "PullFailed",
      message: `${ready}/${targeted} nodes ready: ${failureMessage}`,
    };
  } else if (targeted === 0) {
    phase = "Pending";
    readyCond = {
      type: "Ready",
      status: "False",
      reason: "NoTargetNodes",
      message: "No node matches the nodeSelector and tolerates its taints",
    };
  } else {
    phase = pulling > 0 || ready > 0 ? "Pulling" : "Pending";
    readyCond = {
      type: "Ready",
      status: "False",
      reason: "InProgress",
      message: `${ready}/${targeted} nodes ready`,
    };
  }
  if (createError !== undefined) {
    const text = createError instanceof Error ? createError.message : String(createError);
    progress = {
      type: "PullProgress",
      status: "False",
      reason: "PodCreateFailed",
      message: `Cannot create pull Pods: ${text.slice(0, 512)}`,
    };
  } else if (pulling > 0) {
    progress = {
      type: "PullProgress",
      status: "True",
      reason: "Pulling",
      message: `Actively pulling on ${pulling} node(s), ${ready}/${targeted} complete`,
    };
  } else if (targeted > 0 && ready === targeted && (s.repullPending?.length ?? 0) === 0) {
    progress = {
      type: "PullProgress",
      status: "False",
      reason: "Complete",
      message: "All pulls complete",
    };
  } else if (backingOff || failedNodes > 0) {
    progress = {
      type: "PullProgress",
      status: "False",
      reason: "Stalled",
      message: `Pull stalled: ${ready}/${targeted} nodes ready, retrying with backoff`,
    };
  } else {
    progress = {
      type: "PullProgress",
      status: "False",
      reason: "Idle",
      message: "Waiting to start pulls",
    };
  }
  s.phase = phase;
  let conditions = setCondition(
    s.conditions,
    { ...readyCond, observedGeneration: generation },
    when,
  );
  conditions = setCondition(conditions, { ...progress, observedGeneration: generation }, when);
  if (ci.spec.policyRef) {
    conditions = setCondition(
      conditions,
      policy.missing
        ? {
          type: "PolicyResolved",
          status: "False",
          reason: "PolicyNotFound",
          message:
            `PullPolicy "${policy.missing}" not found; using the defaults (1 node at a time, 10s apart, backoff 30s to 5m)`,
          observedGeneration: generation,
        }
        : {
          type: "PolicyResolved",
          status: "True",
          reason: "Found",
          message: `Paced by PullPolicy "${policy.key}"`,
          observedGeneration: generation,
        },
      when,
    );
  } else {
    conditions = conditions.filter((c) => c.type !== "PolicyResolved");
  }
  const drift = s.nodeDigests?.length ?? 0;
  if (s.resolvedDigest) {
    conditions = setCondition(
      conditions,
      drift > 0
        ? {
          type: "DigestConsistent",
          status: "False",
          reason: "DigestDrift",
          message: `${drift} node(s) hold another digest than ${s.resolvedDigest} (the tag moved)`,
          observedGeneration: generation,
        }
        : {
          type: "DigestConsistent",
          status: "True",
          reason: "Consistent",
          message: "Every cached node holds the resolved digest",
          observedGeneration: generation,
        },
      when,
    );
  }
  s.conditions = conditions;
  return pruneEmpty(s);
}

/** Drops empty optional lists and undefined fields so an unchanged status compares equal. */
function pruneEmpty(s: CachedImageStatus): CachedImageStatus {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0 && k !== "cachedNodes" && k !== "conditions") continue;
    out[k] = v;
  }
  return out as CachedImageStatus;
}

/**
 * Whether a new status must be written at once rather than folded into the next write: anything
 * a user or another controller acts on (the generation observed, the phase, a condition's status
 * or reason, failures and backoff, the image resolved). Progress alone (counts, node lists,
 * messages, timestamps) can wait for the next write, which spares thousands of large writes in a
 * rollout over many nodes.
 */
export function statusUrgent(
  prev: CachedImageStatus | undefined,
  next: CachedImageStatus,
): boolean {
  if (!prev) return true;
  if (
    prev.observedGeneration !== next.observedGeneration || prev.phase !== next.phase ||
    prev.pullReference !== next.pullReference || prev.resolvedDigest !== next.resolvedDigest ||
    prev.nextRetryAt !== next.nextRetryAt ||
    (prev.consecutiveFailures ?? 0) !== (next.consecutiveFailures ?? 0) ||
    (prev.nodesFailed ?? 0) !== (next.nodesFailed ?? 0) ||
    (prev.nodesTargeted ?? 0) !== (next.nodesTargeted ?? 0)
  ) {
    return true;
  }
  const before = new Map((prev.conditions ?? []).map((c) => [c.type, c]));
  const after = next.conditions ?? [];
  if (after.length !== before.size) return true;
  return after.some((c) => {
    const b = before.get(c.type);
    return !b || b.status !== c.status || b.reason !== c.reason ||
      b.observedGeneration !== c.observedGeneration;
  });
}
