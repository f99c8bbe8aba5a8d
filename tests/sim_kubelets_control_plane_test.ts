/**
 * The simulated kubelets against a real kube-apiserver and kube-controller-manager: they must
 * use only standard API calls that a real control plane accepts.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import type { Event, Node, Pod } from "kubernetes-types/core/v1.d.ts";
import {
  configFromKubeconfigText,
  EVENTS,
  isNotFound,
  KubeClient,
  LEASES,
  NODES,
  PODS,
} from "../lib/kube/mod.ts";
import { KubeletPool, RegistryCatalogue } from "../lib/sim/mod.ts";
import { eventually, findControlPlaneAssets, withControlPlane } from "./envtest/control_plane.ts";

const found = findControlPlaneAssets();
if ("skip" in found) console.log(`skipping the real control plane tests: ${found.skip}`);

function pullPod(name: string, nodeName: string, image: string): Pod {
  return {
    metadata: { name, namespace: "default" },
    spec: {
      nodeName,
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers: [{ name: "pull", image, command: ["true"] }],
    },
  };
}

Deno.test({
  name: "simulated kubelets against kube-apiserver: Ready nodes, leases, pod states, deletion",
  ignore: "skip" in found,
  async fn() {
    if ("skip" in found) return;
    await withControlPlane({ assets: found }, async (cp) => {
      const text = await Deno.readTextFile(cp.admin.kubeconfig);
      const config = configFromKubeconfigText(text, { baseDir: dirname(cp.admin.kubeconfig) });
      const client = new KubeClient(config);
      const kubeletClient = new KubeClient(config);
      const pool = new KubeletPool({
        client: kubeletClient,
        catalogue: new RegistryCatalogue(),
        timeScale: 0.01,
        leaseRenewIntervalMs: 1000,
      });
      try {
        const nodes = client.resource<Node>(NODES);
        for (const name of ["real-1", "real-2"]) {
          await nodes.create({
            metadata: {
              name,
              labels: { "drop-sim/managed": "true", "kubernetes.io/hostname": name },
            },
          });
        }
        await nodes.create({ metadata: { name: "unmanaged" } });
        await pool.start();
        await pool.waitForReady(["real-1", "real-2"], AbortSignal.timeout(60_000));

        const node = await nodes.get("real-1");
        const ready = node.status!.conditions!.find((c) => c.type === "Ready")!;
        assert.equal(ready.status, "True");
        assert.equal(node.status!.nodeInfo!.kubeletVersion, "v1.30.0");
        assert.equal((await nodes.get("unmanaged")).status?.nodeInfo?.kubeletVersion ?? "", "");
        const leases = client.resource<Lease>(LEASES, "kube-node-lease");
        const lease = await eventually("the node lease", async () => {
          try {
            return await leases.get("real-1");
          } catch (e) {
            if (isNotFound(e)) return undefined;
            throw e;
          }
        });
        await eventually("a lease renewal", async () => {
          const now = await leases.get("real-1");
          return now.spec!.renewTime !== lease.spec!.renewTime ? true : undefined;
        });

        // The ServiceAccount admission plugin needs the default ServiceAccount first.
        const pods = client.resource<Pod>(PODS, "default");
        await eventually("the pod to be admitted", async () => {
          try {
            return await pods.create(pullPod("ok", "real-1", "docker.io/library/alpine:3.19"));
          } catch (e) {
            if (/serviceaccount/i.test((e as Error).message)) return undefined;
            throw e;
          }
        });
        await pods.create(pullPod("dns", "real-2", "registry.invalid.local:9999/does-not-exist"));
        await pods.create(pullPod("noshell", "real-1", "gcr.io/distroless/static:nonroot"));

        const ok = await eventually("pod ok to succeed", async () => {
          const p = await pods.get("ok");
          return p.status?.phase === "Succeeded" ? p : undefined;
        });
        assert.match(
          ok.status!.containerStatuses![0].imageID!,
          /^docker\.io\/library\/alpine@sha256:/,
        );
        const noshell = await eventually("pod noshell to fail", async () => {
          const p = await pods.get("noshell");
          return p.status?.phase === "Failed" ? p : undefined;
        });
        assert.equal(noshell.status!.containerStatuses![0].state!.terminated!.reason, "StartError");
        const dns = await eventually("pod dns to back off", async () => {
          const p = await pods.get("dns");
          const w = p.status?.containerStatuses?.[0]?.state?.waiting;
          return w?.reason === "ImagePullBackOff" ? p : undefined;
        });
        assert.equal(dns.status!.phase, "Pending");

        const events = await eventually("the kubelet's events", async () => {
          const list = await client.resource<Event>(EVENTS, "default").list({
            fieldSelector: "involvedObject.name=ok",
          });
          return list.items.length >= 4 ? list.items : undefined;
        });
        assert.deepEqual(
          events.map((e) => e.reason).sort(),
          ["Created", "Pulled", "Pulling", "Started"],
        );

        // A graceful delete of a pending pod is finished by the kubelet.
        await pods.delete("dns");
        await eventually("pod dns to be removed", async () => {
          try {
            await pods.get("dns");
            return undefined;
          } catch (e) {
            if (isNotFound(e)) return true;
            throw e;
          }
        });

        await eventually("the image in the node status", async () => {
          const n = await nodes.get("real-1");
          return n.status?.images?.some((i) =>
              i.names?.includes(ok.status!.containerStatuses![0].imageID!)
            )
            ? true
            : undefined;
        });
      } finally {
        await pool.stop();
        client.close();
        kubeletClient.close();
      }
    });
  },
});
