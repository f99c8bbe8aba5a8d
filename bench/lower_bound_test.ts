import assert from "node:assert/strict";
import { overheadPerPullMs, pacingLowerBound, simulatedPullMs } from "./lower_bound.ts";

const grid = (nodes: number, images: number, ms: number) =>
  Array.from({ length: nodes * images }, (_, i) => ({ node: `n${i % nodes}`, ms }));

Deno.test("concurrency binds when slots are few and there is no min delay", () => {
  const b = pacingLowerBound(grid(100, 20, 150), { maxConcurrent: 20, minDelayMs: 0 });
  assert.equal(b.binding, "concurrency");
  assert.equal(b.bound_ms, (2000 * 150) / 20);
  assert.equal(b.node_serial_ms, 20 * 150);
  assert.equal(b.pulls, 2000);
});

Deno.test("min delay binds when starts are spaced further than pulls last", () => {
  const b = pacingLowerBound(grid(10, 10, 100), { maxConcurrent: 50, minDelayMs: 500 });
  assert.equal(b.binding, "min_delay");
  assert.equal(b.bound_ms, 99 * 500 + 100);
});

Deno.test("min delay term starts the longest pulls first", () => {
  // Starts 100 ms apart. Longest first: max(0 + 1000, 100 + 50, 200 + 50) = 1000; any other
  // order ends later (the 1000 ms pull started second ends at 1100).
  const pulls = [{ node: "a", ms: 50 }, { node: "b", ms: 1000 }, { node: "c", ms: 50 }];
  const b = pacingLowerBound(pulls, { maxConcurrent: 10, minDelayMs: 100 });
  assert.equal(b.min_delay_ms, 1000);
  // A long pull that cannot hide behind the starts after it: 2 × 100 + 10 = 210 < 300 + 0.
  const tail = [{ node: "a", ms: 300 }, { node: "b", ms: 10 }, { node: "c", ms: 10 }];
  assert.equal(
    pacingLowerBound(tail, { maxConcurrent: 10, minDelayMs: 100 }).min_delay_ms,
    300,
  );
  const even = [{ node: "a", ms: 120 }, { node: "b", ms: 120 }, { node: "c", ms: 10 }];
  assert.equal(
    pacingLowerBound(even, { maxConcurrent: 10, minDelayMs: 100 }).min_delay_ms,
    220,
  );
});

Deno.test("node serial binds when one node has most of the work", () => {
  const pulls = [
    { node: "slow", ms: 1000 },
    { node: "slow", ms: 1000 },
    { node: "fast", ms: 10 },
  ];
  const b = pacingLowerBound(pulls, { maxConcurrent: 10, minDelayMs: 0 });
  assert.equal(b.binding, "node_serial");
  assert.equal(b.bound_ms, 2000);
  assert.equal(b.longest_pull_ms, 1000);
});

Deno.test("the bound is the largest term, and a single slot serialises everything", () => {
  const pulls = [{ node: "a", ms: 300 }, { node: "b", ms: 100 }];
  const b = pacingLowerBound(pulls, { maxConcurrent: 1, minDelayMs: 0 });
  assert.equal(b.bound_ms, 400);
  assert.equal(b.binding, "concurrency");
  assert.equal(pacingLowerBound([], { maxConcurrent: 1, minDelayMs: 0 }).bound_ms, 0);
});

Deno.test("invalid limits and pull times are rejected", () => {
  assert.throws(() => pacingLowerBound([], { maxConcurrent: 0, minDelayMs: 0 }), RangeError);
  assert.throws(() => pacingLowerBound([], { maxConcurrent: 1, minDelayMs: -1 }), RangeError);
  assert.throws(
    () => pacingLowerBound([{ node: "a", ms: Number.NaN }], { maxConcurrent: 1, minDelayMs: 0 }),
    RangeError,
  );
});

Deno.test("simulated pull time: latency, round trip and transfer, scaled to wall time", () => {
  // 150 MB at 100 MB/s is 1.5 s; with a 50 ms round trip, at time scale 0.1.
  const ms = simulatedPullMs({
    sizeBytes: 150_000_000,
    bandwidth: 100_000_000,
    hostLatencyMs: 0,
    roundTripMs: 50,
    timeScale: 0.1,
  });
  assert.ok(Math.abs(ms - 155) < 1e-9);
});

Deno.test("overhead per pull reads the excess in the binding constraint's unit", () => {
  const limits = { maxConcurrent: 20, minDelayMs: 0 };
  const conc = pacingLowerBound(grid(100, 20, 150), limits);
  // 2000 pulls on 20 slots: 1 s over the bound is 10 ms more per slot hold.
  assert.equal(overheadPerPullMs(conc, limits, conc.bound_ms + 1000), 10);
  const delayLimits = { maxConcurrent: 50, minDelayMs: 500 };
  const delay = pacingLowerBound(grid(10, 10, 100), delayLimits);
  assert.equal(overheadPerPullMs(delay, delayLimits, delay.bound_ms + 990), 10);
  const serial = pacingLowerBound([{ node: "a", ms: 1000 }, { node: "a", ms: 1000 }], {
    maxConcurrent: 5,
    minDelayMs: 0,
  });
  assert.equal(overheadPerPullMs(serial, { maxConcurrent: 5, minDelayMs: 0 }, 2100, 2), 50);
});
