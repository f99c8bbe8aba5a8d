/**
 * The labels and annotations that mark pull Pods, shared by the builder and by whoever reads the
 * Pods back (the controller's informer selector, `kubectl get pods -l ...`).
 *
 * @module
 */
import { labelValue } from "./names.ts";

/** Label every pull Pod carries; the controller's Pod informer selects on it. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** Value of {@linkcode MANAGED_BY_LABEL}. */
export const MANAGED_BY_VALUE = "drop";
/** Label selector matching every pull Pod. */
export const PULL_POD_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/**
 * Label (value: {@linkcode labelValue} of the CachedImage name) and annotation (value: the full
 * name) naming the CachedImage a Pod pulls for.
 */
export const CACHED_IMAGE_KEY = "drop.corewire.io/cachedimage";
/** Label (hashed when needed) and annotation (full name) naming the node a Pod pulls on. */
export const NODE_KEY = "drop.corewire.io/node";
/** Annotation: the attempt number the Pod's name was derived from. */
export const ATTEMPT_ANNOTATION = "drop.corewire.io/attempt";
/** Annotation: the exact reference the Pod pulls, to recognise Pods made for an older spec. */
export const IMAGE_ANNOTATION = "drop.corewire.io/image";
/** Annotation: the CachedImage `metadata.generation` the Pod was built from. */
export const GENERATION_ANNOTATION = "drop.corewire.io/generation";
/** Annotation: the PullPolicy the Pod was paced under; absent for the default budget. */
export const POLICY_ANNOTATION = "drop.corewire.io/policy";

/** Annotation: when the pull was granted, RFC 3339 with milliseconds. */
export const STARTED_AT_ANNOTATION = "drop.corewire.io/started-at";

/** Name of the single container of a pull Pod. */
export const PULL_CONTAINER_NAME = "pull";

/** Label selector matching the pull Pods of one CachedImage. */
export function cachedImageSelector(cachedImage: string): string {
  return `${PULL_POD_SELECTOR},${CACHED_IMAGE_KEY}=${labelValue(cachedImage)}`;
}
