/**
 * Whether a pull Pod holds a pacing slot, read from its status the way the kubelet reports it.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import type { PullPodView } from "./engine.ts";

/**
 * Waiting reasons of a container whose image cannot be pulled (or whose pull failed for good).
 * The kubelet is not pulling for such a Pod (it is backing off or has given up), so the Pod does
 * not count as an active pull; the controller ends the attempt as a failure.
 */
export const IMAGE_PULL_STUCK_REASONS: ReadonlySet<string> = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CreateContainerConfigError",
  "RegistryUnavailable",
]);

/**
 * What a pull Pod means for pacing:
 * - `active`: the kubelet is (or will soon be) pulling; holds a slot of its budget and its node.
 * - `stuck`: waiting in an image-pull error; holds nothing.
 * - `done`: the image is on the node (a container reports an `imageID`) or the Pod ended.
 */
export type PullActivity = "active" | "stuck" | "done";

/** Whether any container of the Pod waits with a reason from {@linkcode IMAGE_PULL_STUCK_REASONS}. */
export function isImagePullStuck(pod: Pod): boolean {
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  return statuses.some((s) => {
    const reason = s.state?.waiting?.reason;
    return reason !== undefined && IMAGE_PULL_STUCK_REASONS.has(reason);
  });
}

/** Classifies a pull Pod for pacing; see {@linkcode PullActivity}. */
export function pullActivity(pod: Pod): PullActivity {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return "done";
  // The kubelet sets imageID once the image is on the node; what the container does next (exit,
  // or fail to start for images without `true`) no longer loads the node or the registry.
  if ((pod.status?.containerStatuses ?? []).some((s) => s.imageID)) return "done";
  return isImagePullStuck(pod) ? "stuck" : "active";
}

/**
 * The engine's view of a pull Pod. `image` (the CachedImage name, from the Pod's annotations)
 * and `budget` (from the PullPolicy it was started under) are the caller's to supply.
 */
export function pullPodView(pod: Pod, image: string, budget: string): PullPodView {
  const meta = pod.metadata ?? {};
  const created = meta.creationTimestamp ? Date.parse(meta.creationTimestamp) : Number.NaN;
  return {
    key: `${meta.namespace ?? ""}/${meta.name ?? ""}`,
    image,
    node: pod.spec?.nodeName ?? "",
    budget,
    createdAt: created,
    active: pullActivity(pod) === "active",
  };
}
