/**
 * Informer transforms that keep only the fields the reconcilers read, so that caching thousands
 * of Nodes and Pods stays cheap (a full Node object is several kilobytes, mostly images and
 * status we never look at).
 *
 * @module
 */
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";

/** Keeps name, labels, timestamps, taints and the Ready condition of a Node. */
export function trimNode(node: Node): Node {
  const m = node.metadata ?? {};
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  return {
    apiVersion: node.apiVersion,
    kind: node.kind,
    metadata: {
      name: m.name,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      deletionTimestamp: m.deletionTimestamp,
      labels: m.labels,
    },
    spec: node.spec?.taints ? { taints: node.spec.taints } : {},
    status: ready ? { conditions: [{ type: "Ready", status: ready.status }] } : {},
  };
}

/** Keeps what the pull loop reads of a pull Pod: identity, node, phase and container status. */
export function trimPod(pod: Pod): Pod {
  const m = pod.metadata ?? {};
  const cs = pod.status?.containerStatuses?.[0];
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      deletionTimestamp: m.deletionTimestamp,
      labels: m.labels,
      annotations: m.annotations,
    },
    spec: { nodeName: pod.spec?.nodeName, containers: [] },
    status: {
      phase: pod.status?.phase,
      reason: pod.status?.reason,
      message: pod.status?.message,
      containerStatuses: cs
        ? [{
          name: cs.name,
          image: cs.image,
          imageID: cs.imageID,
          ready: cs.ready,
          restartCount: cs.restartCount,
          state: cs.state,
        }]
        : undefined,
    },
  };
}
