import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import type { Node, Pod, Secret } from "kubernetes-types/core/v1.d.ts";
import { LEASES, NODES, PODS, SECRETS } from "../kube/mod.ts";
import {
  createPod,
  getPod,
  podEvents,
  pullPod,
  waitFor,
  waitForPhase,
  waitForWaiting,
} from "./_test_util.ts";
import { startSimCluster } from "./cluster.ts";

const FAST = 0.01;

function messagesOf(events: { reason?: string; message?: string }[]): string[] {
  return events.map((e) => `${e.reason}: ${e.message}`);
}

Deno.test("unresolvable registry host: ErrImagePull, then ImagePullBackOff, with the kubelet's events", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST });
  try {
    const image = "registry.invalid.local:9999/does-not-exist";
    await createPod(cluster.client, pullPod("dns", "sim-node-1", image));
    const failed = await waitForWaiting(cluster.client, "dns", "ErrImagePull");
    assert.equal(
      failed.status!.containerStatuses![0].state!.waiting!.message,
      'rpc error: code = Unknown desc = failed to pull and unpack image "registry.invalid.local:9999/does-not-exist:latest": ' +
        'failed to resolve reference "registry.invalid.local:9999/does-not-exist:latest": failed to do request: ' +
        'Head "https://registry.invalid.local:9999/v2/does-not-exist/manifests/latest": dial tcp: lookup registry.invalid.local: no such host',
    );
    assert.equal(failed.status!.phase, "Pending");
    const backoff = await waitForWaiting(cluster.client, "dns", "ImagePullBackOff");
    assert.equal(
      backoff.status!.containerStatuses![0].state!.waiting!.message,
      `Back-off pulling image "${image}"`,
    );
    // The kubelet retries after the backoff: a second ErrImagePull follows.
    await waitFor(async () => {
      const events = await podEvents(cluster.client, "dns");
      const pulling = events.find((e) => e.reason === "Pulling");
      return (pulling?.count ?? 0) >= 2 ? true : undefined;
    }, "a second pull attempt");
    const events = messagesOf(await podEvents(cluster.client, "dns"));
    assert.ok(events.includes(`Pulling: Pulling image "${image}"`));
    assert.ok(
      events.some((m) => m.startsWith(`Failed: Failed to pull image "${image}": rpc error:`)),
    );
    assert.ok(events.includes("Failed: Error: ErrImagePull"));
    assert.ok(events.includes(`BackOff: Back-off pulling image "${image}"`));
    assert.ok(events.includes("Failed: Error: ImagePullBackOff"));
    const warning = (await podEvents(cluster.client, "dns")).find((e) => e.reason === "Failed");
    assert.equal(warning?.type, "Warning");
    assert.equal(warning?.source?.component, "kubelet");
    assert.equal(warning?.source?.host, "sim-node-1");
  } finally {
    await cluster.stop();
  }
});

Deno.test("normalPodEvents off: only the kubelet's Warnings are recorded", async () => {
  const cluster = await startSimCluster({
    nodes: 1,
    timeScale: FAST,
    kubelets: { normalPodEvents: false },
  });
  try {
    await createPod(cluster.client, pullPod("dns", "sim-node-1", "registry.invalid.local/x"));
    await waitForWaiting(cluster.client, "dns", "ImagePullBackOff");
    const events = await waitFor(async () => {
      const events = await podEvents(cluster.client, "dns");
      return events.some((e) => e.message === "Error: ImagePullBackOff") ? events : undefined;
    }, "the backoff's Warning");
    assert.deepEqual([...new Set(events.map((e) => e.type))], ["Warning"]);
    assert.ok(messagesOf(events).includes("Failed: Error: ErrImagePull"));
  } finally {
    await cluster.stop();
  }
});

Deno.test("unknown repository or tag: ErrImagePull with containerd's not found", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST });
  try {
    await createPod(cluster.client, pullPod("tag", "sim-node-1", "nginx:notfound"));
    await createPod(
      cluster.client,
      pullPod("repo", "sim-node-1", "ghcr.io/team/does-not-exist:1.0"),
    );
    const tag = await waitForWaiting(cluster.client, "tag", "ErrImagePull");
    assert.equal(
      tag.status!.containerStatuses![0].state!.waiting!.message,
      'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:notfound": ' +
        'failed to resolve reference "docker.io/library/nginx:notfound": docker.io/library/nginx:notfound: not found',
    );
    const repo = await waitForWaiting(cluster.client, "repo", "ErrImagePull");
    assert.match(
      repo.status!.containerStatuses![0].state!.waiting!.message!,
      /ghcr\.io\/team\/does-not-exist:1\.0: not found$/,
    );
  } finally {
    await cluster.stop();
  }
});

Deno.test("private registry: 401 without an existing pull secret, pulled with one", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST });
  try {
    const image = "private.example.com/team/app:1.0";
    await createPod(
      cluster.client,
      pullPod("nosecret", "sim-node-1", image, { imagePullSecrets: [{ name: "absent" }] }),
    );
    const denied = await waitForWaiting(cluster.client, "nosecret", "ErrImagePull");
    assert.match(
      denied.status!.containerStatuses![0].state!.waiting!.message!,
      /unexpected status from HEAD request to https:\/\/private\.example\.com\/v2\/team\/app\/manifests\/1\.0: 401 Unauthorized$/,
    );
    const events = messagesOf(await podEvents(cluster.client, "nosecret"));
    assert.ok(events.includes(
      "FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (absent); attempting to pull the image may not succeed.",
    ));

    await cluster.client.resource<Secret>(SECRETS, "default").create({
      metadata: { name: "creds" },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": '{"auths":{"private.example.com":{"auth":"dTpw"}}}' },
    });
    await createPod(
      cluster.client,
      pullPod("withsecret", "sim-node-1", image, { imagePullSecrets: [{ name: "creds" }] }),
    );
    const ok = await waitForPhase(cluster.client, "withsecret", ["Succeeded", "Failed"]);
    assert.equal(ok.status!.phase, "Succeeded");
    assert.match(
      ok.status!.containerStatuses![0].imageID!,
      /^private\.example\.com\/team\/app@sha256:/,
    );
  } finally {
    await cluster.stop();
  }
});

Deno.test("images without true: pulled with imageID set, then StartError exit 128, pod Failed", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST });
  try {
    const images = [
      "gcr.io/distroless/static-debian12:nonroot",
      "docker.io/library/scratch-based:1",
      "registry.k8s.io/pause:3.9",
    ];
    for (const [i, image] of images.entries()) {
      await createPod(cluster.client, pullPod(`noshell-${i}`, "sim-node-1", image));
    }
    for (const [i, image] of images.entries()) {
      const pod = await waitForPhase(cluster.client, `noshell-${i}`, ["Succeeded", "Failed"]);
      assert.equal(pod.status!.phase, "Failed", image);
      const cs = pod.status!.containerStatuses![0];
      assert.match(cs.imageID!, /@sha256:[a-f0-9]{64}$/);
      const t = cs.state!.terminated!;
      assert.equal(t.reason, "StartError");
      assert.equal(t.exitCode, 128);
      assert.equal(
        t.message,
        'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "true": executable file not found in $PATH: unknown',
      );
      const events = await waitFor(async () => {
        const list = await podEvents(cluster.client, `noshell-${i}`);
        return list.length >= 4 ? list : undefined;
      }, "four events");
      assert.deepEqual(events.map((e) => e.reason), ["Pulling", "Pulled", "Created", "Failed"]);
      assert.equal(events[3].message, `Error: ${t.message}`);
    }
  } finally {
    await cluster.stop();
  }
});

Deno.test("IfNotPresent skips a present image; Never with an absent image is ErrImageNeverPull", async () => {
  const cluster = await startSimCluster({ nodes: 2, timeScale: FAST });
  try {
    await createPod(cluster.client, pullPod("first", "sim-node-1", "golang:1.22"));
    await waitForPhase(cluster.client, "first", ["Succeeded"]);
    await createPod(
      cluster.client,
      pullPod("again", "sim-node-1", "golang:1.22", { imagePullPolicy: "IfNotPresent" }),
    );
    const again = await waitForPhase(cluster.client, "again", ["Succeeded"]);
    assert.deepEqual(messagesOf(await podEvents(cluster.client, "again")), [
      'Pulled: Container image "golang:1.22" already present on machine',
      "Created: Created container pull",
      "Started: Started container pull",
    ]);
    const first = await getPod(cluster.client, "first");
    assert.equal(
      again.status!.containerStatuses![0].imageID,
      first.status!.containerStatuses![0].imageID,
    );
    assert.equal(cluster.kubelets.pullHistory("sim-node-1").length, 1);

    await createPod(
      cluster.client,
      pullPod("present", "sim-node-1", "golang:1.22", { imagePullPolicy: "Never" }),
    );
    await waitForPhase(cluster.client, "present", ["Succeeded"]);
    await createPod(
      cluster.client,
      pullPod("never", "sim-node-2", "golang:1.22", { imagePullPolicy: "Never" }),
    );
    const never = await waitForWaiting(cluster.client, "never", "ErrImageNeverPull");
    assert.equal(
      never.status!.containerStatuses![0].state!.waiting!.message,
      'Container image "golang:1.22" is not present with pull policy of Never',
    );
    assert.equal(never.status!.phase, "Pending");
  } finally {
    await cluster.stop();
  }
});

Deno.test("pulls are serialised per node; other nodes pull in parallel", async () => {
  const cluster = await startSimCluster({ nodes: 2, timeScale: FAST, nodeBandwidth: 10_000_000 });
  try {
    // Held nodes let all pods queue their pulls at the same moment.
    await cluster.nodes.setReady("sim-node-1", false);
    await cluster.nodes.setReady("sim-node-2", false);
    const images = ["team/one:1", "team/two:1", "team/three:1"];
    // 200 MB each: 20 s of simulated pulling, 200 ms of wall time, long against scheduling noise.
    for (const image of [...images, "team/four:1"]) {
      const [repo, tag] = image.split(":");
      cluster.registry.catalogue.setTag(repo, tag, { size: 200_000_000 });
    }
    for (const [i, image] of images.entries()) {
      await createPod(cluster.client, pullPod(`serial-${i}`, "sim-node-1", image));
    }
    await createPod(cluster.client, pullPod("other", "sim-node-2", "team/four:1"));
    await cluster.nodes.setReady("sim-node-2", true);
    await cluster.nodes.setReady("sim-node-1", true);
    for (let i = 0; i < images.length; i++) {
      await waitForPhase(cluster.client, `serial-${i}`, ["Succeeded"]);
    }
    await waitForPhase(cluster.client, "other", ["Succeeded"]);

    // From the kubelet's own Pulled messages: each pull waited for the pulls ahead of it.
    const pulled: { pull: number; total: number }[] = [];
    for (let i = 0; i < images.length; i++) {
      const event = await waitFor(
        async () =>
          (await podEvents(cluster.client, `serial-${i}`)).find((e) => e.reason === "Pulled"),
        "Pulled",
      );
      const m = /in (\S+) \((\S+) including waiting\)/.exec(event.message!)!;
      pulled.push({ pull: seconds(m[1]), total: seconds(m[2]) });
    }
    const order = pulled.map((p, i) => ({ ...p, i })).sort((a, b) => a.total - b.total);
    let ahead = 0;
    for (const p of order) {
      assert.ok(p.total - p.pull >= 0.5 * ahead, `pod ${p.i} did not wait for the pulls ahead`);
      ahead += p.pull;
    }
    assert.ok(order[2].total - order[2].pull > 0, "the last pull waited");

    const history = cluster.kubelets.pullHistory("sim-node-1");
    assert.equal(history.length, 3);
    for (let i = 1; i < history.length; i++) {
      assert.ok(history[i].startedAt >= history[i - 1].finishedAt, "two pulls overlapped");
    }
    const [other] = cluster.kubelets.pullHistory("sim-node-2");
    assert.ok(
      other.startedAt < history[2].finishedAt && other.finishedAt > history[0].startedAt,
      "the other node's pull did not run alongside",
    );
  } finally {
    await cluster.stop();
  }
});

/** Parses a Go duration such as "512ms", "20.05s" or "1m0.15s" into seconds. */
function seconds(d: string): number {
  if (d.endsWith("ms")) return Number(d.slice(0, -2)) / 1000;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?([\d.]+)s$/.exec(d);
  if (!m) throw new Error(`Cannot parse duration "${d}"`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3]);
}

Deno.test("a moved tag is pulled again under Always; status.images lists both digests", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST });
  try {
    const image = "registry.example.com/team/app:stable";
    await createPod(
      cluster.client,
      pullPod("v1", "sim-node-1", image, { imagePullPolicy: "Always" }),
    );
    const first = await waitForPhase(cluster.client, "v1", ["Succeeded"]);
    const moved = cluster.registry.catalogue.moveTag("registry.example.com/team/app", "stable");
    await createPod(
      cluster.client,
      pullPod("v2", "sim-node-1", image, { imagePullPolicy: "Always" }),
    );
    const second = await waitForPhase(cluster.client, "v2", ["Succeeded"]);
    const id1 = first.status!.containerStatuses![0].imageID!;
    const id2 = second.status!.containerStatuses![0].imageID!;
    assert.notEqual(id1, id2);
    assert.equal(id2, `registry.example.com/team/app@${moved.digest}`);

    const images = await waitFor(async () => {
      const node = await cluster.client.resource<Node>(NODES).get("sim-node-1");
      const list = node.status?.images ?? [];
      return list.some((i) => i.names?.includes(id2)) ? list : undefined;
    }, "the new digest in status.images");
    const newer = images.find((i) => i.names?.includes(id2))!;
    const older = images.find((i) => i.names?.includes(id1))!;
    assert.ok(newer.names!.includes("registry.example.com/team/app:stable"));
    assert.ok(!older.names!.includes("registry.example.com/team/app:stable"), "the tag moved");
  } finally {
    await cluster.stop();
  }
});

Deno.test("status.images: largest first, at most 50", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: 0.001 });
  try {
    for (let i = 0; i < 53; i++) {
      await createPod(cluster.client, pullPod(`img-${i}`, "sim-node-1", `team/img${i}:1`));
    }
    for (let i = 0; i < 53; i++) await waitForPhase(cluster.client, `img-${i}`, ["Succeeded"]);
    const all = cluster.kubelets.images("sim-node-1");
    assert.equal(all.length, 53);
    // The node status is written some time after the last pull: wait for the write that holds
    // the final store, then check it holds the 50 largest in order.
    const images = await waitFor(async () => {
      const node = await cluster.client.resource<Node>(NODES).get("sim-node-1");
      const list = node.status?.images ?? [];
      return list.length === 50 && list[49].sizeBytes === all[49].size ? list : undefined;
    }, "the 50 largest images in status");
    const sizes = images.map((i) => i.sizeBytes!);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
    assert.equal(sizes[0], all[0].size);
  } finally {
    await cluster.stop();
  }
});

Deno.test("activeDeadlineSeconds: a pod stuck in backoff ends Failed with DeadlineExceeded", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST });
  try {
    await createPod(
      cluster.client,
      pullPod("deadline", "sim-node-1", "nonexistent-registry:5000/app:1", {
        activeDeadlineSeconds: 60,
      }),
    );
    const pod = await waitForPhase(cluster.client, "deadline", ["Failed"]);
    assert.equal(pod.status!.reason, "DeadlineExceeded");
    assert.equal(
      pod.status!.message,
      "Pod was active on the node longer than the specified deadline",
    );
    const reasons = (await podEvents(cluster.client, "deadline")).map((e) => e.reason);
    assert.ok(reasons.includes("DeadlineExceeded"));
  } finally {
    await cluster.stop();
  }
});

Deno.test("a pod deleted mid-pull: the pull stops and the pod is removed", async () => {
  // 1 MB/s makes the pull last minutes of simulated time (seconds of wall time).
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST, nodeBandwidth: 1_000_000 });
  try {
    await createPod(cluster.client, pullPod("slow", "sim-node-1", "team/huge:1"));
    await waitFor(async () => {
      const events = await podEvents(cluster.client, "slow");
      return events.some((e) => e.reason === "Pulling") ? true : undefined;
    }, "the pull to start");
    await cluster.client.resource<Pod>(PODS, "default").delete("slow");
    await waitFor(async () => {
      const list = await cluster.client.resource<Pod>(PODS, "default").list();
      return list.items.some((p) => p.metadata?.name === "slow") ? undefined : true;
    }, "the pod to be removed");
    const history = await waitFor(
      () =>
        cluster.kubelets.pullHistory("sim-node-1").length === 1
          ? cluster.kubelets.pullHistory("sim-node-1")
          : undefined,
      "the cancelled pull record",
    );
    assert.equal(history[0].result, "cancelled");
    assert.equal(cluster.kubelets.images("sim-node-1").length, 0);
  } finally {
    await cluster.stop();
  }
});

Deno.test("heartbeats: the Lease is renewed and the Ready condition's heartbeat advances", async () => {
  const cluster = await startSimCluster({
    nodes: 2,
    timeScale: FAST,
    kubelets: { leaseRenewIntervalMs: 100, nodeStatusReportIntervalMs: 1100 },
  });
  try {
    const leases = cluster.client.resource<Lease>(LEASES, "kube-node-lease");
    const first = await waitFor(() => leases.get("sim-node-1"), "the lease");
    assert.equal(first.spec!.holderIdentity, "sim-node-1");
    assert.equal(first.spec!.leaseDurationSeconds, 40);
    assert.equal(first.metadata!.ownerReferences![0].kind, "Node");
    await waitFor(async () => {
      const now = await leases.get("sim-node-1");
      return now.spec!.renewTime !== first.spec!.renewTime ? true : undefined;
    }, "a lease renewal");

    const nodes = cluster.client.resource<Node>(NODES);
    const readyOf = (n: Node) => n.status!.conditions!.find((c) => c.type === "Ready")!;
    const before = readyOf(await nodes.get("sim-node-2"));
    await waitFor(async () => {
      const now = readyOf(await nodes.get("sim-node-2"));
      return now.lastHeartbeatTime !== before.lastHeartbeatTime ? now : undefined;
    }, "a node status heartbeat");
    const after = readyOf(await nodes.get("sim-node-2"));
    assert.equal(after.lastTransitionTime, before.lastTransitionTime);
    assert.equal(after.status, "True");
  } finally {
    await cluster.stop();
  }
});

Deno.test("a NotReady node reports Ready=False and holds its pods until it is Ready again", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: FAST });
  try {
    await cluster.nodes.setReady("sim-node-1", false);
    const node = await cluster.client.resource<Node>(NODES).get("sim-node-1");
    const ready = node.status!.conditions!.find((c) => c.type === "Ready")!;
    assert.equal(ready.status, "False");
    assert.equal(ready.reason, "KubeletNotReady");
    await createPod(cluster.client, pullPod("held", "sim-node-1", "alpine:3.19"));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await getPod(cluster.client, "held")).status?.containerStatuses, undefined);
    await cluster.nodes.setReady("sim-node-1", true);
    const pod = await waitForPhase(cluster.client, "held", ["Succeeded"]);
    assert.ok(pod.status!.containerStatuses![0].imageID);
  } finally {
    await cluster.stop();
  }
});
