import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import { KubeApiError } from "./errors.ts";
import { LeaderElector, type LeaseClient, microTime } from "./leader_elector.ts";
import { waitFor } from "./_test_helpers.ts";

/** An in-memory Lease store with resourceVersion checks, like the API server's. */
class FakeLeases implements LeaseClient {
  lease?: Lease;
  #rv = 0;
  failing = false;
  /** Requests received, by verb. */
  calls = { get: 0, create: 0, replace: 0 };

  /** A write by someone else (another candidate, or kubectl): a new resourceVersion. */
  writeBy(spec: Lease["spec"]): void {
    this.lease = {
      ...this.lease!,
      metadata: { ...this.lease!.metadata, resourceVersion: String(++this.#rv) },
      spec: { ...this.lease!.spec, ...spec },
    };
  }

  get(name: string): Promise<Lease> {
    this.calls.get++;
    if (this.failing) return Promise.reject(new Error("connection refused"));
    if (!this.lease) {
      return Promise.reject(
        new KubeApiError({ code: 404, reason: "NotFound", message: `leases "${name}" not found` }),
      );
    }
    return Promise.resolve(structuredClone(this.lease));
  }

  create(obj: Lease): Promise<Lease> {
    this.calls.create++;
    if (this.failing) return Promise.reject(new Error("connection refused"));
    if (this.lease) return Promise.reject(new KubeApiError({ code: 409, reason: "AlreadyExists" }));
    this.lease = {
      ...structuredClone(obj),
      metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) },
    };
    return Promise.resolve(structuredClone(this.lease));
  }

  replace(obj: Lease): Promise<Lease> {
    this.calls.replace++;
    if (this.failing) return Promise.reject(new Error("connection refused"));
    if (obj.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      return Promise.reject(new KubeApiError({ code: 409, reason: "Conflict" }));
    }
    this.lease = {
      ...structuredClone(obj),
      metadata: { ...obj.metadata, resourceVersion: String(++this.#rv) },
    };
    return Promise.resolve(structuredClone(this.lease));
  }
}

const TIMING = { leaseDurationMs: 1_500, renewDeadlineMs: 1_000, retryPeriodMs: 100 };

function candidate(
  leases: LeaseClient,
  identity: string,
  opts: { release?: boolean; leaseDurationMs?: number } = {},
) {
  const state = { leading: false, started: 0, stopped: 0, errors: [] as string[] };
  const ac = new AbortController();
  const elector = new LeaderElector({
    client: leases,
    name: "drop-operator",
    identity,
    ...TIMING,
    ...(opts.leaseDurationMs ? { leaseDurationMs: opts.leaseDurationMs } : {}),
    releaseOnCancel: opts.release ?? true,
    onStartedLeading: async (signal) => {
      state.leading = true;
      state.started++;
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      state.leading = false;
    },
    onStoppedLeading: () => {
      state.stopped++;
    },
    onError: (e) => state.errors.push(String(e)),
  });
  const done = elector.run(ac.signal);
  return { elector, state, ac, done };
}

Deno.test("microTime has six fractional digits", () => {
  assert.equal(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 67)), "2024-01-02T03:04:05.067000Z");
});

Deno.test("LeaderElector: two candidates, exactly one leader", async () => {
  const leases = new FakeLeases();
  // Production lease length, so a stalled event loop on a loaded machine cannot expire it.
  const a = candidate(leases, "a", { leaseDurationMs: 15_000 });
  const b = candidate(leases, "b", { leaseDurationMs: 15_000 });
  try {
    await waitFor(() => a.state.leading || b.state.leading, "a leader");
    // Several renew periods pass; the other must never lead meanwhile.
    for (let i = 0; i < 10; i++) {
      assert.ok(!(a.state.leading && b.state.leading), "never two leaders");
      await new Promise((r) => setTimeout(r, 50));
    }
    const leader = a.state.leading ? a : b;
    const follower = leader === a ? b : a;
    assert.equal(follower.state.started, 0);
    assert.equal(leases.lease?.spec?.holderIdentity, leader.elector.leader);
    assert.equal(follower.elector.leader, leader.elector.leader, "the follower knows the leader");
    assert.equal(leases.lease?.spec?.leaseDurationSeconds, 15);
  } finally {
    a.ac.abort();
    b.ac.abort();
    await Promise.all([a.done, b.done]);
  }
});

Deno.test("LeaderElector: a leader that dies without releasing is replaced after the lease duration", async () => {
  const leases = new FakeLeases();
  const a = candidate(leases, "a", { release: false });
  await waitFor(() => a.state.leading, "a to lead");
  const b = candidate(leases, "b");
  try {
    // a stops renewing and does not release: it "died".
    a.ac.abort();
    await a.done;
    assert.equal(leases.lease?.spec?.holderIdentity, "a", "a did not release");
    const lastRenew = Date.parse(leases.lease!.spec!.renewTime!);
    await waitFor(() => b.state.leading, "b to take over");
    // b can only have seen a's last renewal after it was written, so expiry is a hard lower bound.
    assert.ok(Date.now() - lastRenew >= TIMING.leaseDurationMs, "b waited for the lease to expire");
    assert.equal(leases.lease?.spec?.holderIdentity, "b");
    assert.equal(leases.lease?.spec?.leaseTransitions, 1);
  } finally {
    b.ac.abort();
    await b.done;
  }
});

Deno.test("LeaderElector: release on shutdown lets the next candidate take over at once", async () => {
  const leases = new FakeLeases();
  // A lease far longer than the wait below: only a release can explain a takeover.
  const long = { leaseDurationMs: 120_000 };
  const a = candidate(leases, "a", long);
  await waitFor(() => a.state.leading, "a to lead");
  const b = candidate(leases, "b", long);
  try {
    await new Promise((r) => setTimeout(r, 150)); // b observes a's lease
    assert.equal(b.state.leading, false);
    a.ac.abort();
    await a.done;
    assert.equal(a.state.stopped, 1);
    assert.equal(leases.lease?.spec?.holderIdentity, "", "released");
    await waitFor(() => b.state.leading, "b to take over", 30_000);
    assert.equal(leases.lease?.spec?.holderIdentity, "b");
  } finally {
    b.ac.abort();
    await b.done;
  }
});

Deno.test("LeaderElector: a leader that cannot renew within the deadline steps down", async () => {
  const leases = new FakeLeases();
  const a = candidate(leases, "a");
  try {
    await waitFor(() => a.state.leading, "a to lead");
    leases.failing = true;
    await a.done; // run() returns once leadership is lost
    assert.equal(a.state.leading, false);
    assert.equal(a.state.stopped, 1);
    assert.equal(a.elector.isLeader(), false);
    assert.ok(
      a.state.errors.some((e) => /Cannot renew the lease drop-operator within 1 s/.test(e)),
      `why it stepped down is reported: ${a.state.errors.join("; ")}`,
    );
  } finally {
    a.ac.abort();
  }
});

Deno.test("LeaderElector: steady leadership costs one update per retry period", async () => {
  const leases = new FakeLeases();
  const a = candidate(leases, "a");
  try {
    await waitFor(() => a.state.leading, "a to lead");
    const before = { ...leases.calls };
    const rvBefore = Number(leases.lease!.metadata!.resourceVersion);
    const renewedBefore = Date.parse(leases.lease!.spec!.renewTime!);
    const t0 = performance.now();
    await waitFor(() => leases.calls.replace - before.replace >= 10, "10 renewals");
    const elapsed = performance.now() - t0;
    const renewals = leases.calls.replace - before.replace;
    assert.equal(leases.calls.get, before.get, "no reads while leading");
    assert.equal(leases.calls.create, before.create);
    // Every update succeeded and renewed the lease.
    assert.equal(Number(leases.lease!.metadata!.resourceVersion), rvBefore + renewals);
    assert.ok(Date.parse(leases.lease!.spec!.renewTime!) > renewedBefore);
    assert.equal(leases.lease?.spec?.holderIdentity, "a");
    // A retry period passes between renewals: at most one request per period (never more).
    assert.ok(
      renewals <= elapsed / TIMING.retryPeriodMs + 2,
      `${renewals} requests in ${elapsed} ms`,
    );
    assert.equal(a.state.leading, true);
  } finally {
    a.ac.abort();
    await a.done;
  }
});

Deno.test("LeaderElector: a leader steps down when another holder wrote the lease", async () => {
  const leases = new FakeLeases();
  // A lease far longer than the test: only the conflicting write can end a's leadership.
  const a = candidate(leases, "a", { leaseDurationMs: 120_000 });
  try {
    await waitFor(() => a.state.leading, "a to lead");
    const gets = leases.calls.get;
    leases.writeBy({ holderIdentity: "b", renewTime: microTime(Date.now()) });
    const stolen = structuredClone(leases.lease);
    await a.done; // run() returns once leadership is lost
    assert.equal(a.state.leading, false);
    assert.equal(a.state.stopped, 1);
    assert.equal(a.elector.isLeader(), false);
    assert.ok(
      a.state.errors.some((e) => /Lost the lease drop-operator: b holds it now/.test(e)),
      `why it stepped down is reported: ${a.state.errors.join("; ")}`,
    );
    // The update conflicted, and a read showed b as the holder of a valid lease.
    assert.ok(leases.calls.get > gets, "a read the lease after the conflict");
    assert.equal(a.elector.leader, "b");
    assert.deepEqual(leases.lease, stolen, "a neither overwrote nor released b's lease");
  } finally {
    a.ac.abort();
  }
});

Deno.test("LeaderElector: a write that keeps the holder costs one read, not leadership", async () => {
  const leases = new FakeLeases();
  const a = candidate(leases, "a");
  try {
    await waitFor(() => a.state.leading, "a to lead");
    const gets = leases.calls.get;
    leases.writeBy({ leaseTransitions: 7 }); // e.g. someone edited the Lease
    const replaces = leases.calls.replace;
    await waitFor(() => leases.calls.replace - replaces >= 5, "5 more renewals");
    assert.equal(a.state.leading, true);
    assert.equal(a.state.started, 1);
    assert.equal(leases.calls.get, gets + 1, "one read after the conflict, then updates only");
    assert.equal(leases.lease?.spec?.holderIdentity, "a");
    assert.equal(leases.lease?.spec?.leaseTransitions, 7, "a kept the other writer's fields");
  } finally {
    a.ac.abort();
    await a.done;
  }
});

Deno.test("LeaderElector validates its timing", () => {
  const leases = new FakeLeases();
  const base = { client: leases, name: "l", identity: "a", onStartedLeading: () => {} };
  assert.throws(
    () => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
    /lease duration must exceed the renew deadline/,
  );
  assert.throws(
    () => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
    /renew deadline must exceed the retry period/,
  );
  assert.throws(() => new LeaderElector({ ...base, identity: "" }), /identity is empty/);
});
