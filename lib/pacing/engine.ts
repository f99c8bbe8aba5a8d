/**
 * The pacing engine shared by every CachedImage reconcile: which pulls may start now, and when to
 * look again, decided from an in-memory view of the pull Pods and of what each image still needs.
 *
 * @module
 */
import { type BudgetConfig, DEFAULT_BUDGET_CONFIG, validateBudget } from "./budget.ts";
import { compareDemands, DemandState, type NodeNeed } from "./_demand.ts";

export type { NodeNeed } from "./_demand.ts";

/** A pull Pod as the engine sees it (see `pullPodView` to build one from a Pod). */
export interface PullPodView {
  /** Unique key of the Pod, e.g. `namespace/name`. */
  key: string;
  /** Name of the CachedImage the Pod pulls for. */
  image: string;
  /** Node the Pod is bound to. */
  node: string;
  /** Budget the Pod is charged to. */
  budget: string;
  /** `creationTimestamp` in ms: the start of the pull, for `minDelayBetweenPulls`. */
  createdAt: number;
  /** Whether the Pod holds a slot: pulling or about to, not stuck in a pull error, not ended. */
  active: boolean;
}

/** What one image needs, as of its latest reconcile. */
export interface Demand {
  /** `spec.priority`; lower goes first. Default 0. */
  priority?: number;
  /** Budget key (see `budgetKey`). */
  budget: string;
  /**
   * Nodes that need a pull and have no pull Pod in flight. Passing them newest first (as
   * `selectTargets` sorts them) saves a sort; the engine then keeps this array, so do not mutate
   * it afterwards.
   */
  nodes: readonly NodeNeed[];
  /**
   * The caller vouches that `nodes` are newest first, then by name (e.g. picked in order from a
   * target selection): the engine does not check it, a check that compares names across nodes
   * that joined in the same second.
   */
  ordered?: boolean;
  /** Image-level backoff: no node starts before this time (ms). */
  blockedUntil?: number;
}

/** Why an image did not get every node it asked for. */
export type WaitReason =
  /** The image is in image-level backoff. */
  | "backoff"
  /** `minDelayBetweenPulls` of its budget has not passed since the last start. */
  | "delay"
  /** Its budget has `maxConcurrent` pulls in flight. */
  | "capacity"
  /** Images ahead of it in the order take the budget's next slot. */
  | "queued"
  /** Its remaining nodes are busy with other pulls or in node-level backoff. */
  | "nodes"
  /** The caller's `limit` stopped the grants: more may start at once (`retryAfterMs` is 0). */
  | "limit";

/** The answer of {@linkcode PacingEngine.tryAcquire}. */
export interface AcquireResult {
  /**
   * Nodes the image may start pulling on now. Each is reserved: create its Pod, then either let
   * the informer deliver the Pod (which confirms the reservation) or call `release` when creation
   * failed.
   */
  grants: string[];
  /** The engine's time of this decision (ms): the start time it counts for every grant. */
  at: number;
  /** When nodes remain: how long until this image should call `tryAcquire` again. */
  retryAfterMs?: number;
  /** When nodes remain: why they were not granted now. */
  waiting?: WaitReason;
}

/** How full one budget is. */
export interface BudgetUsage extends BudgetConfig {
  /** Active pull Pods charged to the budget. */
  active: number;
  /** Starts granted whose Pods the cache has not delivered yet. */
  reserved: number;
  /** The latest start under the budget (ms), or undefined when none is known. */
  lastStartAt?: number;
}

/** Options of {@linkcode PacingEngine}. */
export interface PacingEngineOptions {
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
  /** Limits of every budget without its own {@linkcode PacingEngine.setBudget}. */
  defaultBudget?: BudgetConfig;
  /**
   * How long a granted start holds its slot while the cache has not delivered its Pod; after
   * that the slot is free again. Default 30 s.
   */
  reservationTtlMs?: number;
  /**
   * Retry hint for images waiting on something only an event ends (a slot or a node freeing):
   * those events wake the image through `onWake`; this is the safety net. Default 30 s.
   */
  idleRetryMs?: number;
  /**
   * Called with images that may start a pull now but are not the caller: the head of a queue
   * when a slot frees, or an image ahead of the caller that owns the slot the caller wanted.
   * Typically `(image) => queue.add(image)`. Must not call back into the engine synchronously.
   */
  onWake?: (image: string) => void;
}

interface BudgetState {
  config?: BudgetConfig;
  active: number;
  reserved: number;
  lastStart: number;
}

interface PodEntry {
  image: string;
  node: string;
  budget: string;
  active: boolean;
}

interface Reservation {
  key: string;
  image: string;
  node: string;
  budget: string;
  expiresAt: number;
}

/** One pass of the global order: who may start what right now. */
interface Plan {
  /** Nodes each image may start on now, for every image that may start something. */
  claims: Map<DemandState, string[]>;
  /** Slots of each budget taken by images ahead of the target (only with a target). */
  claimedAhead: Map<string, number>;
  /** Every node claimed in the pass. */
  claimed: Set<string>;
}

/**
 * Decides which (image, node) pulls may start, shared by all CachedImage reconciles.
 *
 * **Rules.** A budget (one per PullPolicy, plus the shared default) allows at most
 * `maxConcurrent` active pulls and at least `minDelayMs` between two starts. A node runs at most
 * one active pull, whatever the image or budget, because the kubelet pulls serially. Pods stuck in
 * image-pull errors hold nothing. Images are served in the global order priority ascending, then
 * name; an image's nodes newest first. The order is work-conserving: an image in backoff, or whose
 * nodes are all busy or blocked, does not hold up the images behind it; one that can start does.
 *
 * **Feeding it.** Pull Pods come from the informer: `observePod` on add/update, `forgetPod` on
 * delete. Each reconcile of an image calls `setDemand` (or `clearDemand` when nothing is left),
 * then `tryAcquire`, creates Pods for the granted nodes and calls `release` for any it failed to
 * create. A granted start is a reservation that counts like an active Pod until the Pod shows up
 * in the cache, `release` is called, or `reservationTtlMs` passes.
 *
 * **Concurrency.** Every method is synchronous, so each call is atomic on JavaScript's single
 * thread: two reconciles racing for the last slot cannot both get it.
 *
 * **Cost.** `observePod`, `forgetPod` and `release` are O(1) unless they free a slot; then they
 * run one planning pass to wake whoever may start (only with `onWake`). A planning pass
 * (`tryAcquire`, `clearDemand`, `setBudget`) walks the D images with demand in order once, and
 * only images whose budget still offers a start look at their nodes: they scan newest first and
 * stop at the first free node, skipping busy and granted ones; an image whose nodes are all in
 * backoff answers in O(1), one with many blocked nodes in O(B + log N) (B busy nodes) after an
 * O(N) index built once per demand. Once a budget's starts are handed out, its remaining images
 * cost O(1). `setDemand` is O(N) for N nodes passed newest first, O(N log N) otherwise. Nothing
 * is O(images x nodes): at 200 images x 5,000 nodes a `setDemand` plus `tryAcquire` takes well
 * under a millisecond.
 */
export class PacingEngine {
  readonly #now: () => number;
  readonly #defaultBudget: BudgetConfig;
  readonly #reservationTtl: number;
  readonly #idleRetry: number;
  readonly #onWake?: (image: string) => void;

  readonly #budgets = new Map<string, BudgetState>();
  readonly #pods = new Map<string, PodEntry>();
  /** Active pods plus reservations per node; a node is busy when present. */
  readonly #nodeLoad = new Map<string, number>();
  /** By `image\0node`; insertion order is expiry order, the TTL being fixed. */
  readonly #reservations = new Map<string, Reservation>();
  /** Nodes reserved per image, to carry them over into the image's next demand. */
  readonly #reservedNodes = new Map<string, Set<string>>();
  readonly #demands = new Map<string, DemandState>();
  #order: DemandState[] = [];
  #orderDirty = false;

  constructor(opts: PacingEngineOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#defaultBudget = { ...(opts.defaultBudget ?? DEFAULT_BUDGET_CONFIG) };
    validateBudget("(default)", this.#defaultBudget);
    this.#reservationTtl = opts.reservationTtlMs ?? 30_000;
    this.#idleRetry = opts.idleRetryMs ?? 30_000;
    this.#onWake = opts.onWake;
  }

  // ---- Budgets -------------------------------------------------------------------------------

  /** Sets the limits of a budget (a PullPolicy was added or changed). */
  setBudget(key: string, config: BudgetConfig): void {
    validateBudget(key, config);
    this.#budget(key).config = {
      maxConcurrent: config.maxConcurrent,
      minDelayMs: config.minDelayMs,
    };
    this.#wakeClaimants();
  }

  /**
   * Forgets a budget's own limits (its PullPolicy was deleted). Pods and demands still under this
   * key keep counting under it, with the default limits; re-observe them and set the demands
   * again under `DEFAULT_BUDGET` to merge them into the shared default budget.
   */
  deleteBudget(key: string): void {
    const b = this.#budgets.get(key);
    if (!b) return;
    b.config = undefined;
    this.#wakeClaimants();
  }

  /** How full a budget is. */
  usage(key: string): BudgetUsage {
    this.#expireReservations(this.#now());
    const b = this.#budgets.get(key);
    const config = this.#configOf(b);
    return {
      ...config,
      active: b?.active ?? 0,
      reserved: b?.reserved ?? 0,
      ...(b && b.lastStart > -Infinity ? { lastStartAt: b.lastStart } : {}),
    };
  }

  /** Active pull Pods across all budgets (for the `drop_active_pulls` gauge). */
  activePulls(): number {
    let n = 0;
    for (const b of this.#budgets.values()) n += b.active;
    return n;
  }

  // ---- Pods ----------------------------------------------------------------------------------

  /**
   * Records a pull Pod from the cache (add or update). A Pod seen for the first time confirms the
   * reservation of its image and node, so the slot is now held by the Pod itself. Its creation
   * time counts as a start of its budget (never later than now, should the API server's clock run
   * ahead of ours).
   */
  observePod(view: PullPodView): void {
    const now = this.#now();
    const prev = this.#pods.get(view.key);
    if (prev) this.#unaccount(prev);
    const entry: PodEntry = {
      image: view.image,
      node: view.node,
      budget: view.budget,
      active: view.active,
    };
    this.#pods.set(view.key, entry);
    this.#account(entry);
    const b = this.#budget(view.budget);
    if (Number.isFinite(view.createdAt)) {
      b.lastStart = Math.max(b.lastStart, Math.min(view.createdAt, now));
    }

    let freed = prev !== undefined && prev.active &&
      !(entry.active && entry.node === prev.node && entry.budget === prev.budget);
    if (!prev) {
      // Only a new Pod confirms a reservation: an update of an older Pod of the same image and
      // node (say, a failed attempt not yet deleted) must not.
      const r = this.#reservations.get(reservationKey(view.image, view.node));
      if (r) {
        this.#dropReservation(r);
        freed ||= !entry.active;
      }
    }
    if (freed) this.#wakeClaimants();
  }

  /** Removes a pull Pod that left the cache. */
  forgetPod(key: string): void {
    const prev = this.#pods.get(key);
    if (!prev) return;
    this.#pods.delete(key);
    this.#unaccount(prev);
    if (prev.active) this.#wakeClaimants();
  }

  // ---- Demand --------------------------------------------------------------------------------

  /**
   * Records what an image needs now, replacing what it needed before. Nodes granted earlier
   * whose Pods are not in the cache yet stay reserved (and so busy), and the new demand does not
   * grant them, not even after their Pods came and went (a caller may grant from one demand over
   * several calls); `pendingNodes` still counts them. An empty node list clears the demand.
   * Follow it with `tryAcquire`: that call also wakes images that may start because this demand
   * changed.
   */
  setDemand(image: string, demand: Demand): void {
    if (demand.nodes.length === 0) {
      this.clearDemand(image);
      return;
    }
    const prev = this.#demands.get(image);
    const next = new DemandState(
      image,
      demand.priority ?? 0,
      demand.budget,
      demand.blockedUntil ?? -Infinity,
      demand.nodes,
      demand.ordered,
    );
    const reserved = this.#reservedNodes.get(image);
    if (reserved) next.carried = new Set(reserved);
    this.#demands.set(image, next);
    if (!prev || prev.priority !== next.priority || prev.budget !== next.budget) {
      this.#orderDirty = true;
    } else {
      const i = this.#order.indexOf(prev);
      if (i >= 0) this.#order[i] = next;
      else this.#orderDirty = true;
    }
  }

  /** Nodes of the image's current demand not granted yet (0 without a demand). */
  pendingNodes(image: string): number {
    return Math.max(0, this.#demands.get(image)?.pending ?? 0);
  }

  /** Forgets an image's demand (it is complete, deleted, or cannot pull). */
  clearDemand(image: string): void {
    if (!this.#demands.delete(image)) return;
    this.#orderDirty = true;
    this.#wakeClaimants();
  }

  // ---- Decisions -----------------------------------------------------------------------------

  /**
   * Grants and reserves the nodes `image` may start pulling on now, honouring every rule (see the
   * class documentation), and says when to look again if nodes remain. Images ahead in the order
   * that may start now are woken through `onWake`. At most `limit` nodes are granted per call (a
   * caller that creates one Pod per grant keeps each call short); when the limit is what stopped
   * it, the answer says so with `waiting: "limit"` and `retryAfterMs: 0`.
   */
  tryAcquire(image: string, limit = Infinity): AcquireResult {
    const now = this.#now();
    this.#expireReservations(now);
    const demand = this.#demands.get(image);
    if (!demand) return { grants: [], at: now };

    const plan = this.#plan(now, demand, limit);
    const grants = plan.claims.get(demand) ?? [];
    for (const node of grants) this.#reserve(demand, node, now);
    for (const other of plan.claims.keys()) if (other !== demand) this.#onWake?.(other.image);

    if (demand.pending <= 0) return { grants, at: now };
    if (grants.length >= limit) return { grants, at: now, retryAfterMs: 0, waiting: "limit" };
    return { grants, at: now, ...this.#whenAgain(demand, plan, now) };
  }

  /**
   * Gives back a granted start whose Pod could not be created, so the slot and node are free and
   * the node may be granted again. Returns false when there was no such reservation (already
   * confirmed, released or expired). Exception: on AlreadyExists for a Pod that is not in the
   * cache yet, do not release; the Pod will arrive and take over the reservation.
   */
  release(image: string, node: string): boolean {
    const r = this.#reservations.get(reservationKey(image, node));
    const demand = this.#demands.get(image);
    demand?.taken.delete(node);
    demand?.carried?.delete(node);
    if (!r) return false;
    this.#dropReservation(r);
    this.#wakeClaimants();
    return true;
  }

  // ---- Internals -----------------------------------------------------------------------------

  #budget(key: string): BudgetState {
    let b = this.#budgets.get(key);
    if (!b) {
      b = { active: 0, reserved: 0, lastStart: -Infinity };
      this.#budgets.set(key, b);
    }
    return b;
  }

  #configOf(b: BudgetState | undefined): BudgetConfig {
    return b?.config ?? this.#defaultBudget;
  }

  #account(p: PodEntry): void {
    if (!p.active) return;
    this.#budget(p.budget).active++;
    this.#loadNode(p.node, 1);
  }

  #unaccount(p: PodEntry): void {
    if (!p.active) return;
    this.#budget(p.budget).active--;
    this.#loadNode(p.node, -1);
  }

  #loadNode(node: string, delta: number): void {
    const n = (this.#nodeLoad.get(node) ?? 0) + delta;
    if (n > 0) this.#nodeLoad.set(node, n);
    else this.#nodeLoad.delete(node);
  }

  #reserve(demand: DemandState, node: string, now: number): void {
    const key = reservationKey(demand.image, node);
    const r: Reservation = {
      key,
      image: demand.image,
      node,
      budget: demand.budget,
      expiresAt: now + this.#reservationTtl,
    };
    this.#reservations.set(key, r);
    const nodes = this.#reservedNodes.get(demand.image);
    if (nodes) nodes.add(node);
    else this.#reservedNodes.set(demand.image, new Set([node]));
    const b = this.#budget(demand.budget);
    b.reserved++;
    b.lastStart = Math.max(b.lastStart, now);
    this.#loadNode(node, 1);
    demand.taken.add(node);
  }

  #dropReservation(r: Reservation): void {
    this.#reservations.delete(r.key);
    const nodes = this.#reservedNodes.get(r.image);
    if (nodes?.delete(r.node) && nodes.size === 0) this.#reservedNodes.delete(r.image);
    this.#budget(r.budget).reserved--;
    this.#loadNode(r.node, -1);
  }

  #expireReservations(now: number): void {
    let freed = false;
    for (const r of this.#reservations.values()) {
      if (r.expiresAt > now) break;
      this.#dropReservation(r);
      freed = true;
    }
    if (freed) this.#wakeClaimants();
  }

  /** How many starts a budget allows at `now`, before anyone claims them. */
  #startsNow(key: string, now: number): number {
    const b = this.#budgets.get(key);
    const config = this.#configOf(b);
    const free = config.maxConcurrent - (b?.active ?? 0) - (b?.reserved ?? 0);
    if (free <= 0) return 0;
    if (config.minDelayMs > 0) {
      return now - (b?.lastStart ?? -Infinity) >= config.minDelayMs ? 1 : 0;
    }
    return free;
  }

  #sortedDemands(): DemandState[] {
    if (this.#orderDirty) {
      this.#order = [...this.#demands.values()].sort(compareDemands);
      this.#orderDirty = false;
    }
    return this.#order;
  }

  /**
   * Walks the global order once, handing each budget's available starts to the first images
   * that can use them, as if every image asked at this instant. `target`'s entry is its grant.
   */
  #plan(now: number, target?: DemandState, targetLimit = Infinity): Plan {
    const avail = new Map<string, number>();
    const claims = new Map<DemandState, string[]>();
    const claimedAhead = new Map<string, number>();
    const claimed = new Set<string>();
    const busy = (node: string) => this.#nodeLoad.has(node) || claimed.has(node);
    const busyNodes = () => concat(this.#nodeLoad.keys(), claimed);
    let passedTarget = false;
    for (const d of this.#sortedDemands()) {
      if (d === target) passedTarget = true;
      let a = avail.get(d.budget);
      if (a === undefined) {
        a = this.#startsNow(d.budget, now);
        avail.set(d.budget, a);
      }
      if (a <= 0 || d.blockedUntil > now) continue;
      const nodes = d.pick(d === target ? Math.min(a, targetLimit) : a, now, busy, busyNodes);
      if (nodes.length === 0) continue;
      avail.set(d.budget, a - nodes.length);
      for (const n of nodes) claimed.add(n);
      claims.set(d, nodes);
      if (target && !passedTarget) {
        claimedAhead.set(d.budget, (claimedAhead.get(d.budget) ?? 0) + nodes.length);
      }
    }
    return { claims, claimedAhead, claimed };
  }

  /**
   * Runs a plan and wakes everyone who may start now. Also wakes, for every budget with a free
   * slot that only `minDelay` keeps closed, the first image in line that is not backing off: the
   * engine has no timers, so that image must learn now when to ask again (otherwise it would
   * wait for its idle retry, having last been told the budget was full).
   */
  #wakeClaimants(): void {
    if (!this.#onWake || this.#demands.size === 0) return;
    const now = this.#now();
    const plan = this.#plan(now);
    for (const d of plan.claims.keys()) this.#onWake(d.image);
    const handled = new Set<string>();
    const busy = (node: string) => this.#nodeLoad.has(node) || plan.claimed.has(node);
    const busyNodes = () => concat(this.#nodeLoad.keys(), plan.claimed);
    for (const d of this.#sortedDemands()) {
      if (handled.has(d.budget) || d.blockedUntil > now) continue;
      if (plan.claims.has(d)) {
        // Someone in this budget was woken already.
        handled.add(d.budget);
        continue;
      }
      if (d.pick(1, now, busy, busyNodes).length === 0) continue;
      handled.add(d.budget);
      const b = this.#budgets.get(d.budget);
      if ((b?.active ?? 0) + (b?.reserved ?? 0) < this.#configOf(b).maxConcurrent) {
        this.#onWake(d.image);
      }
    }
  }

  /**
   * Why `demand` still waits after this call's grants, and when it should look again. It waits
   * for its own backoff, its budget and a free node. Each of these becomes ready either at a
   * known time (a backoff or `minDelay` ending) or on an event (a Pod ending or going away, which
   * wakes the image if it is then first in line). A known time passes silently, so the image
   * looks again at the latest known time; when only events remain, after `idleRetryMs` as a
   * safety net, or when a reservation of a full budget expires, whichever is first.
   */
  #whenAgain(
    demand: DemandState,
    plan: Plan,
    now: number,
  ): { retryAfterMs: number; waiting: WaitReason } {
    const b = this.#budgets.get(demand.budget);
    const config = this.#configOf(b);
    const ahead = plan.claimedAhead.get(demand.budget) ?? 0;
    // Assume the images ahead take what they were offered: then this image's turn comes after.
    const used = (b?.active ?? 0) + (b?.reserved ?? 0) + ahead;
    const lastStart = ahead > 0 ? now : (b?.lastStart ?? -Infinity);
    const full = used >= config.maxConcurrent;

    let known = Math.max(now, demand.blockedUntil);
    let budgetWait: WaitReason | undefined;
    if (full) {
      budgetWait = ahead > 0 ? "queued" : "capacity";
    } else if (config.minDelayMs > 0 && now - lastStart < config.minDelayMs) {
      budgetWait = ahead > 0 ? "queued" : "delay";
      known = Math.max(known, lastStart + config.minDelayMs);
    }
    const busy = (node: string) => this.#nodeLoad.has(node) || plan.claimed.has(node);
    const busyNodes = () => concat(this.#nodeLoad.keys(), plan.claimed);
    if (demand.pick(1, now, busy, busyNodes).length === 0) {
      // Busy nodes free on events; blocked ones at a known time.
      known = Math.max(known, demand.nextUnblock(now) ?? now);
    }

    let at = known;
    if (at <= now) {
      at = now + this.#idleRetry;
      if (full) at = Math.min(at, this.#reservationExpiry(demand.budget) ?? Infinity);
    }
    const waiting: WaitReason = demand.blockedUntil > now ? "backoff" : budgetWait ?? "nodes";
    return { retryAfterMs: Math.max(1, Math.ceil(at - now)), waiting };
  }

  /** When the first reservation of `budget` expires, if any. */
  #reservationExpiry(budget: string): number | undefined {
    for (const r of this.#reservations.values()) if (r.budget === budget) return r.expiresAt;
    return undefined;
  }
}

function reservationKey(image: string, node: string): string {
  return `${image}\u0000${node}`;
}

function* concat<T>(...parts: Iterable<T>[]): Iterable<T> {
  for (const p of parts) yield* p;
}
