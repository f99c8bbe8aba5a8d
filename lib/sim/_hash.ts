/**
 * Deterministic hashing for the simulator: digests and pseudo-random but reproducible figures
 * derived from names.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** SHA-256 of a string as 64 lower-case hex characters. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A number in [0, 1) derived from `text`; the same text always gives the same number. */
export function unitFraction(text: string): number {
  // 48 bits of the digest are plenty and stay exact in a double.
  return parseInt(sha256Hex(text).slice(0, 12), 16) / 2 ** 48;
}
