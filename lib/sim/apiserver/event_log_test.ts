import assert from "node:assert/strict";
import { EventLog, type Rec, type StoreEvent } from "./event_log.ts";

function ev(rv: number): StoreEvent {
  const rec: Rec = { obj: {}, json: "{}", rv, key: `k${rv}`, ns: "" };
  return { type: "ADDED", rv, key: rec.key, cur: rec };
}

Deno.test("event log keeps a bounded window and knows how far back it reaches", () => {
  const log = new EventLog(3);
  for (const rv of [10, 12, 15]) log.push(ev(rv));
  assert.deepEqual(log.since(0)?.map((e) => e.rv), [10, 12, 15]);
  assert.deepEqual(log.since(12)?.map((e) => e.rv), [15]);
  assert.deepEqual(log.since(15), []);
  log.push(ev(20));
  assert.equal(log.floor, 10);
  assert.equal(log.since(9), undefined, "events after 9 were evicted");
  assert.deepEqual(log.since(10)?.map((e) => e.rv), [12, 15, 20]);
  assert.deepEqual(log.since(13)?.map((e) => e.rv), [15, 20]);
});
