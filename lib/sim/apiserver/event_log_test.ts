import assert from "node:assert/strict";
import { EventLog, type Rec, StoredRec, type StoreEvent } from "./event_log.ts";

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

Deno.test("event log drops events past its age limit once newer ones arrive", () => {
  let now = 0;
  const log = new EventLog({ capacity: 100, maxAgeMs: 1000, minEvents: 2, now: () => now });
  for (const rv of [1, 2, 3]) log.push(ev(rv));
  now = 900;
  log.push(ev(4));
  assert.equal(log.size, 4, "nothing is older than the limit yet");
  now = 1500;
  assert.deepEqual(log.since(0)?.map((e) => e.rv), [1, 2, 3, 4], "only a push evicts");
  log.push(ev(5));
  assert.deepEqual(log.since(3)?.map((e) => e.rv), [4, 5]);
  assert.equal(log.since(2), undefined, "events 1-3 (written at 0) are gone");
  now = 10_000;
  log.push(ev(6));
  assert.deepEqual(log.since(4)?.map((e) => e.rv), [5, 6], "the newest minEvents stay");
  assert.equal(log.since(3), undefined);
});

Deno.test("a compacted version parses its JSON on each read and keeps nothing", () => {
  const rec = new StoredRec({ a: 1 }, '{"a":1}', 7, "k", "");
  const live = rec.obj;
  assert.equal(rec.obj, live, "the current version hands out its object");
  rec.compact();
  assert.equal(rec.compacted, true);
  assert.deepEqual(rec.obj, { a: 1 });
  assert.notEqual(rec.obj, rec.obj, "each read is a fresh parse");
  assert.deepEqual({ ...rec, obj: undefined }, {
    json: '{"a":1}',
    rv: 7,
    key: "k",
    ns: "",
    obj: undefined,
  });
});
