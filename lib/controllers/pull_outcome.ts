/**
 * Reads what happened to a pull Pod from its status, the way the kubelet reports it, and turns
 * kubelet error text into short messages a person can act on.
 *
 * @module
 */
import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.d.ts";
import { digestOfImageId, parseTime } from "../api/mod.ts";
import { IMAGE_PULL_STUCK_REASONS } from "../pacing/mod.ts";
import { STARTED_AT_ANNOTATION } from "../podbuilder/mod.ts";

/** Whether a failure concerns the image or its registry (all nodes) or only this node. */
export type FailureScope = "image" | "node";

/** The outcome of one pull Pod. */
export type PullOutcome =
  | { kind: "pending"; startedAt?: number }
  | { kind: "succeeded"; imageId: string; digest?: string; finishedAt: number; seconds: number }
  | {
    kind: "failed";
    reason: string;
    message: string;
    scope: FailureScope;
    startedAt: number;
    finishedAt: number;
  };

function containerStatus(pod: Pod): ContainerStatus | undefined {
  return pod.status?.containerStatuses?.[0];
}

function timeOf(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = parseTime(text);
  // The kubelet reports the zero time for containers that never started.
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

/** How far a pull Pod got: what {@linkcode pullOutcome} says, without its details. */
export type PullStage = PullOutcome["kind"];

/**
 * Classifies a pull Pod. A pull succeeded once the container status carries an `imageID`, whatever
 * the container did next: images without a `true` binary (scratch, distroless, pause) fail to
 * start *after* the image is on the node, and that still counts as cached. It failed when the
 * container is stuck in a pull error or the Pod ended without the image.
 */
export function pullStage(pod: Pod): PullStage {
  const cs = containerStatus(pod);
  if (cs?.imageID) return "succeeded";
  const reason = cs?.state?.waiting?.reason;
  if (reason && IMAGE_PULL_STUCK_REASONS.has(reason)) return "failed";
  const phase = pod.status?.phase;
  return phase === "Failed" || phase === "Succeeded" ? "failed" : "pending";
}

/** The result of a pull Pod, with its times and, for a failure, its cause. */
export function pullOutcome(pod: Pod, now: number): PullOutcome {
  const created = timeOf(pod.metadata?.annotations?.[STARTED_AT_ANNOTATION]) ??
    timeOf(pod.metadata?.creationTimestamp) ?? now;
  const stage = pullStage(pod);
  if (stage === "pending") return { kind: "pending", startedAt: created };
  const cs = containerStatus(pod);
  if (stage === "succeeded") {
    const state = cs!.state;
    const finishedAt = timeOf(state?.running?.startedAt) ?? timeOf(state?.terminated?.startedAt) ??
      timeOf(state?.terminated?.finishedAt) ?? now;
    return {
      kind: "succeeded",
      imageId: cs!.imageID!,
      digest: digestOfImageId(cs!.imageID!),
      finishedAt,
      seconds: Math.max(0, (finishedAt - created) / 1000),
    };
  }
  const waiting = cs?.state?.waiting;
  if (waiting?.reason && IMAGE_PULL_STUCK_REASONS.has(waiting.reason)) {
    const failure = classifyPullError(waiting.reason, waiting.message ?? "");
    return { kind: "failed", ...failure, startedAt: created, finishedAt: now };
  }
  const status = pod.status!;
  const reason = status.reason ?? cs?.state?.terminated?.reason ?? "PodFailed";
  const message = reason === "DeadlineExceeded"
    ? "pull did not finish before the pod's deadline"
    : cleanMessage(status.message ?? cs?.state?.terminated?.message ?? reason);
  return { kind: "failed", reason, message, scope: "node", startedAt: created, finishedAt: now };
}

/** A failure's reason, cleaned message and scope. */
export interface PullFailure {
  reason: string;
  message: string;
  scope: FailureScope;
}

const HOST_LOOKUP = /lookup ([^\s:]+)[^\n]*?: no such host/;

/**
 * Turns a kubelet waiting reason and message into a short message and decides whether the cause
 * is the image or its registry (retrying other nodes would fail the same way) or the node.
 */
export function classifyPullError(reason: string, message: string): PullFailure {
  const host = HOST_LOOKUP.exec(message);
  if (host) return { reason, message: `dns: cannot resolve ${host[1]}`, scope: "image" };
  if (reason === "InvalidImageName") {
    return { reason, message: `invalid image name: ${cleanMessage(message)}`, scope: "image" };
  }
  if (reason === "ErrImageNeverPull") {
    return {
      reason,
      message: "image is not on the node and imagePullPolicy is Never",
      scope: "node",
    };
  }
  if (reason === "CreateContainerConfigError") {
    return { reason, message: cleanMessage(message), scope: "image" };
  }
  const lower = message.toLowerCase();
  // Checked before "not found": containerd says "no match for platform in manifest: not found"
  // when the image exists but not for this node's architecture, which other nodes may have.
  if (/no match for platform/.test(lower)) {
    return { reason, message: "no variant of the image for this node's platform", scope: "node" };
  }
  if (
    /\b(401|403)\b|unauthorized|authentication required|access denied|requested access to the resource is denied|forbidden/
      .test(lower)
  ) {
    return { reason, message: "unauthorized: check imagePullSecrets", scope: "image" };
  }
  if (/not found|manifest unknown|name unknown/.test(lower)) {
    return { reason, message: "image not found", scope: "image" };
  }
  // The registry throttles or fails: every node would get the same answer, so the whole image
  // backs off instead of each node trying in turn.
  if (/\b429\b|toomanyrequests|too many requests|rate limit/.test(lower)) {
    return { reason, message: "registry rate limit: too many requests", scope: "image" };
  }
  if (
    reason === "RegistryUnavailable" ||
    /\b5\d\d\b|service unavailable|bad gateway|gateway time-?out|i\/o timeout|tls handshake timeout|connection refused|no route to host|tls: |x509: |certificate/
      .test(lower)
  ) {
    return {
      reason,
      message: `registry unavailable: ${cleanMessage(message || reason)}`,
      scope: "image",
    };
  }
  if (reason === "ImagePullBackOff" && message === "") {
    return { reason, message: "pull failed and the kubelet is backing off", scope: "image" };
  }
  return { reason, message: cleanMessage(message || reason), scope: "node" };
}

/** Shortens kubelet and containerd error chains to their last, most specific part. */
export function cleanMessage(message: string): string {
  let text = message.replace(/\s+/g, " ").trim();
  text = text.replace(/^(rpc error: code = \w+ desc = )+/, "");
  const parts = text.split(": ").filter((p) => p.length > 0);
  if (parts.length > 3) text = parts.slice(-2).join(": ");
  return text.length > 256 ? `${text.slice(0, 253)}...` : text;
}
