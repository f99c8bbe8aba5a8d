/**
 * DiscoveryPolicy: finds the images worth caching from Prometheus usage data and registry tag lists.
 *
 * @module
 */
import { z } from "zod";
import { conditions, duration, LocalObjectReference, time, withRules } from "./_schema.ts";
import { AGE_COLUMN, clusterKind, READY_MESSAGE_COLUMN, READY_REASON_COLUMN } from "./kind.ts";

/** The only template actions an `imageTemplate` may contain. */
export const IMAGE_TEMPLATE_PATTERN = "^([^{}]|\\{\\{\\s*\\.(Registry|Repository|Tag)\\s*\\}\\})*$";

/** A Prometheus step: a Prometheus duration (`5m`, `1h30m`) or a number of seconds. */
const STEP_PATTERN = "^(([0-9]+(ms|s|m|h|d|w|y))+|[0-9]+(\\.[0-9]+)?)$";

/** Query settings for a Prometheus-compatible API. */
export const PrometheusSource = z.object({
  endpoint: z.url({ protocol: /^https?$/, message: "Invalid endpoint: expected an http(s) URL" })
    .meta({
      description:
        'Base URL of a Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics); a path such as "/prometheus" is kept.',
    }),
  query: z.string().min(1).meta({
    description:
      'PromQL expression. Each result series must carry an "image" label (the image reference); its value is the score.',
  }),
  lookback: duration(
    "When set, a range query over [now-lookback, now] is summed per image; unset means an instant query.",
  ).optional(),
  step: z.string().regex(new RegExp(STEP_PATTERN), {
    message: 'Invalid step: use a Prometheus duration such as "5m" or a number of seconds',
  }).default("5m").meta({ description: 'Resolution of range queries. Default "5m".' }),
}).meta({ description: "Discovery from Prometheus usage metrics." });

/** Tag listing settings for an OCI registry. */
export const RegistrySource = z.object({
  url: z.url({ protocol: /^https?$/, message: "Invalid url: expected an http(s) URL" }).meta({
    description: 'Registry base URL without a repository, e.g. "https://ghcr.io".',
  }),
  repositories: z.array(z.string().min(1).max(255)).min(1).max(100).meta({
    description: 'Repositories whose tags are listed, e.g. ["team/app"].',
  }),
  tagFilter: z.string().optional().meta({
    description: 'Regular expression a tag must match to be discovered, e.g. "^v[0-9]+\\\\.".',
  }),
  topX: z.int32().min(1).optional().meta({
    description:
      "Tags kept per repository after tagFilter: the newest by semantic version where tags parse as versions, else the last ones the registry lists.",
  }),
  imageTemplate: z.string().regex(new RegExp(IMAGE_TEMPLATE_PATTERN), {
    message: "Invalid imageTemplate: only {{.Registry}}, {{.Repository}} and {{.Tag}} are allowed",
  }).optional().meta({
    description:
      'How an image reference is built from a tag. Only {{.Registry}} (host[:port]), {{.Repository}} and {{.Tag}} are available. Default "{{.Registry}}/{{.Repository}}:{{.Tag}}".',
  }),
}).meta({ description: "Discovery from an OCI registry's tag lists." });

/** One discovery backend. */
export const DiscoverySource = withRules(
  z.object({
    type: z.enum(["prometheus", "registry"]).meta({
      description: 'Backend type: "prometheus" or "registry".',
    }),
    prometheus: PrometheusSource.optional(),
    registry: RegistrySource.optional(),
    secretRef: LocalObjectReference.optional().meta({
      description:
        "Secret in the operator's pod namespace with credentials. Keys: token, username, password, ca.crt, tls.crt, tls.key, headers.<Name>.",
    }),
  }).meta({ description: "One discovery backend; set exactly the block its type names." }),
  [{
    cel:
      "self.type == 'prometheus' ? (has(self.prometheus) && !has(self.registry)) : (has(self.registry) && !has(self.prometheus))",
    message: "set exactly the block named by type (prometheus or registry)",
    check: (s) =>
      s.type === "prometheus"
        ? s.prometheus !== undefined && s.registry === undefined
        : s.registry !== undefined && s.prometheus === undefined,
  }],
);

/** DiscoveryPolicy spec. */
export const DiscoveryPolicySpec = z.object({
  sources: z.array(DiscoverySource).min(1).max(20).meta({
    description: "Backends to query; results are merged and ranked together.",
  }),
  imageFilter: z.string().optional().meta({
    description: "Regular expression an image reference must match to be kept.",
  }),
  syncInterval: duration('How often the sources are queried. Default "30m".').default("30m"),
  maxImages: z.int32().min(1).default(50).meta({
    description: "At most this many images are kept, highest scores first. Default 50.",
  }),
}).meta({ description: "Where to discover images and how many to keep." });

/** A discovered image. */
export const DiscoveredImage = z.object({
  image: z.string().meta({ description: "Full image reference." }),
  score: z.int().meta({ description: "Ranking score; higher is more relevant." }),
  source: z.string().meta({ description: "The source that produced the image." }),
}).meta({ description: "One discovered image with its score." });

/** Per-source health, an addition of ours. */
export const SourceStatus = z.object({
  name: z.string().meta({ description: "Source identifier, e.g. prometheus[0]." }),
  healthy: z.boolean().meta({ description: "Whether the last query succeeded." }),
  reason: z.string().optional().meta({ description: "Failure reason, e.g. DNSError." }),
  message: z.string().optional().meta({ description: "Failure details." }),
  images: z.int32().optional().meta({ description: "Images the last successful query returned." }),
  latencySeconds: z.string().optional().meta({ description: "Duration of the last query." }),
  lastSuccessTime: time("When the source last answered successfully.").optional(),
}).meta({ description: "Health of one source." });

/** DiscoveryPolicy status. */
export const DiscoveryPolicyStatus = z.object({
  observedGeneration: z.int().optional().meta({
    description: "The metadata.generation this status was computed from.",
  }),
  lastSyncTime: time("When the sources were last queried successfully.").optional(),
  discoveredImages: z.array(DiscoveredImage).optional().meta({
    description: "The ranked images, at most maxImages. Kept as last known good when sources fail.",
  }),
  imageCount: z.int32().optional().meta({ description: "Number of discovered images." }),
  sourceCount: z.int32().optional().meta({ description: "Number of configured sources." }),
  sources: z.array(SourceStatus).optional().meta({ description: "Health of each source." }),
  conditions: conditions("The Ready condition with the sync outcome."),
}).meta({ description: "Discovery results and source health." });

/** DiscoveryPolicy kind. */
export const DISCOVERY_POLICY = clusterKind({
  kind: "DiscoveryPolicy",
  plural: "discoverypolicies",
  singular: "discoverypolicy",
  shortNames: ["dp"],
  description:
    "DiscoveryPolicy ranks images from Prometheus usage metrics and registry tag lists for CachedImageSets to cache.",
  statusSubresource: true,
  printerColumns: [
    READY_REASON_COLUMN,
    { name: "Sources", type: "integer", jsonPath: ".status.sourceCount" },
    { name: "Images", type: "integer", jsonPath: ".status.imageCount" },
    { name: "LastSync", type: "date", jsonPath: ".status.lastSyncTime" },
    READY_MESSAGE_COLUMN,
    AGE_COLUMN,
  ],
  spec: DiscoveryPolicySpec,
  status: DiscoveryPolicyStatus,
});

/** A DiscoveryPolicy spec with defaults applied. */
export type DiscoveryPolicySpec = z.output<typeof DiscoveryPolicySpec>;
/** A DiscoveryPolicy status. */
export type DiscoveryPolicyStatus = z.output<typeof DiscoveryPolicyStatus>;
/** One source with defaults applied. */
export type DiscoverySource = z.output<typeof DiscoverySource>;
/** Prometheus source settings. */
export type PrometheusSource = z.output<typeof PrometheusSource>;
/** Registry source settings. */
export type RegistrySource = z.output<typeof RegistrySource>;
/** A discovered image. */
export type DiscoveredImage = z.output<typeof DiscoveredImage>;
/** Health of one source. */
export type SourceStatus = z.output<typeof SourceStatus>;
