import assert from "node:assert/strict";
import { bar, type DemoSnapshot, renderChanges, renderScreen } from "./demo_view.ts";

function snapshot(): DemoSnapshot {
  return {
    elapsedMs: 12_340,
    nodes: ["sim-node-1", "sim-node-2"],
    images: [
      {
        name: "alpine",
        reference: "alpine:3.20",
        phase: "Ready",
        ready: 2,
        targeted: 2,
        pulling: 0,
        reason: "Cached",
        message: "Image cached on all 2 target nodes",
        cachedNodes: ["sim-node-1", "sim-node-2"],
      },
      {
        name: "broken",
        reference: "registry.invalid.local:9999/x:1",
        phase: "Degraded",
        ready: 0,
        targeted: 2,
        pulling: 0,
        reason: "PullFailed",
        message: "0/2 nodes ready: dns: cannot resolve registry.invalid.local",
        cachedNodes: [],
      },
    ],
    pullingOn: new Map(),
    failedOn: new Map([["broken", new Set(["sim-node-1"])]]),
    apiRequests: 42,
  };
}

Deno.test("bar fills in proportion", () => {
  assert.equal(bar(1, 4, 8), "██░░░░░░");
  assert.equal(bar(0, 0, 4), "░░░░");
});

Deno.test("renderScreen shows bars, phases, failures and the grid", () => {
  const text = renderScreen(snapshot(), 100, false);
  assert.match(text, /drop demo {2}12\.3s {2}2 nodes {2}2 images {2}42 API requests/);
  assert.match(text, / 1 alpine:3\.20\s+█+\s+2\/2 Ready/);
  assert.match(
    text,
    / 2 registry\.invalid\.local:9999\/x:1\s+░+\s+0\/2 Degraded 0\/2 nodes ready: dns/,
  );
  assert.match(text, /sim-node-1 {2}█ ✗/);
  assert.match(text, /sim-node-2 {2}█ ·/);
});

Deno.test("renderChanges prints a line only when an image changes", () => {
  const seen = new Map<string, string>();
  assert.equal(renderChanges(snapshot(), seen).length, 2);
  assert.deepEqual(renderChanges(snapshot(), seen), []);
});
