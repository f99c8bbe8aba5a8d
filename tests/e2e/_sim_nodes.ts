/**
 * Nodes for the local control plane: the simulated kubelets of `lib/sim` run as API clients of the
 * real kube-apiserver and manage Node objects created here, running the pods bound to them
 * through the kubelet's real states.
 *
 * @module
 */
import type { Node } from "kubernetes-types/core/v1.d.ts";
import { KubeClient, loadKubeConfig, NODES } from "../../lib/kube/mod.ts";
import { KubeletPool, MANAGED_LABEL, RegistryCatalogue } from "../../lib/sim/mod.ts";
import { DEFAULT_CONTROLLERS } from "../envtest/control_plane.ts";
import type { E2ECluster } from "./_cluster.ts";

/**
 * Controllers a control plane with simulated nodes runs besides the defaults: the node lifecycle
 * controller lifts the `node.kubernetes.io/not-ready` taint the API server puts on every new Node
 * once its kubelet reports Ready (and puts it back when heartbeats stop), and the pod garbage
 * collector removes the pods of deleted Nodes — as in any cluster.
 */
export const SIM_NODE_CONTROLLERS: readonly string[] = [
  ...DEFAULT_CONTROLLERS,
  "node-lifecycle-controller",
  "pod-garbage-collector-controller",
];

/** Simulated nodes on a real control plane. */
export interface SimNodes {
  pool: KubeletPool;
  catalogue: RegistryCatalogue;
  /** Creates a Node for the kubelets and resolves once it reported Ready. */
  add(name: string, labels?: Record<string, string>): Promise<void>;
  /** Deletes a Node (its kubelet stops). */
  remove(name: string): Promise<void>;
  /** Stops the kubelets and closes their client. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startSimNodes}. */
export interface SimNodesOptions {
  /** Wall time per simulated time (pull durations, kubelet backoffs). Default 0.05. */
  timeScale?: number;
  /** Node names to create and wait for. */
  nodes?: string[];
}

/**
 * Starts a kubelet pool against the cluster, acting as admin (the real kubelet's node authorizer
 * is not what these tests examine), and creates `opts.nodes`. Only for the local control plane:
 * on an external cluster the nodes are real.
 */
export async function startSimNodes(c: E2ECluster, opts: SimNodesOptions = {}): Promise<SimNodes> {
  if (c.mode !== "local") throw new Error("Simulated kubelets run on the local control plane only");
  const client = new KubeClient(await loadKubeConfig({ kubeconfig: c.kubeconfig }), {
    userAgent: "drop-sim-kubelet",
  });
  const catalogue = new RegistryCatalogue();
  const pool = new KubeletPool({
    client,
    catalogue,
    timeScale: opts.timeScale ?? 0.05,
    onError: (e) => console.error(`sim kubelet: ${e}`),
  });
  let stopped = false;
  const nodes = client.resource<Node>(NODES);
  const sim: SimNodes = {
    pool,
    catalogue,
    async add(name, labels = {}) {
      await nodes.create({
        metadata: {
          name,
          labels: {
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            [MANAGED_LABEL]: "true",
            ...labels,
          },
        },
      });
      const deadline = AbortSignal.timeout(60_000);
      await pool.waitForReady([name], deadline);
    },
    async remove(name) {
      await nodes.delete(name);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await pool.stop();
      client.close();
    },
  };
  try {
    await pool.start();
    for (const name of opts.nodes ?? []) await sim.add(name);
  } catch (e) {
    await sim.stop();
    throw e;
  }
  c.defer(() => sim.stop());
  return sim;
}
