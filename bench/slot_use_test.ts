import assert from "node:assert/strict";
import { slotUse } from "./slot_use.ts";

Deno.test("slotUse splits idle slot time into ramp-up, body and tail", () => {
  // Two slots. Slot A: 0-1000, 1100-2000. Slot B starts late (300-1300), then 1300-2500.
  const use = slotUse(
    [
      { startedAt: 0, finishedAt: 1000 },
      { startedAt: 1100, finishedAt: 2000 },
      { startedAt: 300, finishedAt: 1300 },
      { startedAt: 1300, finishedAt: 2500 },
    ],
    2,
    1000,
  );
  // Ramp: one slot idle for 300 ms. Body (300 ms to the last start at 1300): one slot idle from
  // 1000 to 1100. Tail (after 1300): from 2000 one slot is idle up to the end at 2500.
  assert.deepEqual(use.ramp_idle_slot_s, 0.3);
  assert.deepEqual(use.body_idle_slot_s, 0.1);
  assert.deepEqual(use.tail_idle_slot_s, 0.5);
  assert.deepEqual(use.span_s, 2.5);
  assert.deepEqual(use.mean_in_flight, (1000 + 900 + 1000 + 1200) / 2500);
  assert.deepEqual(use.worst_windows, [{ from_ms: 1000, idle_slot_s: 0.1, mean_in_flight: 1.67 }]);
});

Deno.test("slotUse counts a slot handed straight on as busy, and nothing for no pulls", () => {
  const use = slotUse([
    { startedAt: 0, finishedAt: 500 },
    { startedAt: 500, finishedAt: 900 },
    { startedAt: 900, finishedAt: 1000 },
  ], 1);
  assert.deepEqual([use.ramp_idle_slot_s, use.body_idle_slot_s, use.tail_idle_slot_s], [0, 0, 0]);
  assert.deepEqual(use.mean_in_flight, 1);
  assert.deepEqual(slotUse([], 4).span_s, 0);
});

Deno.test("slotUse ranks the body's windows by idle time", () => {
  // One slot; idle 100 ms in the first window, 400 ms in the second, then a last pull.
  const use = slotUse(
    [
      { startedAt: 0, finishedAt: 900 },
      { startedAt: 1000, finishedAt: 1600 },
      { startedAt: 2000, finishedAt: 2100 },
    ],
    1,
    1000,
  );
  assert.deepEqual(use.body_idle_slot_s, 0.5);
  assert.deepEqual(use.worst_windows.map((w) => [w.from_ms, w.idle_slot_s]), [[1000, 0.4], [
    0,
    0.1,
  ]]);
});

Deno.test("slotUse sums the body's idle time by the pull time of the moment", () => {
  // One slot. First second: 200 ms pulls with 50 ms gaps; second: 1 s pulls, then a last one.
  const pulls = [
    { startedAt: 0, finishedAt: 200 },
    { startedAt: 250, finishedAt: 450 },
    { startedAt: 500, finishedAt: 700 },
    { startedAt: 750, finishedAt: 950 },
    { startedAt: 1000, finishedAt: 2000 },
    { startedAt: 2100, finishedAt: 3100 },
  ];
  const use = slotUse(pulls, 1, 1000);
  assert.deepEqual(use.by_pull_time, [
    { pull_ms: "0-300 ms", body_s: 1, idle_slot_s: 0.2, idle_share: 0.2 },
    { pull_ms: "700-1500 ms", body_s: 1.1, idle_slot_s: 0.1, idle_share: 0.0909 },
  ]);
});
