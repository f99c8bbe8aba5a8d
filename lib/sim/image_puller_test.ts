import assert from "node:assert/strict";
import { ImagePuller, type PullRecord } from "./image_puller.ts";
import { ImageStore } from "./image_store.ts";
import { RegistryCatalogue } from "./registry_catalogue.ts";
import { Scheduler } from "./scheduler.ts";

function setup(timeScale = 0.001) {
  const catalogue = new RegistryCatalogue();
  const store = new ImageStore();
  const scheduler = new Scheduler();
  const records: PullRecord[] = [];
  const puller = new ImagePuller({
    catalogue,
    store,
    scheduler,
    timeScale,
    bandwidth: () => 100_000_000,
    onRecord: (r) => records.push(r),
  });
  return { catalogue, store, scheduler, records, puller };
}

const open = () => new AbortController().signal;

Deno.test("pulls run one at a time in arrival order; later ones report their waiting", async () => {
  const { puller, records, scheduler, catalogue } = setup();
  try {
    const refs = ["team/a:1", "team/b:1", "team/c:1"];
    const outcomes = await Promise.all(
      refs.map((ref) => puller.pull({ ref, authenticated: false, signal: open() })),
    );
    assert.deepEqual(records.map((r) => r.ref), refs);
    for (let i = 1; i < records.length; i++) {
      assert.ok(records[i].startedAt >= records[i - 1].finishedAt, "pulls overlap");
    }
    for (const [i, o] of outcomes.entries()) {
      assert.ok(o.ok);
      const size = (catalogue.resolve(refs[i]) as { manifest: { size: number } }).manifest.size;
      assert.equal(o.pullMs, 50 + size / 100_000);
      assert.equal(o.manifest.size, size);
      assert.match(o.imageID, /^docker\.io\/team\/[abc]@sha256:[a-f0-9]{64}$/);
    }
    assert.ok(outcomes[0].totalMs - outcomes[0].pullMs < outcomes[1].totalMs - outcomes[1].pullMs);
    assert.ok(outcomes[2].totalMs >= outcomes[0].pullMs + outcomes[1].pullMs + outcomes[2].pullMs);
    assert.equal(puller.busy, false);
  } finally {
    scheduler.stop();
  }
});

Deno.test("a failed pull takes its time, stores nothing and lets the next one run", async () => {
  const { puller, store, scheduler } = setup();
  try {
    const [bad, good] = await Promise.all([
      puller.pull({ ref: "registry.invalid.local:9999/x", authenticated: false, signal: open() }),
      puller.pull({ ref: "private.example.com/x:1", authenticated: true, signal: open() }),
    ]);
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.failure, "dns");
    assert.equal(good.ok, true);
    assert.equal(store.size, 1);
    const denied = await puller.pull({
      ref: "private.example.com/y:1",
      authenticated: false,
      signal: open(),
    });
    assert.equal(!denied.ok && denied.failure, "unauthorized");
  } finally {
    scheduler.stop();
  }
});

Deno.test("aborting a waiting pull removes it; aborting the running one starts the next", async () => {
  const { puller, records, scheduler } = setup(0.01);
  try {
    const running = new AbortController();
    const waiting = new AbortController();
    const first = puller.pull({ ref: "team/big:1", authenticated: false, signal: running.signal });
    const second = puller.pull({ ref: "team/w:1", authenticated: false, signal: waiting.signal });
    const third = puller.pull({ ref: "team/c:1", authenticated: false, signal: open() });
    assert.equal(puller.waiting, 2);
    waiting.abort(new Error("pod deleted"));
    await assert.rejects(second, /pod deleted/);
    assert.equal(puller.waiting, 1);
    running.abort(new Error("pod deleted"));
    await assert.rejects(first, /pod deleted/);
    assert.equal((await third).ok, true);
    assert.deepEqual(records.map((r) => [r.ref, r.result]), [
      ["team/big:1", "cancelled"],
      ["team/c:1", "pulled"],
    ]);
  } finally {
    scheduler.stop();
  }
});

Deno.test("pulling a digest already on the node costs one round trip", async () => {
  const { puller, scheduler } = setup();
  try {
    const first = await puller.pull({ ref: "team/a:1", authenticated: false, signal: open() });
    const again = await puller.pull({ ref: "team/a:1", authenticated: false, signal: open() });
    assert.ok(first.pullMs > 100);
    assert.equal(again.pullMs, 50);
  } finally {
    scheduler.stop();
  }
});
