import assert from "node:assert/strict";
import { LoopLagMonitor, summarizeLag } from "./loop_lag.ts";

Deno.test("summarizeLag: percentiles, maximum and the share of time in late ticks", () => {
  // 98 ticks on time, one 20 ms late, one 100 ms late, every 10 ms.
  const lags = [...Array(98).fill(0), 20, 100];
  const s = summarizeLag(lags, 10, lags.map((_, i) => i * 10));
  assert.equal(s.ticks, 100);
  assert.deepEqual(s.worst.slice(0, 2), [{ at_ms: 990, lag_ms: 100 }, { at_ms: 980, lag_ms: 20 }]);
  assert.equal(s.p50_ms, 0);
  assert.equal(s.max_ms, 100);
  // Late ticks cover 30 + 110 ms of 98 * 10 + 30 + 110 ms.
  assert.equal(s.late_share, Math.round((140 / 1120) * 1e4) / 1e4);
});

Deno.test("summarizeLag: an empty window says nothing rather than zero", () => {
  const s = summarizeLag([], 10);
  assert.equal(s.ticks, 0);
  assert.ok(Number.isNaN(s.p99_ms));
  assert.ok(Number.isNaN(s.late_share));
});

Deno.test("LoopLagMonitor: a blocked loop shows as lag", async () => {
  const monitor = new LoopLagMonitor(5).start();
  await new Promise((r) => setTimeout(r, 20));
  const until = performance.now() + 60;
  while (performance.now() < until) {
    // Keep the loop busy, as a long synchronous task would.
  }
  await new Promise((r) => setTimeout(r, 20));
  const s = monitor.stop();
  assert.ok(s.ticks >= 2);
  assert.ok(s.max_ms >= 40, `max lag ${s.max_ms} ms after a 60 ms block`);
});
