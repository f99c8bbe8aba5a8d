import assert from "node:assert/strict";
import type { KubeObject, ObjectList, WatchEvent } from "../kube/mod.ts";
import { promptlyAborted } from "./_prompt_watch.ts";

Deno.test("an aborted watch ends at once even while its source waits for data", async () => {
  let releaseSource!: () => void;
  const sourceDone = new Promise<void>((r) => releaseSource = r);
  let sourceReturned = false;
  const source = {
    listAll: () => Promise.resolve({ items: [] } as unknown as ObjectList<KubeObject>),
    // Yields one event, then waits for data that only comes when the test releases it.
    async *watch(): AsyncGenerator<WatchEvent<KubeObject>> {
      try {
        yield { type: "ADDED", object: { metadata: { name: "a" } } };
        await sourceDone;
      } finally {
        sourceReturned = true;
      }
    },
  };
  const ac = new AbortController();
  const seen: string[] = [];
  const consuming = (async () => {
    for await (const e of promptlyAborted(source).watch({ signal: ac.signal })) {
      seen.push(e.object.metadata!.name!);
    }
  })();
  while (seen.length === 0) await new Promise((r) => setTimeout(r, 1));
  ac.abort();
  await consuming;
  assert.deepEqual(seen, ["a"]);
  assert.equal(sourceReturned, false, "the source is still parked on its read");
  releaseSource();
  while (!sourceReturned) await new Promise((r) => setTimeout(r, 1));
});

Deno.test("a source that ends or fails ends the watch the same way", async () => {
  const ends = {
    listAll: () => Promise.resolve({ items: [] } as unknown as ObjectList<KubeObject>),
    async *watch(): AsyncGenerator<WatchEvent<KubeObject>> {
      yield { type: "ADDED", object: { metadata: { name: "x" } } };
    },
  };
  const names: string[] = [];
  for await (const e of promptlyAborted(ends).watch({})) names.push(e.object.metadata!.name!);
  assert.deepEqual(names, ["x"]);

  const fails = {
    listAll: ends.listAll,
    // deno-lint-ignore require-yield
    async *watch(): AsyncGenerator<WatchEvent<KubeObject>> {
      await Promise.resolve();
      throw new Error("watch broke");
    },
  };
  await assert.rejects(async () => {
    for await (const _ of promptlyAborted(fails).watch({})) { /* nothing arrives */ }
  }, /watch broke/);
});
