// The pull loop on a real control plane: the operator bundle (as its ServiceAccount, under
// deploy/'s RBAC) creates pull Pods through the real kube-apiserver (admission, Pod Security
// "restricted" on drop-system, defaulting), simulated kubelets run them as Nodes of that cluster,
// and the real controller manager lifts not-ready taints and collects garbage. Every pull Pod is
// recorded from a watch of its own, so pacing is judged from the API's event order.
//
// Local control plane only: the scenarios need the simulated kubelets and their registry.
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import { Informer, type KubeClient, PODS } from "../../lib/kube/mod.ts";
import {
  type E2ECluster,
  e2eTarget,
  OPERATOR_NAMESPACE,
  waitUntil,
  withE2ECluster,
} from "./_cluster.ts";
import { SIM_NODE_CONTROLLERS, type SimNodes, startSimNodes } from "./_sim_nodes.ts";

const target = e2eTarget();
const skipReason = "skip" in target
  ? target.skip
  : target.mode === "external"
  ? "the pull loop needs the simulated kubelets of the local control plane"
  : undefined;
if (skipReason) console.log(`skipping tests/e2e/pull_loop_test.ts: ${skipReason}`);

const API_VERSION = "drop.corewire.io/v1alpha1";
const MANAGED_BY = "app.kubernetes.io/managed-by=drop";

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface ImageStatus {
  phase?: string;
  ready?: string;
  observedGeneration?: number;
  resolvedDigest?: string;
  cachedNodes?: string[];
  lastPulledAt?: string;
  conditions?: Condition[];
}

const cond = (s: ImageStatus, type: string) => s.conditions?.find((x) => x.type === type);

/** Whether a pull Pod holds a pacing slot: not ended, no image on the node yet, not stuck. */
function isActivePull(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed" || pod.metadata?.deletionTimestamp) return false;
  const statuses = pod.status?.containerStatuses ?? [];
  if (statuses.some((s) => s.imageID)) return false;
  return !statuses.some((s) =>
    ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"].includes(
      s.state?.waiting?.reason ?? "",
    )
  );
}

/**
 * Every pull Pod the API server announced, and the peak number of active pulls per PullPolicy and
 * per node, computed after each watch event: the API's own order of changes, so a peak can
 * neither be missed nor invented by sampling.
 */
class PullPodRecorder {
  readonly seen = new Map<string, Pod>();
  readonly #live = new Map<string, Pod>();
  readonly peakByPolicy = new Map<string, number>();
  readonly peakByNode = new Map<string, number>();
  readonly #informer: Informer<Pod>;
  readonly #stop = new AbortController();
  #running?: Promise<void>;

  constructor(client: KubeClient) {
    this.#informer = new Informer<Pod>(client.resource<Pod>(PODS, OPERATOR_NAMESPACE), {
      labelSelector: MANAGED_BY,
      name: "e2e pull pods",
    });
    this.#informer.on({
      add: (p) => this.#observe(p, false),
      update: (_, p) => this.#observe(p, false),
      delete: (p) => this.#observe(p, true),
    });
  }

  async start(): Promise<void> {
    this.#running = this.#informer.start(this.#stop.signal);
    await this.#informer.synced;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running?.catch(() => {});
  }

  /** Pods of one CachedImage (by its annotation), in creation order. */
  podsOf(image: string): Pod[] {
    return [...this.seen.values()].filter((p) =>
      p.metadata?.annotations?.["drop.corewire.io/cachedimage"] === image
    );
  }

  #observe(pod: Pod, deleted: boolean) {
    const name = pod.metadata!.name!;
    if (!this.seen.has(name)) this.seen.set(name, pod);
    if (deleted) this.#live.delete(name);
    else this.#live.set(name, pod);
    const byPolicy = new Map<string, number>();
    const byNode = new Map<string, number>();
    for (const p of this.#live.values()) {
      if (!isActivePull(p)) continue;
      const policy = p.metadata?.annotations?.["drop.corewire.io/policy"] ?? "(default)";
      byPolicy.set(policy, (byPolicy.get(policy) ?? 0) + 1);
      const node = p.spec?.nodeName ?? "";
      byNode.set(node, (byNode.get(node) ?? 0) + 1);
    }
    for (const [k, v] of byPolicy) {
      this.peakByPolicy.set(k, Math.max(v, this.peakByPolicy.get(k) ?? 0));
    }
    for (const [k, v] of byNode) this.peakByNode.set(k, Math.max(v, this.peakByNode.get(k) ?? 0));
  }
}

async function imageStatus(c: E2ECluster, name: string): Promise<ImageStatus> {
  return (await c.getJson<{ status?: ImageStatus }>(["cachedimage", name])).status ?? {};
}

function waitImage(
  c: E2ECluster,
  name: string,
  what: string,
  done: (s: ImageStatus) => boolean,
  timeoutMs = 120_000,
): Promise<ImageStatus> {
  return waitUntil(`CachedImage ${name} ${what}`, async () => {
    const s = await imageStatus(c, name);
    return done(s) ? s : undefined;
  }, { timeoutMs, describe: async () => JSON.stringify(await imageStatus(c, name)) });
}

async function pullPodsLeft(c: E2ECluster, image: string): Promise<number> {
  const pods = await c.getJson<{ items: Pod[] }>([
    "pods",
    "-n",
    OPERATOR_NAMESPACE,
    "-l",
    MANAGED_BY,
  ]);
  return pods.items.filter((p) =>
    p.metadata?.annotations?.["drop.corewire.io/cachedimage"] === image
  )
    .length;
}

async function pullLoopScenarios(c: E2ECluster, t: Deno.TestContext) {
  await c.installOperatorRbac();
  const quick = ["q1", "q2", "q3"].map((n) => c.name(n));
  const sim: SimNodes = await startSimNodes(c, { timeScale: 0.05 });
  for (const n of quick) await sim.add(n, { pool: "quick" });
  const recorder = new PullPodRecorder(c.client);
  await recorder.start();
  c.defer(() => recorder.stop());
  const op = await c.startOperator();
  await waitUntil("the operator's readyz", async () => (await op.get("/readyz")).status === 200);

  await t.step("quickstart: alpine 3.20 Ready on 3 nodes, then on a node that joins", async () => {
    const name = c.name("alpine-3-20");
    await c.apply({
      apiVersion: API_VERSION,
      kind: "CachedImage",
      metadata: c.meta(name),
      spec: { image: "docker.io/library/alpine", tag: "3.20", nodeSelector: { pool: "quick" } },
    });
    const s = await waitImage(
      c,
      name,
      "Ready 3/3",
      (s) => s.phase === "Ready" && s.ready === "3/3",
    );
    const digest = sim.catalogue.resolve("docker.io/library/alpine:3.20");
    assert.ok(digest.ok);
    assert.equal(s.resolvedDigest, digest.manifest.digest);
    assert.deepEqual([...s.cachedNodes!].sort(), [...quick].sort());
    assert.equal(s.observedGeneration, 1);
    assert.ok(s.lastPulledAt);
    assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason], ["True", "Cached"]);
    assert.deepEqual(
      [cond(s, "PullProgress")?.status, cond(s, "PullProgress")?.reason],
      ["False", "Complete"],
    );
    // One pull Pod per node, as the operator built it, accepted by the real API server.
    const pods = recorder.podsOf(name);
    assert.deepEqual(pods.map((p) => p.spec?.nodeName).sort(), [...quick].sort());
    const uid =
      (await c.getJson<{ metadata: { uid: string } }>(["cachedimage", name])).metadata.uid;
    for (const pod of pods) {
      assert.equal(pod.metadata?.labels?.["app.kubernetes.io/managed-by"], "drop");
      assert.equal(pod.metadata?.labels?.["drop.corewire.io/cachedimage"], name);
      assert.equal(pod.metadata?.labels?.["drop.corewire.io/node"], pod.spec?.nodeName);
      assert.deepEqual(pod.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [
        ["CachedImage", name, uid],
      ]);
      assert.equal(pod.spec?.containers[0].image, "docker.io/library/alpine:3.20");
    }
    // The pull Pods are deleted once the image is cached.
    await waitUntil("the pull Pods deleted", async () => (await pullPodsLeft(c, name)) === 0);
    // The kubelets report the image in the nodes' status (written shortly after the pull).
    for (const n of quick) {
      await waitUntil(`${n} reporting alpine in status.images`, async () => {
        const node = await c.getJson<Node>(["node", n]);
        return node.status?.images?.some((i) =>
          i.names?.includes(`docker.io/library/alpine@${s.resolvedDigest}`)
        );
      }, {
        describe: async () => JSON.stringify((await c.getJson<Node>(["node", n])).status?.images),
      });
    }

    // A node joins the pool: the image is pulled there too.
    const joined = c.name("q4");
    await sim.add(joined, { pool: "quick" });
    quick.push(joined);
    const after = await waitImage(
      c,
      name,
      "Ready 4/4",
      (s) => s.phase === "Ready" && s.ready === "4/4",
    );
    assert.ok(after.cachedNodes?.includes(joined));
    assert.ok(recorder.podsOf(name).some((p) => p.spec?.nodeName === joined));
    // Never more than the default budget (one node) at a time.
    assert.equal(recorder.peakByPolicy.get("(default)"), 1);

    // Deleting the CachedImage leaves nothing behind.
    await c.kubectl(["delete", "cachedimage", name, "--wait=true", "--timeout=60s"]);
    assert.equal(await pullPodsLeft(c, name), 0);
  });

  await t.step("pacing: maxConcurrentNodes 2 holds across 6 nodes x 2 images", async () => {
    const pool = Array.from({ length: 6 }, (_, i) => c.name(`p${i + 1}`));
    for (const n of pool) await sim.add(n, { pool: "pacing" });
    const policy = c.name("two-at-a-time");
    const images = [
      ["docker.io/library/golang", "1.22-bookworm"],
      ["docker.io/library/node", "20-alpine"],
    ];
    // Large images, so that each pull lasts long enough (about 6 s of wall time at this time
    // scale) for a second one to start beside it: the peak shows the budget is used, not only
    // respected.
    for (const [image, tag] of images) sim.catalogue.setTag(image, tag, { size: 12_000_000_000 });
    await c.apply(
      {
        apiVersion: API_VERSION,
        kind: "PullPolicy",
        metadata: c.meta(policy),
        spec: { maxConcurrentNodes: 2, minDelayBetweenPulls: "500ms" },
      },
      ...images.map(([image, tag], i) => ({
        apiVersion: API_VERSION,
        kind: "CachedImage",
        metadata: c.meta(c.name(`paced-${i}`)),
        spec: { image, tag, policyRef: { name: policy }, nodeSelector: { pool: "pacing" } },
      })),
    );
    for (const i of [0, 1]) {
      await waitImage(
        c,
        c.name(`paced-${i}`),
        "Ready 6/6",
        (s) => s.phase === "Ready" && s.ready === "6/6",
        240_000,
      );
    }
    const pods = [0, 1].flatMap((i) => recorder.podsOf(c.name(`paced-${i}`)));
    assert.equal(pods.length, 12, pods.map((p) => p.metadata?.name).join(", "));
    assert.equal(recorder.peakByPolicy.get(policy), 2, "peak of active pulls under the policy");
    for (const n of pool) {
      assert.equal(recorder.peakByNode.get(n), 1, `more than one active pull on ${n}`);
    }
    // Release the large images' nodes from further work in later steps.
    for (const i of [0, 1]) await c.kubectl(["delete", "cachedimage", c.name(`paced-${i}`)]);
  });

  await t.step(
    "failure: an unresolvable registry degrades the image; a good image recovers it",
    async () => {
      const policy = c.name("fast-retry");
      const name = c.name("broken");
      await c.apply(
        {
          apiVersion: API_VERSION,
          kind: "PullPolicy",
          metadata: c.meta(policy),
          spec: {
            maxConcurrentNodes: 3,
            minDelayBetweenPulls: "0s",
            failureBackoff: { initial: "1s", max: "2s" },
          },
        },
        {
          apiVersion: API_VERSION,
          kind: "CachedImage",
          metadata: c.meta(name),
          spec: {
            image: "registry.invalid.local:9999/does-not-exist",
            tag: "nope",
            policyRef: { name: policy },
            nodeSelector: { pool: "quick" },
          },
        },
      );
      const degraded = await waitImage(c, name, "Degraded", (s) => s.phase === "Degraded");
      const ready = cond(degraded, "Ready");
      assert.equal(ready?.status, "False");
      assert.match(ready?.message ?? "", /dns: cannot resolve registry\.invalid\.local/);
      // A failed pull Pod does not stay around holding anything.
      await waitUntil(
        "the failed pull Pods deleted",
        async () => (await pullPodsLeft(c, name)) === 0,
      );

      await c.kubectl([
        "patch",
        "cachedimage",
        name,
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { image: "docker.io/library/nginx", tag: "1.25-alpine" } }),
      ]);
      const recovered = await waitImage(
        c,
        name,
        "Ready 4/4 on generation 2",
        (s) => s.observedGeneration === 2 && s.phase === "Ready" && s.ready === "4/4",
      );
      assert.equal(cond(recovered, "Ready")?.reason, "Cached");
      const nginx = sim.catalogue.resolve("docker.io/library/nginx:1.25-alpine");
      assert.ok(nginx.ok);
      assert.equal(recovered.resolvedDigest, nginx.manifest.digest);
      await waitUntil("the pull Pods deleted", async () => (await pullPodsLeft(c, name)) === 0);
    },
  );

  await t.step("the operator's pull Pods pass the restricted Pod Security profile", async () => {
    const ns = await c.getJson<{ metadata: { labels: Record<string, string> } }>([
      "namespace",
      OPERATOR_NAMESPACE,
    ]);
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    assert.ok(recorder.seen.size >= 3 + 1 + 12, `only ${recorder.seen.size} pull Pods were made`);
  });
}

Deno.test({
  name: "e2e: the pull loop with simulated kubelets as the nodes of a real control plane",
  ignore: skipReason !== undefined,
  async fn(t) {
    if ("skip" in target || target.mode !== "local") return;
    await withE2ECluster(
      target,
      { controlPlane: { controllers: [...SIM_NODE_CONTROLLERS] } },
      (c) => pullLoopScenarios(c, t),
    );
  },
});
