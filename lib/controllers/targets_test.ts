import assert from "node:assert/strict";
import type { Node, Taint } from "kubernetes-types/core/v1.d.ts";
import { blockingTaints, isTarget, selectTargets, tolerates } from "./targets.ts";

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
