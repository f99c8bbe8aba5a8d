/**
 * What a kubelet writes about its node: `status` (conditions, addresses, capacity, node info,
 * images) and its Lease in `kube-node-lease`. Pure builders; the kubelet pool does the writes.
 *
 * @module
 */
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import type {
  ContainerImage,
  Node,
  NodeCondition,
  NodeStatus,
} from "kubernetes-types/core/v1.d.ts";
import { microTime } from "../kube/mod.ts";
import { sha256Hex } from "./_hash.ts";

/** Namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
/** The kubelet's default `nodeLeaseDurationSeconds`. */
export const NODE_LEASE_DURATION_SECONDS = 40;
/** Version the simulated kubelets report. */
export const KUBELET_VERSION = "v1.30.0";

/** Facts about one simulated node that its status reports. */
export interface NodeFacts {
  name: string;
  internalIP: string;
  ready: boolean;
  /** Node labels, for `kubernetes.io/os` and `kubernetes.io/arch`. */
  labels?: Record<string, string>;
  images: ContainerImage[];
}

/** Transition times of conditions, kept between writes (type -> [status, time]). */
export type ConditionMemory = Map<string, { status: string; since: string }>;

const PRESSURE_CONDITIONS = [
  ["MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"],
  ["DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"],
  ["PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"],
] as const;

/** Seconds-precision RFC 3339, as `metav1.Time` serialises. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The node's conditions as the kubelet reports them. `lastHeartbeatTime` is now;
 * `lastTransitionTime` changes only when a condition's status does (tracked in `memory`).
 */
export function nodeConditions(
  ready: boolean,
  nowMs: number,
  memory: ConditionMemory,
): NodeCondition[] {
  const now = rfc3339(nowMs);
  const since = (type: string, status: string) => {
    const known = memory.get(type);
    if (known && known.status === status) return known.since;
    memory.set(type, { status, since: now });
    return now;
  };
  const conditions: NodeCondition[] = PRESSURE_CONDITIONS.map(([type, reason, message]) => ({
    type,
    status: "False",
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: since(type, "False"),
  }));
  conditions.push(
    ready
      ? {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
        lastHeartbeatTime: now,
        lastTransitionTime: since("Ready", "True"),
      }
      : {
        type: "Ready",
        status: "False",
        reason: "KubeletNotReady",
        message:
          "container runtime status check may not have completed yet: PLEG is not healthy: pleg has yet to be successful",
        lastHeartbeatTime: now,
        lastTransitionTime: since("Ready", "False"),
      },
  );
  return conditions;
}

/** The full status a kubelet posts when it registers or when anything changed. */
export function nodeStatus(
  facts: NodeFacts,
  nowMs: number,
  memory: ConditionMemory,
): NodeStatus {
  const id = sha256Hex(`node:${facts.name}`);
  const capacity = {
    cpu: "4",
    "ephemeral-storage": "101430960Ki",
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: "16375244Ki",
    pods: "110",
  };
  return {
    conditions: nodeConditions(facts.ready, nowMs, memory),
    addresses: [
      { type: "InternalIP", address: facts.internalIP },
      { type: "Hostname", address: facts.name },
    ],
    capacity,
    allocatable: { ...capacity, "ephemeral-storage": "93478772582", memory: "16272844Ki" },
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: id.slice(0, 32),
      systemUUID: uuidFrom(id.slice(32)),
      bootID: uuidFrom(sha256Hex(`boot:${facts.name}`)),
      kernelVersion: "6.1.0-18-cloud-amd64",
      osImage: "Debian GNU/Linux 12 (bookworm)",
      containerRuntimeVersion: "containerd://1.7.13",
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: facts.labels?.["kubernetes.io/os"] ?? "linux",
      architecture: facts.labels?.["kubernetes.io/arch"] ?? "amd64",
    },
    images: facts.images,
  };
}

/** The node's heartbeat Lease, owned by the Node so it goes when the Node goes. */
export function nodeLease(node: Node, nowMs: number): Lease {
  const name = node.metadata?.name ?? "";
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ownerReferences: node.metadata?.uid
        ? [{ apiVersion: "v1", kind: "Node", name, uid: node.metadata.uid }]
        : undefined,
    },
    spec: {
      holderIdentity: name,
      leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS,
      renewTime: microTime(nowMs),
    },
  };
}

function uuidFrom(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20, 32)
  }`;
}
