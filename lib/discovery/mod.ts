/**
 * Image discovery: query Prometheus and OCI registries for the images worth caching, rank them
 * and explain failures with classified reasons. Used by the DiscoveryPolicy controller and the
 * dry-run CLI; it never talks to Kubernetes (the caller reads Secrets and passes their data).
 *
 * ```ts
 * const outcomes = await runSources(policy.spec, { credentialsFor, tokenCache });
 * const { images } = mergeResults(outcomes, policy.spec);
 * ```
 *
 * @module
 */
export { DiscoveryError, type DiscoveryErrorReason, reasonForStatus } from "./errors.ts";
export {
  parseCredentials,
  redact,
  type SecretData,
  secretValues,
  type SourceCredentials,
} from "./credentials.ts";
export type { ScoredImage, SourceOutcome, SourceResult } from "./source.ts";
export {
  checkSpec,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  discoverOnce,
  type DiscoveryRun,
  type RunOptions,
  runSources,
  sourceName,
  type SpecProblem,
} from "./run.ts";
export { type MergeOptions, type MergeResult, mergeResults, roundScore } from "./merge.ts";
export { formatDiscoveryReport, type ReportOptions } from "./report.ts";
export { sourceStatus } from "./status.ts";
export { TokenCache } from "./token_cache.ts";
export { compilePattern } from "./regex.ts";
export { compileImageTemplate, DEFAULT_IMAGE_TEMPLATE } from "./image_template.ts";
export { compareVersions, parseVersion, selectTags } from "./tag_selection.ts";
export { prometheusRequest } from "./prometheus.ts";
