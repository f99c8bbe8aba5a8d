import assert from "node:assert/strict";
import { Backoff } from "./backoff.ts";

Deno.test("Backoff grows from 0.8 s to the 30 s cap without jitter", () => {
  let now = 0;
  const b = new Backoff({ now: () => now, random: () => 0 });
  const delays = [];
  for (let i = 0; i < 8; i++) {
    delays.push(b.next());
    now += 1000;
  }
  assert.deepEqual(delays, [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
});

Deno.test("Backoff jitter stretches a delay by up to its jitter factor", () => {
  const b = new Backoff({ random: () => 0.5, jitter: 1 });
  assert.equal(b.next(), 1200);
});

Deno.test("Backoff starts over after a healthy period or reset", () => {
  let now = 0;
  const b = new Backoff({ now: () => now, random: () => 0, resetAfterMs: 120_000 });
  b.next();
  b.next();
  assert.equal(b.next(), 3200);
  now += 121_000;
  assert.equal(b.next(), 800);
  b.next();
  b.reset();
  assert.equal(b.next(), 800);
});
