/**
 * The pull loop on the simulated cluster: the operator in-process, simulated kubelets pulling with
 * time-scaled durations, assertions on end states through the API and on pacing from the recorded
 * pull Pods.
 */
import assert from "node:assert/strict";
import type { Event } from "kubernetes-types/core/v1.d.ts";
import { EVENTS } from "../lib/kube/mod.ts";
import { KINDS, pacingViolations, startSimOperator } from "./_sim_operator.ts";
import { waitFor } from "./_operator_process.ts";

const { CACHED_IMAGE, PULL_POLICY } = KINDS;
const cond = (
  s: { conditions?: { type: string; status: string; reason: string; message: string }[] },
  type: string,
) => s.conditions?.find((c) => c.type === type);

Deno.test("quickstart: alpine 3.20 on 3 nodes becomes Ready with digest and conditions", async () => {
  const sim = await startSimOperator({ nodes: 3 });
  try {
    await sim.apply(CACHED_IMAGE, "alpine-3-20", {
      image: "docker.io/library/alpine",
      tag: "3.20",
    });
    const s = await sim.waitImage("alpine-3-20", (s) => s.phase === "Ready", "Ready", 90_000);
    assert.equal(s.ready, "3/3");
    assert.deepEqual([...s.cachedNodes!].sort(), ["sim-node-1", "sim-node-2", "sim-node-3"]);
    assert.match(s.resolvedDigest!, /^sha256:[0-9a-f]{64}$/);
    assert.ok(s.lastPulledAt);
    assert.equal(s.observedGeneration, 1);
    assert.deepEqual(
      [cond(s, "Ready")?.status, cond(s, "Ready")?.reason],
      ["True", "Cached"],
    );
    assert.deepEqual(
      [cond(s, "PullProgress")?.status, cond(s, "PullProgress")?.reason],
      ["False", "Complete"],
    );
    // One pull Pod per node, with our labels, all gone afterwards.
    const records = sim.recorder.list();
    assert.deepEqual(records.map((r) => r.node).sort(), ["sim-node-1", "sim-node-2", "sim-node-3"]);
    await waitFor("pull pods deleted", async () => (await sim.pods.list()).items.length === 0);
    // The default budget: one node at a time, 10 s apart.
    assert.deepEqual(
      pacingViolations(records, { "(default)": { maxConcurrent: 1, minDelayMs: 10_000 } }),
      [],
    );
    const events = await sim.client.resource<Event>(EVENTS, "default").list();
    const reasons = new Set(
      events.items.filter((e) => e.involvedObject?.name === "alpine-3-20").map((e) => e.reason),
    );
    assert.ok(reasons.has("PullStarted") && reasons.has("PullSucceeded"), [...reasons].join());
  } finally {
    await sim.stop();
  }
});

Deno.test("pacing: 8 nodes x 3 images under maxConcurrentNodes 2; another policy has its own budget", async () => {
  const sim = await startSimOperator({ nodes: 8 });
  try {
    // Everything is created while the operator is down, so that its first grants show the order.
    await sim.stopOperator();
    await sim.apply(PULL_POLICY, "two", { maxConcurrentNodes: 2, minDelayBetweenPulls: "300ms" });
    await sim.apply(PULL_POLICY, "other", { maxConcurrentNodes: 1, minDelayBetweenPulls: "300ms" });
    // Created in the opposite of the expected order: priority, then name, decides.
    await sim.apply(CACHED_IMAGE, "c-image", {
      image: "docker.io/library/busybox",
      tag: "1.36",
      policyRef: { name: "two" },
    });
    await sim.apply(CACHED_IMAGE, "b-image", {
      image: "docker.io/library/redis",
      tag: "7-alpine",
      policyRef: { name: "two" },
    });
    await sim.apply(CACHED_IMAGE, "a-image", {
      image: "docker.io/library/nginx",
      tag: "1.25-alpine",
      policyRef: { name: "two" },
      priority: 10,
    });
    await sim.apply(CACHED_IMAGE, "z-other", {
      image: "docker.io/library/golang",
      tag: "1.22-bookworm",
      policyRef: { name: "other" },
    });
    await sim.restartOperator();
    for (const name of ["a-image", "b-image", "c-image", "z-other"]) {
      await sim.waitImage(name, (s) => s.phase === "Ready", `${name} Ready`, 120_000);
    }
    const records = sim.recorder.list();
    assert.equal(records.filter((r) => r.policy === "two").length, 24);
    assert.deepEqual(
      pacingViolations(records, {
        two: { maxConcurrent: 2, minDelayMs: 300 },
        other: { maxConcurrent: 1, minDelayMs: 300 },
      }),
      [],
    );
    // Order under "two": b and c (priority 0) before a (priority 10), b before c.
    const firstStart = (image: string) =>
      Math.min(...records.filter((r) => r.image === image).map((r) => r.startedAt));
    const median = (image: string) => {
      const starts = records.filter((r) => r.image === image).map((r) => r.startedAt).sort();
      return starts[Math.floor(starts.length / 2)];
    };
    assert.ok(firstStart("b-image") <= firstStart("c-image"), "equal priority: by name");
    assert.ok(firstStart("c-image") <= firstStart("a-image"), "priority 10 after priority 0");
    assert.ok(median("c-image") < median("a-image"), "priority 10 mostly waits for priority 0");
    // The other budget did not wait for "two" to finish.
    assert.ok(firstStart("z-other") < median("c-image"));
  } finally {
    await sim.stop();
  }
});

Deno.test("a distroless image is cached; an unresolvable registry degrades and recovers", async () => {
  const sim = await startSimOperator({ nodes: 2 });
  try {
    await sim.apply(PULL_POLICY, "fast", {
      maxConcurrentNodes: 2,
      minDelayBetweenPulls: "0s",
      failureBackoff: { initial: "1s", max: "4s" },
    });
    await sim.apply(CACHED_IMAGE, "distroless", {
      image: "gcr.io/distroless/static-debian12",
      tag: "nonroot",
      policyRef: { name: "fast" },
    });
    await sim.apply(CACHED_IMAGE, "broken", {
      image: "registry.invalid.local:9999/does-not-exist",
      tag: "nope",
      policyRef: { name: "fast" },
    });
    const d = await sim.waitImage("distroless", (s) => s.phase === "Ready", "distroless Ready");
    assert.equal(d.ready, "2/2");
    // Both nodes fail each round, but not at the same instant (backoff jitter): wait for a status
    // written while both are in backoff.
    const b = await sim.waitImage(
      "broken",
      (s) =>
        s.phase === "Degraded" && (s.consecutiveFailures ?? 0) >= 2 &&
        cond(s, "PullProgress")?.reason === "Stalled",
      "broken Degraded twice, both nodes in backoff",
    );
    const ready = cond(b, "Ready")!;
    assert.equal(ready.reason, "PullFailed");
    assert.match(ready.message, /^0\/2 nodes ready: dns: cannot resolve registry\.invalid\.local$/);
    assert.ok(b.nextRetryAt, "backoff is recorded in status");
    // No pull Pod of the broken image while it backs off.
    const inBackoff = await sim.status("broken");
    if (inBackoff.nextRetryAt && Date.parse(inBackoff.nextRetryAt) - Date.now() > 500) {
      const pods = (await sim.pods.list()).items.filter((p) =>
        p.metadata?.annotations?.["drop.corewire.io/cachedimage"] === "broken" &&
        !p.metadata?.deletionTimestamp
      );
      assert.equal(pods.length, 0);
    }
    // Backoff grows: later attempts are further apart (initial 1 s, doubling, jitter 20 %).
    const starts = sim.recorder.list().filter((r) => r.image === "broken").map((r) => r.startedAt);
    const rounds = starts.filter((t, i) => i === 0 || t - starts[i - 1] > 500);
    if (rounds.length >= 3) {
      assert.ok(rounds[2] - rounds[1] > (rounds[1] - rounds[0]) * 1.2, `rounds ${rounds}`);
    }
    // Fixing the spec recovers.
    await sim.apply(CACHED_IMAGE, "broken", {
      image: "docker.io/library/alpine",
      tag: "3.20",
      policyRef: { name: "fast" },
    });
    const fixed = await sim.waitImage("broken", (s) => s.phase === "Ready", "broken recovered");
    assert.equal(fixed.consecutiveFailures, 0);
    assert.equal(fixed.nextRetryAt, undefined);
  } finally {
    await sim.stop();
  }
});

Deno.test("changing the tag re-pulls everywhere; a moved tag with repullInterval updates node by node", async () => {
  const sim = await startSimOperator({ nodes: 3 });
  try {
    await sim.apply(PULL_POLICY, "repull", {
      maxConcurrentNodes: 1,
      minDelayBetweenPulls: "0s",
      repullInterval: "3s",
    });
    const spec = {
      image: "docker.io/library/node",
      tag: "20-alpine",
      policyRef: { name: "repull" },
    };
    await sim.apply(CACHED_IMAGE, "node", spec);
    const first = await sim.waitImage("node", (s) => s.phase === "Ready", "Ready");
    await sim.apply(CACHED_IMAGE, "node", { ...spec, tag: "22-alpine" });
    const second = await sim.waitImage(
      "node",
      (s) => s.phase === "Ready" && s.pullReference === "docker.io/library/node:22-alpine",
      "Ready on the new tag",
    );
    assert.notEqual(second.resolvedDigest, first.resolvedDigest);
    const newPulls = sim.recorder.list().filter((r) => r.reference.endsWith(":22-alpine"));
    assert.equal(new Set(newPulls.map((r) => r.node)).size, 3, "every node pulled the new tag");

    // Move the tag in the registry; the next re-pull round picks it up, staying Ready.
    const moved =
      sim.cluster.registry.catalogue.moveTag("docker.io/library/node", "22-alpine").digest;
    const phases: string[] = [];
    const after = await sim.waitImage(
      "node",
      (s) => {
        phases.push(s.phase ?? "");
        return s.resolvedDigest === moved && (s.nodeDigests ?? []).length === 0 &&
          (s.repullPending ?? []).length === 0;
      },
      "all nodes on the moved digest",
      60_000,
    );
    assert.equal(after.phase, "Ready");
    assert.ok(
      phases.every((p) => p === "Ready"),
      `phases while re-pulling: ${[...new Set(phases)]}`,
    );
  } finally {
    await sim.stop();
  }
});

Deno.test("node changes: added, relabelled, tainted and deleted nodes are followed", async () => {
  const sim = await startSimOperator({ nodes: 2 });
  try {
    await sim.apply(PULL_POLICY, "fast", { maxConcurrentNodes: 3, minDelayBetweenPulls: "0s" });
    await sim.apply(CACHED_IMAGE, "tools", {
      image: "docker.io/library/alpine",
      tag: "3.19",
      policyRef: { name: "fast" },
      nodeSelector: { pool: "build" },
    });
    await sim.cluster.nodes.label("sim-node-1", { pool: "build" });
    await sim.waitImage("tools", (s) => s.ready === "1/1", "1/1");
    await sim.cluster.nodes.add("sim-node-new", { labels: { pool: "build" } });
    await sim.waitImage("tools", (s) => s.ready === "2/2", "new node pulled");
    await sim.cluster.nodes.taint("sim-node-new", [{ key: "dedicated", effect: "NoSchedule" }]);
    await sim.waitImage("tools", (s) => s.nodesTargeted === 1, "tainted node dropped");
    await sim.cluster.nodes.taint("sim-node-new", []);
    await sim.waitImage("tools", (s) => s.nodesTargeted === 2 && s.ready === "2/2", "untainted");
    await sim.cluster.nodes.label("sim-node-1", { pool: null });
    await sim.waitImage("tools", (s) => s.nodesTargeted === 1, "relabelled node dropped");
    await sim.cluster.nodes.remove("sim-node-new");
    const s = await sim.waitImage("tools", (s) => s.nodesTargeted === 0, "deleted node dropped");
    assert.deepEqual(s.cachedNodes ?? [], []);
    assert.equal(cond(s, "Ready")?.reason, "NoTargetNodes");
  } finally {
    await sim.stop();
  }
});

Deno.test("a restart mid-rollout creates no duplicate pull pods and converges", async () => {
  // Real-time pulls (about a second each), so the restart lands in the middle of the rollout.
  const sim = await startSimOperator({ nodes: 6, timeScale: 1 });
  try {
    await sim.apply(PULL_POLICY, "p", { maxConcurrentNodes: 2, minDelayBetweenPulls: "0s" });
    for (const [name, tag] of [["r1", "3.18"], ["r2", "3.19"], ["r3", "3.20"]]) {
      await sim.apply(CACHED_IMAGE, name, {
        image: "docker.io/library/alpine",
        tag,
        policyRef: { name: "p" },
      });
    }
    await sim.waitImage("r1", (s) => (s.nodesReady ?? 0) >= 2, "r1 partly done");
    await sim.stopOperator();
    const midway = await Promise.all(["r1", "r2", "r3"].map((n) => sim.status(n)));
    assert.ok(midway.some((s) => s.phase !== "Ready"), "the restart happened mid-rollout");
    await sim.restartOperator();
    for (const name of ["r1", "r2", "r3"]) {
      await sim.waitImage(name, (s) => s.phase === "Ready" && s.ready === "6/6", `${name} Ready`);
    }
    const perNodeImage = new Map<string, number>();
    for (const r of sim.recorder.list()) {
      const key = `${r.image}@${r.node}`;
      perNodeImage.set(key, (perNodeImage.get(key) ?? 0) + 1);
    }
    const dups = [...perNodeImage].filter(([, n]) => n > 1);
    assert.deepEqual(dups, [], "each image pulled once per node");
  } finally {
    await sim.stop();
  }
});

Deno.test("50 images x 20 nodes converge with the pacing invariants", async () => {
  const sim = await startSimOperator({ nodes: 20, timeScale: 0.01 });
  try {
    await sim.apply(PULL_POLICY, "bulk", { maxConcurrentNodes: 8, minDelayBetweenPulls: "0s" });
    const names = Array.from({ length: 50 }, (_, i) => `img-${String(i).padStart(2, "0")}`);
    for (const name of names) {
      await sim.apply(CACHED_IMAGE, name, {
        image: `registry.example.com/ci/${name}`,
        tag: "v1",
        policyRef: { name: "bulk" },
      });
    }
    for (const name of names) {
      await sim.waitImage(name, (s) => s.ready === "20/20", `${name} 20/20`, 180_000);
    }
    const records = sim.recorder.list();
    assert.equal(records.length, 1000);
    assert.deepEqual(pacingViolations(records, { bulk: { maxConcurrent: 8, minDelayMs: 0 } }), []);
  } finally {
    await sim.stop();
  }
});

Deno.test("Pod creates that fail are reported in status and retried with backoff until they succeed", async () => {
  const sim = await startSimOperator({ nodes: 2 });
  try {
    const faults = sim.cluster.apiServer.faults;
    Object.assign(faults, {
      internalErrorFraction: 1,
      scope: { verbs: ["create"], resources: ["pods"] },
    });
    await sim.apply(PULL_POLICY, "fast", { maxConcurrentNodes: 2, minDelayBetweenPulls: "0s" });
    await sim.apply(CACHED_IMAGE, "alpine", {
      image: "docker.io/library/alpine",
      tag: "3.20",
      policyRef: { name: "fast" },
    });
    const failing = await sim.waitImage(
      "alpine",
      (s) => cond(s, "PullProgress")?.reason === "PodCreateFailed",
      "PodCreateFailed",
      30_000,
    );
    assert.match(cond(failing, "PullProgress")!.message, /^Cannot create pull Pods: /);
    assert.equal(failing.ready, "0/2");
    // Backoff, not a hot loop: a handful of attempts in a second.
    const before = sim.cluster.counters.get("create", "pods");
    await new Promise((r) => setTimeout(r, 1000));
    const attempts = sim.cluster.counters.get("create", "pods") - before;
    assert.ok(attempts <= 12, `${attempts} create attempts in 1 s`);

    faults.internalErrorFraction = 0;
    const s = await sim.waitImage("alpine", (s) => s.phase === "Ready", "Ready", 60_000);
    assert.equal(s.ready, "2/2");
    assert.notEqual(cond(s, "PullProgress")?.reason, "PodCreateFailed");
  } finally {
    await sim.stop();
  }
});
