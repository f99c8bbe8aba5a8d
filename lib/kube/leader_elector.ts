import type { Lease, LeaseSpec } from "kubernetes-types/coordination/v1.d.ts";
import { sleepUnlessAborted } from "./_abort.ts";
import { isAlreadyExists, isConflict, isNotFound } from "./errors.ts";

/** The Lease calls the elector needs; a namespaced `ResourceClient<Lease>` provides them. */
export interface LeaseClient {
  /** Reads the Lease. */
  get(name: string, opts?: { signal?: AbortSignal }): Promise<Lease>;
  /** Creates the Lease. */
  create(obj: Lease, opts?: { signal?: AbortSignal }): Promise<Lease>;
  /** Replaces the Lease, carrying its resourceVersion. */
  replace(obj: Lease, opts?: { signal?: AbortSignal }): Promise<Lease>;
}

/** Options of {@linkcode LeaderElector}. */
export interface LeaderElectorOptions {
  /** Client for Leases in the lock's namespace. */
  client: LeaseClient;
  /** Lease name. */
  name: string;
  /** This candidate's identity, unique per process (e.g. pod name + random suffix). */
  identity: string;
  /** How long a lease is valid after its holder last renewed it. Default 15 s. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** Called on becoming leader; `signal` aborts when leadership ends. May return a promise (the workers). */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once leadership has ended (lost, or released on shutdown). */
  onStoppedLeading?(): void;
  /** Called when the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
  /** Release the lease on shutdown after `onStartedLeading`'s promise settles. Default true. */
  releaseOnCancel?: boolean;
  /** Called with failed attempts (for logs); default silent since failures are routine. */
  onError?(error: unknown): void;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
}

/**
 * Lease-based leader election following client-go: the holder renews every retry period, gives
 * up when it cannot renew within the renew deadline, and others take over once they have seen
 * the same lease record unchanged for a whole lease duration on their *own* clock (clocks of
 * different machines are never compared).
 *
 * A renewal is a single update of the Lease the server last returned; only when that fails (a
 * conflicting write, or any error) does the holder read the Lease and decide again, so steady
 * leadership costs one request per retry period.
 */
export class LeaderElector {
  readonly #opts: LeaderElectorOptions;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  /** The Lease as the server last returned it; renewals replace it without reading first. */
  #observed?: Lease;
  #observedAt = 0;
  #leader = "";
  #isLeader = false;

  /** Creates an elector; throws when the timing is inconsistent or the identity empty. */
  constructor(opts: LeaderElectorOptions) {
    this.#opts = opts;
    this.#leaseMs = opts.leaseDurationMs ?? 15_000;
    this.#renewMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryMs = opts.retryPeriodMs ?? 2_000;
    this.#now = opts.now ?? Date.now;
    if (!(this.#leaseMs > this.#renewMs)) {
      throw new Error(
        "Cannot create leader elector: lease duration must exceed the renew deadline",
      );
    }
    if (!(this.#renewMs > this.#retryMs)) {
      throw new Error("Cannot create leader elector: renew deadline must exceed the retry period");
    }
    if (!opts.identity) throw new Error("Cannot create leader elector: identity is empty");
  }

  /** True while this candidate holds the lease. */
  isLeader(): boolean {
    return this.#isLeader;
  }

  /** Identity of the leader last observed ("" when none). */
  get leader(): string {
    return this.#leader;
  }

  /**
   * Campaigns until elected, leads until leadership is lost or `signal` aborts, then returns.
   * On abort the lease is released after `onStartedLeading`'s promise settles, so a successor
   * takes over at once instead of waiting for expiry.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.#acquire(signal))) return;
    const leading = new AbortController();
    const onAbort = () => leading.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    this.#isLeader = true;
    let work: Promise<void>;
    try {
      work = Promise.resolve(this.#opts.onStartedLeading(leading.signal));
    } catch (e) {
      work = Promise.reject(e);
    }
    // A failing leader workload ends leadership instead of leaving a leader that does nothing.
    const settled = work.then(
      () => {},
      (e) => this.#report(e),
    ).finally(() => leading.abort());
    try {
      await this.#renewLoop(leading.signal);
    } finally {
      leading.abort();
      signal.removeEventListener("abort", onAbort);
      await settled;
      this.#isLeader = false;
      if (this.#opts.releaseOnCancel ?? true) await this.#release();
      this.#opts.onStoppedLeading?.();
    }
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.#tryAcquireOrRenew(signal)) return true;
      // client-go jitters the retry by up to 1.2x to spread competing candidates.
      if (!(await sleepUnlessAborted(this.#retryMs * (1 + 1.2 * Math.random()), signal))) break;
    }
    return false;
  }

  async #renewLoop(signal: AbortSignal): Promise<void> {
    let lastRenew = this.#now();
    while (!signal.aborted) {
      if (!(await sleepUnlessAborted(this.#retryMs, signal))) return;
      // Each attempt is bounded by what is left of the renew deadline.
      const left = this.#renewMs - (this.#now() - lastRenew);
      const attempt = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, left))]);
      if (await this.#tryAcquireOrRenew(attempt)) {
        lastRenew = this.#now();
        continue;
      }
      if (signal.aborted) return;
      if (this.#leader !== this.#opts.identity) {
        this.#report(
          new Error(`Lost the lease ${this.#opts.name}: ${this.#leader || "nobody"} holds it now`),
        );
        return;
      }
      if (this.#now() - lastRenew >= this.#renewMs) {
        const seconds = this.#renewMs / 1000;
        this.#report(
          new Error(`Cannot renew the lease ${this.#opts.name} within ${seconds} s: stepping down`),
        );
        return;
      }
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { client, name, identity } = this.#opts;
    const now = this.#now();
    const nowTime = microTime(now);
    // Fast path, as client-go's: a leader renews from the Lease it last wrote, in one request.
    // Its resourceVersion makes the write fail with 409 Conflict if anyone else wrote since.
    const mine = this.#observed;
    if (
      this.#isLeader && mine?.spec?.holderIdentity === identity &&
      now < this.#observedAt + this.#leaseMs
    ) {
      try {
        const updated = await client.replace({
          ...mine,
          spec: {
            ...mine.spec,
            leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
            renewTime: nowTime,
          },
        }, { signal });
        this.#observe(updated, this.#now());
        return true;
      } catch (e) {
        if (!isConflict(e)) this.#report(e);
        if (signal.aborted) return false;
        // Read the Lease and decide from what is there now.
      }
    }
    let lease: Lease;
    try {
      lease = await client.get(name, { signal });
    } catch (e) {
      if (!isNotFound(e)) {
        this.#report(e);
        return false;
      }
      const spec: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
        acquireTime: nowTime,
        renewTime: nowTime,
        leaseTransitions: 0,
      };
      try {
        const created = await client.create({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name },
          spec,
        }, { signal });
        this.#observe(created, this.#now());
        return true;
      } catch (e2) {
        if (!isAlreadyExists(e2)) this.#report(e2);
        return false;
      }
    }
    this.#observe(lease, now);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    const held = holder !== "" && holder !== identity;
    if (held && now < this.#observedAt + this.#leaseMs) return false;
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#leaseMs / 1000),
      renewTime: nowTime,
    };
    if (holder !== identity) {
      next.acquireTime = nowTime;
      next.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    try {
      const updated = await client.replace({ ...lease, spec: next }, { signal });
      this.#observe(updated, this.#now());
      return true;
    } catch (e) {
      if (!isConflict(e)) this.#report(e);
      return false;
    }
  }

  async #release(): Promise<void> {
    const { client, name, identity } = this.#opts;
    // Shutdown must not hang on an unreachable API server.
    const signal = AbortSignal.timeout(this.#renewMs);
    try {
      const lease = await client.get(name, { signal });
      if (lease.spec?.holderIdentity !== identity) return;
      const nowTime = microTime(this.#now());
      await client.replace({
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: nowTime,
          acquireTime: nowTime,
        },
      }, { signal });
    } catch (e) {
      this.#report(e);
    }
  }

  #observe(lease: Lease, at: number): void {
    const rv = lease.metadata?.resourceVersion;
    // resourceVersions are opaque: only equality says "unchanged".
    if (this.#observed === undefined || rv !== this.#observed.metadata?.resourceVersion) {
      this.#observedAt = at;
    }
    this.#observed = lease;
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder !== this.#leader) {
      this.#leader = holder;
      if (holder) this.#opts.onNewLeader?.(holder);
    }
  }

  #report(e: unknown): void {
    try {
      this.#opts.onError?.(e);
    } catch {
      // Reporting is best effort.
    }
  }
}

/** metav1.MicroTime wire format: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
