import assert from "node:assert/strict";
import { PodReaper } from "./pod_reaper.ts";

Deno.test("PodReaper deletes in the background, a bounded number at once, each Pod once", async () => {
  let inFlight = 0;
  let most = 0;
  const deleted: string[] = [];
  const reaper = new PodReaper({
    limit: 2,
    async delete(name) {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      deleted.push(name);
    },
    onFailed: () => assert.fail("no failure expected"),
  });
  reaper.reap("img", ["p1", "p2", "p3"], 0);
  reaper.reap("img", ["p1", "p4"], 1); // p1 is already handed over
  assert.ok(reaper.hides("p1", 1) && reaper.hides("p4", 1));
  await reaper.idle();
  assert.deepEqual(deleted.sort(), ["p1", "p2", "p3", "p4"]);
  assert.equal(most, 2);
  // Hidden until the cache drops them (or the hide expires).
  assert.ok(reaper.hides("p2", 2));
  reaper.gone("p2");
  assert.ok(!reaper.hides("p2", 2));
  assert.ok(!reaper.hides("p3", 60_001));
});

Deno.test("PodReaper shows a Pod again and names its owner when the delete fails", async () => {
  const failed: string[] = [];
  const reaper = new PodReaper({
    limit: 4,
    delete: (name) => name === "bad" ? Promise.reject(new Error("boom")) : Promise.resolve(),
    onFailed: (owner, name, e) => failed.push(`${owner}/${name}: ${(e as Error).message}`),
  });
  reaper.reap("img", ["good", "bad"], 0);
  await reaper.idle();
  assert.deepEqual(failed, ["img/bad: boom"]);
  assert.ok(!reaper.hides("bad", 1), "visible again, so the next plan hands it over anew");
  assert.ok(reaper.hides("good", 1));
});
