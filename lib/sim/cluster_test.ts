import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import type { Namespace, Node, Pod } from "kubernetes-types/core/v1.d.ts";
import {
  configFromKubeconfigText,
  isNotFound,
  KubeClient,
  LEASES,
  NAMESPACES,
  NODES,
  PODS,
  WatchStalledError,
} from "../kube/mod.ts";
import { createPod, podEvents, pullPod, waitFor, waitForPhase } from "./_test_util.ts";
import { KUBELET_USER, startSimCluster } from "./cluster.ts";

Deno.test("startSimCluster: Ready nodes, CRDs, namespace, and a pull pod end to end", async () => {
  const dir = await Deno.makeTempDir();
  const kubeconfigPath = `${dir}/kubeconfig`;
  const cluster = await startSimCluster({ nodes: 3, timeScale: 0.01, kubeconfigPath });
  try {
    // Nodes: labels and a Ready status as a kubelet writes it.
    const nodes = await cluster.client.resource<Node>(NODES).list();
    assert.deepEqual(nodes.items.map((n) => n.metadata!.name).sort(), [
      "sim-node-1",
      "sim-node-2",
      "sim-node-3",
    ]);
    for (const node of nodes.items) {
      const labels = node.metadata!.labels!;
      assert.equal(labels["kubernetes.io/hostname"], node.metadata!.name);
      assert.equal(labels["kubernetes.io/os"], "linux");
      assert.equal(labels["kubernetes.io/arch"], "amd64");
      assert.equal(labels["drop-sim/managed"], "true");
      const ready = node.status!.conditions!.find((c) => c.type === "Ready")!;
      assert.equal(ready.status, "True");
      assert.equal(node.status!.nodeInfo!.containerRuntimeVersion, "containerd://1.7.13");
      assert.equal(node.status!.addresses![0].type, "InternalIP");
      assert.equal(node.status!.allocatable!.pods, "110");
    }
    const ns = await cluster.client.resource<Namespace>(NAMESPACES).get("drop-system");
    assert.equal(ns.metadata!.name, "drop-system");
    const crds = cluster.apiServer.store.list("apiextensions.k8s.io", "customresourcedefinitions");
    assert.deepEqual(crds.map((c) => (c.metadata as { name: string }).name).sort(), [
      "cachedimages.drop.corewire.io",
      "cachedimagesets.drop.corewire.io",
      "discoverypolicies.drop.corewire.io",
      "pullpolicies.drop.corewire.io",
    ]);
    const cachedImages = await cluster.client.getJson<{ items: unknown[] }>(
      "/apis/drop.corewire.io/v1alpha1/cachedimages",
    );
    assert.deepEqual(cachedImages.items, []);

    // The kubeconfig was written and works.
    const text = await Deno.readTextFile(kubeconfigPath);
    assert.equal(text, cluster.kubeconfig);
    assert.equal((await Deno.stat(kubeconfigPath)).mode! & 0o777, 0o600);
    const other = new KubeClient(configFromKubeconfigText(text));
    try {
      assert.equal(
        (await other.resource<Node>(NODES).get("sim-node-2")).metadata!.name,
        "sim-node-2",
      );
    } finally {
      other.close();
    }

    // A hand-made pull pod runs to Succeeded with imageID, events and the node's image list.
    await createPod(
      cluster.client,
      pullPod("pull-alpine", "sim-node-2", "docker.io/library/alpine:3.19"),
    );
    const pod = await waitForPhase(cluster.client, "pull-alpine", ["Succeeded", "Failed"]);
    assert.equal(pod.status!.phase, "Succeeded");
    const cs = pod.status!.containerStatuses![0];
    const resolved = cluster.registry.catalogue.resolve("docker.io/library/alpine:3.19");
    assert.ok(resolved.ok);
    assert.equal(cs.imageID, `docker.io/library/alpine@${resolved.manifest.digest}`);
    assert.equal(cs.state!.terminated!.reason, "Completed");
    const events = await waitFor(async () => {
      const list = await podEvents(cluster.client, "pull-alpine");
      return list.length >= 4 ? list : undefined;
    }, "four events");
    assert.deepEqual(events.map((e) => e.reason), ["Pulling", "Pulled", "Created", "Started"]);
    assert.equal(
      events[1].message,
      `Successfully pulled image "docker.io/library/alpine:3.19" in ${
        /in (\S+) \(/.exec(events[1].message!)![1]
      } (${
        /\((\S+) including/.exec(events[1].message!)![1]
      } including waiting). Image size: ${resolved.manifest.size} bytes.`,
    );
    await waitFor(async () => {
      const node = await cluster.client.resource<Node>(NODES).get("sim-node-2");
      return node.status?.images?.some((i) => i.names?.includes(cs.imageID!)) ? true : undefined;
    }, "the image in the node's status");

    // Kubelet requests are made under their own identity.
    const byUser = cluster.counters.snapshot().byUser;
    assert.ok((byUser[KUBELET_USER] ?? 0) > 0);
    assert.ok(cluster.counters.get("patch", "pods/status") >= 2);
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("node helpers: add, label, taint, remove (the kubelet stops, pods are collected)", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: 0.01 });
  try {
    const added = await cluster.nodes.add("extra", {
      labels: { "node-role.kubernetes.io/build": "" },
      taints: [{ key: "dedicated", value: "ci", effect: "NoSchedule" }],
    });
    assert.equal(added.metadata!.labels!["node-role.kubernetes.io/build"], "");
    assert.equal(added.metadata!.labels!["kubernetes.io/hostname"], "extra");
    assert.deepEqual(added.spec!.taints, [{ key: "dedicated", value: "ci", effect: "NoSchedule" }]);
    assert.ok(cluster.kubelets.isReady("extra"));
    assert.deepEqual(cluster.nodes.names().sort(), ["extra", "sim-node-1"]);
    await waitFor(
      () => cluster.client.resource<Lease>(LEASES, "kube-node-lease").get("extra"),
      "the new node's lease",
    );

    const labelled = await cluster.nodes.label("extra", {
      "node-role.kubernetes.io/build": null,
      pool: "ci",
    });
    assert.equal(labelled.metadata!.labels!.pool, "ci");
    assert.equal(labelled.metadata!.labels!["node-role.kubernetes.io/build"], undefined);
    const untainted = await cluster.nodes.taint("extra", []);
    assert.deepEqual(untainted.spec!.taints ?? [], []);

    await createPod(cluster.client, pullPod("on-extra", "extra", "busybox:1.36"));
    await waitForPhase(cluster.client, "on-extra", ["Succeeded"]);
    await createPod(
      cluster.client,
      pullPod("stuck", "extra", "busybox:1.36", { imagePullPolicy: "Never" }),
    );
    await waitFor(async () => {
      const p = await cluster.client.resource<Pod>(PODS, "default").get("stuck");
      return p.status?.containerStatuses ? true : undefined;
    }, "the stuck pod's status");

    await cluster.nodes.remove("extra");
    await waitFor(
      () => (cluster.nodes.names().includes("extra") ? undefined : true),
      "the kubelet to stop",
    );
    await waitFor(async () => {
      const list = await cluster.client.resource<Pod>(PODS, "default").list();
      return list.items.some((p) => p.spec?.nodeName === "extra") ? undefined : true;
    }, "the pods of the deleted node to be collected");
    await waitFor(async () => {
      try {
        await cluster.client.resource<Lease>(LEASES, "kube-node-lease").get("extra");
        return undefined;
      } catch (e) {
        return isNotFound(e) ? true : undefined;
      }
    }, "the lease to go with its node");
    assert.throws(() => cluster.kubelets.images("extra"), /not managed/);
  } finally {
    await cluster.stop();
  }
});

Deno.test("a node created through the API with the managed label is picked up; others are not", async () => {
  const cluster = await startSimCluster({ nodes: 0 });
  try {
    const nodes = cluster.client.resource<Node>(NODES);
    await nodes.create({ metadata: { name: "by-hand", labels: { "drop-sim/managed": "true" } } });
    await nodes.create({ metadata: { name: "foreign" } });
    await cluster.kubelets.waitForReady(["by-hand"]);
    const foreign = await nodes.get("foreign");
    assert.equal(foreign.status?.conditions, undefined);
    assert.deepEqual(cluster.nodes.names(), ["by-hand"]);
    // Taking the label away releases the node, giving it back picks it up again.
    await cluster.nodes.label("by-hand", { "drop-sim/managed": null });
    await waitFor(() => (cluster.nodes.names().length === 0 ? true : undefined), "the release");
    await cluster.nodes.label("foreign", { "drop-sim/managed": "true" });
    await cluster.kubelets.waitForReady(["foreign"]);
  } finally {
    await cluster.stop();
  }
});

Deno.test("TLS cluster with faults: kubeconfig carries the CA, faults apply after start", async () => {
  const cluster = await startSimCluster({
    nodes: 2,
    tls: true,
    timeScale: 0.01,
    faults: { tooManyRequestsFraction: 0.2, retryAfterSeconds: 0, scope: { verbs: ["patch"] } },
  });
  try {
    assert.match(cluster.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(cluster.kubeconfig, /certificate-authority-data/);
    assert.equal(cluster.apiServer.faults.tooManyRequestsFraction, 0.2);
    await createPod(cluster.client, pullPod("tls", "sim-node-1", "alpine:3.19"));
    const pod = await waitForPhase(cluster.client, "tls", ["Succeeded"]);
    assert.ok(pod.status!.containerStatuses![0].imageID);
  } finally {
    await cluster.stop();
  }
});

Deno.test("the registry endpoint lists tags of the cluster's catalogue", async () => {
  const cluster = await startSimCluster({ nodes: 1, timeScale: 0.01 });
  try {
    const { catalogue, url, host } = cluster.registry;
    catalogue.addRepository(`${host}/team/app`, ["v1.0.0", "v1.1.0"]);
    const res = await fetch(`${url}/v2/team/app/tags/list`);
    assert.deepEqual(await res.json(), { name: "team/app", tags: ["v1.0.0", "v1.1.0"] });
    // An image discovered there pulls from the same catalogue.
    await createPod(
      cluster.client,
      pullPod("from-registry", "sim-node-1", `${host}/team/app:v1.1.0`),
    );
    const pod = await waitForPhase(cluster.client, "from-registry", ["Succeeded"]);
    assert.match(
      pod.status!.containerStatuses![0].imageID!,
      new RegExp(`^${host}/team/app@sha256:`),
    );
  } finally {
    await cluster.stop();
  }
});

Deno.test("CRDs from a folder register the same resources as the generated ones", async () => {
  const cluster = await startSimCluster({
    nodes: 0,
    crdsDir: new URL("../../crds/", import.meta.url),
    registry: { serve: false },
  });
  try {
    const stored = cluster.apiServer.store.list(
      "apiextensions.k8s.io",
      "customresourcedefinitions",
    );
    assert.equal(stored.length, 4);
    const list = await cluster.client.getJson<{ kind: string }>(
      "/apis/drop.corewire.io/v1alpha1/pullpolicies",
    );
    assert.equal(list.kind, "PullPolicyList");
    assert.equal(cluster.registry.url, undefined);
  } finally {
    await cluster.stop();
  }
});

Deno.test("in-process watches end with their client: kubelets re-watching or stopping leave none open", async () => {
  const cluster = await startSimCluster({ nodes: 2, timeScale: 0.01 });
  const openWatches = () => cluster.counters.snapshot().openWatches;
  const settles = (n: number, what: string) =>
    waitFor(() => (openWatches() === n ? true : undefined), `${what} (${n} watches open)`);
  const client = cluster.inProcessClient();
  try {
    // The kubelets watch Nodes and Pods, in-process and as their own user.
    assert.equal(openWatches(), 2);
    const byUser = () => cluster.counters.snapshot().byUser[KUBELET_USER] ?? 0;
    const before = byUser();

    // The server ends every watch quickly: the kubelets re-watch, and pulls still complete.
    Object.assign(cluster.apiServer.faults, { closeWatchesAfterMs: 30 });
    for (const [i, node] of ["sim-node-1", "sim-node-2", "sim-node-1"].entries()) {
      await createPod(cluster.client, pullPod(`rewatch-${i}`, node, `team/app:v${i}`));
    }
    for (let i = 0; i < 3; i++) await waitForPhase(cluster.client, `rewatch-${i}`, ["Succeeded"]);
    delete cluster.apiServer.faults.closeWatchesAfterMs;
    await settles(2, "the kubelets' re-watches to replace, not add to, their watches");
    assert.ok(byUser() > before, "kubelet requests are counted as theirs");

    // A caller that aborts its watch ends it on the server.
    const ac = new AbortController();
    for await (const _ of client.resource<Node>(NODES).watch({ signal: ac.signal })) ac.abort();
    await settles(2, "an aborted watch to end");

    // A stalled watch the client gives up on ends too.
    Object.assign(cluster.apiServer.faults, { stallWatchesFraction: 1 });
    await assert.rejects(async () => {
      for await (const _ of client.resource<Node>(NODES).watch({ inactivityTimeoutMs: 100 })) {
        // Nothing arrives.
      }
    }, WatchStalledError);
    delete cluster.apiServer.faults.stallWatchesFraction;
    await settles(2, "a stalled watch to end once its client gave up");

    await cluster.kubelets.stop();
    await settles(0, "the stopped kubelets' watches to end");
  } finally {
    client.close();
    await cluster.stop();
  }
});
