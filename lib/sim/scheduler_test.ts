import assert from "node:assert/strict";
import { Scheduler } from "./scheduler.ts";

async function until(cond: () => boolean, what: string) {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("callbacks run in due order, ties in insertion order", async () => {
  const s = new Scheduler();
  const order: string[] = [];
  s.after(30, () => order.push("c"));
  s.after(10, () => order.push("a1"));
  s.after(10, () => order.push("a2"));
  s.after(20, () => order.push("b"));
  await until(() => order.length === 4, "four callbacks");
  assert.deepEqual(order, ["a1", "a2", "b", "c"]);
  assert.equal(s.pending, 0);
  s.stop();
});

Deno.test("cancelled callbacks never run; an earlier entry re-arms the timer", async () => {
  const s = new Scheduler();
  const ran: string[] = [];
  const cancel = s.after(5, () => ran.push("cancelled"));
  s.after(60_000, () => ran.push("late"));
  s.after(15, () => ran.push("early"));
  cancel();
  cancel();
  assert.equal(s.pending, 2);
  await until(() => ran.length === 1, "the early callback");
  assert.deepEqual(ran, ["early"]);
  s.stop();
  assert.equal(s.pending, 0);
});

Deno.test("a throwing callback does not stop the others", async () => {
  const s = new Scheduler();
  const ran: number[] = [];
  const originalError = console.error;
  console.error = () => {};
  try {
    s.after(1, () => {
      throw new Error("boom");
    });
    s.after(2, () => ran.push(2));
    await until(() => ran.length === 1, "the second callback");
  } finally {
    console.error = originalError;
    s.stop();
  }
});

Deno.test("sleep resolves, rejects on abort and on stop", async () => {
  const s = new Scheduler();
  await s.sleep(5);
  const ac = new AbortController();
  const aborted = s.sleep(60_000, ac.signal);
  ac.abort(new Error("pod deleted"));
  await assert.rejects(aborted, /pod deleted/);
  const stopped = s.sleep(60_000);
  s.stop();
  await assert.rejects(stopped, /scheduler stopped/);
  await assert.rejects(s.sleep(1), /scheduler stopped/);
});

Deno.test("thousands of entries share one timer and all run", async () => {
  const s = new Scheduler();
  let count = 0;
  for (let i = 0; i < 5000; i++) s.after(i % 50, () => count++);
  await until(() => count === 5000, "5,000 callbacks");
  assert.equal(s.pending, 0);
  s.stop();
});

Deno.test("cancelled entries do not pile up in the heap until their time", async () => {
  const s = new Scheduler();
  const ran: number[] = [];
  const cancels = Array.from({ length: 5000 }, (_, i) => s.after(600_000 + i, () => ran.push(i)));
  s.after(10, () => ran.push(-1));
  for (const cancel of cancels) cancel();
  assert.equal(s.pending, 1);
  assert.ok(s.held <= 2050, `${s.held} entries held for 1 pending`);
  await until(() => ran.length === 1, "the remaining callback");
  assert.deepEqual(ran, [-1]);
  s.stop();
});
