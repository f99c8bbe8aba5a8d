// Leader election between two operator processes (the bundle, as the ServiceAccount under
// deploy/'s RBAC) over a real coordination.k8s.io Lease: one leads and only it reconciles; killed
// with SIGKILL, it cannot release the Lease, and the other takes over once the Lease has expired,
// never before; a leader stopped with SIGTERM releases the Lease at once. Runs against
// DROP_E2E_KUBECONFIG too (the Lease name is unique per run).
import assert from "node:assert/strict";
import type { OperatorProcess } from "../_operator_process.ts";
import {
  announceSkip,
  type E2ECluster,
  e2eTarget,
  metricSum,
  OPERATOR_NAMESPACE,
  parseMetrics,
  waitUntil,
  withE2ECluster,
} from "./_cluster.ts";

const target = e2eTarget();
const skipped = announceSkip(target, "tests/e2e/leader_election_test.ts");

const API_VERSION = "drop.corewire.io/v1alpha1";

interface Lease {
  metadata: { labels?: Record<string, string> };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

async function metricsOf(op: OperatorProcess): Promise<Map<string, number>> {
  return parseMetrics((await op.get("/metrics", op.metricsPort)).body);
}

async function leads(op: OperatorProcess, id: string): Promise<boolean> {
  return metricSum(await metricsOf(op), "leader_election_master_status", { name: id }) === 1;
}

async function reconciles(op: OperatorProcess): Promise<number> {
  return metricSum(await metricsOf(op), "drop_reconcile_total");
}

async function observed(c: E2ECluster, name: string): Promise<boolean> {
  const o = await c.getJson<{ status?: { observedGeneration?: number } }>(["cachedimage", name]);
  return o.status?.observedGeneration === 1;
}

function cachedImage(c: E2ECluster, name: string) {
  return {
    apiVersion: API_VERSION,
    kind: "CachedImage",
    metadata: c.meta(name),
    // No node carries this label: the reconcile writes a status and starts no pull.
    spec: {
      image: "docker.io/library/alpine",
      tag: "3.20",
      nodeSelector: { "drop-e2e/none": "true" },
    },
  };
}

async function electionScenario(c: E2ECluster, t: Deno.TestContext) {
  await c.installOperatorRbac();
  const id = c.name("drop-leader");
  const args = ["--leader-elect", `--leader-election-id=${id}`];
  const lease = () => c.getJson<Lease>(["lease", id, "-n", OPERATOR_NAMESPACE]);
  c.defer(async () => {
    await c.kubectl(["delete", "lease", id, "-n", OPERATOR_NAMESPACE, "--ignore-not-found"]);
  });
  const a = await c.startOperator(args);
  const b = await c.startOperator(args);

  let leader!: OperatorProcess;
  let follower!: OperatorProcess;
  await t.step("one of two operators leads, and only it reconciles", async () => {
    leader = await waitUntil("a leader", async () => {
      const [la, lb] = [await leads(a, id), await leads(b, id)];
      assert.ok(!(la && lb), "two leaders at once");
      return la ? a : lb ? b : undefined;
    });
    follower = leader === a ? b : a;
    const held = await lease();
    assert.ok(held.spec.holderIdentity, "the Lease has no holder");
    assert.equal(held.spec.leaseDurationSeconds, 15);
    // The follower is alive and ready to take over, but does not reconcile.
    assert.equal((await follower.get("/healthz")).status, 200);
    const name = c.name("while-led");
    await c.apply(cachedImage(c, name));
    await waitUntil(`${name} reconciled`, () => observed(c, name));
    assert.ok((await reconciles(leader)) > 0, "the leader reconciled nothing");
    assert.equal(await reconciles(follower), 0, "the follower reconciled");
    assert.equal(await leads(follower, id), false);
  });

  await t.step(
    "the leader killed with SIGKILL: the other takes over after the Lease expires",
    async () => {
      const before = await lease();
      leader.child.kill("SIGKILL");
      await leader.status;
      const name = c.name("after-takeover");
      await c.apply(cachedImage(c, name));
      await waitUntil("the takeover", () => leads(follower, id), { timeoutMs: 90_000 });
      const after = await lease();
      assert.notEqual(after.spec.holderIdentity, before.spec.holderIdentity);
      assert.equal(after.spec.leaseTransitions, (before.spec.leaseTransitions ?? 0) + 1);
      // Not before the Lease expired: the dead leader renewed at the earliest at the renewTime read
      // before the kill, and the follower had to see that renewal stay unchanged for the whole
      // lease duration (the Lease carries microseconds; a second absorbs clock granularity).
      const lastRenew = Date.parse(before.spec.renewTime!);
      const acquired = Date.parse(after.spec.acquireTime!);
      assert.ok(
        acquired - lastRenew >= (before.spec.leaseDurationSeconds! - 1) * 1000,
        `taken over ${acquired - lastRenew} ms after the last renewal`,
      );
      // The new leader does the work the dead one left.
      await waitUntil(`${name} reconciled by the new leader`, () => observed(c, name));
    },
  );

  await t.step("a leader stopped with SIGTERM releases the Lease", async () => {
    follower.child.kill("SIGTERM");
    assert.equal((await follower.status).code, 0, follower.logs());
    const released = await lease();
    assert.ok(!released.spec.holderIdentity, `still held by ${released.spec.holderIdentity}`);
  });
}

Deno.test({
  name: "e2e: leader election between two operator processes over a real Lease",
  ignore: skipped,
  async fn(t) {
    if ("skip" in target) return;
    await withE2ECluster(target, {}, (c) => electionScenario(c, t));
  },
});
