import assert from "node:assert/strict";
import { FreshObjects, PendingDeletes } from "./fresh_status.ts";

const obj = (rv: string, note: string) => ({ metadata: { name: "a", resourceVersion: rv }, note });

Deno.test("FreshObjects prefers our writes until the cache shows them or something newer", () => {
  const f = new FreshObjects<ReturnType<typeof obj>>();
  f.wrote("a", obj("10", "s0"), obj("11", "s1"));
  assert.equal(f.resolve("a", obj("10", "s0")).note, "s1");
  // A second write from our own copy before the cache caught up.
  f.wrote("a", obj("11", "s1"), obj("12", "s2"));
  assert.equal(f.resolve("a", obj("10", "s0")).note, "s2", "still older than both writes");
  assert.equal(f.resolve("a", obj("11", "s1")).note, "s2");
  assert.equal(f.resolve("a", obj("12", "s2")).note, "s2");
  // Once the cache showed our latest write, the entry is gone and the cache rules.
  assert.equal(f.resolve("a", obj("10", "stale")).note, "stale");
});

Deno.test("FreshObjects yields to someone else's newer change", () => {
  const f = new FreshObjects<ReturnType<typeof obj>>();
  f.wrote("a", obj("10", "s0"), obj("11", "ours"));
  assert.equal(f.resolve("a", obj("13", "theirs")).note, "theirs");
});

Deno.test("PendingDeletes hides deleted objects for a while", () => {
  const p = new PendingDeletes(1000);
  p.add("pod", 0);
  assert.equal(p.has("pod", 500), true);
  assert.equal(p.has("pod", 1500), false);
  p.add("pod", 0);
  p.gone("pod");
  assert.equal(p.has("pod", 10), false);
});
