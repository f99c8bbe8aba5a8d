import assert from "node:assert/strict";
import { latencySummary, median, percentile, spread } from "./stats.ts";

Deno.test("percentile interpolates between the closest ranks", () => {
  const v = [5, 1, 4, 2, 3];
  assert.equal(percentile(v, 0), 1);
  assert.equal(percentile(v, 50), 3);
  assert.equal(percentile(v, 100), 5);
  assert.equal(percentile(v, 25), 2);
  assert.equal(percentile([1, 2], 50), 1.5);
  // Ten joining nodes: p99 lies between the two slowest, close to the slowest.
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100];
  assert.ok(Math.abs(percentile(ten, 99) - 91.81) < 1e-9);
});

Deno.test("percentile ignores non-finite values and is NaN for an empty sample", () => {
  assert.equal(percentile([Number.NaN, 2, Infinity], 50), 2);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile([1], 101), RangeError);
});

Deno.test("median and spread of repeated runs", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.deepEqual(spread([10, 12, 11]), {
    n: 3,
    median: 11,
    min: 10,
    max: 12,
    relative_spread: 2 / 11,
  });
  assert.equal(spread([7]).relative_spread, 0);
  assert.equal(spread([]).n, 0);
});

Deno.test("latencySummary reports p50, p99 and max", () => {
  const s = latencySummary([1, 2, 3, 4]);
  assert.equal(s.n, 4);
  assert.equal(s.p50, 2.5);
  assert.equal(s.max, 4);
  assert.ok(s.p99 > 3.9 && s.p99 <= 4);
});
