/**
 * The operator as users run it: its bundle, with only its declared permissions, against the
 * simulated API server. Probes, metrics, SIGTERM, and leader election between two processes.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { startApiServer } from "../lib/sim/apiserver/mod.ts";
import { configFromKubeconfigText, KubeClient, LEASES, NAMESPACES } from "../lib/kube/mod.ts";
import { startOperatorProcess, waitFor } from "./_operator_process.ts";

async function bareCluster() {
  const server = await startApiServer();
  for (const entry of Deno.readDirSync(new URL("../crds/", import.meta.url))) {
    const text = await Deno.readTextFile(new URL(`../crds/${entry.name}`, import.meta.url));
    await server.registerCrd(parse(text));
  }
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  await client.resource(NAMESPACES).create({ metadata: { name: "drop-system" } });
  const dir = await Deno.makeTempDir({ prefix: "drop-kubeconfig-" });
  const kubeconfig = `${dir}/config`;
  await Deno.writeTextFile(kubeconfig, server.kubeconfig());
  return {
    client,
    kubeconfig,
    async stop() {
      client.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("the bundled operator serves probes and metrics and stops cleanly on SIGTERM", async () => {
  const cluster = await bareCluster();
  const op = await startOperatorProcess(cluster.kubeconfig);
  try {
    await waitFor("readyz", async () => (await op.get("/readyz")).status === 200);
    assert.equal((await op.get("/healthz")).status, 200);
    const metrics = await op.get("/metrics", op.metricsPort);
    assert.equal(metrics.status, 200);
    for (const name of ["drop_reconcile_total", "drop_active_pulls", "workqueue_depth"]) {
      assert.match(metrics.body, new RegExp(`# TYPE ${name} `));
    }
    assert.match(metrics.body, /rest_client_requests_total\{verb="list"/);
    assert.match(metrics.body, /process_cpu_seconds_total/);
    // Under the shipped permissions, not only with --allow-all: a real resident set size.
    const rss = Number(metrics.body.match(/^process_resident_memory_bytes (\S+)$/m)?.[1]);
    assert.ok(rss > 10 * 2 ** 20, `process_resident_memory_bytes ${rss}`);
    op.child.kill("SIGTERM");
    const status = await op.status;
    assert.equal(status.code, 0, op.logs());
    assert.match(op.logs(), /"msg":"Stopped"/);
    assert.doesNotMatch(op.logs(), /NotCapable|PermissionDenied/);
  } finally {
    try {
      op.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await op.status;
    await cluster.stop();
  }
});

Deno.test("leader election: one of two operators leads; the other takes over when it dies", async () => {
  const cluster = await bareCluster();
  const args = ["--leader-elect"];
  const a = await startOperatorProcess(cluster.kubeconfig, args);
  const b = await startOperatorProcess(cluster.kubeconfig, args);
  const leases = cluster.client.resource<
    { metadata: { name: string }; spec?: { holderIdentity?: string } }
  >(LEASES, "drop-system");
  const leaderOf = async (p: typeof a) =>
    /leader_election_master_status\{name="drop-leader"\} 1/.test(
      (await p.get("/metrics", p.metricsPort)).body,
    );
  try {
    const holder = await waitFor("a lease holder", async () => {
      const lease = await leases.get("drop-leader");
      return lease.spec?.holderIdentity;
    });
    const first = await waitFor("a leader", async () => {
      const [la, lb] = [await leaderOf(a), await leaderOf(b)];
      assert.ok(!(la && lb), "two leaders at once");
      return la ? a : lb ? b : undefined;
    });
    const other = first === a ? b : a;
    assert.equal(await leaderOf(other), false);
    // The leader dies without releasing: the other waits out the lease (15 s) and takes over.
    first.child.kill("SIGKILL");
    await first.status;
    await waitFor("takeover", () => leaderOf(other), 40_000, 250);
    const lease = await leases.get("drop-leader");
    assert.notEqual(lease.spec?.holderIdentity, holder);
    // Release on shutdown: the lease is given up at once.
    other.child.kill("SIGTERM");
    assert.equal((await other.status).code, 0, other.logs());
    const released = await leases.get("drop-leader");
    assert.ok(
      !released.spec?.holderIdentity,
      `lease still held by ${released.spec?.holderIdentity}`,
    );
  } finally {
    for (const p of [a, b]) {
      try {
        p.child.kill("SIGKILL");
      } catch { /* already exited */ }
      await p.status;
    }
    await cluster.stop();
  }
});
