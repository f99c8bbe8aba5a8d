import assert from "node:assert/strict";
import { forEachLimited } from "./for_each_limited.ts";

Deno.test("forEachLimited keeps at most `limit` in flight and visits every item in order", async () => {
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    started.push(n);
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 5 * (n % 3)));
    inFlight--;
  });
  assert.equal(most, 3);
  assert.deepEqual(started, [1, 2, 3, 4, 5, 6, 7]);
});

Deno.test("forEachLimited finishes the rest, then rejects with the first error", async () => {
  const done: number[] = [];
  await assert.rejects(
    forEachLimited([1, 2, 3, 4], 2, async (n) => {
      await Promise.resolve();
      if (n === 2) throw new Error("two");
      if (n === 3) throw new Error("three");
      done.push(n);
    }),
    /two/,
  );
  assert.deepEqual(done, [1, 4]);
  await forEachLimited([], 4, () => Promise.reject(new Error("never")));
});
