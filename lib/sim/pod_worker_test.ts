import assert from "node:assert/strict";
import type { Pod, PodStatus } from "kubernetes-types/core/v1.d.ts";
import { ImagePuller } from "./image_puller.ts";
import { ImageStore } from "./image_store.ts";
import {
  commandBehaviour,
  defaultPullPolicy,
  missingExecutable,
  type PodEnv,
  PodStopped,
  runPod,
} from "./pod_worker.ts";
import { RegistryCatalogue } from "./registry_catalogue.ts";
import { Scheduler } from "./scheduler.ts";

interface Recorded {
  statuses: PodStatus[];
  events: { type: string; reason: string; message: string }[];
}

function fakeEnv(opts: { timeScale?: number; secrets?: string[] } = {}) {
  const scheduler = new Scheduler();
  const store = new ImageStore();
  const catalogue = new RegistryCatalogue();
  const timeScale = opts.timeScale ?? 0.001;
  const rec: Recorded = { statuses: [], events: [] };
  const env: PodEnv = {
    nodeName: "n1",
    hostIP: "10.0.0.1",
    timeScale,
    scheduler,
    store,
    catalogue,
    puller: new ImagePuller({
      catalogue,
      store,
      scheduler,
      timeScale,
      bandwidth: () => 100_000_000,
    }),
    now: () => Date.now(),
    allocatePodIP: () => "10.244.0.2",
    whenReady: () => Promise.resolve(),
    writeStatus: (_pod, status) => {
      rec.statuses.push(structuredClone(status));
      return Promise.resolve();
    },
    event: (_pod, type, reason, message) => rec.events.push({ type, reason, message }),
    missingSecrets: (_ns, names) =>
      Promise.resolve(names.filter((n) => !(opts.secrets ?? []).includes(n))),
  };
  return { env, rec, scheduler, store, catalogue };
}

function pod(image: string, extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "uid-1" },
    spec: {
      restartPolicy: "Never",
      containers: [{ name: "pull", image, command: ["true"] }],
      ...extra,
    },
    status: { phase: "Pending", qosClass: "BestEffort" },
  };
}

function waitingReasons(rec: Recorded): string[] {
  return rec.statuses.map((s) => {
    const st = s.containerStatuses![0].state!;
    return st.waiting?.reason ?? (st.running ? "Running" : st.terminated?.reason ?? "?");
  });
}

async function until(cond: () => boolean, what: string) {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("a pull pod: Pending then Succeeded, two status writes, the kubelet's events", async () => {
  const { env, rec, scheduler } = fakeEnv();
  try {
    await runPod(pod("alpine:3.19"), env, new AbortController().signal);
    assert.equal(rec.statuses.length, 2);
    assert.equal(rec.statuses[0].phase, "Pending");
    assert.equal(rec.statuses[0].containerStatuses![0].state!.waiting!.reason, "ContainerCreating");
    const last = rec.statuses[1];
    assert.equal(last.phase, "Succeeded");
    const cs = last.containerStatuses![0];
    assert.equal(cs.state!.terminated!.reason, "Completed");
    assert.equal(cs.state!.terminated!.exitCode, 0);
    assert.match(cs.imageID!, /^docker\.io\/library\/alpine@sha256:[a-f0-9]{64}$/);
    assert.equal(cs.image, "docker.io/library/alpine:3.19");
    assert.equal(last.podIP, "10.244.0.2");
    assert.deepEqual(rec.events.map((e) => e.reason), ["Pulling", "Pulled", "Created", "Started"]);
    assert.equal(rec.events[0].message, 'Pulling image "alpine:3.19"');
    assert.match(
      rec.events[1].message,
      /^Successfully pulled image "alpine:3\.19" in [\d.]+m?s \([\d.]+m?s including waiting\)\. Image size: \d+ bytes\.$/,
    );
    assert.equal(rec.events[2].message, "Created container pull");
  } finally {
    scheduler.stop();
  }
});

Deno.test("a long-running command is written Running before it ends", async () => {
  const { env, rec, scheduler } = fakeEnv();
  try {
    const p = pod("alpine:3.19");
    p.spec!.containers[0].command = ["sleep", "2"];
    await runPod(p, env, new AbortController().signal);
    assert.deepEqual(rec.statuses.map((s) => s.phase), ["Pending", "Running", "Succeeded"]);
    assert.equal(rec.statuses[1].containerStatuses![0].ready, true);
  } finally {
    scheduler.stop();
  }
});

Deno.test("images without true: pulled, then StartError 128 and Failed", async () => {
  const { env, rec, scheduler } = fakeEnv();
  try {
    await runPod(pod("gcr.io/distroless/static:nonroot"), env, new AbortController().signal);
    const last = rec.statuses.at(-1)!;
    assert.equal(last.phase, "Failed");
    const t = last.containerStatuses![0].state!.terminated!;
    assert.equal(t.reason, "StartError");
    assert.equal(t.exitCode, 128);
    assert.match(t.message!, /exec: "true": executable file not found in \$PATH/);
    assert.match(last.containerStatuses![0].imageID!, /^gcr\.io\/distroless\/static@sha256:/);
    assert.deepEqual(rec.events.map((e) => e.reason), ["Pulling", "Pulled", "Created", "Failed"]);
    assert.match(rec.events[3].message, /^Error: failed to create containerd task: /);
  } finally {
    scheduler.stop();
  }
});

Deno.test("IfNotPresent skips a present image; Always pulls again", async () => {
  const { env, rec, scheduler } = fakeEnv();
  try {
    await runPod(pod("alpine:3.19"), env, new AbortController().signal);
    rec.events.length = 0;
    await runPod(pod("alpine:3.19", {}), env, new AbortController().signal);
    assert.deepEqual(rec.events.map((e) => e.reason), ["Pulled", "Created", "Started"]);
    assert.equal(rec.events[0].message, 'Container image "alpine:3.19" already present on machine');
    rec.events.length = 0;
    const always = pod("alpine:3.19");
    always.spec!.containers[0].imagePullPolicy = "Always";
    await runPod(always, env, new AbortController().signal);
    assert.deepEqual(rec.events.map((e) => e.reason), ["Pulling", "Pulled", "Created", "Started"]);
  } finally {
    scheduler.stop();
  }
});

Deno.test("Never with an absent image waits in ErrImageNeverPull until stopped", async () => {
  const { env, rec, scheduler } = fakeEnv();
  try {
    const p = pod("alpine:3.19");
    p.spec!.containers[0].imagePullPolicy = "Never";
    const stop = new AbortController();
    const done = runPod(p, env, stop.signal);
    await until(() => rec.statuses.length === 2, "the ErrImageNeverPull status");
    const w = rec.statuses[1].containerStatuses![0].state!.waiting!;
    assert.equal(w.reason, "ErrImageNeverPull");
    assert.equal(
      w.message,
      'Container image "alpine:3.19" is not present with pull policy of Never',
    );
    stop.abort(new PodStopped("shutdown"));
    await assert.rejects(done, PodStopped);
    assert.equal(rec.statuses.length, 2);
  } finally {
    scheduler.stop();
  }
});

Deno.test("unresolvable host: ErrImagePull, ImagePullBackOff, then a retry", async () => {
  const { env, rec, scheduler } = fakeEnv({ timeScale: 0.002 });
  try {
    const stop = new AbortController();
    const done = runPod(pod("registry.invalid.local:9999/does-not-exist"), env, stop.signal);
    await until(() => rec.statuses.length >= 4, "two failure cycles");
    stop.abort(new PodStopped("deleted"));
    await assert.rejects(done, PodStopped);
    assert.deepEqual(waitingReasons(rec).slice(0, 4), [
      "ContainerCreating",
      "ErrImagePull",
      "ImagePullBackOff",
      "ErrImagePull",
    ]);
    const err = rec.statuses[1].containerStatuses![0].state!.waiting!.message!;
    assert.match(err, /dial tcp: lookup registry\.invalid\.local: no such host$/);
    assert.equal(
      rec.statuses[2].containerStatuses![0].state!.waiting!.message,
      'Back-off pulling image "registry.invalid.local:9999/does-not-exist"',
    );
    const reasons = rec.events.map((e) => `${e.type}/${e.reason}`);
    assert.deepEqual(reasons.slice(0, 5), [
      "Normal/Pulling",
      "Warning/Failed",
      "Warning/Failed",
      "Normal/BackOff",
      "Warning/Failed",
    ]);
    assert.equal(rec.events[2].message, "Error: ErrImagePull");
    assert.equal(rec.events[4].message, "Error: ImagePullBackOff");
    assert.equal(rec.statuses.at(-1)!.phase, "Pending");
  } finally {
    scheduler.stop();
  }
});

Deno.test("private registry: a missing secret is reported and the pull is unauthorized", async () => {
  const { env, rec, scheduler } = fakeEnv({ secrets: ["present"] });
  try {
    const stop = new AbortController();
    const denied = runPod(
      pod("private.example.com/team/app:1", { imagePullSecrets: [{ name: "absent" }] }),
      env,
      stop.signal,
    );
    await until(() => rec.statuses.length >= 2, "the ErrImagePull status");
    stop.abort(new PodStopped("deleted"));
    await assert.rejects(denied, PodStopped);
    assert.match(
      rec.statuses[1].containerStatuses![0].state!.waiting!.message!,
      /401 Unauthorized$/,
    );
    assert.equal(rec.events[0].reason, "FailedToRetrieveImagePullSecret");

    rec.statuses.length = 0;
    await runPod(
      pod("private.example.com/team/app:1", { imagePullSecrets: [{ name: "present" }] }),
      env,
      new AbortController().signal,
    );
    assert.equal(rec.statuses.at(-1)!.phase, "Succeeded");
  } finally {
    scheduler.stop();
  }
});

Deno.test("activeDeadlineSeconds ends a stuck pod Failed with DeadlineExceeded", async () => {
  const { env, rec, scheduler } = fakeEnv({ timeScale: 0.01 });
  try {
    const p = pod("team/app:notfound", { activeDeadlineSeconds: 30 });
    await runPod(p, env, new AbortController().signal);
    const last = rec.statuses.at(-1)!;
    assert.equal(last.phase, "Failed");
    assert.equal(last.reason, "DeadlineExceeded");
    assert.equal(last.message, "Pod was active on the node longer than the specified deadline");
    assert.equal(last.containerStatuses![0].state!.terminated!.reason, "ContainerStatusUnknown");
    assert.ok(
      rec.statuses.some((s) =>
        /: not found$/.test(s.containerStatuses![0].state!.waiting?.message ?? "")
      ),
    );
    assert.equal(rec.events.at(-1)!.reason, "DeadlineExceeded");
  } finally {
    scheduler.stop();
  }
});

Deno.test("an invalid image name stays InvalidImageName", async () => {
  const { env, rec, scheduler } = fakeEnv();
  try {
    const stop = new AbortController();
    const done = runPod(pod("Not/Valid:image:x"), env, stop.signal);
    await until(() => rec.statuses.length === 2, "the InvalidImageName status");
    stop.abort(new PodStopped("shutdown"));
    await assert.rejects(done, PodStopped);
    assert.equal(rec.statuses[1].containerStatuses![0].state!.waiting!.reason, "InvalidImageName");
  } finally {
    scheduler.stop();
  }
});

Deno.test("pure helpers: default pull policy, missing executables, command behaviour", () => {
  assert.equal(defaultPullPolicy("alpine"), "Always");
  assert.equal(defaultPullPolicy("alpine:latest"), "Always");
  assert.equal(defaultPullPolicy("alpine:3"), "IfNotPresent");
  assert.equal(defaultPullPolicy("alpine@sha256:" + "a".repeat(64)), "IfNotPresent");
  assert.equal(missingExecutable({ name: "c", image: "scratch", command: ["true"] }), "true");
  assert.equal(missingExecutable({ name: "c", image: "registry.k8s.io/pause:3.9" }), undefined);
  assert.equal(
    missingExecutable({ name: "c", image: "registry.k8s.io/pause:3.9", command: ["/pause"] }),
    undefined,
  );
  assert.equal(missingExecutable({ name: "c", image: "alpine", command: ["true"] }), undefined);
  const b = (argv: string[], policy = "Never") =>
    commandBehaviour({ name: "c", command: argv }, policy);
  assert.deepEqual(b(["true"]), { runMs: 0, exitCode: 0 });
  assert.deepEqual(b(["/bin/false"]), { runMs: 0, exitCode: 1 });
  assert.deepEqual(b(["sleep", "3"]), { runMs: 3000, exitCode: 0 });
  assert.deepEqual(b(["sh", "-c", "exit 3"]), { runMs: 0, exitCode: 3 });
  assert.deepEqual(b(["true"], "Always"), { runMs: Infinity, exitCode: 0 });
});
