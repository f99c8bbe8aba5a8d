import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { type CachedImage, type CachedImageStatus, parseCachedImage } from "../api/mod.ts";
import { buildPullPod } from "../podbuilder/mod.ts";
import {
  type EffectivePolicy,
  finishStatus,
  planCachedImage,
  statusUrgent,
} from "./cachedimage_plan.ts";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const D1 = "sha256:" + "1".repeat(64);
const D2 = "sha256:" + "2".repeat(64);
const POLICY: EffectivePolicy = {
  key: "default",
  backoff: { initialMs: 30_000, maxMs: 300_000 },
  repullIntervalMs: 0,
};

function image(status?: CachedImage["status"], tag = "3.20"): CachedImage {
  return parseCachedImage({
    apiVersion: "drop.corewire.io/v1alpha1",
    kind: "CachedImage",
    metadata: { name: "alpine", uid: "u1", generation: 2, resourceVersion: "5" },
    spec: { image: "docker.io/library/alpine", tag },
    status,
  });
}

function pod(
  ci: CachedImage,
  nodeName: string,
  status: Pod["status"],
  startedAt = Date.parse("2026-03-01T11:59:00Z"),
): Pod {
  const p = buildPullPod(ci, { name: nodeName }, 0, { namespace: "drop-system", startedAt });
  return {
    ...p,
    metadata: { ...p.metadata, creationTimestamp: "2026-03-01T11:59:00Z" },
    status,
  };
}

function pulled(digest: string): Pod["status"] {
  return {
    phase: "Succeeded",
    containerStatuses: [{
      name: "pull",
      image: "docker.io/library/alpine:3.20",
      imageID: `docker.io/library/alpine@${digest}`,
      ready: false,
      restartCount: 0,
      state: {
        terminated: {
          exitCode: 0,
          startedAt: "2026-03-01T11:59:20Z",
          finishedAt: "2026-03-01T11:59:21Z",
        },
      },
    }],
  };
}

function waiting(reason: string, message: string): Pod["status"] {
  return {
    phase: "Pending",
    containerStatuses: [{
      name: "pull",
      image: "x",
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { waiting: { reason, message } },
    }],
  };
}

const nodes = ["n1", "n2", "n3"];
const half = () => 0.5;

/** Plans one reconcile over all of `nodes` and completes its status, as the reconciler does. */
function settle(
  ci: CachedImage,
  pods: Pod[],
  opts: { started?: string[]; now?: number; policy?: EffectivePolicy } = {},
): CachedImageStatus {
  const { started = [], now = NOW, policy = POLICY } = opts;
  return finishStatus(
    planCachedImage({ ci, policy, targets: nodes, pods, now }),
    ci,
    policy,
    started,
    now,
  );
}

Deno.test("a fresh image demands every target node", () => {
  const ci = image();
  const plan = planCachedImage({ ci, policy: POLICY, targets: nodes, pods: [], now: NOW });
  assert.deepEqual(plan.demand, ["n1", "n2", "n3"]);
  const status = finishStatus(plan, ci, POLICY, ["n1"], NOW);
  assert.equal(status.phase, "Pulling");
  assert.equal(status.ready, "0/3");
  assert.equal(status.nodesPulling, 1);
  assert.equal(status.lastAttemptedAt, "2026-03-01T12:00:00Z");
  assert.equal(status.observedGeneration, 2);
  const progress = status.conditions!.find((c) => c.type === "PullProgress")!;
  assert.equal(progress.reason, "Pulling");
});

Deno.test("successful pods become cached nodes with the digest, and are retired", () => {
  const ci = image();
  const pods = nodes.map((n) => pod(ci, n, pulled(D1)));
  const plan = planCachedImage({ ci, policy: POLICY, targets: nodes, pods, now: NOW });
  assert.deepEqual(plan.demand, []);
  assert.equal(plan.deletePods.length, 3);
  assert.equal(plan.pulled.length, 3);
  const status = finishStatus(plan, ci, POLICY, [], NOW);
  assert.equal(status.phase, "Ready");
  assert.equal(status.ready, "3/3");
  assert.deepEqual(status.cachedNodes, ["n1", "n2", "n3"]);
  assert.equal(status.resolvedDigest, D1);
  assert.equal(status.lastPulledAt, "2026-03-01T11:59:20Z");
  const ready = status.conditions!.find((c) => c.type === "Ready")!;
  assert.deepEqual([ready.status, ready.reason], ["True", "Cached"]);
  const progress = status.conditions!.find((c) => c.type === "PullProgress")!;
  assert.deepEqual([progress.status, progress.reason], ["False", "Complete"]);
});

Deno.test("an image-level failure backs off the whole image", () => {
  const ci = image();
  const pods = [pod(ci, "n1", waiting("ErrImagePull", "lookup registry.invalid: no such host"))];
  const plan = planCachedImage({
    ci,
    policy: POLICY,
    targets: nodes,
    pods,
    now: NOW,
    random: half,
  });
  assert.deepEqual(plan.demand, [], "no pulls while the image backs off");
  assert.equal(plan.requeueAfterMs, 30_000);
  const status = finishStatus(plan, ci, POLICY, [], NOW);
  assert.equal(status.phase, "Degraded");
  assert.equal(status.consecutiveFailures, 1);
  const ready = status.conditions!.find((c) => c.type === "Ready")!;
  assert.equal(ready.reason, "PullFailed");
  assert.equal(ready.message, "0/3 nodes ready: dns: cannot resolve registry.invalid");
  assert.equal(status.conditions!.find((c) => c.type === "PullProgress")!.reason, "Stalled");

  // A second failure after the backoff doubles the delay.
  const later = NOW + 31_000;
  const ci2 = image(status);
  const plan2 = planCachedImage({ ci: ci2, policy: POLICY, targets: nodes, pods: [], now: later });
  assert.deepEqual(plan2.demand, ["n1", "n2", "n3"], "backoff over: pull again");
  const again = [
    pod(ci2, "n1", waiting("ErrImagePull", "lookup registry.invalid: no such host"), later),
  ];
  const plan3 = planCachedImage({
    ci: ci2,
    policy: POLICY,
    targets: nodes,
    pods: again,
    now: later,
    random: half,
  });
  assert.equal(plan3.status.consecutiveFailures, 2);
  assert.equal(plan3.requeueAfterMs, 60_000);
});

Deno.test("failures of pods started before the backoff began do not count again", () => {
  const ci = image();
  const first = planCachedImage({
    ci,
    policy: POLICY,
    targets: nodes,
    pods: [pod(ci, "n1", waiting("ErrImagePull", "lookup r.invalid: no such host"))],
    now: NOW,
    random: half,
  });
  const status = finishStatus(first, ci, POLICY, [], NOW);
  // n2's pod was started in the same round and fails a moment later.
  const second = planCachedImage({
    ci: image(status),
    policy: POLICY,
    targets: nodes,
    pods: [pod(ci, "n2", waiting("ErrImagePull", "lookup r.invalid: no such host"))],
    now: NOW + 1000,
    random: half,
  });
  assert.equal(second.status.consecutiveFailures, 1);
  assert.equal(second.status.nextRetryAt, status.nextRetryAt);
  assert.deepEqual(second.deletePods.length, 1, "its pod is still retired");
});

Deno.test("a node-level failure backs off only that node", () => {
  const ci = image();
  const pods = [
    pod(ci, "n1", { phase: "Failed", reason: "DeadlineExceeded" }),
    pod(ci, "n2", pulled(D1)),
  ];
  const plan = planCachedImage({
    ci,
    policy: POLICY,
    targets: nodes,
    pods,
    now: NOW,
    random: half,
  });
  assert.deepEqual(plan.demand, ["n3"]);
  assert.equal(plan.status.nodeFailures![0].node, "n1");
  assert.equal(plan.status.nodeFailures![0].failures, 1);
  assert.equal(plan.status.consecutiveFailures, 0);
  const status = finishStatus(plan, image(), POLICY, ["n3"], NOW);
  assert.equal(status.phase, "Pulling");
});

Deno.test("changing the tag invalidates every cached node", () => {
  const ready = finishStatus(
    planCachedImage({
      ci: image(),
      policy: POLICY,
      targets: nodes,
      pods: nodes.map((n) => pod(image(), n, pulled(D1))),
      now: NOW,
    }),
    image(),
    POLICY,
    [],
    NOW,
  );
  const changed = image(ready, "3.21");
  const oldPod = pod(image(), "n1", { phase: "Pending" });
  const plan = planCachedImage({
    ci: changed,
    policy: POLICY,
    targets: nodes,
    pods: [oldPod],
    now: NOW,
  });
  assert.deepEqual(plan.demand, ["n1", "n2", "n3"]);
  assert.deepEqual(plan.deletePods, [oldPod.metadata!.name]);
  assert.equal(plan.status.nodesReady, 0);
  assert.equal(plan.status.resolvedDigest, undefined);
  assert.equal(plan.status.pullReference, "docker.io/library/alpine:3.21");
});

Deno.test("a re-pull round keeps the image Ready and records digest drift", () => {
  const policy = { ...POLICY, repullIntervalMs: 3_600_000 };
  const base = settle(image(), nodes.map((n) => pod(image(), n, pulled(D1))), { policy });
  const later = NOW + 3_600_000 + 1;
  const plan = planCachedImage({ ci: image(base), policy, targets: nodes, pods: [], now: later });
  assert.deepEqual(plan.demand, ["n1", "n2", "n3"]);
  const during = finishStatus(plan, image(base), policy, ["n1"], later);
  assert.equal(during.phase, "Ready", "stays Ready while re-pulling");
  assert.deepEqual(during.repullPending, ["n1", "n2", "n3"]);

  // n1 re-pulls and sees a moved tag.
  const moved = planCachedImage({
    ci: image(during),
    policy,
    targets: nodes,
    pods: [pod(image(), "n1", pulled(D2))],
    now: later + 1000,
  });
  const after = finishStatus(moved, image(during), policy, [], later + 1000);
  assert.equal(after.resolvedDigest, D2);
  assert.deepEqual(after.nodeDigests, [{ node: "n2", digest: D1 }, { node: "n3", digest: D1 }]);
  assert.deepEqual(after.repullPending, ["n2", "n3"]);
  const drift = after.conditions!.find((c) => c.type === "DigestConsistent")!;
  assert.deepEqual([drift.status, drift.reason], ["False", "DigestDrift"]);
});

Deno.test("nodes that stop being targets drop out of the counts and lose their pods", () => {
  const ci = image();
  const cachedStatus = settle(ci, nodes.map((n) => pod(ci, n, pulled(D1))));
  const stray = pod(ci, "n9", { phase: "Pending" });
  const plan = planCachedImage({
    ci: image(cachedStatus),
    policy: POLICY,
    targets: nodes.slice(0, 2),
    pods: [stray],
    now: NOW,
  });
  assert.equal(plan.status.nodesTargeted, 2);
  assert.deepEqual(plan.status.cachedNodes, ["n1", "n2"]);
  assert.deepEqual(plan.deletePods, [stray.metadata!.name]);
});

Deno.test("no target nodes is reported, not silently Ready", () => {
  const ci = image();
  const status = finishStatus(
    planCachedImage({ ci, policy: POLICY, targets: [], pods: [], now: NOW }),
    ci,
    POLICY,
    [],
    NOW,
  );
  assert.equal(status.phase, "Pending");
  assert.equal(status.conditions!.find((c) => c.type === "Ready")!.reason, "NoTargetNodes");
});

Deno.test("a Pod whose result is already stored is retired without counting it again", () => {
  const ci = image();
  const done = [pod(ci, "n1", pulled(D1))];
  const first = planCachedImage({ ci, policy: POLICY, targets: nodes, pods: done, now: NOW });
  assert.equal(first.pulled.length, 1);
  const stored = finishStatus(first, ci, POLICY, [], NOW);
  // The delete did not happen (shutdown): the next reconcile sees the same Pod.
  const again = planCachedImage({
    ci: image(stored),
    policy: POLICY,
    targets: nodes,
    pods: done,
    now: NOW + 5000,
  });
  assert.deepEqual(again.pulled, []);
  assert.deepEqual(again.events, []);
  assert.deepEqual(again.deletePods, [done[0].metadata!.name]);

  const failed = [pod(ci, "n2", { phase: "Failed", reason: "DeadlineExceeded" })];
  const f1 = planCachedImage({ ci, policy: POLICY, targets: nodes, pods: failed, now: NOW });
  const s1 = finishStatus(f1, ci, POLICY, [], NOW);
  const f2 = planCachedImage({
    ci: image(s1),
    policy: POLICY,
    targets: nodes,
    pods: failed,
    now: NOW + 5000,
  });
  assert.equal(f2.status.nodeFailures![0].failures, 1, "still one failure");
  assert.deepEqual(f2.failed, []);
});

Deno.test("a few failing nodes in a rollout that goes on are not Degraded", () => {
  const ci = image();
  const plan = planCachedImage({
    ci,
    policy: POLICY,
    targets: nodes,
    pods: [pod(ci, "n1", { phase: "Failed", reason: "DeadlineExceeded" })],
    now: NOW,
    random: half,
  });
  // Waiting for pacing with n2, n3 still to pull: progress, not degradation.
  assert.equal(finishStatus(plan, ci, POLICY, [], NOW).phase, "Pending");
});

Deno.test("a node that is briefly not a target (NotReady, tainted) keeps its cache record", () => {
  const ci = image();
  const all = settle(ci, nodes.map((n) => pod(ci, n, pulled(D1))));
  const notReady = planCachedImage({
    ci: image(all),
    policy: POLICY,
    targets: nodes.slice(0, 2),
    pods: [],
    now: NOW,
    held: ["n3"],
  });
  assert.equal(notReady.status.nodesTargeted, 2);
  assert.equal(notReady.status.nodesReady, 2);
  assert.deepEqual(notReady.status.cachedNodes, ["n1", "n2", "n3"]);
  // n3 is back: no pull needed.
  const back = planCachedImage({
    ci: image(notReady.status),
    policy: POLICY,
    targets: nodes,
    pods: [],
    now: NOW,
  });
  assert.deepEqual(back.demand, []);
  assert.equal(back.status.nodesReady, 3);
});

Deno.test("lastAttemptedAt comes from the newest pull Pod, so a put-off write loses no start", () => {
  const ci = image();
  const started = Date.parse("2026-03-01T11:59:40Z");
  const pods = [pod(ci, "n1", { phase: "Pending" }), pod(ci, "n2", { phase: "Pending" }, started)];
  const plan = planCachedImage({ ci, policy: POLICY, targets: nodes, pods, now: NOW });
  assert.equal(plan.status.lastAttemptedAt, "2026-03-01T11:59:40Z");
  // An older Pod does not move it back.
  const later = image({ lastAttemptedAt: "2026-03-01T11:59:50Z" });
  const again = planCachedImage({ ci: later, policy: POLICY, targets: nodes, pods, now: NOW });
  assert.equal(again.status.lastAttemptedAt, "2026-03-01T11:59:50Z");
});

Deno.test("statusUrgent: phase, conditions and failures now; progress alone can wait", () => {
  const ci = image();
  assert.ok(statusUrgent(undefined, settle(ci, [], { started: ["n1"] })), "no status yet");
  // n1 done (the digest is resolved: urgent), n2 and n3 pulling.
  const first = settle(ci, [pod(ci, "n1", pulled(D1)), pod(ci, "n2", { phase: "Pending" })], {
    started: ["n3"],
  });
  assert.equal(first.resolvedDigest, D1);
  // n2 done too: counts and lists change, phase and conditions do not.
  const ci2 = image(first);
  const progress = settle(
    ci2,
    [pod(ci2, "n2", pulled(D1)), pod(ci2, "n3", { phase: "Pending" })],
    { now: NOW + 1000 },
  );
  assert.notDeepEqual(progress.cachedNodes, first.cachedNodes);
  assert.ok(!statusUrgent(first, progress));
  assert.ok(statusUrgent(first, { ...progress, phase: "Ready" }));
  assert.ok(statusUrgent(first, { ...progress, observedGeneration: 3 }));
  assert.ok(statusUrgent(first, { ...progress, nodesFailed: 1 }));
  assert.ok(statusUrgent(first, { ...progress, nextRetryAt: "2026-03-01T12:05:00Z" }));
  const flipped = progress.conditions!.map((c) =>
    c.type === "Ready" ? { ...c, status: "True" as const, reason: "Cached" } : c
  );
  assert.ok(statusUrgent(first, { ...progress, conditions: flipped }));
  const reworded = progress.conditions!.map((c) => ({ ...c, message: `${c.message}!` }));
  assert.ok(!statusUrgent(first, { ...progress, conditions: reworded }));
});
