import assert from "node:assert/strict";
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import { classifyPullError, cleanMessage, pullOutcome, pullStage } from "./pull_outcome.ts";

const DIGEST = "sha256:" + "ab".repeat(32);
const NOW = Date.parse("2026-01-01T00:10:00Z");

function pod(status: Pod["status"]): Pod {
  return { metadata: { name: "p", creationTimestamp: "2026-01-01T00:00:00Z" }, status };
}

Deno.test("an imageID means success, even when the container could not start", () => {
  const out = pullOutcome(
    pod({
      phase: "Failed",
      containerStatuses: [{
        name: "pull",
        image: "gcr.io/distroless/static:nonroot",
        imageID: `gcr.io/distroless/static@${DIGEST}`,
        ready: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode: 128,
            reason: "StartError",
            startedAt: "1970-01-01T00:00:00Z",
            finishedAt: "2026-01-01T00:00:30Z",
          },
        },
      }],
    }),
    NOW,
  );
  assert.equal(out.kind, "succeeded");
  if (out.kind !== "succeeded") return;
  assert.equal(out.digest, DIGEST);
  assert.equal(out.seconds, 30);
});

Deno.test("image-pull waiting reasons end the attempt with a cleaned message", () => {
  const out = pullOutcome(
    pod({
      phase: "Pending",
      containerStatuses: [{
        name: "pull",
        image: "registry.invalid.local:9999/does-not-exist:nope",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: {
          waiting: {
            reason: "ErrImagePull",
            message:
              'failed to pull and unpack image "registry.invalid.local:9999/does-not-exist:nope": failed to resolve reference "registry.invalid.local:9999/does-not-exist:nope": failed to do request: Head "https://registry.invalid.local:9999/v2/does-not-exist/manifests/nope": dial tcp: lookup registry.invalid.local on 10.96.0.10:53: no such host',
          },
        },
      }],
    }),
    NOW,
  );
  assert.deepEqual(out, {
    kind: "failed",
    reason: "ErrImagePull",
    message: "dns: cannot resolve registry.invalid.local",
    scope: "image",
    startedAt: Date.parse("2026-01-01T00:00:00Z"),
    finishedAt: NOW,
  });
});

Deno.test("failures are scoped to the image or the node", () => {
  assert.equal(
    classifyPullError("ErrImagePull", 'rpc error: code = NotFound desc = "x:1": not found').message,
    "image not found",
  );
  const auth = classifyPullError(
    "ErrImagePull",
    "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized",
  );
  assert.deepEqual([auth.message, auth.scope], ["unauthorized: check imagePullSecrets", "image"]);
  assert.equal(classifyPullError("ErrImageNeverPull", "").scope, "node");
  assert.equal(classifyPullError("InvalidImageName", "bad").scope, "image");
  assert.equal(classifyPullError("ErrImagePull", "disk quota exceeded").scope, "node");
  const platform = classifyPullError(
    "ErrImagePull",
    'failed to pull and unpack image "x:1": no match for platform in manifest: not found',
  );
  assert.deepEqual([platform.scope, platform.message], [
    "node",
    "no variant of the image for this node's platform",
  ]);
  const limited = classifyPullError(
    "ErrImagePull",
    "unexpected status from HEAD request: 429 Too Many Requests: toomanyrequests: You have reached your pull rate limit",
  );
  assert.deepEqual([limited.scope, limited.message], [
    "image",
    "registry rate limit: too many requests",
  ]);
  for (
    const msg of [
      "unexpected status code 503 Service Unavailable",
      "dial tcp 10.0.0.1:443: i/o timeout",
      "",
    ]
  ) {
    const reason = msg ? "ErrImagePull" : "RegistryUnavailable";
    assert.equal(classifyPullError(reason, msg).scope, "image", msg);
  }
  assert.equal(
    classifyPullError("ErrImagePull", "open /var/lib/containerd/x: permission denied").scope,
    "node",
    "a local permission problem is not a registry authorization failure",
  );
});

Deno.test("a pod past its deadline is a node-level failure", () => {
  const out = pullOutcome(pod({ phase: "Failed", reason: "DeadlineExceeded" }), NOW);
  assert.equal(out.kind, "failed");
  if (out.kind === "failed") assert.equal(out.scope, "node");
});

Deno.test("a pod without a result is pending", () => {
  assert.equal(pullOutcome(pod({ phase: "Pending" }), NOW).kind, "pending");
  assert.equal(pullOutcome(pod(undefined), NOW).kind, "pending");
});

Deno.test("cleanMessage keeps the specific end of long error chains", () => {
  assert.equal(
    cleanMessage("rpc error: code = Unknown desc = a: b: c: disk full: no space left on device"),
    "disk full: no space left on device",
  );
  assert.equal(cleanMessage("x".repeat(400)).length, 256);
});

Deno.test("pullStage names the kind pullOutcome gives, for every shape of Pod", () => {
  const pods: Pod[] = [
    {},
    { status: { phase: "Pending" } },
    { status: { phase: "Running", containerStatuses: [cs({ imageID: "x@sha256:1" })] } },
    { status: { phase: "Succeeded", containerStatuses: [cs({ imageID: "x@sha256:1" })] } },
    { status: { phase: "Failed", reason: "DeadlineExceeded" } },
    { status: { phase: "Succeeded" } },
    {
      status: {
        phase: "Pending",
        containerStatuses: [cs({ state: { waiting: { reason: "ImagePullBackOff" } } })],
      },
    },
    {
      status: {
        phase: "Pending",
        containerStatuses: [cs({ state: { waiting: { reason: "ContainerCreating" } } })],
      },
    },
  ];
  const stages = pods.map(pullStage);
  assert.deepEqual(stages, pods.map((p) => pullOutcome(p, 0).kind));
  assert.deepEqual(stages, [
    "pending",
    "pending",
    "succeeded",
    "succeeded",
    "failed",
    "failed",
    "failed",
    "pending",
  ]);
});

function cs(extra: Partial<ContainerStatus>): ContainerStatus {
  return { name: "pull", image: "x", imageID: "", ready: false, restartCount: 0, ...extra };
}
