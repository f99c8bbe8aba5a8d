/**
 * Table columns of the built-in kinds, computed the way kube-apiserver's printers do, so that
 * `kubectl get` shows familiar output.
 *
 * @module
 */
import { ageOf } from "./duration.ts";
import { isObject, type JsonObject } from "./json_util.ts";
import type { TableColumn, TableSpec } from "./resource_def.ts";

const NAME: TableColumn = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
  priority: 0,
};
const AGE: TableColumn = {
  name: "Age",
  type: "string",
  description:
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
  priority: 0,
};

function col(name: string, description: string, priority = 0, type = "string"): TableColumn {
  return { name, type, description, priority };
}

function meta(obj: JsonObject): JsonObject {
  return (obj.metadata ?? {}) as JsonObject;
}

function obj(v: unknown): JsonObject {
  return isObject(v) ? v : {};
}

function arr(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function created(o: JsonObject, now: number): string {
  return ageOf(meta(o).creationTimestamp, now);
}

/** Pod status as `kubectl get pods` prints it (Running, Completed, ErrImagePull, ...). */
export function podStatusReason(
  pod: JsonObject,
): { reason: string; ready: number; total: number; restarts: number } {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const total = arr(spec.containers).length;
  let reason = String(status.reason || status.phase || "Pending");
  let ready = 0;
  let restarts = 0;
  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses);
  initStatuses.forEach((c, i) => {
    restarts += Number(c.restartCount ?? 0);
    const state = obj(c.state);
    const term = isObject(state.terminated) ? state.terminated : undefined;
    const wait = isObject(state.waiting) ? state.waiting : undefined;
    if (term && term.exitCode === 0) return;
    if (initializing) return;
    if (term) {
      reason = term.reason ? `Init:${term.reason}` : `Init:ExitCode:${term.exitCode}`;
      initializing = true;
    } else if (wait && wait.reason && wait.reason !== "PodInitializing") {
      reason = `Init:${wait.reason}`;
      initializing = true;
    } else if (wait || !state.running) {
      reason = `Init:${i}/${arr(spec.initContainers).length}`;
      initializing = true;
    }
  });
  if (!initializing) {
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += Number(c.restartCount ?? 0);
      const state = obj(c.state);
      const wait = isObject(state.waiting) ? state.waiting : undefined;
      const term = isObject(state.terminated) ? state.terminated : undefined;
      if (wait?.reason) reason = String(wait.reason);
      else if (term?.reason) reason = String(term.reason);
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && state.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const readyCond = arr(status.conditions).find((c) => c.type === "Ready");
      reason = readyCond?.status === "True" ? "Running" : "NotReady";
    }
  }
  if (meta(pod).deletionTimestamp) {
    reason = status.reason === "NodeLost" ? "Unknown" : "Terminating";
  }
  return { reason, ready, total, restarts };
}

/** Node status as `kubectl get nodes` prints it: Ready / NotReady / Unknown, SchedulingDisabled. */
export function nodeStatus(node: JsonObject): string {
  const cond = arr(obj(node.status).conditions).find((c) => c.type === "Ready");
  let s = cond?.status === "True" ? "Ready" : cond?.status === "False" ? "NotReady" : "Unknown";
  if (obj(node.spec).unschedulable === true) s += ",SchedulingDisabled";
  return s;
}

function nodeRoles(node: JsonObject): string {
  const roles: string[] = [];
  for (const [k, v] of Object.entries(obj(meta(node).labels))) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const r = k.slice("node-role.kubernetes.io/".length);
      if (r) roles.push(r);
    } else if (k === "kubernetes.io/role" && v) {
      roles.push(String(v));
    }
  }
  return roles.length ? roles.sort().join(",") : "<none>";
}

function address(node: JsonObject, type: string): string {
  return String(arr(obj(node.status).addresses).find((a) => a.type === type)?.address ?? "<none>");
}

/** Table of Pods. */
export const POD_TABLE: TableSpec = {
  columns: [
    NAME,
    col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "The aggregate status of the containers in this pod."),
    col(
      "Restarts",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    col("IP", "IP address allocated to the pod. Routable at least within the cluster.", 1),
    col("Node", "Name of the node this pod is running on.", 1),
    col("Nominated Node", "Name of the node this pod is nominated to run on.", 1),
    col("Readiness Gates", "Pod readiness gates.", 1),
  ],
  cells(pod, now) {
    const s = podStatusReason(pod);
    const status = obj(pod.status);
    return [
      meta(pod).name,
      `${s.ready}/${s.total}`,
      s.reason,
      String(s.restarts),
      created(pod, now),
      status.podIP ?? "<none>",
      obj(pod.spec).nodeName ?? "<none>",
      status.nominatedNodeName ?? "<none>",
      "<none>",
    ];
  },
};

/** Table of Nodes. */
export const NODE_TABLE: TableSpec = {
  columns: [
    NAME,
    col("Status", "The status of the node"),
    col("Roles", "The roles of the node"),
    AGE,
    col("Version", "Kubelet Version reported by the node."),
    col("Internal-IP", "List of internal IPs.", 1),
    col("External-IP", "List of external IPs.", 1),
    col("OS-Image", "OS Image reported by the node from /etc/os-release.", 1),
    col("Kernel-Version", "Kernel Version reported by the node.", 1),
    col("Container-Runtime", "Container Runtime Version reported by the node.", 1),
  ],
  cells(node, now) {
    const info = obj(obj(node.status).nodeInfo);
    return [
      meta(node).name,
      nodeStatus(node),
      nodeRoles(node),
      created(node, now),
      info.kubeletVersion ?? "",
      address(node, "InternalIP"),
      address(node, "ExternalIP"),
      info.osImage ?? "<unknown>",
      info.kernelVersion ?? "<unknown>",
      info.containerRuntimeVersion ?? "<unknown>",
    ];
  },
};

/** Table of Namespaces. */
export const NAMESPACE_TABLE: TableSpec = {
  columns: [NAME, col("Status", "The status of the namespace"), AGE],
  cells: (ns, now) => [meta(ns).name, obj(ns.status).phase ?? "", created(ns, now)],
};

/** Table of Secrets. */
export const SECRET_TABLE: TableSpec = {
  columns: [
    NAME,
    col("Type", "The type of the secret"),
    col("Data", "The number of entries in the secret", 0, "string"),
    AGE,
  ],
  cells: (
    s,
    now,
  ) => [meta(s).name, s.type ?? "Opaque", Object.keys(obj(s.data)).length, created(s, now)],
};

/** Table of ConfigMaps. */
export const CONFIGMAP_TABLE: TableSpec = {
  columns: [NAME, col("Data", "Number of data in configmap"), AGE],
  cells: (c, now) => [
    meta(c).name,
    Object.keys(obj(c.data)).length + Object.keys(obj(c.binaryData)).length,
    created(c, now),
  ],
};

/** Table of ServiceAccounts. */
export const SERVICEACCOUNT_TABLE: TableSpec = {
  columns: [
    NAME,
    col(
      "Secrets",
      "Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount",
    ),
    AGE,
  ],
  cells: (sa, now) => [meta(sa).name, arr(sa.secrets).length, created(sa, now)],
};

/** Table of Leases. */
export const LEASE_TABLE: TableSpec = {
  columns: [NAME, col("Holder", "The holder of the lease"), AGE],
  cells: (l, now) => [meta(l).name, obj(l.spec).holderIdentity ?? "", created(l, now)],
};

/** Table of core Events (stored form). */
export const EVENT_TABLE: TableSpec = {
  columns: [
    col("Last Seen", "Time when last this event was observed"),
    col("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
    col(
      "Reason",
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "The object that this event is about. Mapped from event.involvedObject"),
    col("Subobject", "The subobject of the event. Mapped from event.involvedObject.fieldPath", 1),
    col("Source", "The source component that reported this event.", 1),
    col("Message", "A human-readable description of the status of this operation."),
    col("First Seen", "The time at which the event was first recorded.", 1),
    col("Count", "The number of times this event has occurred.", 1),
    { ...NAME, priority: 1 },
  ],
  cells(ev, now) {
    const io = obj(ev.involvedObject);
    const series = obj(ev.series);
    const last = series.lastObservedTime ?? ev.lastTimestamp ?? ev.eventTime ??
      meta(ev).creationTimestamp;
    const first = ev.firstTimestamp ?? ev.eventTime ?? meta(ev).creationTimestamp;
    const src = obj(ev.source);
    const source = src.component
      ? (src.host ? `${src.component}, ${src.host}` : src.component)
      : ev.reportingComponent ?? "";
    const kind = String(io.kind ?? "").toLowerCase();
    return [
      ageOf(last, now),
      ev.type ?? "",
      ev.reason ?? "",
      `${kind}/${io.name ?? ""}`,
      io.fieldPath ?? "",
      source,
      String(ev.message ?? "").trim(),
      ageOf(first, now),
      Number(series.count ?? ev.count ?? 1),
      meta(ev).name,
    ];
  },
};

/** Table of CustomResourceDefinitions. */
export const CRD_TABLE: TableSpec = {
  columns: [NAME, {
    name: "Created At",
    type: "date",
    description: "CreationTimestamp",
    priority: 0,
  }],
  cells: (crd) => [meta(crd).name, meta(crd).creationTimestamp],
};
