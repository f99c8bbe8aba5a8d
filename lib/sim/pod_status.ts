/**
 * Pod status as the kubelet generates it from the state of the pod's sandbox and containers:
 * phase, the five pod conditions, container statuses sorted by name, IPs and start time.
 * Pure: the pod worker keeps the state and the kubelet pool writes the result.
 *
 * @module
 */
import type {
  ContainerState,
  ContainerStatus,
  PodCondition,
  PodStatus,
} from "kubernetes-types/core/v1.d.ts";

/** A pod phase. */
export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed";

/** What the runtime knows about one container. */
export interface ContainerRun {
  name: string;
  /** The image as the spec names it. */
  image: string;
  /** The fully qualified reference of the image on the node, once it is there. */
  imageRef?: string;
  /** `<registry>/<repository>@sha256:...` once the image is on the node. */
  imageID?: string;
  /** `containerd://<id>` once the container was created. */
  containerID?: string;
  state: ContainerState;
}

/** What the kubelet knows about a pod when it generates its status. */
export interface PodRun {
  phase: PodPhase;
  /** Whether the pod sandbox (network namespace) exists. */
  sandboxReady: boolean;
  hostIP: string;
  podIP?: string;
  /** RFC 3339 time the kubelet first saw the pod. */
  startTime: string;
  qosClass?: string;
  /** Pod-level reason and message, e.g. DeadlineExceeded. */
  reason?: string;
  message?: string;
  containers: ContainerRun[];
}

/** The phase the kubelet derives from container states under restartPolicy Never. */
export function phaseOf(containers: ContainerRun[]): PodPhase {
  if (containers.length === 0) return "Pending";
  if (containers.some((c) => c.state.waiting)) return "Pending";
  if (containers.some((c) => c.state.running)) return "Running";
  return containers.every((c) => c.state.terminated?.exitCode === 0) ? "Succeeded" : "Failed";
}

/**
 * Builds `status`. `previous` are the conditions last written, so a condition keeps its
 * `lastTransitionTime` while its status stays the same; `now` is an RFC 3339 time.
 */
export function buildPodStatus(
  run: PodRun,
  previous: PodCondition[] | undefined,
  now: string,
): PodStatus {
  const containerStatuses = run.containers.map(containerStatus).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  const unready = containerStatuses.filter((c) => !c.ready).map((c) => c.name);
  const terminal = run.phase === "Succeeded" || run.phase === "Failed";
  const notReady = `containers with unready status: [${unready.join(" ")}]`;

  const conditions: PodCondition[] = [
    { type: "PodReadyToStartContainers", status: bool(run.sandboxReady && !terminal) },
    {
      type: "Initialized",
      status: "True",
      ...(run.phase === "Succeeded" ? { reason: "PodCompleted" } : {}),
    },
    readiness("Ready", run.phase, unready, notReady),
    readiness("ContainersReady", run.phase, unready, notReady),
    { type: "PodScheduled", status: "True" },
  ];
  for (const c of conditions) {
    const old = previous?.find((p) => p.type === c.type);
    c.lastTransitionTime = old && old.status === c.status && old.lastTransitionTime
      ? old.lastTransitionTime
      : now;
  }

  const status: PodStatus = {
    phase: run.phase,
    conditions,
    hostIP: run.hostIP,
    hostIPs: [{ ip: run.hostIP }],
    startTime: run.startTime,
    containerStatuses,
  };
  if (run.podIP) {
    status.podIP = run.podIP;
    status.podIPs = [{ ip: run.podIP }];
  }
  if (run.qosClass) status.qosClass = run.qosClass;
  if (run.reason) status.reason = run.reason;
  if (run.message) status.message = run.message;
  return status;
}

function readiness(
  type: string,
  phase: PodPhase,
  unready: string[],
  notReady: string,
): PodCondition {
  if (phase === "Succeeded") return { type, status: "False", reason: "PodCompleted" };
  if (phase === "Failed" && type === "Ready") return { type, status: "False", reason: "PodFailed" };
  if (unready.length > 0) {
    return { type, status: "False", reason: "ContainersNotReady", message: notReady };
  }
  return { type, status: "True" };
}

function containerStatus(c: ContainerRun): ContainerStatus {
  const running = c.state.running !== undefined;
  const status: ContainerStatus = {
    name: c.name,
    state: c.state,
    lastState: {},
    ready: running,
    restartCount: 0,
    image: c.imageRef ?? c.image,
    imageID: c.imageID ?? "",
    started: running,
  };
  if (c.containerID) status.containerID = c.containerID;
  return status;
}

function bool(v: boolean): string {
  return v ? "True" : "False";
}
