/**
 * CachedImageSets and DiscoveryPolicies on the simulated cluster with the operator in-process:
 * registry and Prometheus discovery, static + discovered merging, propagation, last known good,
 * garbage collection, and the reference documentation's discovery use cases applied unchanged.
 */
import assert from "node:assert/strict";
import type { DiscoveryPolicyStatus } from "../lib/api/mod.ts";
import { loadSpecExamples } from "../lib/api/testdata.ts";
import { waitFor } from "./_operator_process.ts";
import { KINDS, type SimOperator, startSimOperator } from "./_sim_operator.ts";

const { CACHED_IMAGE, CACHED_IMAGE_SET, DISCOVERY_POLICY, PULL_POLICY } = KINDS;
// deno-lint-ignore no-explicit-any
type Obj = any;

/** A Prometheus stand-in answering instant queries with a fixed vector. */
function fakePrometheus(series: Record<string, number>) {
  let failing = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    if (failing) return new Response("unavailable", { status: 503 });
    return Response.json({
      status: "success",
      data: {
        resultType: "vector",
        result: Object.entries(series).map(([image, v]) => ({
          metric: { image },
          value: [Date.now() / 1000, String(v)],
        })),
      },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    fail(on: boolean) {
      failing = on;
    },
    stop: () => server.shutdown(),
  };
}

async function children(sim: SimOperator, set: string): Promise<Obj[]> {
  const list = await sim.kind(CACHED_IMAGE).list({
    labelSelector: `drop.corewire.io/imageset=${set}`,
  });
  return list.items;
}

async function dpStatus(sim: SimOperator, name: string): Promise<DiscoveryPolicyStatus> {
  return ((await sim.kind(DISCOVERY_POLICY).get(name)).status ?? {}) as DiscoveryPolicyStatus;
}

const fast = { maxConcurrentNodes: 3, minDelayBetweenPulls: "0s" };

Deno.test("a registry-backed set caches the newest tags; children are owned and garbage-collected", async () => {
  const sim = await startSimOperator({ nodes: 2 });
  try {
    const host = sim.cluster.registry.host!;
    sim.cluster.registry.catalogue.addRepository(`${host}/team/app`, [
      "v1.2.0",
      "v1.9.0",
      "v1.10.0",
      "main-abc",
    ]);
    await sim.apply(PULL_POLICY, "fast", fast);
    await sim.apply(DISCOVERY_POLICY, "apps", {
      syncInterval: "1h",
      sources: [{
        type: "registry",
        registry: {
          url: sim.cluster.registry.url,
          repositories: ["team/app"],
          tagFilter: "^v",
          topX: 2,
        },
      }],
    });
    await sim.apply(CACHED_IMAGE_SET, "apps", {
      policyRef: { name: "fast" },
      discoveryPolicyRef: { name: "apps" },
    });
    const dp = await waitFor("apps synced", async () => {
      const s = await dpStatus(sim, "apps");
      return s.imageCount === 2 ? s : undefined;
    });
    assert.deepEqual(dp.discoveredImages!.map((d) => d.image), [
      `${host}/team/app:v1.10.0`,
      `${host}/team/app:v1.9.0`,
    ]);
    assert.equal(dp.conditions!.find((c) => c.type === "Ready")!.reason, "Synced");
    const set = await waitFor("set Ready", async () => {
      const s = (await sim.kind(CACHED_IMAGE_SET).get("apps")).status;
      return s?.phase === "Ready" ? s : undefined;
    });
    assert.equal(set.imagesManaged, 2);
    assert.equal(set.imagesReady, 2);
    const kids = await children(sim, "apps");
    assert.equal(kids.length, 2);
    for (const k of kids) {
      assert.equal(k.metadata.ownerReferences[0].kind, "CachedImageSet");
      assert.equal(k.metadata.ownerReferences[0].controller, true);
      assert.equal(k.spec.policyRef.name, "fast");
    }
    // Deleting the set takes its children along (owner references, garbage collection).
    await sim.kind(CACHED_IMAGE_SET).delete("apps", { propagationPolicy: "Foreground" });
    await waitFor("children collected", async () => (await children(sim, "apps")).length === 0);
    await waitFor(
      "set gone",
      async () => (await sim.kind(CACHED_IMAGE_SET).list()).items.length === 0,
    );
  } finally {
    await sim.stop();
  }
});

Deno.test("static and discovered images merge once; propagated fields reach children; last known good survives", async () => {
  const prom = fakePrometheus({
    "alpine:3.19": 100,
    "registry.example.com/ci/build:1.0.3": 4200,
    "registry.example.com/ci/test:2.4.1": 2500,
  });
  const sim = await startSimOperator({ nodes: 2 });
  try {
    await sim.apply(PULL_POLICY, "fast", fast);
    await sim.apply(DISCOVERY_POLICY, "popular", {
      syncInterval: "2s",
      sources: [{ type: "prometheus", prometheus: { endpoint: prom.url, query: "up" } }],
    });
    await sim.apply(CACHED_IMAGE_SET, "mixed", {
      policyRef: { name: "fast" },
      discoveryPolicyRef: { name: "popular" },
      images: [{ image: "docker.io/library/alpine", tag: "3.19" }],
    });
    await waitFor("3 children", async () => (await children(sim, "mixed")).length === 3);
    const kids = await children(sim, "mixed");
    const origins = kids.map((k: Obj) =>
      `${k.spec.image}:${k.spec.tag}=${k.metadata.labels["drop.corewire.io/origin"]}`
    ).sort();
    assert.deepEqual(origins, [
      "docker.io/library/alpine:3.19=static",
      "registry.example.com/ci/build:1.0.3=discovered",
      "registry.example.com/ci/test:2.4.1=discovered",
    ]);

    // A propagated field changes: every child follows.
    const set = await sim.kind(CACHED_IMAGE_SET).get("mixed");
    await sim.kind(CACHED_IMAGE_SET).replace({
      ...set,
      spec: { ...set.spec, imagePullPolicy: "IfNotPresent", nodeSelector: { pool: "build" } },
    });
    await waitFor(
      "children updated",
      async () =>
        (await children(sim, "mixed")).every((k: Obj) =>
          k.spec.imagePullPolicy === "IfNotPresent" && k.spec.nodeSelector?.pool === "build"
        ),
    );
    // A removed key is removed from the children too (a merge patch would keep it).
    const set2 = await sim.kind(CACHED_IMAGE_SET).get("mixed");
    const { nodeSelector: _dropped, ...withoutSelector } = set2.spec;
    await sim.kind(CACHED_IMAGE_SET).replace({ ...set2, spec: withoutSelector });
    await waitFor(
      "selector removed from children",
      async () =>
        (await children(sim, "mixed")).every((k: Obj) => k.spec.nodeSelector === undefined),
    );

    // The source fails: the last known list stays, and so do the children.
    prom.fail(true);
    const failing = await waitFor("sync failed", async () => {
      const s = await dpStatus(sim, "popular");
      const ready = s.conditions?.find((c) => c.type === "Ready");
      return ready?.status === "False" ? s : undefined;
    }, 30_000);
    assert.equal(failing.imageCount, 3);
    assert.equal(failing.sources![0].healthy, false);
    assert.equal(failing.sources![0].reason, "HTTPError");
    assert.equal((await children(sim, "mixed")).length, 3);

    // The policy disappears: children stay, the set says why.
    await sim.kind(DISCOVERY_POLICY).delete("popular");
    const s = await waitFor("set notices", async () => {
      const st = (await sim.kind(CACHED_IMAGE_SET).get("mixed")).status;
      const d = st?.conditions?.find((c: Obj) => c.type === "Discovery");
      return d?.reason === "DiscoveryPolicyNotFound" ? st : undefined;
    });
    assert.equal(s.imagesManaged, 3);
    assert.equal((await children(sim, "mixed")).length, 3);
  } finally {
    await sim.stop();
    await prom.stop();
  }
});

Deno.test("invalid regular expressions and unreachable sources are conditions, not crashes", async () => {
  const sim = await startSimOperator({ nodes: 1 });
  try {
    await sim.apply(DISCOVERY_POLICY, "bad-regex", {
      imageFilter: "([unclosed",
      sources: [{
        type: "prometheus",
        prometheus: { endpoint: "http://127.0.0.1:1", query: "up" },
      }],
    });
    await sim.apply(DISCOVERY_POLICY, "refused", {
      sources: [{
        type: "prometheus",
        prometheus: { endpoint: "http://127.0.0.1:1", query: "up" },
      }],
    });
    const bad = await waitFor("InvalidSpec", async () => {
      const c = (await dpStatus(sim, "bad-regex")).conditions?.find((c) => c.type === "Ready");
      return c?.reason === "InvalidSpec" ? c : undefined;
    });
    assert.match(bad.message, /imageFilter/);
    const refused = await waitFor("ConnectionRefused", async () => {
      const s = await dpStatus(sim, "refused");
      return s.conditions?.find((c) => c.type === "Ready")?.reason === "ConnectionRefused"
        ? s
        : undefined;
    });
    assert.equal(refused.sources![0].reason, "ConnectionRefused");
    assert.equal(
      refused.conditions!.find((c) => c.type === "SourcesHealthy")!.reason,
      "SourceError",
    );
  } finally {
    await sim.stop();
  }
});

Deno.test("the reference docs' use cases apply unchanged and behave as documented", async () => {
  const sim = await startSimOperator({ nodes: 3 });
  try {
    const docs = (await loadSpecExamples()).filter((d: Obj) =>
      d.apiVersion === "drop.corewire.io/v1alpha1" || d.kind === "Secret"
    );
    for (const doc of docs as Obj[]) {
      const kind = doc.kind === "Secret"
        ? { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true }
        : Object.values(KINDS).find((k) => k.kind === doc.kind)!;
      const client = sim.client.resource<Obj>(kind, doc.metadata.namespace);
      try {
        const existing = await client.get(doc.metadata.name);
        await client.replace({
          ...doc,
          metadata: { ...doc.metadata, resourceVersion: existing.metadata.resourceVersion },
        });
      } catch {
        await client.create(doc);
      }
    }
    // ci-tools: three static images on every node, paced by ci-cache-conservative (2 nodes, 30s):
    // the first pulls start and the set reports progress.
    await waitFor("ci-tools children", async () => (await children(sim, "ci-tools")).length === 3);
    // Discovery against hosts that do not resolve here: classified, with nothing deleted.
    const popular = await waitFor("popular-build-images fails with DNSError", async () => {
      const s = await dpStatus(sim, "popular-build-images");
      return s.conditions?.find((c) => c.type === "Ready")?.reason === "DNSError" ? s : undefined;
    }, 60_000);
    assert.match(popular.sources![0].message!, /mimir\.example\.com/);
    const auto = await waitFor("auto-cached-ci-images keeps its static image", async () => {
      const kids = await children(sim, "auto-cached-ci-images");
      return kids.length === 1 ? kids : undefined;
    });
    assert.equal(auto[0].spec.image, "docker.io/library/alpine");
    // dev-conservative paces one node at a time, 5 s apart: dev-nginx goes first (by name) and
    // becomes Ready, while test-invalid-image, last in line, waits its turn.
    await sim.waitImage("dev-nginx", (s) => s.phase === "Ready", "dev-nginx Ready", 60_000);
    const waiting = await sim.status("test-invalid-image");
    assert.equal(waiting.nodesReady ?? 0, 0);
    assert.notEqual(waiting.phase, "Ready");
  } finally {
    await sim.stop();
  }
});
