/**
 * Scores from a Prometheus query API answer (`/api/v1/query` or `/api/v1/query_range`).
 *
 * @module
 */
import { DiscoveryError } from "./errors.ts";

/** Per-image scores and what was left out. */
export interface PrometheusScores {
  /** Sum of the values of every series carrying the image label, per image. */
  scores: Map<string, number>;
  /** Series left out because they have no (or an empty) `image` label. */
  unlabelled: number;
  /** Values left out because they are NaN or infinite. */
  nonFinite: number;
}

interface Series {
  metric?: Record<string, unknown>;
  value?: unknown;
  values?: unknown;
}

/**
 * Sums the values of each series and the series that share an `image` label. Both result types
 * of series work: `vector` (instant queries) and `matrix` (range queries, or an instant query of
 * a range vector).
 *
 * @throws {DiscoveryError} `InvalidResponse` when the body is not a successful Prometheus answer
 * with series
 */
export function scoresFromPrometheus(body: unknown): PrometheusScores {
  const answer = body as { status?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (typeof answer !== "object" || answer === null) {
    throw new DiscoveryError("InvalidResponse", "the answer is not a JSON object");
  }
  if (answer.status !== "success") {
    const error = prometheusErrorDetail(body);
    throw new DiscoveryError(
      "InvalidResponse",
      error
        ? `Prometheus answered with an error (${error})`
        : 'the answer\'s status is not "success"',
    );
  }
  const type = answer.data?.resultType;
  const result = answer.data?.result;
  if (type !== "vector" && type !== "matrix") {
    throw new DiscoveryError(
      "InvalidResponse",
      `the query returns a ${
        String(type)
      }, not series: aggregate with "by (image)", e.g. count(...) by (image)`,
    );
  }
  if (!Array.isArray(result)) {
    throw new DiscoveryError("InvalidResponse", 'the answer has no "data.result" list');
  }
  const scores = new Map<string, number>();
  let unlabelled = 0;
  let nonFinite = 0;
  for (const series of result as Series[]) {
    const image = series?.metric?.image;
    if (typeof image !== "string" || image === "") {
      unlabelled++;
      continue;
    }
    const samples = type === "vector" ? [series.value] : series.values;
    if (!Array.isArray(samples)) {
      throw new DiscoveryError("InvalidResponse", `a series of ${image} has no values`);
    }
    let sum = 0;
    let counted = 0;
    for (const sample of samples) {
      const value = Array.isArray(sample) ? Number(sample[1]) : NaN;
      if (!Number.isFinite(value)) {
        nonFinite++;
        continue;
      }
      sum += value;
      counted++;
    }
    if (counted > 0) scores.set(image, (scores.get(image) ?? 0) + sum);
  }
  return { scores, unlabelled, nonFinite };
}

/** `errorType: error` of a Prometheus error body, if the body is one. */
export function prometheusErrorDetail(body: unknown): string | undefined {
  const b = body as { status?: unknown; errorType?: unknown; error?: unknown } | null;
  if (typeof b !== "object" || b === null || b.status !== "error") return undefined;
  const parts = [b.errorType, b.error].filter((p) => typeof p === "string" && p !== "");
  return parts.length > 0 ? (parts as string[]).join(": ").slice(0, 500) : "unknown error";
}
