/**
 * The pull Pod: a short-lived Pod bound to one node whose only purpose is to make the kubelet pull
 * one image there.
 *
 * @module
 */
import type { Pod, ResourceRequirements } from "kubernetes-types/core/v1.d.ts";
import type { OwnerReference } from "kubernetes-types/meta/v1.d.ts";
import {
  API_VERSION,
  CACHED_IMAGE,
  type CachedImage,
  type PullPolicy,
  pullReference,
} from "../api/mod.ts";
import {
  ATTEMPT_ANNOTATION,
  CACHED_IMAGE_KEY,
  GENERATION_ANNOTATION,
  IMAGE_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NODE_KEY,
  POLICY_ANNOTATION,
  PULL_CONTAINER_NAME,
  STARTED_AT_ANNOTATION,
} from "./labels.ts";
import { labelValue, pullPodName } from "./names.ts";
import { mergeTolerations } from "./tolerations.ts";

/** The node a pull Pod is bound to. */
export interface NodeInfo {
  /** `metadata.name` of the Node. */
  name: string;
}

/** Options of {@linkcode buildPullPod}. */
export interface PullPodOptions {
  /** Namespace of the pull Pods (the operator's `--pod-namespace`, `drop-system` by default). */
  namespace: string;
  /**
   * Seconds after which the kubelet kills the Pod, so a pull that hangs can never hold a pacing
   * slot for ever. Default {@linkcode DEFAULT_ACTIVE_DEADLINE_SECONDS}.
   */
  activeDeadlineSeconds?: number;
  /** The PullPolicy the image is paced under, when it exists: adds its tolerations. */
  policy?: Pick<PullPolicy, "metadata" | "spec">;
  /** A PriorityClass for the Pods. Unset by default: pull Pods then get the cluster's default. */
  priorityClassName?: string;
  /** Requests and limits of the pull container. Default {@linkcode DEFAULT_PULL_RESOURCES}. */
  resources?: ResourceRequirements;
  /**
   * When the pull was granted, in ms. Recorded with millisecond precision (creationTimestamp has
   * whole seconds), for pull durations and for checking the pacing between starts.
   */
  startedAt?: number;
}

/** Default of {@linkcode PullPodOptions.activeDeadlineSeconds}: ten minutes. */
export const DEFAULT_ACTIVE_DEADLINE_SECONDS = 600;

/**
 * Default requests and limits: the container only runs `true`, and small requests keep a pull
 * Pod admissible on a full node (the kubelet's pull itself is not charged to the Pod).
 */
export const DEFAULT_PULL_RESOURCES: Readonly<ResourceRequirements> = Object.freeze({
  requests: Object.freeze({ cpu: "10m", memory: "16Mi" }),
  limits: Object.freeze({ cpu: "100m", memory: "32Mi" }),
});

/** The user and group the pull container runs as: `nobody`, present or not in the image. */
export const PULL_POD_UID = 65534;

/**
 * Builds the pull Pod for `attempt` of `ci` on `node`. The result depends on its inputs only, so
 * two reconciles build the same Pod with the same name.
 *
 * - Name from {@linkcode pullPodName}; labels `app.kubernetes.io/managed-by=drop`,
 *   `drop.corewire.io/cachedimage` and `drop.corewire.io/node` (values passed through
 *   {@linkcode labelValue}); annotations with the full names, the attempt, the pulled reference,
 *   the CachedImage generation and the PullPolicy name.
 * - Owned by the CachedImage (controller reference), so deleting it collects its Pods.
 * - Bound with `nodeName`, tolerating what the CachedImage and PullPolicy tolerate, never
 *   restarted, killed after `activeDeadlineSeconds`, no service account token or service links,
 *   no grace period, and compliant with the `restricted` Pod Security profile.
 *
 * @throws {RangeError} when the CachedImage has no name or uid, or an option is out of range.
 */
export function buildPullPod(
  ci: CachedImage,
  node: NodeInfo,
  attempt: number,
  opts: PullPodOptions,
): Pod {
  const ciName = ci.metadata.name ?? "";
  const uid = ci.metadata.uid;
  if (!ciName) throw new RangeError("Cannot build pull pod: the CachedImage has no name");
  if (!uid) {
    throw new RangeError(
      `Cannot build pull pod for CachedImage "${ciName}": metadata.uid is missing, and the owner reference needs it`,
    );
  }
  if (!opts.namespace) {
    throw new RangeError(`Cannot build pull pod for CachedImage "${ciName}": namespace is empty`);
  }
  const deadline = opts.activeDeadlineSeconds ?? DEFAULT_ACTIVE_DEADLINE_SECONDS;
  if (!Number.isSafeInteger(deadline) || deadline <= 0) {
    throw new RangeError(
      `Cannot build pull pod for CachedImage "${ciName}": activeDeadlineSeconds must be a positive integer, got ${deadline}`,
    );
  }
  const name = pullPodName(ciName, node.name, attempt);
  const reference = pullReference(ci.spec);
  const policyName = opts.policy?.metadata.name;

  const annotations: Record<string, string> = {
    [CACHED_IMAGE_KEY]: ciName,
    [NODE_KEY]: node.name,
    [ATTEMPT_ANNOTATION]: String(attempt),
    [IMAGE_ANNOTATION]: reference,
  };
  if (ci.metadata.generation !== undefined) {
    annotations[GENERATION_ANNOTATION] = String(ci.metadata.generation);
  }
  if (policyName) annotations[POLICY_ANNOTATION] = policyName;
  if (opts.startedAt !== undefined) {
    annotations[STARTED_AT_ANNOTATION] = new Date(opts.startedAt).toISOString();
  }

  const owner: OwnerReference = {
    apiVersion: API_VERSION,
    kind: CACHED_IMAGE.kind,
    name: ciName,
    uid,
    controller: true,
    blockOwnerDeletion: true,
  };

  const tolerations = mergeTolerations(ci.spec.tolerations, opts.policy?.spec.tolerations);
  const pullSecrets = (ci.spec.imagePullSecrets ?? []).map((s) => ({ name: s.name }));

  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: opts.namespace,
      labels: {
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [CACHED_IMAGE_KEY]: labelValue(ciName),
        [NODE_KEY]: labelValue(node.name),
      },
      annotations,
      ownerReferences: [owner],
    },
    spec: {
      nodeName: node.name,
      restartPolicy: "Never",
      activeDeadlineSeconds: deadline,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      ...(opts.priorityClassName ? { priorityClassName: opts.priorityClassName } : {}),
      ...(tolerations.length > 0 ? { tolerations } : {}),
      ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: PULL_POD_UID,
        runAsGroup: PULL_POD_UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [{
        name: PULL_CONTAINER_NAME,
        image: reference,
        imagePullPolicy: ci.spec.imagePullPolicy ?? "Always",
        // The pull is the side effect we want; `true` exits at once where it exists, and images
        // without it fail to start only after the image is on the node.
        command: ["true"],
        resources: copyResources(opts.resources ?? DEFAULT_PULL_RESOURCES),
        securityContext: {
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
      }],
    },
  };
}

function copyResources(r: ResourceRequirements): ResourceRequirements {
  const out: ResourceRequirements = {};
  if (r.requests) out.requests = { ...r.requests };
  if (r.limits) out.limits = { ...r.limits };
  return out;
}
