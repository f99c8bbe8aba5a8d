import assert from "node:assert/strict";
import { Controller, TerminalError } from "./controller.ts";
import { ItemExponentialRateLimiter } from "./rate_limiter.ts";
import { WorkQueue } from "./work_queue.ts";
import { waitFor } from "./_test_helpers.ts";

function fastQueue() {
  return new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(1, 20) });
}

Deno.test("Controller retries thrown errors through the rate limiter and forgets on success", async () => {
  const queue = fastQueue();
  const attempts = new Map<string, number>();
  const requeuesSeen: number[] = [];
  const controller = new Controller({
    name: "test",
    queue,
    workers: 2,
    reconcile: (key) => {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      if (key === "flaky" && n < 4) throw new Error(`attempt ${n} failed`);
      return Promise.resolve();
    },
    onError: (_key, _e, retries) => requeuesSeen.push(retries),
  });
  const ac = new AbortController();
  const run = controller.run(ac.signal);
  queue.add("flaky");
  queue.add("fine");
  await waitFor(() => attempts.get("flaky") === 4 && attempts.get("fine") === 1, "reconciles");
  await waitFor(() => queue.numRequeues("flaky") === 0, "forget after success");
  assert.deepEqual(requeuesSeen, [0, 1, 2]);
  ac.abort();
  await run;
});

Deno.test("Controller honours requeueAfter and does not requeue terminal errors", async () => {
  const queue = fastQueue();
  const calls: string[] = [];
  const errors: unknown[] = [];
  const controller = new Controller({
    name: "test",
    queue,
    reconcile: (key) => {
      calls.push(key);
      if (key === "bad-spec") throw new TerminalError("spec.image is empty");
      if (key === "periodic" && calls.filter((c) => c === key).length < 3) {
        return Promise.resolve({ requeueAfter: 10 });
      }
      return Promise.resolve();
    },
    onError: (_k, e) => errors.push(e),
  });
  const ac = new AbortController();
  const run = controller.run(ac.signal);
  queue.add("periodic");
  queue.add("bad-spec");
  await waitFor(() => calls.filter((c) => c === "periodic").length === 3, "three periodic runs");
  // Let a possible (wrong) retry of the terminal key surface before checking.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(calls.filter((c) => c === "bad-spec").length, 1);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TerminalError);
  ac.abort();
  await run;
});

Deno.test("Controller never runs one key on two workers and waits for in-flight work on stop", async () => {
  const queue = fastQueue();
  const running = new Set<string>();
  let overlaps = 0;
  let finished = 0;
  let inFlight = 0;
  const controller = new Controller({
    name: "test",
    queue,
    workers: 4,
    reconcile: async (key) => {
      if (running.has(key)) overlaps++;
      running.add(key);
      inFlight++;
      await new Promise((r) => setTimeout(r, 2));
      running.delete(key);
      inFlight--;
      finished++;
    },
  });
  const ac = new AbortController();
  const run = controller.run(ac.signal);
  for (let i = 0; i < 300; i++) {
    queue.add(`k${i % 3}`);
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  await waitFor(() => finished >= 3, "some reconciles");
  ac.abort();
  await run;
  assert.equal(overlaps, 0);
  assert.equal(inFlight, 0, "run() resolved only after in-flight reconciles returned");
});

Deno.test("Controller rejects zero workers", () => {
  assert.throws(
    () =>
      new Controller({
        name: "x",
        queue: fastQueue(),
        workers: 0,
        reconcile: () => Promise.resolve(),
      }),
    /workers must be at least 1/,
  );
});

Deno.test("Controller times a synchronous reconcile by its own run, not the other workers'", async () => {
  const queue = fastQueue();
  let clock = 0;
  const seconds: number[] = [];
  const controller = new Controller({
    name: "test",
    queue,
    workers: 2,
    now: () => clock,
    reconcile: (key) => {
      // "a" wakes "b" while it runs: the other worker takes "b" before an await in the worker
      // loop would resume after "a".
      if (key === "a") queue.add("b");
      clock += key === "a" ? 3 : 50;
    },
    hooks: { onReconcile: (_name, _outcome, s) => void seconds.push(s) },
  });
  const ac = new AbortController();
  const run = controller.run(ac.signal);
  queue.add("a");
  await waitFor(() => seconds.length === 2, "both reconciles");
  ac.abort();
  await run;
  assert.deepEqual(seconds.sort(), [0.003, 0.05]);
});
