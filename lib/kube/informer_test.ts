import assert from "node:assert/strict";
import { KubeApiError } from "./errors.ts";
import { labelIndexer } from "./indexers.ts";
import { Informer, type ListWatcher } from "./informer.ts";
import { objectKey } from "./object_key.ts";
import { waitFor } from "./_test_helpers.ts";
import type { KubeObject, ListOptions, ObjectList, WatchEvent, WatchOptions } from "./types.ts";

type Obj = KubeObject & { data?: string; bulky?: string };

/** One scripted watch: the test pushes events, errors or an end. */
class ScriptedWatch implements AsyncIterable<WatchEvent<Obj>> {
  readonly opts: WatchOptions;
  #queue: (WatchEvent<Obj> | Error | "end")[] = [];
  #wake?: () => void;

  constructor(opts: WatchOptions) {
    this.opts = opts;
    opts.signal?.addEventListener("abort", () => this.#wake?.());
  }

  push(item: WatchEvent<Obj> | Error | "end") {
    this.#queue.push(item);
    this.#wake?.();
  }

  async *[Symbol.asyncIterator]() {
    while (true) {
      if (this.opts.signal?.aborted) return;
      const item = this.#queue.shift();
      if (item === undefined) {
        await new Promise<void>((r) => this.#wake = r);
        continue;
      }
      if (item === "end") return;
      if (item instanceof Error) throw item;
      yield item;
    }
  }
}

/** A ListWatcher whose lists come from `objects` and whose watches the test scripts. */
class FakeListWatcher implements ListWatcher<Obj> {
  objects = new Map<string, Obj>();
  rv = 100;
  lists = 0;
  listFailures = 0;
  watches: ScriptedWatch[] = [];

  set(obj: Obj) {
    this.objects.set(objectKey(obj), obj);
  }

  listAll(opts?: ListOptions & { transform?: (o: Obj) => Obj }): Promise<ObjectList<Obj>> {
    this.lists++;
    if (this.listFailures > 0) {
      this.listFailures--;
      return Promise.reject(new Error("list failed"));
    }
    return Promise.resolve({
      apiVersion: "v1",
      kind: "List",
      metadata: { resourceVersion: String(this.rv) },
      items: [...this.objects.values()].map((o) => {
        const copy = structuredClone(o);
        return opts?.transform ? opts.transform(copy) : copy;
      }),
    });
  }

  watch(opts: WatchOptions = {}): AsyncIterable<WatchEvent<Obj>> {
    const w = new ScriptedWatch(opts);
    this.watches.push(w);
    return w;
  }
}

function obj(name: string, rv: string, extra: Partial<Obj> = {}): Obj {
  return {
    metadata: { name, namespace: "ns", resourceVersion: rv, labels: { app: name[0] } },
    ...extra,
  };
}

const FAST_BACKOFF = { initialMs: 5, maxMs: 20, jitter: 0 };

Deno.test("Informer lists, syncs, then watches from the list's resourceVersion", async () => {
  const fake = new FakeListWatcher();
  fake.set(obj("a1", "90", { bulky: "x".repeat(100) }));
  fake.set(obj("b1", "95"));
  const informer = new Informer<Obj>(fake, {
    indexers: { app: labelIndexer("app") },
    transform: (o) => ({ metadata: o.metadata, data: o.data }),
    backoff: FAST_BACKOFF,
    onError: () => {},
  });
  const log: string[] = [];
  informer.on({
    add: (o) => log.push(`add ${o.metadata!.name}`),
    update: (old, o) =>
      log.push(
        `update ${o.metadata!.name} ${old.metadata!.resourceVersion}->${
          o.metadata!.resourceVersion
        }`,
      ),
    delete: (o) => log.push(`delete ${o.metadata!.name}`),
  });
  const ac = new AbortController();
  const running = informer.start(ac.signal);
  try {
    await informer.synced;
    assert.ok(informer.hasSynced());
    assert.equal(informer.resourceVersion, "100");
    assert.equal(informer.get("ns/a1")?.bulky, undefined, "transform trimmed the cached object");
    await waitFor(() => fake.watches.length === 1, "the watch");
    assert.equal(fake.watches[0].opts.resourceVersion, "100");
    const w = fake.watches[0];
    w.push({ type: "ADDED", object: obj("a2", "101", { data: "new" }) });
    w.push({ type: "MODIFIED", object: obj("b1", "102") });
    w.push({ type: "DELETED", object: obj("a1", "103") });
    w.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: "110" } } });
    await waitFor(() => informer.resourceVersion === "110", "the bookmark");
    assert.deepEqual(log, [
      "add a1",
      "add b1",
      "add a2",
      "update b1 95->102",
      "delete a1",
    ]);
    assert.deepEqual(informer.keys().sort(), ["ns/a2", "ns/b1"]);
    assert.deepEqual(informer.byIndex("app", "a").map((o) => o.metadata!.name), ["a2"]);
    assert.equal(informer.get("ns/a2")?.data, "new");
    // The server ends the watch (timeout): the informer resumes from the bookmark, no relist.
    w.push({ type: "ADDED", object: obj("c1", "111") });
    w.push("end");
    await waitFor(() => fake.watches.length === 2, "the resumed watch");
    assert.equal(fake.watches[1].opts.resourceVersion, "111");
    assert.equal(fake.lists, 1);
  } finally {
    ac.abort();
    await running;
  }
});

Deno.test("Informer relists on 410 Gone and emits the difference as events", async () => {
  const fake = new FakeListWatcher();
  fake.set(obj("keep", "1"));
  fake.set(obj("change", "1"));
  fake.set(obj("remove", "1"));
  const informer = new Informer<Obj>(fake, { backoff: FAST_BACKOFF, onError: () => {} });
  const log: string[] = [];
  informer.on({
    add: (o) => log.push(`add ${o.metadata!.name}`),
    update: (_old, o) => log.push(`update ${o.metadata!.name}`),
    delete: (o) => log.push(`delete ${o.metadata!.name}`),
  });
  const ac = new AbortController();
  const running = informer.start(ac.signal);
  try {
    await informer.synced;
    await waitFor(() => fake.watches.length === 1, "the watch");
    log.length = 0;
    // While the watch was gone, the world changed.
    fake.objects.delete("ns/remove");
    fake.set(obj("change", "7"));
    fake.set(obj("fresh", "8"));
    fake.rv = 200;
    fake.watches[0].push({ type: "ADDED", object: obj("seen", "150") });
    fake.watches[0].push(new KubeApiError({ code: 410, reason: "Expired", message: "too old" }));
    await waitFor(() => fake.watches.length === 2, "the watch after the relist");
    assert.equal(fake.lists, 2);
    assert.equal(fake.watches[1].opts.resourceVersion, "200");
    assert.deepEqual(log.sort(), [
      "add fresh",
      "add seen",
      "delete remove",
      "delete seen",
      "update change",
    ]);
    assert.deepEqual(informer.keys().sort(), ["ns/change", "ns/fresh", "ns/keep"]);
  } finally {
    ac.abort();
    await running;
  }
});

Deno.test("Informer backs off and resumes after watch errors, short watches and list errors", async () => {
  const fake = new FakeListWatcher();
  fake.listFailures = 2;
  fake.set(obj("a", "1"));
  const errors: string[] = [];
  const informer = new Informer<Obj>(fake, {
    backoff: FAST_BACKOFF,
    onError: (e) => errors.push((e as Error).message),
  });
  const ac = new AbortController();
  const running = informer.start(ac.signal);
  try {
    await informer.synced;
    assert.equal(fake.lists, 3, "two failed lists were retried");
    await waitFor(() => fake.watches.length === 1, "the watch");
    fake.watches[0].push({ type: "MODIFIED", object: obj("a", "101") });
    fake.watches[0].push(new Error("connection reset"));
    await waitFor(() => fake.watches.length === 2, "the re-watch");
    assert.equal(fake.watches[1].opts.resourceVersion, "101", "resumed, not relisted");
    assert.equal(fake.lists, 3);
    fake.watches[1].push("end"); // closed at once without events: treated as a failure
    await waitFor(() => fake.watches.length === 3, "the watch after a short one");
    assert.deepEqual(errors, [
      "list failed",
      "list failed",
      "connection reset",
      "Watch closed within a second without any event",
    ]);
  } finally {
    ac.abort();
    await running;
  }
});

Deno.test("Informer replays cached objects to late handlers and can unregister them", async () => {
  const fake = new FakeListWatcher();
  fake.set(obj("a", "1"));
  fake.set(obj("b", "1"));
  const informer = new Informer<Obj>(fake, { backoff: FAST_BACKOFF });
  const ac = new AbortController();
  const running = informer.start(ac.signal);
  try {
    await informer.synced;
    const adds: string[] = [];
    const off = informer.on({ add: (o) => adds.push(o.metadata!.name!) });
    assert.deepEqual(adds.sort(), ["a", "b"]);
    await waitFor(() => fake.watches.length === 1, "the watch");
    off();
    fake.watches[0].push({ type: "ADDED", object: obj("c", "2") });
    await waitFor(() => informer.get("ns/c") !== undefined, "c in the cache");
    assert.deepEqual(adds.sort(), ["a", "b"], "unregistered handlers get nothing");
  } finally {
    ac.abort();
    await running;
  }
});

Deno.test("Informer keeps running when a handler throws", async () => {
  const fake = new FakeListWatcher();
  fake.set(obj("a", "1"));
  const errors: unknown[] = [];
  const informer = new Informer<Obj>(fake, {
    backoff: FAST_BACKOFF,
    onError: (e) => errors.push(e),
  });
  informer.on({
    add: () => {
      throw new Error("handler bug");
    },
  });
  const ac = new AbortController();
  const running = informer.start(ac.signal);
  try {
    await informer.synced;
    assert.equal(errors.length, 1);
    assert.equal(informer.get("ns/a")?.metadata?.name, "a");
  } finally {
    ac.abort();
    await running;
  }
});

Deno.test("Informer.synced rejects when stopped before the first list", async () => {
  const fake = new FakeListWatcher();
  fake.listFailures = 1_000_000;
  const informer = new Informer<Obj>(fake, { backoff: FAST_BACKOFF, onError: () => {} });
  const ac = new AbortController();
  const running = informer.start(ac.signal);
  await waitFor(() => fake.lists >= 2, "list retries");
  ac.abort();
  await running;
  await assert.rejects(() => informer.synced, /stopped before its first list completed/);
  assert.equal(informer.hasSynced(), false);
  await assert.rejects(() => informer.start(new AbortController().signal), /already running/);
});
