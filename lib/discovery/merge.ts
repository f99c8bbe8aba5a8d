/**
 * Turning the outcomes of all sources into `status.discoveredImages`: keep the highest score of
 * each image across sources, apply `imageFilter`, rank and cap at `maxImages`.
 *
 * @module
 */
import { canonicalReference, type DiscoveredImage } from "../api/mod.ts";
import { compilePattern } from "./regex.ts";
import type { SourceOutcome } from "./source.ts";

/** How results are merged. */
export interface MergeOptions {
  /** Only images whose reference (as reported) matches this regular expression are kept. */
  imageFilter?: string;
  /** At most this many images are returned. */
  maxImages: number;
}

/** The merged ranking. */
export interface MergeResult {
  /** Highest score first, then by reference; at most `maxImages`. */
  images: DiscoveredImage[];
  /** Distinct images that passed the filter, before the cap. */
  candidates: number;
  /** Reported references the filter removed. */
  filteredOut: number;
}

/**
 * Merges the images of the healthy outcomes. Two references naming the same image
 * (`nginx` and `docker.io/library/nginx:latest`) count once: the higher score wins, and on a
 * tie the earlier source; the winner's reference is kept as reported. Scores are rounded to
 * integers, as the API stores int64.
 *
 * @throws {DiscoveryError} `InvalidSpec` when `imageFilter` is not a valid regular expression
 */
export function mergeResults(
  outcomes: readonly SourceOutcome[],
  options: MergeOptions,
): MergeResult {
  const filter = options.imageFilter === undefined || options.imageFilter === ""
    ? undefined
    : compilePattern(options.imageFilter, "imageFilter");
  const best = new Map<string, DiscoveredImage>();
  let filteredOut = 0;
  const ordered = [...outcomes].sort((a, b) => a.index - b.index);
  for (const outcome of ordered) {
    if (!outcome.healthy) continue;
    for (const { image, score } of outcome.images) {
      if (filter !== undefined && !filter.test(image)) {
        filteredOut++;
        continue;
      }
      const key = identity(image);
      const rounded = roundScore(score);
      const current = best.get(key);
      if (current === undefined || rounded > current.score) {
        best.set(key, { image, score: rounded, source: outcome.name });
      }
    }
  }
  const ranked = [...best.values()].sort((a, b) =>
    b.score - a.score || (a.image < b.image ? -1 : a.image > b.image ? 1 : 0)
  );
  return {
    images: ranked.slice(0, Math.max(0, options.maxImages)),
    candidates: ranked.length,
    filteredOut,
  };
}

/** Rounds to the nearest integer within the range a JSON number holds exactly. */
export function roundScore(score: number): number {
  const rounded = Math.round(score);
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(-Number.MAX_SAFE_INTEGER, rounded));
}

function identity(image: string): string {
  try {
    return canonicalReference(image);
  } catch {
    // Not parseable as a reference (a source may report anything): compare it as written.
    return image;
  }
}
