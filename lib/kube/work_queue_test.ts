import assert from "node:assert/strict";
import { ItemExponentialRateLimiter } from "./rate_limiter.ts";
import { WorkQueue } from "./work_queue.ts";

Deno.test("WorkQueue collapses repeated adds of a queued key", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  q.add("b");
  q.add("a");
  q.add("a");
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(q.len(), 0);
  q.shutDown();
});

Deno.test("WorkQueue never hands out a key that is being processed", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  const key = await q.get();
  assert.equal(key, "a");
  q.add("a");
  q.add("a");
  assert.equal(q.len(), 0, "a dirty key waits for done");
  q.add("b");
  assert.equal(await q.get(), "b");
  q.done("a");
  assert.equal(q.len(), 1, "the triggers collapsed into one re-queue");
  assert.equal(await q.get(), "a");
  q.done("a");
  q.done("b");
  assert.equal(q.len(), 0);
  q.shutDown();
});

Deno.test("WorkQueue get waits for an add", async () => {
  const q = new WorkQueue<number>();
  const pending = q.get();
  q.add(7);
  assert.equal(await pending, 7);
  q.shutDown();
});

Deno.test("WorkQueue workers never overlap on one key under concurrent adds", async () => {
  const q = new WorkQueue<number>();
  const inFlight = new Set<number>();
  let overlaps = 0;
  let processed = 0;
  const worker = async () => {
    while (true) {
      const k = await q.get();
      if (k === undefined) return;
      if (inFlight.has(k)) overlaps++;
      inFlight.add(k);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      inFlight.delete(k);
      processed++;
      q.done(k);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  for (let i = 0; i < 500; i++) {
    q.add(i % 5);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await q.shutDownWithDrain();
  await Promise.all(workers);
  assert.equal(overlaps, 0);
  assert.ok(processed >= 5 && processed <= 500, `processed ${processed}`);
});

Deno.test("WorkQueue addAfter delivers in due order and the earliest time wins", async () => {
  const q = new WorkQueue<string>();
  q.addAfter("slow", 600);
  q.addAfter("fast", 50);
  q.addAfter("mid", 300);
  q.addAfter("slow", 5_000); // later than the pending time: ignored
  q.addAfter("moved", 10_000);
  q.addAfter("moved", 150); // earlier: wins
  const order = [];
  for (let i = 0; i < 4; i++) {
    const k = (await q.get())!;
    order.push(k);
    q.done(k);
  }
  assert.deepEqual(order, ["fast", "moved", "mid", "slow"]);
  assert.equal(q.len(), 0);
  q.shutDown();
});

Deno.test("WorkQueue addAfter with no delay adds at once", () => {
  const q = new WorkQueue<string>();
  q.addAfter("a", 0);
  q.addAfter("b", -5);
  assert.equal(q.len(), 2);
  q.shutDown();
});

Deno.test("WorkQueue rate-limited adds count requeues until forget", async () => {
  const q = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(1, 50) });
  let retries = 0;
  const q2 = new WorkQueue<string>({
    rateLimiter: new ItemExponentialRateLimiter(1, 50),
    hooks: { onRetry: () => retries++ },
  });
  for (let i = 0; i < 3; i++) {
    q.addRateLimited("a");
    const k = (await q.get())!;
    q.done(k);
  }
  assert.equal(q.numRequeues("a"), 3);
  q.forget("a");
  assert.equal(q.numRequeues("a"), 0);
  q2.addRateLimited("x");
  assert.equal(retries, 1);
  q.shutDown();
  q2.shutDown();
});

Deno.test("WorkQueue shutDown drops queued and delayed keys and releases waiters", async () => {
  const q = new WorkQueue<string>();
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
  q.add("late");
  q.addAfter("later", 10);
  assert.equal(q.len(), 0);
  assert.equal(await q.get(), undefined);
  assert.equal(q.shuttingDown, true);
});

Deno.test("WorkQueue shutDownWithDrain hands out queued keys and waits for in-flight ones", async () => {
  const q = new WorkQueue<string>();
  q.add("a");
  q.add("b");
  const a = (await q.get())!;
  q.add("a"); // dirty while processing: must still run before the drain completes
  q.addAfter("delayed", 10_000);
  let drained = false;
  const drain = q.shutDownWithDrain().then(() => drained = true);
  q.add("ignored");
  const seen: string[] = [];
  const worker = (async () => {
    while (true) {
      const k = await q.get();
      if (k === undefined) return;
      seen.push(k);
      q.done(k);
    }
  })();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(drained, false, "a is still in progress");
  q.done(a);
  await drain;
  await worker;
  assert.deepEqual(seen.sort(), ["a", "b"]);
});

Deno.test("WorkQueue hooks report adds, depth, latency and work duration", async () => {
  const calls: string[] = [];
  const q = new WorkQueue<string>({
    name: "things",
    hooks: {
      onAdd: (n) => calls.push(`add:${n}`),
      onDepth: (n, d) => calls.push(`depth:${n}:${d}`),
      onLatency: (n, s) => calls.push(`latency:${n}:${s >= 0}`),
      onWorkDuration: (n, s) => calls.push(`work:${n}:${s >= 0}`),
    },
  });
  q.add("a");
  const k = (await q.get())!;
  q.done(k);
  assert.deepEqual(calls, [
    "add:things",
    "depth:things:1",
    "latency:things:true",
    "depth:things:0",
    "work:things:true",
  ]);
  q.shutDown();
});
