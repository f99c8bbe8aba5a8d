import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { isImagePullStuck, pullActivity, pullPodView } from "./pod_state.ts";

function pod(status: Pod["status"]): Pod {
  return {
    metadata: {
      name: "p",
      namespace: "drop-system",
      creationTimestamp: "2026-01-02T03:04:05Z",
    },
    spec: { nodeName: "n1", containers: [{ name: "pull" }] },
    status,
  };
}

function waiting(reason: string): Pod {
  return pod({
    phase: "Pending",
    containerStatuses: [{
      name: "pull",
      image: "x",
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { waiting: { reason, message: "..." } },
    }],
  });
}

Deno.test("pods waiting in image-pull errors are stuck and hold no slot", () => {
  for (
    const reason of [
      "ErrImagePull",
      "ImagePullBackOff",
      "InvalidImageName",
      "ErrImageNeverPull",
      "CreateContainerConfigError",
      "RegistryUnavailable",
    ]
  ) {
    assert.ok(isImagePullStuck(waiting(reason)), reason);
    assert.equal(pullActivity(waiting(reason)), "stuck", reason);
  }
  assert.ok(!isImagePullStuck(waiting("ContainerCreating")));
  assert.equal(pullActivity(waiting("ContainerCreating")), "active");
});

Deno.test("pending and running pods are active until the image is on the node", () => {
  assert.equal(pullActivity(pod(undefined)), "active");
  assert.equal(pullActivity(pod({ phase: "Pending" })), "active");
  const pulled = pod({
    phase: "Running",
    containerStatuses: [{
      name: "pull",
      image: "alpine:3.20",
      imageID: "docker.io/library/alpine@sha256:abc",
      ready: false,
      restartCount: 0,
      state: { running: {} },
    }],
  });
  assert.equal(pullActivity(pulled), "done");
  assert.equal(pullActivity(pod({ phase: "Succeeded" })), "done");
  assert.equal(pullActivity(pod({ phase: "Failed", reason: "DeadlineExceeded" })), "done");
});

Deno.test("pullPodView keys by namespace and name and reads node, time and activity", () => {
  assert.deepEqual(pullPodView(waiting("ErrImagePull"), "alpine", "fast"), {
    key: "drop-system/p",
    image: "alpine",
    node: "n1",
    budget: "fast",
    createdAt: Date.parse("2026-01-02T03:04:05Z"),
    active: false,
  });
  assert.equal(pullPodView(pod({ phase: "Pending" }), "alpine", "fast").active, true);
});
