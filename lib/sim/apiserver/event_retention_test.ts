import assert from "node:assert/strict";
import { EventRetention } from "./event_retention.ts";

Deno.test("Events are due a TTL after their last write, oldest first", () => {
  const r = new EventRetention();
  r.written("a", 0);
  r.written("b", 10);
  r.written("c", 20);
  r.written("a", 30);
  assert.deepEqual(r.due(100, 1000), []);
  assert.deepEqual(r.due(1015, 1000), ["b"], "a was written again at 30");
  assert.deepEqual(r.due(1031, 1000), ["b", "c", "a"]);
  r.removed("b");
  assert.equal(r.size, 2);
  assert.deepEqual(r.due(1025, 1000), ["c"]);
});

Deno.test("beyond the count limit the least recently written Events are due", () => {
  const r = new EventRetention();
  for (let i = 0; i < 5; i++) r.written(`e${i}`, i);
  r.written("e0", 10);
  assert.deepEqual(r.due(11, Infinity, 5), []);
  assert.deepEqual(r.due(11, Infinity, 3), ["e1", "e2"]);
  assert.deepEqual(r.due(11, 5, 4), ["e1", "e2", "e3", "e4"], "expired ones count too");
});

Deno.test("rewrites and removals leave no trace: the queue stays near the Events held", () => {
  const r = new EventRetention();
  r.written("keep", 0);
  // An Event rewritten many times behind one that stays (it is not due: no TTL, no limit).
  for (let i = 1; i <= 50_000; i++) r.written("hot", i);
  // And many written and removed, as the count limit does.
  for (let i = 0; i < 50_000; i++) {
    r.written(`e${i}`, 50_000 + i);
    r.removed(`e${i}`);
  }
  assert.equal(r.size, 2);
  assert.ok(r.queued <= 1024 + 2 * 2 + 1, `queue holds ${r.queued} writes for 2 Events`);
  assert.deepEqual(r.due(200_000, Infinity), []);
  assert.deepEqual(r.due(200_000, Infinity, 1), ["keep"]);
  r.removed("keep");
  assert.deepEqual(r.due(200_000, Infinity, 0), ["hot"]);
  assert.deepEqual(r.due(200_000, 1_000), ["hot"], "hot's last write was at 50,000");
  assert.ok(r.queued <= 1024 + 2 * 2, `queue holds ${r.queued} writes for 1 Event`);
});
