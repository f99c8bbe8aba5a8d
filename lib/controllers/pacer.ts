/**
 * What the CachedImage controller needs from the shared pacing engine. The engine itself lives in
 * `lib/pacing`; this interface keeps the reconciler independent of its internals.
 *
 * @module
 */

/** Pacing limits of one budget (a PullPolicy, or the shared default). */
export interface BudgetLimits {
  maxConcurrent: number;
  minDelayMs: number;
}

/** One image's request for pulls. */
export interface PullRequest {
  /** CachedImage name. */
  image: string;
  priority: number;
  budget: string;
  limits: BudgetLimits;
  /** Nodes needing a pull, newest first, with when each joined. */
  nodes: { name: string; joinedAt: number }[];
}

/** The engine's answer. */
export interface PullGrant {
  /** Nodes on which a pull may start now; the caller must `confirm` or `release` each. */
  grants: string[];
  /** When to ask again if some nodes had to wait. */
  retryAfterMs?: number;
}

/** The shared pacing engine as the controller uses it. */
export interface Pacer {
  request(req: PullRequest): PullGrant;
  /** The Pod for a granted pull was created (or already existed). */
  confirm(image: string, node: string): void;
  /** A granted pull will not start (creation failed). */
  release(image: string, node: string): void;
  /** The image no longer wants pulls (deleted, or everything cached). */
  withdraw(image: string): void;
  /** Images waiting for a slot in `budget`, to wake when one frees. */
  waiting(budget: string): string[];
}
