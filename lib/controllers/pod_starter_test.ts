import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { CREATE_BACKOFF, type PodStart, PodStarter } from "./pod_starter.ts";

function recorder(create: (s: PodStart) => Promise<void>, limit = 2) {
  const log: string[] = [];
  let now = 1000;
  const starter = new PodStarter({
    limit,
    create,
    onStarted: (s) => log.push(`started ${s.node}`),
    onDropped: (s, e) => log.push(`dropped ${s.node}${e ? `: ${(e as Error).message}` : ""}`),
    onFailed: (image) => log.push(`failed ${image}`),
    now: () => now,
    random: () => 0.5,
  });
  const start = (node: string, signal = new AbortController().signal) =>
    starter.start({ image: "img", node, pod: {} as Pod, signal });
  return { starter, log, start, tick: (ms: number) => void (now += ms) };
}

Deno.test("PodStarter creates in the background, a bounded number at once, and counts what is pending", async () => {
  let inFlight = 0;
  let most = 0;
  const { starter, log, start } = recorder(async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 2));
    inFlight--;
  });
  for (const n of ["n1", "n2", "n3"]) start(n);
  assert.equal(starter.pending("img"), 3);
  await starter.idle();
  assert.equal(most, 2);
  assert.equal(starter.pending("img"), 0);
  assert.deepEqual(log.sort(), ["started n1", "started n2", "started n3"]);
  assert.equal(starter.failure("img"), undefined);
});

Deno.test("PodStarter: a failed round drops its other starts and backs off, doubling, until a create succeeds", async () => {
  const boom = new Error("quota exceeded");
  let failing = true;
  const { starter, log, start, tick } = recorder(
    () => failing ? Promise.reject(boom) : Promise.resolve(),
    1,
  );
  start("n1");
  start("n2");
  await starter.idle();
  assert.deepEqual(log, ["dropped n1: quota exceeded", "failed img", "dropped n2"]);
  const first = starter.failure("img")!;
  assert.equal(first.error, boom);
  assert.equal(first.count, 1);
  assert.equal(first.retryAt, 1000 + CREATE_BACKOFF.initialMs);

  // The next round fails too: one more failure, twice the delay.
  tick(1000);
  start("n1");
  start("n2");
  await starter.idle();
  const second = starter.failure("img")!;
  assert.equal(second.count, 2);
  assert.equal(second.retryAt, 2000 + 2 * CREATE_BACKOFF.initialMs);
  assert.equal(log.filter((l) => l === "failed img").length, 2);

  // A successful create ends the backoff.
  tick(2000);
  failing = false;
  start("n3");
  await starter.idle();
  assert.equal(log.at(-1), "started n3");
  assert.equal(starter.failure("img"), undefined);
});

Deno.test("PodStarter drops starts whose controller stopped before they were sent", async () => {
  let created = 0;
  const { starter, log, start } = recorder(() => Promise.resolve(void created++), 1);
  const stop = new AbortController();
  start("n1", stop.signal);
  start("n2", stop.signal);
  stop.abort();
  await starter.idle();
  // n1 was sent at once (the pool had room); n2 waited and is dropped.
  assert.equal(created, 1);
  assert.deepEqual(log, ["started n1", "dropped n2"]);
});
