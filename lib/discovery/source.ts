/**
 * What a discovery source produces: scored images, or a classified failure.
 *
 * @module
 */
import type { DiscoveryError } from "./errors.ts";

/** An image reference as a source reported it, with the source's score (not yet rounded). */
export interface ScoredImage {
  image: string;
  score: number;
}

/** What a source returns when its query succeeded. */
export interface SourceResult {
  images: ScoredImage[];
  /** Things a person writing the policy should know, e.g. series skipped for lack of a label. */
  warnings: string[];
}

/** The outcome of querying one source. */
export interface SourceOutcome {
  /** Stable identifier of the source: its type and index, e.g. `prometheus[0]`. */
  name: string;
  /** Position in `spec.sources`. */
  index: number;
  type: "prometheus" | "registry";
  /** The endpoint or registry URL, without user info or query. */
  endpoint: string;
  /** Whether the query succeeded. */
  healthy: boolean;
  /** The images found; empty when the source failed. */
  images: ScoredImage[];
  /** Why the source failed; set exactly when `healthy` is false. */
  error?: DiscoveryError;
  warnings: string[];
  /** Time spent querying, credentials excluded. */
  latencyMs: number;
}
