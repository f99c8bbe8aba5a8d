/**
 * Pull Pods, built as a pure function of a CachedImage, a node and an attempt number.
 *
 * ```ts
 * const pod = buildPullPod(ci, { name: "worker-1" }, 0, { namespace: "drop-system", policy });
 * // later, from the informer cache:
 * const info = readPullPod(pod); // { cachedImage, node, attempt, reference, generation, policy }
 * ```
 *
 * The controller predicts names with {@linkcode pullPodName} and selects its Pods with
 * {@linkcode PULL_POD_SELECTOR}.
 *
 * @module
 */
export {
  buildPullPod,
  DEFAULT_ACTIVE_DEADLINE_SECONDS,
  DEFAULT_PULL_RESOURCES,
  type NodeInfo,
  PULL_POD_UID,
  type PullPodOptions,
} from "./build_pull_pod.ts";
export {
  ATTEMPT_ANNOTATION,
  CACHED_IMAGE_KEY,
  cachedImageSelector,
  GENERATION_ANNOTATION,
  IMAGE_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NODE_KEY,
  POLICY_ANNOTATION,
  PULL_CONTAINER_NAME,
  PULL_POD_SELECTOR,
  STARTED_AT_ANNOTATION,
} from "./labels.ts";
export {
  isValidLabelValue,
  labelValue,
  MAX_LABEL_VALUE_LENGTH,
  MAX_POD_NAME_LENGTH,
  pullPodName,
  shortHash,
} from "./names.ts";
export { mergeTolerations } from "./tolerations.ts";
export { type PullPodInfo, readPullPod } from "./pull_pod_info.ts";
export { restrictedViolations } from "./pod_security.ts";
