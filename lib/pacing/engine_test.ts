import assert from "node:assert/strict";
import { DEFAULT_BUDGET } from "./budget.ts";
import { PacingEngine } from "./engine.ts";
import { decision, needs, podView, testEngine } from "./_testing.ts";

const FREE = { maxConcurrent: 1, minDelayMs: 0 };

Deno.test("a budget never has more than maxConcurrent pulls in flight", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", { maxConcurrent: 2, minDelayMs: 0 });
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2", "n3", "n4") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1", "n2"]);
  const again = engine.tryAcquire("a");
  assert.deepEqual(again.grants, []);
  assert.equal(again.waiting, "capacity");
  assert.ok(again.retryAfterMs! > 0);

  // The pods appear (confirming the reservations), then one finishes.
  engine.observePod(podView("a", "n1", "p", clock.now));
  engine.observePod(podView("a", "n2", "p", clock.now));
  assert.deepEqual(engine.usage("p"), {
    maxConcurrent: 2,
    minDelayMs: 0,
    active: 2,
    reserved: 0,
    lastStartAt: clock.now,
  });
  assert.deepEqual(engine.tryAcquire("a").grants, []);
  engine.observePod(podView("a", "n1", "p", clock.now, false));
  assert.deepEqual(engine.tryAcquire("a").grants, ["n3"]);
  assert.equal(engine.activePulls(), 1);
});

Deno.test("starts under a budget are at least minDelay apart", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", { maxConcurrent: 5, minDelayMs: 10_000 });
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2", "n3") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  const early = engine.tryAcquire("a");
  assert.deepEqual(decision(early), { grants: [], retryAfterMs: 10_000, waiting: "delay" });
  clock.advance(9_999);
  assert.deepEqual(engine.tryAcquire("a").grants, []);
  assert.equal(engine.tryAcquire("a").retryAfterMs, 1);
  clock.advance(1);
  const next = engine.tryAcquire("a");
  assert.deepEqual(decision(next), { grants: ["n2"], retryAfterMs: 10_000, waiting: "delay" });
});

Deno.test("minDelay counts from pods seen in the cache, never from the future", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", { maxConcurrent: 5, minDelayMs: 10_000 });
  engine.observePod(podView("other", "n9", "p", clock.now - 4_000, false));
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  assert.deepEqual(decision(engine.tryAcquire("a")), {
    grants: [],
    retryAfterMs: 6_000,
    waiting: "delay",
  });
  // A creationTimestamp ahead of our clock counts as now, not as a start in the future.
  engine.observePod(podView("skewed", "n8", "p", clock.now + 3_600_000, false));
  assert.equal(engine.tryAcquire("a").retryAfterMs, 10_000);
});

Deno.test("a node runs one pull at a time across images and budgets", () => {
  const { engine } = testEngine();
  engine.setBudget("x", FREE);
  engine.setBudget("y", FREE);
  engine.setDemand("a", { budget: "x", nodes: needs("n1") });
  engine.setDemand("b", { budget: "y", nodes: needs("n1", "n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  assert.deepEqual(engine.tryAcquire("b").grants, ["n2"]);

  const { engine: e2, clock } = testEngine();
  e2.observePod(podView("c", "n1", "z", clock.now));
  e2.setBudget("y", FREE);
  e2.setDemand("b", { budget: "y", nodes: needs("n1") });
  const r = e2.tryAcquire("b");
  assert.deepEqual(r.grants, []);
  assert.equal(r.waiting, "nodes");
});

Deno.test("pods stuck in image-pull errors hold neither their budget nor their node", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", FREE);
  engine.observePod(podView("a", "n1", "p", clock.now - 60_000));
  engine.setDemand("b", { budget: "p", nodes: needs("n1", "n2") });
  assert.deepEqual(engine.tryAcquire("b").grants, []);
  engine.observePod(podView("a", "n1", "p", clock.now - 60_000, false)); // now ImagePullBackOff
  assert.equal(engine.usage("p").active, 0);
  assert.deepEqual(engine.tryAcquire("b").grants, ["n1"]);
});

Deno.test("images go by priority ascending, then name, whoever asks first", () => {
  const { engine, woken } = testEngine();
  engine.setBudget("p", FREE);
  engine.setDemand("b", { budget: "p", nodes: needs("n2") });
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  engine.setDemand("z", { budget: "p", priority: -10, nodes: needs("n3") });

  const b = engine.tryAcquire("b");
  assert.deepEqual(b.grants, []);
  assert.equal(b.waiting, "queued");
  assert.deepEqual(woken, ["z"]);
  assert.deepEqual(engine.tryAcquire("a").grants, []);
  assert.deepEqual(engine.tryAcquire("z").grants, ["n3"]);

  // z's pull ends and z has nothing left: a is next, then b.
  engine.observePod(podView("z", "n3", "p", 0, false));
  engine.clearDemand("z");
  assert.equal(woken.at(-1), "a");
  assert.deepEqual(engine.tryAcquire("b").grants, []);
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
});

Deno.test("within an image, the newest nodes go first, ties by name", () => {
  const { engine } = testEngine();
  engine.setBudget("p", { maxConcurrent: 10, minDelayMs: 0 });
  engine.setDemand("a", {
    budget: "p",
    nodes: [
      { name: "old", joinedAt: 1 },
      { name: "new-b", joinedAt: 9 },
      { name: "mid", joinedAt: 5 },
      { name: "new-a", joinedAt: 9 },
    ],
  });
  assert.deepEqual(engine.tryAcquire("a").grants, ["new-a", "new-b", "mid", "old"]);
});

Deno.test("images in backoff or with nothing startable do not hold up the images behind", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", FREE);
  // First in order, but in image-level backoff.
  engine.setDemand("a", { budget: "p", nodes: needs("n1"), blockedUntil: clock.now + 60_000 });
  // Second, but its only node is in node-level backoff.
  engine.setDemand("b", {
    budget: "p",
    nodes: [{ name: "n2", joinedAt: 1, blockedUntil: clock.now + 30_000 }],
  });
  // Third, but its only node is busy with another budget's pull.
  engine.observePod(podView("x", "n3", "other", clock.now));
  engine.setDemand("c", { budget: "p", nodes: needs("n3") });
  engine.setDemand("d", { budget: "p", nodes: needs("n4") });

  assert.deepEqual(decision(engine.tryAcquire("a")), {
    grants: [],
    retryAfterMs: 60_000,
    waiting: "backoff",
  });
  assert.deepEqual(decision(engine.tryAcquire("b")), {
    grants: [],
    retryAfterMs: 30_000,
    waiting: "nodes",
  });
  assert.equal(engine.tryAcquire("c").waiting, "nodes");
  assert.deepEqual(engine.tryAcquire("d").grants, ["n4"]);
});

Deno.test("a lower image cannot take the slot an image ahead of it can use", () => {
  const { engine, woken } = testEngine();
  engine.setBudget("p", { maxConcurrent: 2, minDelayMs: 0 });
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  engine.setDemand("b", { budget: "p", nodes: needs("n2", "n3") });
  // Two slots: a can use one, so b gets exactly one, and a is woken to take its own.
  const b = engine.tryAcquire("b");
  assert.deepEqual(b.grants, ["n2"]);
  assert.equal(b.waiting, "queued");
  assert.deepEqual(woken, ["a"]);
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
});

Deno.test("an image ahead in another budget keeps a shared node", () => {
  const { engine } = testEngine();
  engine.setBudget("x", FREE);
  engine.setBudget("y", FREE);
  engine.setDemand("a", { budget: "x", priority: -1, nodes: needs("n1") });
  engine.setDemand("b", { budget: "y", nodes: needs("n1", "n2") });
  assert.deepEqual(engine.tryAcquire("b").grants, ["n2"]);
});

Deno.test("a synchronous check-and-reserve lets only one racing reconcile take the last slot", async () => {
  const { engine } = testEngine();
  engine.setBudget("p", { maxConcurrent: 3, minDelayMs: 0 });
  const images = Array.from({ length: 10 }, (_, i) => `img-${i}`);
  const granted: string[] = [];
  await Promise.all(images.map(async (image, i) => {
    await Promise.resolve();
    engine.setDemand(image, { budget: "p", nodes: needs(`n${i}`) });
    await new Promise((r) => setTimeout(r, 0));
    granted.push(...engine.tryAcquire(image).grants);
  }));
  assert.equal(granted.length, 3);
  assert.equal(engine.usage("p").reserved, 3);
});

Deno.test("a reconcile from a stale cache is not granted a node already granted", () => {
  const { engine } = testEngine();
  engine.setBudget("p", { maxConcurrent: 5, minDelayMs: 0 });
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1", "n2"]);
  // The informer has not delivered the pods yet: the next reconcile lists the same nodes.
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2", "n3") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n3"]);
});

Deno.test("reservations expire when no pod shows up, and can be released", () => {
  const { engine, clock } = testEngine({ reservationTtlMs: 5_000 });
  engine.setBudget("p", FREE);
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  const waiting = engine.tryAcquire("a");
  assert.deepEqual(waiting.grants, []);
  assert.equal(waiting.retryAfterMs, 5_000, "a full budget looks again when a reservation expires");
  clock.advance(5_000);
  assert.deepEqual(engine.tryAcquire("a").grants, ["n2"]);

  assert.equal(engine.release("a", "n2"), true);
  assert.equal(engine.release("a", "n2"), false);
  assert.equal(engine.usage("p").reserved, 0);
  // A released node may be granted again.
  engine.setDemand("a", { budget: "p", nodes: needs("n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n2"]);
});

Deno.test("a new pod confirms its reservation; an old pod of the same node does not", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", { maxConcurrent: 2, minDelayMs: 0 });
  engine.observePod({ ...podView("a", "n1", "p", clock.now - 60_000, false), key: "ns/old" });
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  engine.observePod({ ...podView("a", "n1", "p", clock.now - 60_000, false), key: "ns/old" });
  assert.equal(engine.usage("p").reserved, 1);
  engine.observePod({ ...podView("a", "n1", "p", clock.now), key: "ns/new" });
  assert.deepEqual({ ...engine.usage("p"), lastStartAt: 0 }, {
    maxConcurrent: 2,
    minDelayMs: 0,
    active: 1,
    reserved: 0,
    lastStartAt: 0,
  });
  engine.forgetPod("ns/new");
  assert.equal(engine.usage("p").active, 0);
});

Deno.test("two budgets pace independently", () => {
  const { engine } = testEngine();
  engine.setBudget("x", { maxConcurrent: 1, minDelayMs: 60_000 });
  engine.setBudget("y", { maxConcurrent: 1, minDelayMs: 60_000 });
  engine.setDemand("a", { budget: "x", nodes: needs("n1", "n2") });
  engine.setDemand("b", { budget: "y", nodes: needs("n3", "n4") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  assert.deepEqual(engine.tryAcquire("b").grants, ["n3"]);
  assert.equal(engine.usage("x").reserved, 1);
  assert.equal(engine.usage("y").reserved, 1);
});

Deno.test("images without a policy, or with a missing one, share the default budget", () => {
  const { engine } = testEngine({ defaultBudget: { maxConcurrent: 1, minDelayMs: 10_000 } });
  engine.setDemand("a", { budget: DEFAULT_BUDGET, nodes: needs("n1") });
  engine.setDemand("b", { budget: DEFAULT_BUDGET, nodes: needs("n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  assert.deepEqual(engine.tryAcquire("b").grants, []);
  assert.deepEqual(engine.usage(DEFAULT_BUDGET), {
    maxConcurrent: 1,
    minDelayMs: 10_000,
    active: 0,
    reserved: 1,
    lastStartAt: 1_000_000,
  });
});

Deno.test("the built-in default budget is one node, 10 s apart", () => {
  const engine = new PacingEngine({ now: () => 0 });
  assert.deepEqual(engine.usage(DEFAULT_BUDGET), {
    maxConcurrent: 1,
    minDelayMs: 10_000,
    active: 0,
    reserved: 0,
  });
});

Deno.test("freeing a slot wakes the image first in line", () => {
  const { engine, clock, woken } = testEngine();
  engine.setBudget("p", FREE);
  engine.observePod(podView("x", "n9", "p", clock.now));
  engine.setDemand("b", { budget: "p", nodes: needs("n2") });
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  assert.equal(engine.tryAcquire("b").waiting, "capacity");
  assert.deepEqual(woken, []);
  engine.forgetPod("drop-system/x-n9");
  assert.deepEqual(woken, ["a"]);
});

Deno.test("raising a budget's capacity wakes the images that can now start", () => {
  const { engine, woken } = testEngine();
  engine.setBudget("p", FREE);
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  engine.setDemand("b", { budget: "p", nodes: needs("n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  engine.setBudget("p", { maxConcurrent: 2, minDelayMs: 0 });
  assert.deepEqual(woken, ["b"]);
});

Deno.test("a released reservation wakes the next image", () => {
  const { engine, woken } = testEngine();
  engine.setBudget("p", FREE);
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  engine.setDemand("b", { budget: "p", nodes: needs("n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  engine.clearDemand("a");
  woken.length = 0;
  engine.release("a", "n1");
  assert.deepEqual(woken, ["b"]);
});

Deno.test("many nodes in node-level backoff: the free one is found, none free means wait", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", FREE);
  const nodes = Array.from({ length: 500 }, (_, i) => ({
    name: `n${String(i).padStart(3, "0")}`,
    joinedAt: 1_000 - i,
    blockedUntil: i === 499 ? undefined : clock.now + 1_000 + i,
  }));
  engine.setDemand("a", { budget: "p", nodes });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n499"]);

  // a's pull on n499 stays in flight and holds a slot; b wants the blocked nodes.
  engine.clearDemand("a");
  engine.setDemand("b", { budget: "p", nodes: nodes.slice(0, 499) });
  engine.setBudget("p", { maxConcurrent: 2, minDelayMs: 0 });
  assert.deepEqual(decision(engine.tryAcquire("b")), {
    grants: [],
    retryAfterMs: 1_000,
    waiting: "nodes",
  });
  clock.advance(1_000);
  assert.deepEqual(engine.tryAcquire("b").grants, ["n000"]);
});

Deno.test("a changed budget key moves an active pod's slot", () => {
  const { engine, clock } = testEngine();
  engine.observePod(podView("a", "n1", "x", clock.now));
  engine.observePod(podView("a", "n1", DEFAULT_BUDGET, clock.now));
  assert.equal(engine.usage("x").active, 0);
  assert.equal(engine.usage(DEFAULT_BUDGET).active, 1);
  assert.equal(engine.activePulls(), 1);
});

Deno.test("an image with no demand gets nothing and no retry", () => {
  const { engine } = testEngine();
  assert.deepEqual(decision(engine.tryAcquire("ghost")), { grants: [] });
  engine.setDemand("a", { budget: "p", nodes: [] });
  assert.deepEqual(decision(engine.tryAcquire("a")), { grants: [] });
});

Deno.test("setBudget refuses limits that cannot pace", () => {
  const { engine } = testEngine();
  assert.throws(() => engine.setBudget("p", { maxConcurrent: 0, minDelayMs: 0 }), /maxConcurrent/);
});

Deno.test("a pod that stops being active wakes the image first in line", () => {
  const { engine, clock, woken } = testEngine();
  engine.setBudget("p", FREE);
  engine.observePod(podView("x", "n9", "p", clock.now));
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  assert.equal(engine.tryAcquire("a").waiting, "capacity");
  engine.observePod(podView("x", "n9", "p", clock.now)); // an update that changes nothing
  assert.deepEqual(woken, []);
  engine.observePod(podView("x", "n9", "p", clock.now, false)); // pulled, or stuck
  assert.deepEqual(woken, ["a"]);
});

Deno.test("an image waiting on a full budget and a node in backoff looks again when the node is free", () => {
  const { engine, clock } = testEngine({ idleRetryMs: 30_000 });
  engine.setBudget("p", FREE);
  engine.observePod(podView("x", "n9", "p", clock.now));
  engine.setDemand("a", {
    budget: "p",
    nodes: [{ name: "n1", joinedAt: 0, blockedUntil: clock.now + 4_000 }],
  });
  // The slot frees on an event, but the node's backoff ends silently: look again then.
  assert.deepEqual(decision(engine.tryAcquire("a")), {
    grants: [],
    retryAfterMs: 4_000,
    waiting: "capacity",
  });
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  assert.deepEqual(decision(engine.tryAcquire("a")), {
    grants: [],
    retryAfterMs: 30_000,
    waiting: "capacity",
  });
});

Deno.test("the latest known time wins: minDelay ending after a node backoff", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", { maxConcurrent: 3, minDelayMs: 10_000 });
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1"]);
  engine.setDemand("b", {
    budget: "p",
    nodes: [{ name: "n2", joinedAt: 0, blockedUntil: clock.now + 4_000 }],
  });
  assert.deepEqual(decision(engine.tryAcquire("b")), {
    grants: [],
    retryAfterMs: 10_000,
    waiting: "delay",
  });
});

Deno.test("a slot freeing during minDelay wakes the first image in line to learn its retry", () => {
  const { engine, clock, woken } = testEngine();
  engine.setBudget("p", { maxConcurrent: 1, minDelayMs: 10_000 });
  engine.observePod(podView("x", "n9", "p", clock.now));
  engine.setDemand("a", { budget: "p", nodes: needs("n1") });
  const full = engine.tryAcquire("a");
  assert.equal(full.waiting, "capacity");
  clock.advance(1_000);
  // The pull ends while the budget's 10 s delay still runs: nobody may start now, but "a" was
  // last told "full" and must hear that it can start once the delay is over.
  engine.observePod(podView("x", "n9", "p", clock.now - 1_000, false));
  assert.deepEqual(woken, ["a"]);
  const again = engine.tryAcquire("a");
  assert.equal(again.waiting, "delay");
  assert.equal(again.retryAfterMs, 9_000);
});

Deno.test("a limit caps the grants of one call and says more may start at once", () => {
  const { engine } = testEngine();
  engine.setBudget("p", { maxConcurrent: 5, minDelayMs: 0 });
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2", "n3", "n4", "n5", "n6") });
  const first = engine.tryAcquire("a", 2);
  assert.deepEqual(decision(first), { grants: ["n1", "n2"], retryAfterMs: 0, waiting: "limit" });
  assert.deepEqual(engine.tryAcquire("a", 2).grants, ["n3", "n4"]);
  // One slot is left: the budget, not the limit, stops this call.
  const last = engine.tryAcquire("a", 2);
  assert.deepEqual(last.grants, ["n5"]);
  assert.equal(last.waiting, "capacity");
  // A limit that is not reached changes nothing.
  engine.setDemand("b", { budget: "q", nodes: needs("m1") });
  assert.deepEqual(decision(engine.tryAcquire("b", 8)), { grants: ["m1"] });
});

Deno.test("pendingNodes counts the demand's nodes not granted yet", () => {
  const { engine } = testEngine();
  engine.setBudget("p", { maxConcurrent: 2, minDelayMs: 0 });
  assert.equal(engine.pendingNodes("a"), 0);
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2", "n3") });
  assert.equal(engine.pendingNodes("a"), 3);
  engine.tryAcquire("a");
  assert.equal(engine.pendingNodes("a"), 1);
  engine.clearDemand("a");
  assert.equal(engine.pendingNodes("a"), 0);
});

Deno.test("a node granted before a new demand is not granted again from it after its Pod ended", () => {
  const { engine, clock } = testEngine();
  engine.setBudget("p", { maxConcurrent: 5, minDelayMs: 0 });
  engine.setDemand("a", { budget: "p", nodes: needs("n1", "n2") });
  assert.deepEqual(engine.tryAcquire("a").grants, ["n1", "n2"]);
  // A new demand while n2's Pod is not in the cache yet (n1's is).
  engine.observePod(podView("a", "n1", "p", clock.now));
  engine.setDemand("a", { budget: "p", nodes: needs("n2", "n3") });
  engine.observePod(podView("a", "n2", "p", clock.now));
  engine.observePod(podView("a", "n2", "p", clock.now, false)); // pulled
  assert.deepEqual(engine.tryAcquire("a").grants, ["n3"]);
  assert.deepEqual(engine.tryAcquire("a").grants, []);
  // A failed create gives the node back to the demand.
  engine.setDemand("b", { budget: "p", nodes: needs("m1") });
  assert.deepEqual(engine.tryAcquire("b").grants, ["m1"]);
  engine.setDemand("b", { budget: "p", nodes: needs("m1") });
  engine.release("b", "m1");
  assert.deepEqual(engine.tryAcquire("b").grants, ["m1"]);
});
