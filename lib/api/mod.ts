/**
 * The `drop.corewire.io/v1alpha1` API: zod schemas of our kinds (the one source of truth), the
 * types inferred from them, the parser that applies defaults, condition helpers, image references
 * and CRD generation.
 *
 * @module
 */
export * from "./kind.ts";
export * from "./kinds.ts";
export * from "./duration.ts";
export * from "./objects.ts";
export * from "./conditions.ts";
export * from "./time.ts";
export * from "./image_ref.ts";
export { crdFileName, crdFor, openApiSchema } from "./crd.ts";
export { DIGEST_PATTERN } from "./_schema.ts";
export {
  CACHED_IMAGE,
  CachedImageSpec,
  CachedImageStatus,
  NodeDigest,
  NodeFailure,
  PolicyReference,
} from "./cached_image.ts";
export {
  CACHED_IMAGE_SET,
  CachedImageSetSpec,
  CachedImageSetStatus,
  DiscoveryPolicyReference,
  ImageEntry,
} from "./cached_image_set.ts";
export {
  DiscoveredImage,
  DISCOVERY_POLICY,
  DiscoveryPolicySpec,
  DiscoveryPolicyStatus,
  DiscoverySource,
  IMAGE_TEMPLATE_PATTERN,
  PrometheusSource,
  RegistrySource,
  SourceStatus,
} from "./discovery_policy.ts";
export { BackoffConfig, PULL_POLICY, PullPolicySpec } from "./pull_policy.ts";
