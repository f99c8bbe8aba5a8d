import assert from "node:assert/strict";
import { pullCycle } from "./pull_cycle.ts";

Deno.test("pullCycle splits each step and pairs freed slots with later grants", () => {
  // One slot, two pulls on two nodes: grant 0, seen 10, pull 15-115, result seen 120; the next
  // grant 125 (5 ms after the slot freed), seen 140, pull 160-260, result seen 262.
  const c = pullCycle(
    [
      { node: "a", ref: "img", grantAt: 0, seenAt: 10, doneSeenAt: 120 },
      { node: "b", ref: "img", grantAt: 125, seenAt: 140, doneSeenAt: 262 },
    ],
    [
      { node: "a", ref: "img", startedAt: 15, finishedAt: 115 },
      { node: "b", ref: "img", startedAt: 160, finishedAt: 260 },
    ],
    1,
  );
  assert.equal(c.pulls, 2);
  assert.equal(c.create_ms.p50, 12.5);
  assert.equal(c.create_ms.mean, 12.5);
  assert.equal(c.pickup_ms.mean, 12.5);
  assert.equal(c.report_ms.mean, 3.5);
  assert.deepEqual(c.regrant_ms, { p50: 5, p99: 5, mean: 5 });
});

Deno.test("pullCycle leaves unmatched Pods out of the kubelet steps", () => {
  const c = pullCycle(
    [{ node: "a", ref: "img", grantAt: 0, seenAt: 4 }],
    [{ node: "b", ref: "img", startedAt: 15, finishedAt: 115 }],
    1,
  );
  assert.equal(c.pulls, 0);
  assert.equal(c.create_ms.mean, 4);
  assert.ok(Number.isNaN(c.pickup_ms.mean));
  assert.ok(Number.isNaN(c.regrant_ms.mean));
});
