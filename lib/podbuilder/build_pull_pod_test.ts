import assert from "node:assert/strict";
import { type CachedImage, parseCachedImage, parsePullPolicy } from "../api/mod.ts";
import { restrictedViolations } from "./pod_security.ts";
import {
  buildPullPod,
  DEFAULT_ACTIVE_DEADLINE_SECONDS,
  type PullPodOptions,
} from "./build_pull_pod.ts";
import { isValidLabelValue, pullPodName } from "./names.ts";
import { readPullPod } from "./pull_pod_info.ts";

function cachedImage(spec: Record<string, unknown> = {}, name = "alpine-3-20"): CachedImage {
  return parseCachedImage({
    apiVersion: "drop.corewire.io/v1alpha1",
    kind: "CachedImage",
    metadata: { name, uid: "0d7c0a6e-1111-2222-3333-444455556666", generation: 4 },
    spec: { image: "docker.io/library/alpine", tag: "3.20", ...spec },
  });
}

const OPTS: PullPodOptions = { namespace: "drop-system" };

Deno.test("buildPullPod is deterministic and names the pod for image, node and attempt", () => {
  const ci = cachedImage();
  const a = buildPullPod(ci, { name: "worker-1" }, 2, OPTS);
  assert.deepEqual(a, buildPullPod(ci, { name: "worker-1" }, 2, OPTS));
  assert.equal(a.metadata?.name, pullPodName("alpine-3-20", "worker-1", 2));
  assert.equal(a.metadata?.namespace, "drop-system");
  assert.equal(a.apiVersion, "v1");
  assert.equal(a.kind, "Pod");
});

Deno.test("buildPullPod labels and annotates the pod", () => {
  const pod = buildPullPod(cachedImage(), { name: "worker-1" }, 3, OPTS);
  assert.deepEqual(pod.metadata?.labels, {
    "app.kubernetes.io/managed-by": "drop",
    "drop.corewire.io/cachedimage": "alpine-3-20",
    "drop.corewire.io/node": "worker-1",
  });
  assert.deepEqual(pod.metadata?.annotations, {
    "drop.corewire.io/cachedimage": "alpine-3-20",
    "drop.corewire.io/node": "worker-1",
    "drop.corewire.io/attempt": "3",
    "drop.corewire.io/image": "docker.io/library/alpine:3.20",
    "drop.corewire.io/generation": "4",
  });
});

Deno.test("buildPullPod hashes label values over 63 characters and keeps full names in annotations", () => {
  const longImage = `team-${"x".repeat(70)}`;
  const longNode = `ip-10-0-0-1.${"zone".repeat(16)}.compute.internal`;
  const pod = buildPullPod(cachedImage({}, longImage), { name: longNode }, 0, OPTS);
  const labels = pod.metadata?.labels ?? {};
  for (const key of ["drop.corewire.io/cachedimage", "drop.corewire.io/node"]) {
    assert.ok(isValidLabelValue(labels[key]), `${key}=${labels[key]}`);
  }
  assert.notEqual(labels["drop.corewire.io/cachedimage"], longImage);
  assert.notEqual(labels["drop.corewire.io/node"], longNode);
  assert.equal(pod.metadata?.annotations?.["drop.corewire.io/cachedimage"], longImage);
  assert.equal(pod.metadata?.annotations?.["drop.corewire.io/node"], longNode);
  assert.ok((pod.metadata?.name ?? "").length <= 63);
  assert.equal(pod.spec?.nodeName, longNode);
});

Deno.test("buildPullPod sets a controller owner reference to the CachedImage", () => {
  const pod = buildPullPod(cachedImage(), { name: "n" }, 0, OPTS);
  assert.deepEqual(pod.metadata?.ownerReferences, [{
    apiVersion: "drop.corewire.io/v1alpha1",
    kind: "CachedImage",
    name: "alpine-3-20",
    uid: "0d7c0a6e-1111-2222-3333-444455556666",
    controller: true,
    blockOwnerDeletion: true,
  }]);
});

Deno.test("buildPullPod passes every check of the restricted Pod Security profile", () => {
  const pod = buildPullPod(cachedImage(), { name: "n" }, 0, OPTS);
  assert.deepEqual(restrictedViolations(pod), []);
  const sc = pod.spec?.securityContext;
  assert.equal(sc?.runAsUser, 65534);
  assert.equal(sc?.runAsGroup, 65534);
  assert.equal(pod.spec?.containers[0].securityContext?.readOnlyRootFilesystem, true);
});

Deno.test("buildPullPod binds a never-restarted, deadline-bounded, tokenless pod running true", () => {
  const pod = buildPullPod(cachedImage(), { name: "worker-1" }, 0, OPTS);
  const spec = pod.spec!;
  assert.equal(spec.nodeName, "worker-1");
  assert.equal(spec.restartPolicy, "Never");
  assert.equal(spec.activeDeadlineSeconds, DEFAULT_ACTIVE_DEADLINE_SECONDS);
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(spec.enableServiceLinks, false);
  assert.equal(spec.terminationGracePeriodSeconds, 0);
  assert.equal(spec.priorityClassName, undefined);
  assert.equal(spec.tolerations, undefined);
  assert.equal(spec.imagePullSecrets, undefined);
  assert.equal(spec.containers.length, 1);
  const c = spec.containers[0];
  assert.equal(c.name, "pull");
  assert.equal(c.image, "docker.io/library/alpine:3.20");
  assert.equal(c.imagePullPolicy, "Always");
  assert.deepEqual(c.command, ["true"]);
  assert.deepEqual(c.resources, {
    requests: { cpu: "10m", memory: "16Mi" },
    limits: { cpu: "100m", memory: "32Mi" },
  });
});

Deno.test("buildPullPod propagates pull policy, digest, secrets, tolerations and options", () => {
  const ci = cachedImage({
    tag: undefined,
    digest: `sha256:${"a".repeat(64)}`,
    imagePullPolicy: "IfNotPresent",
    imagePullSecrets: [{ name: "ghcr-creds" }, { name: "ecr-creds" }],
    tolerations: [{ key: "build", operator: "Exists", effect: "NoSchedule" }],
    policyRef: { name: "conservative" },
  });
  const policy = parsePullPolicy({
    metadata: { name: "conservative" },
    spec: {
      tolerations: [
        { key: "build", operator: "Exists", effect: "NoSchedule" },
        { key: "dedicated", value: "ci", effect: "NoSchedule" },
      ],
    },
  });
  const pod = buildPullPod(ci, { name: "n" }, 0, {
    namespace: "ops",
    activeDeadlineSeconds: 120,
    priorityClassName: "drop-low",
    resources: { requests: { cpu: "1m" } },
    policy,
  });
  const spec = pod.spec!;
  assert.equal(spec.containers[0].image, `docker.io/library/alpine@sha256:${"a".repeat(64)}`);
  assert.equal(spec.containers[0].imagePullPolicy, "IfNotPresent");
  assert.deepEqual(spec.imagePullSecrets, [{ name: "ghcr-creds" }, { name: "ecr-creds" }]);
  assert.deepEqual(spec.tolerations, [
    { key: "build", operator: "Exists", effect: "NoSchedule" },
    { key: "dedicated", value: "ci", effect: "NoSchedule" },
  ]);
  assert.equal(spec.activeDeadlineSeconds, 120);
  assert.equal(spec.priorityClassName, "drop-low");
  assert.deepEqual(spec.containers[0].resources, { requests: { cpu: "1m" } });
  assert.equal(pod.metadata?.namespace, "ops");
  assert.equal(pod.metadata?.annotations?.["drop.corewire.io/policy"], "conservative");
  assert.deepEqual(restrictedViolations(pod), []);
});

Deno.test("buildPullPod does not share objects with its inputs", () => {
  const ci = cachedImage({ tolerations: [{ key: "k", operator: "Exists" }] });
  const pod = buildPullPod(ci, { name: "n" }, 0, OPTS);
  pod.spec!.tolerations![0].key = "changed";
  pod.spec!.containers[0].resources!.requests!.cpu = "9";
  assert.equal(ci.spec.tolerations?.[0].key, "k");
  const again = buildPullPod(ci, { name: "n" }, 0, OPTS);
  assert.equal(again.spec!.containers[0].resources!.requests!.cpu, "10m");
});

Deno.test("buildPullPod refuses objects it cannot own and bad options", () => {
  const ci = cachedImage();
  const noUid = { ...ci, metadata: { ...ci.metadata, uid: undefined } };
  assert.throws(() => buildPullPod(noUid, { name: "n" }, 0, OPTS), /metadata\.uid is missing/);
  const noName = { ...ci, metadata: { ...ci.metadata, name: undefined } };
  assert.throws(() => buildPullPod(noName, { name: "n" }, 0, OPTS), /has no name/);
  assert.throws(() => buildPullPod(ci, { name: "n" }, 0, { namespace: "" }), /namespace is empty/);
  assert.throws(
    () => buildPullPod(ci, { name: "n" }, 0, { ...OPTS, activeDeadlineSeconds: 0 }),
    /activeDeadlineSeconds must be a positive integer/,
  );
  assert.throws(() => buildPullPod(ci, { name: "n" }, -1, OPTS), /non-negative integer/);
});

Deno.test("readPullPod reads back what buildPullPod wrote, with full names", () => {
  const longNode = `node-${"n".repeat(80)}`;
  const ci = cachedImage({ policyRef: { name: "fast" } }, "app");
  const policy = parsePullPolicy({ metadata: { name: "fast" }, spec: {} });
  const pod = buildPullPod(ci, { name: longNode }, 5, { ...OPTS, policy });
  assert.deepEqual(readPullPod(pod), {
    cachedImage: "app",
    node: longNode,
    attempt: 5,
    reference: "docker.io/library/alpine:3.20",
    generation: 4,
    policy: "fast",
  });
});

Deno.test("readPullPod ignores pods that are not pull pods", () => {
  assert.equal(readPullPod({ metadata: { name: "x" }, spec: { containers: [] } }), undefined);
  const pod = buildPullPod(cachedImage(), { name: "n" }, 0, OPTS);
  delete pod.metadata!.annotations!["drop.corewire.io/cachedimage"];
  assert.equal(readPullPod(pod), undefined);
});
