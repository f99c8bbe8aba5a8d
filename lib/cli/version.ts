/**
 * The operator's version, reported by `drop --version` and in the User-Agent.
 *
 * @module
 */

/** Semantic version of this build. */
export const VERSION = "0.1.0";
