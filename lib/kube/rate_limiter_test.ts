import assert from "node:assert/strict";
import { BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter } from "./rate_limiter.ts";

Deno.test("ItemExponentialRateLimiter doubles per failure up to the cap and forgets", () => {
  const l = new ItemExponentialRateLimiter<string>(5, 1_000_000);
  assert.deepEqual([1, 2, 3, 4].map(() => l.when("a")), [5, 10, 20, 40]);
  assert.equal(l.numRequeues("a"), 4);
  assert.equal(l.when("b"), 5, "items are independent");
  for (let i = 0; i < 100; i++) l.when("a");
  assert.equal(l.when("a"), 1_000_000);
  l.forget("a");
  assert.equal(l.numRequeues("a"), 0);
  assert.equal(l.when("a"), 5);
});

Deno.test("BucketRateLimiter allows the burst, then spaces by qps, and refills", () => {
  let now = 0;
  const l = new BucketRateLimiter<string>(10, 3, () => now);
  assert.deepEqual([l.when("x"), l.when("y"), l.when("z")], [0, 0, 0]);
  assert.equal(Math.round(l.when("x")), 100);
  assert.equal(Math.round(l.when("x")), 200);
  now += 10_000;
  assert.equal(l.when("x"), 0);
  assert.equal(l.tryTake(), true);
  assert.equal(l.tryTake(), true);
  assert.equal(l.tryTake(), false, "tryTake never goes into debt");
});

Deno.test("MaxOfRateLimiter takes the longest delay and forgets in all", () => {
  let now = 0;
  const l = new MaxOfRateLimiter<string>(
    new ItemExponentialRateLimiter<string>(5, 1000),
    new BucketRateLimiter<string>(1, 1, () => now),
  );
  assert.equal(l.when("a"), 5);
  assert.equal(Math.round(l.when("a")), 1000, "bucket debt dominates");
  assert.equal(l.numRequeues("a"), 2);
  l.forget("a");
  assert.equal(l.numRequeues("a"), 0);
  now += 100_000;
  assert.equal(l.when("a"), 5);
});
