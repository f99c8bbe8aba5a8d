import assert from "node:assert/strict";
import { TaskPool } from "./task_pool.ts";

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

Deno.test("TaskPool runs tasks in order, at most limit at once, and says when it is idle", async () => {
  const pool = new TaskPool(2);
  let inFlight = 0;
  let most = 0;
  const started: number[] = [];
  for (let i = 0; i < 5; i++) {
    pool.run(async () => {
      started.push(i);
      inFlight++;
      most = Math.max(most, inFlight);
      await tick(2);
      inFlight--;
    });
  }
  assert.equal(pool.size, 5);
  await pool.idle();
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
  assert.equal(pool.size, 0);
  await pool.idle(); // resolves at once when nothing is left
});

Deno.test("TaskPool hands a task's error to onError and goes on with the others", async () => {
  const errors: string[] = [];
  const pool = new TaskPool(1, (e) => errors.push((e as Error).message));
  let ran = 0;
  pool.run(() => Promise.reject(new Error("async boom")));
  pool.run(() => {
    throw new Error("sync boom");
  });
  pool.run(() => Promise.resolve(void ran++));
  await pool.idle();
  assert.deepEqual(errors, ["async boom", "sync boom"]);
  assert.equal(ran, 1);
});

Deno.test("TaskPool keeps its queue short over many tasks", async () => {
  const pool = new TaskPool(4);
  let done = 0;
  for (let i = 0; i < 5000; i++) pool.run(() => Promise.resolve(void done++));
  await pool.idle();
  assert.equal(done, 5000);
});
