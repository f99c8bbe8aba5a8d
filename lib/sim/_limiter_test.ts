import assert from "node:assert/strict";
import { Limiter } from "./_limiter.ts";

Deno.test("at most max operations run at once, the rest start in arrival order", async () => {
  const limiter = new Limiter(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const ops = [0, 1, 2, 3, 4].map((i) =>
    limiter.run(async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return i;
    })
  );
  while (releases.length < 2) await new Promise((r) => setTimeout(r, 1));
  assert.equal(limiter.active, 2);
  assert.equal(limiter.queued, 3);
  // Release one at a time; each release lets exactly one waiting operation start.
  let released = 0;
  while (released < 5) {
    const next = releases.shift();
    if (next) {
      next();
      released++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.deepEqual(await Promise.all(ops), [0, 1, 2, 3, 4]);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.equal(limiter.active, 0);
});

Deno.test("a failing operation frees its slot", async () => {
  const limiter = new Limiter(1);
  await assert.rejects(limiter.run(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await limiter.run(() => Promise.resolve(7)), 7);
  assert.equal(limiter.active, 0);
});
