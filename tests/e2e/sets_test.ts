// CachedImageSets on a real control plane: the operator (as its ServiceAccount) creates children
// with ownerReferences and keeps them in step with the set; the real kube-controller-manager's
// garbage collector removes them after the set is deleted (background), and foreground deletion
// completes while the operator runs. A set backed by a DiscoveryPolicy that queries a real
// Prometheus (Debian's package, seeded by promtool backfill) gets children for the discovered
// images and keeps them when the source fails.
//
// Locally, simulated kubelets pull the children on two nodes, so pull Pods hang off the children
// too; against DROP_E2E_KUBECONFIG the children target no node (nothing is pulled there).
import assert from "node:assert/strict";
import {
  type BackfillSeries,
  openMetricsGauge,
  prometheusMissing,
  type PrometheusServer,
  startPrometheus,
} from "../fixtures/discovery/prometheus.ts";
import {
  announceSkip,
  type E2ECluster,
  e2eTarget,
  OPERATOR_NAMESPACE,
  waitUntil,
  withE2ECluster,
} from "./_cluster.ts";
import { SIM_NODE_CONTROLLERS, type SimNodes, startSimNodes } from "./_sim_nodes.ts";

const target = e2eTarget();
const skipped = announceSkip(target, "tests/e2e/sets_test.ts");
const prometheusSkip = await prometheusMissing();
if (!skipped && prometheusSkip && Deno.env.get("DROP_REQUIRE_DISCOVERY_BACKENDS") === "1") {
  throw new Error(`DROP_REQUIRE_DISCOVERY_BACKENDS=1 but ${prometheusSkip}`);
}
if (!skipped && prometheusSkip) {
  console.log(`skipping the discovery-backed set in tests/e2e/sets_test.ts: ${prometheusSkip}`);
}

const API_VERSION = "drop.corewire.io/v1alpha1";
const SET_LABEL = "drop.corewire.io/imageset";

interface Child {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }[];
  };
  spec: {
    image: string;
    tag?: string;
    imagePullPolicy?: string;
    policyRef?: { name: string };
    nodeSelector?: Record<string, string>;
  };
  status?: { phase?: string; ready?: string };
}

async function childrenOf(c: E2ECluster, set: string): Promise<Child[]> {
  const list = await c.getJson<{ items: Child[] }>(["cachedimages", "-l", `${SET_LABEL}=${set}`]);
  return list.items;
}

/** `image:tag` of each child, sorted. */
function refs(children: Child[]): string[] {
  return children.map((ch) => `${ch.spec.image}:${ch.spec.tag}`).sort();
}

function waitChildren(
  c: E2ECluster,
  set: string,
  what: string,
  done: (children: Child[]) => boolean,
  timeoutMs = 120_000,
): Promise<Child[]> {
  return waitUntil(`children of ${set}: ${what}`, async () => {
    const children = await childrenOf(c, set);
    return done(children) ? children : undefined;
  }, {
    timeoutMs,
    describe: async () =>
      JSON.stringify(
        (await childrenOf(c, set)).map((ch) => [ch.metadata.name, ch.spec, ch.status]),
      ),
  });
}

async function uidOf(c: E2ECluster, kind: string, name: string): Promise<string> {
  return (await c.getJson<{ metadata: { uid: string } }>([kind, name])).metadata.uid;
}

async function gone(c: E2ECluster, kind: string, name: string): Promise<boolean> {
  const r = await c.kubectl(["get", kind, name, "--ignore-not-found", "-o", "name"]);
  return r.stdout.trim() === "";
}

async function setScenarios(c: E2ECluster, t: Deno.TestContext) {
  await c.installOperatorRbac();
  let sim: SimNodes | undefined;
  // Children target the simulated nodes locally, and no node at all on an external cluster.
  const nodeSelector = c.mode === "local" ? { pool: "sets" } : { "drop-e2e/no-such-node": "true" };
  if (c.mode === "local") {
    sim = await startSimNodes(c, { timeScale: 0.05 });
    for (const n of ["s1", "s2"]) await sim.add(c.name(n), { pool: "sets" });
  }
  const policy = c.name("quick");
  await c.apply({
    apiVersion: API_VERSION,
    kind: "PullPolicy",
    metadata: c.meta(policy),
    spec: { maxConcurrentNodes: 4, minDelayBetweenPulls: "0s" },
  });
  let op = await c.startOperator();
  await waitUntil("the operator's readyz", async () => (await op.get("/readyz")).status === 200);

  const set = c.name("ci-tools");
  await t.step("children are created with ownerReferences and follow the set", async () => {
    await c.apply({
      apiVersion: API_VERSION,
      kind: "CachedImageSet",
      metadata: c.meta(set),
      spec: {
        policyRef: { name: policy },
        imagePullPolicy: "IfNotPresent",
        nodeSelector,
        images: [
          { image: "docker.io/library/golang", tag: "1.22-bookworm" },
          { image: "docker.io/library/node", tag: "20-alpine" },
          { image: "docker.io/library/alpine", tag: "3.19" },
          // The same image again, spelled differently: one child.
          { image: "alpine", tag: "3.19" },
        ],
      },
    });
    const setUid = await uidOf(c, "cachedimageset", set);
    const children = await waitChildren(c, set, "3 children", (ch) => ch.length === 3);
    assert.equal(
      refs(children).filter((r) => r.endsWith("alpine:3.19")).length,
      1,
      `alpine 3.19 twice: ${refs(children)}`,
    );
    for (const child of children) {
      assert.deepEqual(child.metadata.ownerReferences, [{
        apiVersion: API_VERSION,
        kind: "CachedImageSet",
        name: set,
        uid: setUid,
        controller: true,
        blockOwnerDeletion: true,
      }]);
      assert.equal(child.spec.imagePullPolicy, "IfNotPresent");
      assert.deepEqual(child.spec.policyRef, { name: policy });
      assert.deepEqual(child.spec.nodeSelector, nodeSelector);
    }
    if (sim) {
      await waitChildren(
        c,
        set,
        "all Ready 2/2",
        (ch) =>
          ch.length === 3 &&
          ch.every((x) => x.status?.phase === "Ready" && x.status.ready === "2/2"),
      );
    }

    // Drop one image and change a propagated field: the child goes, the others are updated.
    await c.kubectl([
      "patch",
      "cachedimageset",
      set,
      "--type=merge",
      "-p",
      JSON.stringify({
        spec: {
          imagePullPolicy: "Always",
          images: [
            { image: "docker.io/library/golang", tag: "1.22-bookworm" },
            { image: "docker.io/library/alpine", tag: "3.19" },
          ],
        },
      }),
    ]);
    const after = await waitChildren(
      c,
      set,
      "2 children with imagePullPolicy Always",
      (ch) => ch.length === 2 && ch.every((x) => x.spec.imagePullPolicy === "Always"),
    );
    assert.deepEqual(refs(after), [
      "docker.io/library/alpine:3.19",
      "docker.io/library/golang:1.22-bookworm",
    ]);
    // Updated in place, not replaced: the surviving children keep their identity.
    const before = new Map(children.map((ch) => [ch.metadata.name, ch.metadata.uid]));
    for (const ch of after) assert.equal(ch.metadata.uid, before.get(ch.metadata.name));
  });

  await t.step("the garbage collector deletes the children of a deleted set", async () => {
    const children = await childrenOf(c, set);
    assert.ok(children.length > 0);
    // The operator is stopped first, so only the controller manager can do the deleting.
    op.child.kill("SIGTERM");
    assert.equal((await op.status).code, 0, op.logs());
    await c.kubectl(["delete", "cachedimageset", set, "--wait=false"]);
    await waitUntil("the set gone", () => gone(c, "cachedimageset", set));
    for (const child of children) {
      await waitUntil(
        `child ${child.metadata.name} collected`,
        () => gone(c, "cachedimage", child.metadata.name),
        { timeoutMs: 120_000 },
      );
    }
    const pods = await c.getJson<{ items: unknown[] }>([
      "pods",
      "-n",
      OPERATOR_NAMESPACE,
      "-l",
      "app.kubernetes.io/managed-by=drop",
    ]);
    assert.equal(pods.items.length, 0, "pull Pods outlived their CachedImages");
    op = await c.startOperator();
    await waitUntil(
      "the restarted operator's readyz",
      async () => (await op.get("/readyz")).status === 200,
    );
  });

  await t.step("foreground deletion completes while the operator runs", async () => {
    const fg = c.name("foreground");
    if (sim) {
      // Pulls that last a while (about 5 s), so pull Pods are still running when the deletion
      // begins and block it until the kubelets have stopped them.
      sim.catalogue.setTag("docker.io/library/rust", "1.80", { size: 10_000_000_000 });
      sim.catalogue.setTag("docker.io/library/python", "3.12", { size: 10_000_000_000 });
    }
    await c.apply({
      apiVersion: API_VERSION,
      kind: "CachedImageSet",
      metadata: c.meta(fg),
      spec: {
        policyRef: { name: policy },
        nodeSelector,
        images: [
          { image: "docker.io/library/rust", tag: "1.80" },
          { image: "docker.io/library/python", tag: "3.12" },
        ],
      },
    });
    const children = await waitChildren(c, fg, "2 children", (ch) => ch.length === 2);
    if (sim) {
      await waitUntil("pull Pods of the children running", async () => {
        const pods = await c.getJson<{ items: unknown[] }>([
          "pods",
          "-n",
          OPERATOR_NAMESPACE,
          "-l",
          "app.kubernetes.io/managed-by=drop",
        ]);
        return pods.items.length > 0;
      });
    }
    await c.kubectl([
      "delete",
      "cachedimageset",
      fg,
      "--cascade=foreground",
      "--wait=true",
      "--timeout=120s",
    ]);
    assert.ok(await gone(c, "cachedimageset", fg));
    // Foreground: the owner disappears only after its blocking dependents.
    for (const child of children) assert.ok(await gone(c, "cachedimage", child.metadata.name));
    assert.deepEqual(
      await childrenOf(c, fg),
      [],
      "the operator recreated children of a deleted set",
    );
  });

  await t.step({
    name: "a DiscoveryPolicy querying a real Prometheus gives the set its children",
    ignore: prometheusSkip !== undefined,
    fn: async () => {
      const prometheus = await seededPrometheus();
      let running = true;
      const stopPrometheus = async () => {
        if (running) await prometheus.stop();
        running = false;
      };
      c.defer(stopPrometheus);
      const dp = c.name("runner-images");
      const discovered = c.name("discovered");
      await c.apply(
        {
          apiVersion: API_VERSION,
          kind: "DiscoveryPolicy",
          metadata: c.meta(dp),
          spec: {
            syncInterval: "10s",
            maxImages: 2,
            sources: [{
              type: "prometheus",
              prometheus: {
                endpoint: prometheus.url,
                lookback: "24h",
                step: "5m",
                query:
                  'count(container_memory_working_set_bytes{container!="", container!="POD", ' +
                  'namespace="gitlab-runner", pod=~"runner-.*"}) by (image)',
              },
            }],
          },
        },
        {
          apiVersion: API_VERSION,
          kind: "CachedImageSet",
          metadata: c.meta(discovered),
          spec: {
            policyRef: { name: policy },
            discoveryPolicyRef: { name: dp },
            nodeSelector,
            images: [{ image: "docker.io/library/alpine", tag: "3.20" }],
          },
        },
      );
      const status = await waitUntil("discovered images", async () => {
        const o = await c.getJson<
          { status?: { discoveredImages?: { image: string; score: number }[] } }
        >(
          ["discoverypolicy", dp],
        );
        return o.status?.discoveredImages?.length ? o.status : undefined;
      });
      // The two busiest runner images, busiest first; pause containers, other namespaces and
      // non-runner pods are not counted.
      assert.deepEqual(status.discoveredImages!.map((d) => d.image), [
        `${REGISTRY}/build:1.0.3`,
        `${REGISTRY}/test:2.4.1`,
      ]);
      const children = await waitChildren(c, discovered, "3 children", (ch) => ch.length === 3);
      assert.deepEqual(refs(children), [
        "docker.io/library/alpine:3.20",
        `${REGISTRY}/build:1.0.3`,
        `${REGISTRY}/test:2.4.1`,
      ]);
      const setUid = await uidOf(c, "cachedimageset", discovered);
      for (const ch of children) assert.equal(ch.metadata.ownerReferences?.[0].uid, setUid);

      // Prometheus goes away: the policy reports the failure, the children stay.
      await stopPrometheus();
      await waitUntil("the failure in the DiscoveryPolicy's status", async () => {
        const o = await c.getJson<
          { status?: { conditions?: { status: string; message: string }[] } }
        >(
          ["discoverypolicy", dp],
        );
        return o.status?.conditions?.some((x) =>
          x.status === "False" && /refused/i.test(x.message)
        );
      });
      assert.deepEqual(refs(await childrenOf(c, discovered)), refs(children));
    },
  });
}

const REGISTRY = "registry.example.com/ci";

/** Prometheus with 24 hours of runner container metrics. */
function seededPrometheus(): Promise<PrometheusServer> {
  const now = Math.floor(Date.now() / 1000);
  const samples: [number, number][] = [];
  for (let ts = now - 30; ts >= now - 86_400; ts -= 300) samples.unshift([ts, 104_857_600]);
  const pods = (n: number, labels: Record<string, string>, prefix: string): BackfillSeries[] =>
    Array.from({ length: n }, (_, i) => ({ labels: { ...labels, pod: `${prefix}${i}` }, samples }));
  const runner = { namespace: "gitlab-runner", container: "build" };
  return startPrometheus({
    openMetrics: openMetricsGauge("container_memory_working_set_bytes", [
      ...pods(3, { ...runner, image: `${REGISTRY}/build:1.0.3` }, "runner-build-"),
      ...pods(2, { ...runner, image: `${REGISTRY}/test:2.4.1` }, "runner-test-"),
      ...pods(1, { ...runner, image: `${REGISTRY}/lint:1.8.0` }, "runner-lint-"),
      ...pods(6, { ...runner, container: "POD", image: "registry.k8s.io/pause:3.9" }, "runner-p-"),
      ...pods(5, { ...runner, image: `${REGISTRY}/deploy:9` }, "deploy-"),
      ...pods(7, { namespace: "monitoring", container: "p", image: "quay.io/prom:2" }, "runner-m-"),
    ]),
  });
}

Deno.test({
  name: "e2e: CachedImageSets, their children and the real garbage collector",
  ignore: skipped,
  async fn(t) {
    if ("skip" in target) return;
    await withE2ECluster(
      target,
      { controlPlane: { controllers: [...SIM_NODE_CONTROLLERS] } },
      (c) => setScenarios(c, t),
    );
  },
});
