/**
 * Runs the engine the way the CachedImage controller will, against a simulated API server with
 * informer delays, random pull durations and pull failures, on a fake clock, and checks the
 * pacing invariants at every pull start.
 */
import assert from "node:assert/strict";
import { backoffDelay } from "./backoff.ts";
import { type BudgetConfig, DEFAULT_BUDGET } from "./budget.ts";
import { PacingEngine } from "./engine.ts";
import { FakeClock } from "./_testing.ts";

interface ImageSpec {
  name: string;
  priority: number;
  budget: string;
}

interface Scenario {
  seed: number;
  nodes: number;
  images: ImageSpec[];
  budgets: Record<string, BudgetConfig>;
  defaultBudget?: BudgetConfig;
  /** Share of pulls that get stuck in an image-pull error (each node fails at most twice). */
  failureRate: number;
}

interface ServerPod {
  key: string;
  image: string;
  node: string;
  budget: string;
  createdAt: number;
  state: "active" | "stuck" | "done";
  delivered: boolean;
  deleted: boolean;
}

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function simulate(s: Scenario): { starts: number; end: number } {
  const random = prng(s.seed);
  const clock = new FakeClock();
  const nodes = Array.from({ length: s.nodes }, (_, i) => ({ name: `node-${i}`, joinedAt: i }));
  const budgetOf = (key: string) => s.budgets[key] ?? s.defaultBudget!;

  // ---- Event loop with a work queue that collapses repeated triggers of one image.
  const events: { at: number; seq: number; run: () => void }[] = [];
  let seq = 0;
  const at = (time: number, run: () => void) => {
    const ev = { at: time, seq: seq++, run };
    let i = events.length;
    while (i > 0 && (events[i - 1].at > ev.at)) i--;
    events.splice(i, 0, ev);
  };
  const queuedAt = new Map<string, number>();
  const enqueue = (image: string, time: number) => {
    const existing = queuedAt.get(image);
    if (existing !== undefined && existing <= time) return;
    queuedAt.set(image, time);
    at(time, () => {
      if (queuedAt.get(image) !== time) return;
      queuedAt.delete(image);
      reconcile(image);
    });
  };

  const engine = new PacingEngine({
    now: clock.read,
    defaultBudget: s.defaultBudget,
    onWake: (image) => enqueue(image, clock.now),
  });
  for (const [key, config] of Object.entries(s.budgets)) engine.setBudget(key, config);

  // ---- Simulated API server and what the controller keeps per image.
  const server = new Map<string, ServerPod>();
  const cached = new Map<string, Set<string>>(s.images.map((i) => [i.name, new Set()]));
  const failures = new Map<string, number>();
  const blockedUntil = new Map<string, number>();
  const attempts = new Map<string, number>();
  const registered = new Set<string>();
  const lastStart = new Map<string, number>();
  let starts = 0;

  const live = () => [...server.values()].filter((p) => !p.deleted);
  const isBlocked = (image: string, node: string) =>
    (blockedUntil.get(`${image}/${node}`) ?? -Infinity) > clock.now;
  const rank = (i: ImageSpec) => [i.priority, i.name] as const;
  const ahead = (a: ImageSpec, b: ImageSpec) =>
    rank(a)[0] < rank(b)[0] || (rank(a)[0] === rank(b)[0] && rank(a)[1] < rank(b)[1]);

  function needsNode(image: string, node: string): boolean {
    if (cached.get(image)!.has(node)) return false;
    return !live().some((p) => p.image === image && p.node === node);
  }

  function budgetOpen(budget: string): boolean {
    const { maxConcurrent, minDelayMs } = budgetOf(budget);
    const active = live().filter((p) => p.budget === budget && p.state === "active").length;
    return active < maxConcurrent && clock.now - (lastStart.get(budget) ?? -Infinity) >= minDelayMs;
  }

  /** Whether an image ahead of `spec` under another budget may take `node` right now. */
  function contested(spec: ImageSpec, node: string): boolean {
    return s.images.some((k) =>
      k.budget !== spec.budget && ahead(k, spec) && registered.has(k.name) &&
      needsNode(k.name, node) && !isBlocked(k.name, node) && budgetOpen(k.budget)
    );
  }

  function startable(spec: ImageSpec): boolean {
    return nodes.some((n) =>
      needsNode(spec.name, n.name) && !isBlocked(spec.name, n.name) &&
      !live().some((p) => p.node === n.name && p.state === "active") && !contested(spec, n.name)
    );
  }

  function checkInvariants(pod: ServerPod): void {
    const others = live().filter((p) => p !== pod);
    assert.ok(
      !others.some((p) => p.image === pod.image && p.node === pod.node),
      `two live pods of ${pod.image} on ${pod.node}`,
    );
    assert.ok(
      !others.some((p) => p.node === pod.node && p.state === "active"),
      `two active pulls on ${pod.node} at ${clock.now}`,
    );
    const active = live().filter((p) => p.budget === pod.budget && p.state === "active").length;
    const { maxConcurrent, minDelayMs } = budgetOf(pod.budget);
    assert.ok(active <= maxConcurrent, `${active} active pulls under ${pod.budget}`);
    const prev = lastStart.get(pod.budget);
    assert.ok(
      prev === undefined || pod.createdAt - prev >= minDelayMs,
      `starts under ${pod.budget} ${pod.createdAt - prev!} ms apart`,
    );
    lastStart.set(pod.budget, pod.createdAt);
  }

  /**
   * Checked before the new Pod exists: nobody ahead of `spec` under the same budget could have
   * used this start. Only meaningful with a minimum delay: then a budget offers one start at a
   * time.
   */
  function checkOrder(spec: ImageSpec): void {
    if (budgetOf(spec.budget).minDelayMs <= 0) return;
    for (const other of s.images) {
      if (other.budget !== spec.budget || !ahead(other, spec) || !registered.has(other.name)) {
        continue;
      }
      assert.ok(
        !startable(other),
        `${spec.name} started at ${clock.now} while ${other.name}, ahead of it, could start`,
      );
    }
  }

  function createPod(spec: ImageSpec, node: string): void {
    const n = attempts.get(`${spec.name}/${node}`) ?? 0;
    attempts.set(`${spec.name}/${node}`, n + 1);
    const key = `drop-system/${spec.name}-${node}-${n}`;
    assert.ok(!server.has(key), `${key} already exists`);
    checkOrder(spec);
    const pod: ServerPod = {
      key,
      image: spec.name,
      node,
      budget: spec.budget,
      createdAt: clock.now,
      state: "active",
      delivered: false,
      deleted: false,
    };
    server.set(key, pod);
    starts++;
    checkInvariants(pod);
    const view = () => ({
      key,
      image: pod.image,
      node,
      budget: pod.budget,
      createdAt: pod.createdAt,
      active: pod.state === "active",
    });
    // The informer delivers the new pod a little later: reconciles in between see a stale cache.
    at(clock.now + Math.floor(random() * 300), () => {
      pod.delivered = true;
      engine.observePod(view());
      enqueue(pod.image, clock.now);
    });
    const failCount = failures.get(`${spec.name}/${node}`) ?? 0;
    const fails = failCount < 2 && random() < s.failureRate;
    at(clock.now + 500 + Math.floor(random() * 4_500), () => {
      pod.state = fails ? "stuck" : "done";
      engine.observePod(view());
      enqueue(pod.image, clock.now);
    });
  }

  function deletePod(pod: ServerPod): void {
    pod.deleted = true;
    engine.forgetPod(pod.key);
  }

  function reconcile(image: string): void {
    const spec = s.images.find((i) => i.name === image)!;
    for (const pod of live()) {
      if (pod.image !== image || !pod.delivered) continue;
      if (pod.state === "done") {
        cached.get(image)!.add(pod.node);
        deletePod(pod);
      } else if (pod.state === "stuck") {
        const key = `${image}/${pod.node}`;
        const count = (failures.get(key) ?? 0) + 1;
        failures.set(key, count);
        blockedUntil.set(
          key,
          clock.now + backoffDelay(count, { initialMs: 2_000, maxMs: 10_000 }, random),
        );
        deletePod(pod);
      }
    }
    // What the controller sees: pods not yet delivered are missing from its cache.
    const inCache = (node: string) =>
      live().some((p) => p.image === image && p.node === node && p.delivered);
    const needed = nodes.filter((n) => !cached.get(image)!.has(n.name) && !inCache(n.name));
    if (needed.length === 0) {
      engine.clearDemand(image);
      registered.delete(image);
      return;
    }
    engine.setDemand(image, {
      priority: spec.priority,
      budget: spec.budget,
      nodes: needed.map((n) => ({ ...n, blockedUntil: blockedUntil.get(`${image}/${n.name}`) })),
    });
    registered.add(image);
    const result = engine.tryAcquire(image);
    for (const node of result.grants) createPod(spec, node);
    if (result.retryAfterMs !== undefined) enqueue(image, clock.now + result.retryAfterMs);
  }

  for (const image of s.images) enqueue(image.name, clock.now);
  const start = clock.now;
  let steps = 0;
  while (events.length > 0) {
    const ev = events.shift()!;
    clock.now = ev.at;
    ev.run();
    assert.ok(++steps < 200_000, "the simulation does not settle");
  }

  for (const image of s.images) {
    assert.equal(cached.get(image.name)!.size, s.nodes, `${image.name} cached everywhere`);
  }
  assert.equal(live().length, 0);
  assert.equal(engine.activePulls(), 0);
  for (const key of [...Object.keys(s.budgets), DEFAULT_BUDGET]) {
    assert.equal(engine.usage(key).reserved, 0);
  }
  return { starts, end: clock.now - start };
}

Deno.test("simulation: 8 nodes x 3 images under maxConcurrent 2 keep every invariant and finish", () => {
  for (let seed = 1; seed <= 25; seed++) {
    const { starts } = simulate({
      seed,
      nodes: 8,
      images: [
        { name: "alpha", priority: 0, budget: "p" },
        { name: "beta", priority: -1, budget: "p" },
        { name: "gamma", priority: 0, budget: "p" },
      ],
      budgets: { p: { maxConcurrent: 2, minDelayMs: 1_000 } },
      failureRate: 0,
    });
    assert.equal(starts, 24);
  }
});

Deno.test("simulation: failures, a second budget and the default budget", () => {
  for (let seed = 100; seed < 120; seed++) {
    simulate({
      seed,
      nodes: 8,
      images: [
        { name: "alpha", priority: 0, budget: "p" },
        { name: "beta", priority: -1, budget: "p" },
        { name: "gamma", priority: 0, budget: "p" },
        { name: "delta", priority: 0, budget: "q" },
        { name: "epsilon", priority: 5, budget: DEFAULT_BUDGET },
        { name: "zeta", priority: 5, budget: DEFAULT_BUDGET },
      ],
      budgets: {
        p: { maxConcurrent: 2, minDelayMs: 1_000 },
        q: { maxConcurrent: 3, minDelayMs: 0 },
      },
      defaultBudget: { maxConcurrent: 1, minDelayMs: 2_000 },
      failureRate: 0.25,
    });
  }
});
