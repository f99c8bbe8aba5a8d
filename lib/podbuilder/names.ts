/**
 * Deterministic, bounded names and label values for pull Pods.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Longest Pod name we produce: a DNS label, so the name is also a valid hostname. */
export const MAX_POD_NAME_LENGTH = 63;
/** Longest label value Kubernetes accepts. */
export const MAX_LABEL_VALUE_LENGTH = 63;

const HASH_LENGTH = 10;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The first 10 hex characters of the SHA-256 of `text`: short, stable, and enough to tell names apart. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, HASH_LENGTH);
}

/** Whether `value` is a valid label value (at most 63 characters, alphanumeric at both ends). */
export function isValidLabelValue(value: string): boolean {
  return value.length <= MAX_LABEL_VALUE_LENGTH && LABEL_VALUE.test(value);
}

/**
 * `value` itself when it is a valid label value; otherwise a readable prefix of it followed by
 * its {@linkcode shortHash}, which is always valid and stays the same for the same input. The
 * full value then belongs in an annotation.
 */
export function labelValue(value: string): string {
  if (isValidLabelValue(value)) return value;
  const hash = shortHash(value);
  const room = MAX_LABEL_VALUE_LENGTH - HASH_LENGTH - 1;
  const prefix = trimToAlphanumeric(value.replace(/[^-A-Za-z0-9_.]/g, "-").slice(0, room));
  return prefix ? `${prefix}-${hash}` : hash;
}

/**
 * The name of the pull Pod for one attempt of one CachedImage on one node:
 * `<cachedimage>-<node>` (dots made dashes, cut to fit) `-<hash>-<attempt>`, at most 63
 * characters. The hash covers the full CachedImage and node names, so truncation or an ambiguous
 * dash (`a-b` + `c` versus `a` + `b-c`) can never make two pairs share a name, and the same
 * inputs always give the same name: a reconcile working from a stale cache gets `AlreadyExists`
 * instead of creating a second Pod for the node.
 *
 * @throws {RangeError} when a name is empty or `attempt` is not a non-negative integer.
 */
export function pullPodName(cachedImage: string, node: string, attempt: number): string {
  if (!cachedImage) throw new RangeError("Cannot name pull pod: the CachedImage name is empty");
  if (!node) throw new RangeError("Cannot name pull pod: the node name is empty");
  if (!Number.isSafeInteger(attempt) || attempt < 0) {
    throw new RangeError(
      `Cannot name pull pod: attempt must be a non-negative integer, got ${attempt}`,
    );
  }
  const suffix = `-${shortHash(`${cachedImage}\n${node}`)}-${attempt}`;
  const readable = `${cachedImage}-${node}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
  const prefix = trimToAlphanumeric(readable.slice(0, MAX_POD_NAME_LENGTH - suffix.length));
  return `${prefix || "pull"}${suffix}`;
}

function trimToAlphanumeric(text: string): string {
  return text.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}
