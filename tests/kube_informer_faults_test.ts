/**
 * Watch and informer resilience against the simulated API server's fault injection: streams
 * closed every few seconds, 410 Gone, 429 with Retry-After, silent streams and 500s.
 */
import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import {
  configFromKubeconfigText,
  CONFIGMAPS,
  Informer,
  isNotFound,
  KubeClient,
  NAMESPACES,
  objectKey,
  WatchStalledError,
} from "../lib/kube/mod.ts";
import { startApiServer } from "../lib/sim/apiserver/mod.ts";

const NS = "soak";

async function waitFor(check: () => boolean, what: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Deterministic pseudo-random numbers so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("informer cache equals the server after 1,000 mutations under faults", async () => {
  const server = await startApiServer({ bookmarkIntervalMs: 500 });
  const mutator = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  const watcher = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  const ac = new AbortController();
  const errors: string[] = [];
  let informerRun: Promise<void> | undefined;
  try {
    await mutator.resource(NAMESPACES).create({ metadata: { name: NS } });
    // Faults hit only the informer's list and watch calls; the mutator's writes succeed.
    // Streams are closed every 700 ms throughout; each phase adds one fault to every request
    // (then a mix), so every kind of fault is certain to strike while mutations go on.
    Object.assign(server.faults, {
      closeWatchesAfterMs: 700,
      retryAfterSeconds: 1,
      scope: { verbs: ["list", "watch"], resources: ["configmaps"] },
    });
    const phases = [
      {},
      { tooManyRequestsFraction: 1 },
      { internalErrorFraction: 1 },
      { watchGoneFraction: 1 },
      { stallWatchesFraction: 1 },
      {
        tooManyRequestsFraction: 0.2,
        internalErrorFraction: 0.2,
        watchGoneFraction: 0.2,
        stallWatchesFraction: 0.2,
      },
      {},
    ];
    const noFaults = {
      tooManyRequestsFraction: 0,
      internalErrorFraction: 0,
      watchGoneFraction: 0,
      stallWatchesFraction: 0,
    };
    const informer = new Informer<ConfigMap>(watcher.resource<ConfigMap>(CONFIGMAPS, NS), {
      pageSize: 50,
      // Quick reconnects keep the test short; production uses 0.8 s -> 30 s.
      backoff: { initialMs: 50, maxMs: 1_000 },
      watchInactivityTimeoutMs: 1_500,
      onError: (e) => errors.push(e instanceof Error ? e.constructor.name : String(e)),
    });
    const delivered = new Map<string, string>();
    informer.on({
      add: (o) => delivered.set(objectKey(o), o.metadata!.resourceVersion!),
      update: (_old, o) => delivered.set(objectKey(o), o.metadata!.resourceVersion!),
      delete: (o) => delivered.set(objectKey(o), "deleted"),
    });
    informerRun = informer.start(ac.signal);

    const cms = mutator.resource<ConfigMap>(CONFIGMAPS, NS);
    const random = rng(42);
    const live = new Map<string, ConfigMap>();
    const touched = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const name = `cm-${Math.floor(random() * 80)}`;
      touched.add(`${NS}/${name}`);
      const existing = live.get(name);
      if (!existing) {
        live.set(name, await cms.create({ metadata: { name }, data: { i: String(i) } }));
      } else if (random() < 0.25) {
        await cms.delete(name);
        live.delete(name);
      } else {
        live.set(name, await cms.replace({ ...existing, data: { i: String(i) } }));
      }
      if (i % 150 === 0) Object.assign(server.faults, noFaults, phases[i / 150]);
      // Spread the mutations over many watch lifetimes.
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 100));
    }
    Object.assign(server.faults, noFaults);

    const serverState = () =>
      new Map(
        server.store.list("", "configmaps", NS).map((o) => {
          const m = o.metadata as { namespace: string; name: string; resourceVersion: string };
          return [`${m.namespace}/${m.name}`, m.resourceVersion];
        }),
      );
    const cacheState = () =>
      new Map(informer.list().map((o) => [objectKey(o), o.metadata!.resourceVersion!]));
    const same = (a: Map<string, string>, b: Map<string, string>) =>
      a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
    await waitFor(() => same(cacheState(), serverState()), "the cache to equal the server");

    const fresh = await watcher.resource<ConfigMap>(CONFIGMAPS, NS).listAll();
    assert.ok(
      same(
        cacheState(),
        new Map(fresh.items.map((o) => [objectKey(o), o.metadata!.resourceVersion!])),
      ),
      "the cache equals a fresh list",
    );
    const expected = serverState();
    for (const key of touched) {
      assert.equal(
        delivered.get(key),
        expected.get(key) ?? "deleted",
        `last delivered state of ${key}`,
      );
    }
    // The faults really happened.
    const codes = server.counters.snapshot().byCode;
    assert.ok((codes["429"] ?? 0) > 0, "some 429s were answered");
    assert.ok((codes["500"] ?? 0) > 0, "some 500s were answered");
    assert.ok(server.counters.get("list", "configmaps") > 1, "410s forced relists");
    assert.ok(errors.includes("WatchStalledError"), "the watchdog caught silent streams");
    assert.ok(server.counters.get("watch", "configmaps") > 3, "watches were re-established");
  } finally {
    ac.abort();
    await informerRun;
    mutator.close();
    watcher.close();
    await server.stop();
  }
});

Deno.test("a silent watch is detected and the informer recovers once streams flow again", async () => {
  const server = await startApiServer({ bookmarkIntervalMs: 200 });
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  const ac = new AbortController();
  const errors: unknown[] = [];
  let run: Promise<void> | undefined;
  try {
    await client.resource(NAMESPACES).create({ metadata: { name: NS } });
    const cms = client.resource<ConfigMap>(CONFIGMAPS, NS);
    await cms.create({ metadata: { name: "before" } });
    server.faults.stallWatchesFraction = 1;
    const informer = new Informer<ConfigMap>(cms, {
      backoff: { initialMs: 50, maxMs: 200 },
      watchInactivityTimeoutMs: 800,
      onError: (e) => errors.push(e),
    });
    run = informer.start(ac.signal);
    await informer.synced;
    await cms.create({ metadata: { name: "during" } });
    await waitFor(
      () => errors.some((e) => e instanceof WatchStalledError),
      "the watchdog to fire",
      30_000,
    );
    assert.equal(informer.get(`${NS}/during`), undefined, "a silent stream delivered nothing");
    server.faults.stallWatchesFraction = 0;
    await waitFor(() => informer.get(`${NS}/during`) !== undefined, "recovery", 30_000);
    await cms.delete("before");
    await waitFor(() => informer.get(`${NS}/before`) === undefined, "the delete", 30_000);
  } finally {
    ac.abort();
    await run;
    client.close();
    await server.stop();
  }
});

Deno.test("a 410 on watch makes the informer relist and emit what it missed", async () => {
  const server = await startApiServer();
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  const ac = new AbortController();
  let run: Promise<void> | undefined;
  try {
    await client.resource(NAMESPACES).create({ metadata: { name: NS } });
    const cms = client.resource<ConfigMap>(CONFIGMAPS, NS);
    await cms.create({ metadata: { name: "a" } });
    await cms.create({ metadata: { name: "b" } });
    const informer = new Informer<ConfigMap>(cms, {
      backoff: { initialMs: 50, maxMs: 200 },
      onError: () => {},
    });
    const deletes: string[] = [];
    informer.on({ delete: (o) => deletes.push(o.metadata!.name!) });
    run = informer.start(ac.signal);
    await informer.synced;
    server.faults.watchGoneFraction = 1;
    server.faults.closeWatchesAfterMs = 200;
    await waitFor(() => server.counters.get("list", "configmaps") >= 2, "a relist", 30_000);
    await cms.delete("a");
    server.faults.watchGoneFraction = 0;
    await waitFor(() => deletes.includes("a"), "the delete to be delivered", 30_000);
    assert.equal(informer.get(`${NS}/b`)?.metadata?.name, "b");
    await assert.rejects(() => cms.get("a"), (e) => isNotFound(e));
  } finally {
    ac.abort();
    await run;
    client.close();
    await server.stop();
  }
});
