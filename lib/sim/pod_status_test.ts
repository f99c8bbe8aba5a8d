import assert from "node:assert/strict";
import { buildPodStatus, type ContainerRun, phaseOf, type PodRun } from "./pod_status.ts";

const T0 = "2024-05-01T10:00:00Z";
const T1 = "2024-05-01T10:00:05Z";

function run(containers: ContainerRun[], extra: Partial<PodRun> = {}): PodRun {
  return {
    phase: phaseOf(containers),
    sandboxReady: true,
    hostIP: "10.0.0.1",
    startTime: T0,
    containers,
    ...extra,
  };
}

function conditionMap(status: ReturnType<typeof buildPodStatus>) {
  return Object.fromEntries(status.conditions!.map((c) => [c.type, c]));
}

Deno.test("a pending container: ContainerCreating, not ready, no image ID yet", () => {
  const c: ContainerRun = {
    name: "pull",
    image: "alpine:3.19",
    state: { waiting: { reason: "ContainerCreating" } },
  };
  const status = buildPodStatus(run([c], { sandboxReady: false }), undefined, T0);
  assert.equal(status.phase, "Pending");
  assert.deepEqual(status.containerStatuses, [{
    name: "pull",
    state: { waiting: { reason: "ContainerCreating" } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image: "alpine:3.19",
    imageID: "",
    started: false,
  }]);
  const cond = conditionMap(status);
  assert.deepEqual(
    status.conditions!.map((x) => x.type),
    ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"],
  );
  assert.equal(cond.PodReadyToStartContainers.status, "False");
  assert.equal(cond.Ready.reason, "ContainersNotReady");
  assert.equal(cond.Ready.message, "containers with unready status: [pull]");
  assert.equal(status.podIP, undefined);
  assert.deepEqual(status.hostIPs, [{ ip: "10.0.0.1" }]);
});

Deno.test("a completed pod: Succeeded, PodCompleted, image ID kept", () => {
  const c: ContainerRun = {
    name: "pull",
    image: "alpine:3.19",
    imageRef: "docker.io/library/alpine:3.19",
    imageID: "docker.io/library/alpine@sha256:" + "a".repeat(64),
    containerID: "containerd://" + "b".repeat(64),
    state: { terminated: { exitCode: 0, reason: "Completed", startedAt: T1, finishedAt: T1 } },
  };
  const status = buildPodStatus(run([c], { podIP: "10.244.1.5" }), undefined, T1);
  assert.equal(status.phase, "Succeeded");
  const cond = conditionMap(status);
  assert.equal(cond.Initialized.reason, "PodCompleted");
  assert.equal(cond.Ready.reason, "PodCompleted");
  assert.equal(cond.ContainersReady.reason, "PodCompleted");
  assert.equal(cond.PodReadyToStartContainers.status, "False");
  assert.equal(status.containerStatuses![0].imageID, c.imageID);
  assert.equal(status.containerStatuses![0].image, "docker.io/library/alpine:3.19");
  assert.equal(status.containerStatuses![0].containerID, c.containerID);
  assert.deepEqual(status.podIPs, [{ ip: "10.244.1.5" }]);
});

Deno.test("transition times survive while a condition keeps its status", () => {
  const waiting: ContainerRun = { name: "a", image: "x:1", state: { waiting: { reason: "X" } } };
  const first = buildPodStatus(run([waiting]), undefined, T0);
  const second = buildPodStatus(run([waiting]), first.conditions, T1);
  assert.equal(conditionMap(second).Ready.lastTransitionTime, T0);
  const running: ContainerRun = { ...waiting, state: { running: { startedAt: T1 } } };
  const third = buildPodStatus(run([running]), second.conditions, T1);
  const cond = conditionMap(third);
  assert.equal(third.phase, "Running");
  assert.equal(cond.Ready.status, "True");
  assert.equal(cond.Ready.lastTransitionTime, T1);
  assert.equal(cond.PodScheduled.lastTransitionTime, T0);
  assert.equal(third.containerStatuses![0].ready, true);
  assert.equal(third.containerStatuses![0].started, true);
});

Deno.test("phase: waiting wins, then running, then exit codes; statuses sorted by name", () => {
  const done = (code: number): ContainerRun["state"] => ({
    terminated: { exitCode: code, reason: code ? "Error" : "Completed" },
  });
  assert.equal(phaseOf([]), "Pending");
  assert.equal(phaseOf([{ name: "a", image: "i", state: done(0) }]), "Succeeded");
  assert.equal(
    phaseOf([{ name: "a", image: "i", state: done(0) }, {
      name: "b",
      image: "i",
      state: done(128),
    }]),
    "Failed",
  );
  assert.equal(
    phaseOf([{ name: "a", image: "i", state: done(1) }, {
      name: "b",
      image: "i",
      state: { running: {} },
    }]),
    "Running",
  );
  const status = buildPodStatus(
    run([{ name: "z", image: "i", state: done(0) }, { name: "a", image: "i", state: done(1) }], {
      reason: "DeadlineExceeded",
      message: "m",
    }),
    undefined,
    T0,
  );
  assert.deepEqual(status.containerStatuses!.map((c) => c.name), ["a", "z"]);
  assert.equal(status.phase, "Failed");
  assert.equal(conditionMap(status).Ready.reason, "PodFailed");
  assert.equal(status.reason, "DeadlineExceeded");
});
