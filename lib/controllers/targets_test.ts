import assert from "node:assert/strict";
import type { Node, Taint } from "kubernetes-types/core/v1.d.ts";
import { blockingTaints, isTarget, selectTargets, TargetCache, tolerates } from "./targets.ts";

function node(
  name: string,
  opts: { labels?: Record<string, string>; taints?: Taint[]; ready?: string; created?: string } =
    {},
): Node {
  return {
    metadata: {
      name,
      labels: opts.labels,
      creationTimestamp: opts.created ?? "2026-01-01T00:00:00Z",
    },
    spec: { taints: opts.taints },
    status: { conditions: [{ type: "Ready", status: opts.ready ?? "True" }] },
  };
}

Deno.test("tolerates follows the scheduler's rules", () => {
  const taint: Taint = { key: "dedicated", value: "ci", effect: "NoSchedule" };
  assert.ok(tolerates({ key: "dedicated", value: "ci", effect: "NoSchedule" }, taint));
  assert.ok(tolerates({ key: "dedicated", value: "ci" }, taint), "empty effect matches all");
  assert.ok(tolerates({ key: "dedicated", operator: "Exists" }, taint));
  assert.ok(tolerates({ operator: "Exists" }, taint), "empty key with Exists matches all");
  assert.ok(!tolerates({ key: "dedicated", value: "cd" }, taint));
  assert.ok(!tolerates({ key: "dedicated", value: "ci", effect: "NoExecute" }, taint));
  assert.ok(!tolerates({ key: "other", operator: "Exists" }, taint));
  assert.ok(!tolerates({ value: "ci" }, taint), "Equal needs the key");
  assert.ok(tolerates({ key: "k", operator: "Equal" }, { key: "k", effect: "NoExecute" }));
});

Deno.test("only NoSchedule and NoExecute taints block, and readiness implies a taint", () => {
  const n = node("a", {
    taints: [
      { key: "soft", effect: "PreferNoSchedule" },
      { key: "hard", effect: "NoExecute" },
    ],
    ready: "False",
  });
  assert.deepEqual(blockingTaints(n).map((t) => t.key), ["hard", "node.kubernetes.io/not-ready"]);
  assert.deepEqual(
    blockingTaints(node("b", { ready: "Unknown" })).map((t) => t.key),
    ["node.kubernetes.io/unreachable"],
  );
});

Deno.test("isTarget needs every selector pair and every blocking taint tolerated", () => {
  const build = node("b", {
    labels: { "node-role.kubernetes.io/build": "true", "kubernetes.io/arch": "amd64" },
    taints: [{ key: "node-role.kubernetes.io/build", effect: "NoSchedule" }],
  });
  const sel = { "node-role.kubernetes.io/build": "true" };
  const tol = [{ key: "node-role.kubernetes.io/build", operator: "Exists", effect: "NoSchedule" }];
  assert.ok(isTarget(build, { nodeSelectors: [sel], tolerations: tol }));
  assert.ok(!isTarget(build, { nodeSelectors: [sel], tolerations: [] }));
  assert.ok(!isTarget(build, { nodeSelectors: [sel, { pool: "x" }], tolerations: tol }));
  const notReady = node("n", { ready: "False" });
  assert.ok(!isTarget(notReady, { nodeSelectors: [], tolerations: [] }));
  assert.ok(isTarget(notReady, {
    nodeSelectors: [],
    tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists" }],
  }));
  const plain = node("d");
  const deleting = {
    ...plain,
    metadata: { ...plain.metadata, deletionTimestamp: "2026-01-02T00:00:00Z" },
  };
  assert.ok(!isTarget(deleting, { nodeSelectors: [], tolerations: [] }));
});

Deno.test("selectTargets orders the newest nodes first", () => {
  const nodes = [
    node("old", { created: "2026-01-01T00:00:00Z" }),
    node("new", { created: "2026-01-03T00:00:00Z" }),
    node("mid", { created: "2026-01-02T00:00:00Z" }),
    node("tainted", { taints: [{ key: "x", effect: "NoSchedule" }] }),
  ];
  const names = selectTargets(nodes, { nodeSelectors: [], tolerations: [] }).map((n) =>
    n.metadata!.name
  );
  assert.deepEqual(names, ["new", "mid", "old"]);
});

Deno.test("TargetCache: tolerated taints, held nodes, newest first, shared until invalidated", () => {
  const taint: Taint = { key: "dedicated", value: "ci", effect: "NoSchedule" };
  let all = [
    node("old", { created: "2026-01-01T00:00:00Z", labels: { pool: "ci" } }),
    node("new", { created: "2026-01-02T00:00:00Z", labels: { pool: "ci" } }),
    node("tainted", { labels: { pool: "ci" }, taints: [taint] }),
    node("down", { labels: { pool: "ci" }, ready: "False" }),
    node("other", { labels: { pool: "web" } }),
  ];
  const cache = new TargetCache(() => all);
  const rules = {
    nodeSelectors: [{ pool: "ci" }],
    tolerations: [{ key: "dedicated", value: "ci" }],
  };
  const s = cache.select(rules);
  assert.deepEqual(s.names, ["new", "old", "tainted"]);
  assert.deepEqual(s.nodes.map((n) => n.joinedAt), [
    Date.parse("2026-01-02T00:00:00Z"),
    Date.parse("2026-01-01T00:00:00Z"),
    Date.parse("2026-01-01T00:00:00Z"),
  ]);
  assert.deepEqual(s.held, ["down"]);
  assert.deepEqual([...s.index], [["new", 0], ["old", 1], ["tainted", 2]]);
  // Same rules, same selection (not recomputed); other rules, their own.
  assert.equal(cache.select({ ...rules }), s);
  assert.deepEqual(cache.select({ nodeSelectors: [], tolerations: [] }).names, [
    "new",
    "old",
    "other",
  ]);
  all = all.slice(1);
  assert.equal(cache.select(rules), s, "kept until invalidated");
  cache.invalidate();
  assert.deepEqual(cache.select(rules).names, ["new", "tainted"]);
});
