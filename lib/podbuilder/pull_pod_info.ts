/**
 * Reading a pull Pod back: which CachedImage, node and attempt it belongs to.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  ATTEMPT_ANNOTATION,
  CACHED_IMAGE_KEY,
  GENERATION_ANNOTATION,
  IMAGE_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NODE_KEY,
  POLICY_ANNOTATION,
} from "./labels.ts";

/** What a pull Pod records about itself. */
export interface PullPodInfo {
  /** Full name of the CachedImage. */
  cachedImage: string;
  /** Full name of the node (`spec.nodeName` when the annotation is missing). */
  node: string;
  /** Attempt number, or undefined when the annotation is missing or malformed. */
  attempt?: number;
  /** The reference the Pod pulls. */
  reference?: string;
  /** The CachedImage generation the Pod was built from. */
  generation?: number;
  /** The PullPolicy it was paced under; undefined for the default budget. */
  policy?: string;
}

/**
 * Reads the identity of a pull Pod from its annotations (which hold full names, unlike the
 * possibly hashed labels). Returns undefined for Pods that are not pull Pods.
 */
export function readPullPod(pod: Pod): PullPodInfo | undefined {
  const meta = pod.metadata ?? {};
  if (meta.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return undefined;
  const a = meta.annotations ?? {};
  const cachedImage = a[CACHED_IMAGE_KEY];
  const node = a[NODE_KEY] ?? pod.spec?.nodeName;
  if (!cachedImage || !node) return undefined;
  const info: PullPodInfo = { cachedImage, node };
  const attempt = integer(a[ATTEMPT_ANNOTATION]);
  if (attempt !== undefined) info.attempt = attempt;
  if (a[IMAGE_ANNOTATION]) info.reference = a[IMAGE_ANNOTATION];
  const generation = integer(a[GENERATION_ANNOTATION]);
  if (generation !== undefined) info.generation = generation;
  if (a[POLICY_ANNOTATION]) info.policy = a[POLICY_ANNOTATION];
  return info;
}

function integer(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
