/**
 * Pacing: pure decisions about which pulls may start, shared by every controller. No I/O: the
 * caller feeds it the informer's view of pull Pods and each image's demand, and acts on its
 * answers.
 *
 * ```ts
 * const engine = new PacingEngine({ onWake: (image) => queue.add(image) });
 * // PullPolicy informer:
 * engine.setBudget(policy.metadata.name, budgetFromPolicy(policy.spec));
 * // Pod informer (add/update, delete):
 * engine.observePod(pullPodView(pod, info.cachedImage, budgetKey(info.policy, policyExists)));
 * engine.forgetPod(`${pod.metadata.namespace}/${pod.metadata.name}`);
 * // One reconcile of a CachedImage:
 * engine.setDemand(ci.metadata.name, { priority, budget, nodes, blockedUntil });
 * const { grants, retryAfterMs, waiting } = engine.tryAcquire(ci.metadata.name);
 * for (const node of grants) {
 *   try { await createPod(node); } catch (e) { if (!alreadyExists(e)) engine.release(name, node); }
 * }
 * return { requeueAfter: retryAfterMs };
 * ```
 *
 * The rules, the reservation protocol and the cost of each call are documented on
 * {@linkcode PacingEngine}.
 *
 * @module
 */
export {
  type AcquireResult,
  type BudgetUsage,
  type Demand,
  type NodeNeed,
  PacingEngine,
  type PacingEngineOptions,
  type PullPodView,
  type WaitReason,
} from "./engine.ts";
export {
  type BudgetConfig,
  budgetFromPolicy,
  budgetKey,
  DEFAULT_BUDGET,
  DEFAULT_BUDGET_CONFIG,
} from "./budget.ts";
export {
  BACKOFF_JITTER,
  type BackoffBounds,
  backoffDelay,
  backoffFromPolicy,
  DEFAULT_BACKOFF,
} from "./backoff.ts";
export {
  IMAGE_PULL_STUCK_REASONS,
  isImagePullStuck,
  type PullActivity,
  pullActivity,
  pullPodView,
} from "./pod_state.ts";
