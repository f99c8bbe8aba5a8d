import assert from "node:assert/strict";
import { SingleFlight } from "./single_flight.ts";
import { TaskPool } from "./task_pool.ts";

Deno.test("SingleFlight runs one task per key and calls back once for turns asked meanwhile", async () => {
  const pool = new TaskPool(4);
  const again: string[] = [];
  const flights = new SingleFlight(pool, (k) => again.push(k));
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const ran: string[] = [];
  assert.ok(flights.run("a", async () => {
    ran.push("a1");
    await gate;
  }));
  assert.ok(flights.run("b", () => Promise.resolve(void ran.push("b1"))));
  assert.ok(!flights.run("a", () => Promise.resolve(void ran.push("a2"))), "a is busy");
  assert.ok(flights.busy("a"));
  assert.ok(flights.again("a") && flights.again("a"));
  assert.ok(!flights.again("c"), "nothing runs for c");
  await new Promise((r) => setTimeout(r, 1));
  assert.ok(!flights.busy("b"));
  assert.deepEqual(again, [], "b was not asked again");
  release();
  await pool.idle();
  assert.deepEqual(ran.sort(), ["a1", "b1"]);
  assert.deepEqual(again, ["a"]);
  assert.ok(!flights.busy("a"));
});

Deno.test("SingleFlight frees the key when the task fails", async () => {
  const errors: unknown[] = [];
  const pool = new TaskPool(1, (e) => errors.push(e));
  const flights = new SingleFlight(pool, () => {});
  flights.run("a", () => Promise.reject(new Error("boom")));
  await pool.idle();
  assert.equal(errors.length, 1);
  assert.ok(!flights.busy("a"));
  assert.ok(flights.run("a", async () => {}));
  await pool.idle();
});
