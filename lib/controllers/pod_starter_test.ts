import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type PodStart, PodStarter } from "./pod_starter.ts";

function recorder(create: (s: PodStart) => Promise<void>, limit = 2) {
  const log: string[] = [];
  const starter = new PodStarter({
    limit,
    create,
    onStarted: (s) => log.push(`started ${s.node}`),
    onDropped: (s, e) => log.push(`dropped ${s.node}${e ? `: ${(e as Error).message}` : ""}`),
    onFailed: (image) => log.push(`failed ${image}`),
  });
  const start = (node: string, signal = new AbortController().signal) =>
    starter.start({ image: "img", node, pod: {} as Pod, signal });
  return { starter, log, start };
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
  assert.equal(starter.error("img"), undefined);
});

Deno.test("PodStarter keeps the first failure until reported and drops the image's queued starts", async () => {
  const boom = new Error("quota exceeded");
  const { starter, log, start } = recorder(
    (s) => s.node === "n1" ? Promise.reject(boom) : Promise.resolve(),
    1,
  );
  start("n1");
  start("n2");
  await starter.idle();
  assert.deepEqual(log, ["dropped n1: quota exceeded", "failed img", "dropped n2"]);
  assert.equal(starter.error("img"), boom);
  starter.reported("img", new Error("another")); // not the error it holds
  assert.equal(starter.error("img"), boom);
  starter.reported("img", boom);
  assert.equal(starter.error("img"), undefined);
  start("n3");
  await starter.idle();
  assert.equal(log.at(-1), "started n3");
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
