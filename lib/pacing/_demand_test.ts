import assert from "node:assert/strict";
import { compareDemands, DemandState } from "./_demand.ts";

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("pick matches a plain scan whatever mix of blocked, busy and taken nodes", () => {
  const random = prng(42);
  const now = 5_000;
  for (let round = 0; round < 300; round++) {
    const count = 1 + Math.floor(random() * 200);
    const blockShare = random();
    const needs = Array.from({ length: count }, (_, i) => ({
      name: `n${i}`,
      joinedAt: Math.floor(random() * 50),
      blockedUntil: random() < blockShare ? now + Math.floor(random() * 2_000) - 1_000 : undefined,
    }));
    const d = new DemandState("img", 0, "p", -Infinity, needs);
    const busySet = new Set(needs.filter(() => random() < 0.2).map((n) => n.name));
    for (const n of needs) if (random() < 0.1) d.taken.add(n.name);
    const limit = 1 + Math.floor(random() * 4);

    const expected = d.nodes.filter((name) => {
      const need = needs.find((n) => n.name === name)!;
      const blocked = need.blockedUntil !== undefined && need.blockedUntil > now;
      return !blocked && !busySet.has(name) && !d.taken.has(name);
    }).slice(0, limit);
    const got = d.pick(limit, now, (n) => busySet.has(n), () => busySet);
    assert.deepEqual(got, expected, `round ${round}`);
  }
});

Deno.test("nodes are ordered newest first, then by name", () => {
  const d = new DemandState("img", 0, "p", -Infinity, [
    { name: "b", joinedAt: 1 },
    { name: "c", joinedAt: 2 },
    { name: "a", joinedAt: 1 },
  ]);
  assert.deepEqual(d.nodes, ["c", "a", "b"]);
  assert.equal(d.pending, 3);
});

Deno.test("a sorted node list is kept as given, an unsorted one is copied", () => {
  const sorted = [{ name: "b", joinedAt: 2 }, { name: "a", joinedAt: 1 }];
  assert.equal(new DemandState("img", 0, "p", -Infinity, sorted).needs, sorted);
  const unsorted = [{ name: "a", joinedAt: 1 }, { name: "b", joinedAt: 2 }];
  const d = new DemandState("img", 0, "p", -Infinity, unsorted);
  assert.notEqual(d.needs, unsorted);
  assert.deepEqual(unsorted.map((n) => n.name), ["a", "b"]);
});

Deno.test("a node listed twice is never picked twice", () => {
  const d = new DemandState("img", 0, "p", -Infinity, [
    { name: "a", joinedAt: 2 },
    { name: "a", joinedAt: 1 },
    { name: "b", joinedAt: 0 },
  ]);
  assert.deepEqual(d.pick(5, 0, () => false, () => []), ["a", "b"]);
});

Deno.test("demands order by priority, then name in code-unit order", () => {
  const mk = (image: string, priority: number) =>
    new DemandState(image, priority, "p", -Infinity, []);
  const sorted = [mk("b", 0), mk("a", 0), mk("Z", 0), mk("z", -5), mk("a", 3)].sort(
    compareDemands,
  );
  assert.deepEqual(sorted.map((d) => `${d.priority}:${d.image}`), [
    "-5:z",
    "0:Z",
    "0:a",
    "0:b",
    "3:a",
  ]);
});

Deno.test("nextUnblock is the earliest running node backoff among pending nodes", () => {
  const d = new DemandState("img", 0, "p", -Infinity, [
    { name: "a", joinedAt: 0, blockedUntil: 50 },
    { name: "b", joinedAt: 0, blockedUntil: 300 },
    { name: "c", joinedAt: 0, blockedUntil: 200 },
  ]);
  assert.equal(d.nextUnblock(100), 200);
  d.taken.add("c");
  assert.equal(d.nextUnblock(100), 300);
  assert.equal(d.nextUnblock(400), undefined);
});
