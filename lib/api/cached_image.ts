/**
 * CachedImage: one image that should be present on every matching node.
 *
 * @module
 */
import { z } from "zod";
import {
  conditions,
  LocalObjectReference,
  nodeSelector,
  PullPolicyEnum,
  time,
  tolerations,
  withRules,
} from "./_schema.ts";
import { digestField, imageField, TAG_XOR_DIGEST, tagField } from "./_image_fields.ts";
import { AGE_COLUMN, clusterKind, READY_MESSAGE_COLUMN, READY_REASON_COLUMN } from "./kind.ts";

/** A reference to a PullPolicy. */
export const PolicyReference = z.object({
  name: z.string().min(1).max(253).meta({ description: "Name of the PullPolicy." }),
}).meta({ description: "A reference to a PullPolicy by name." });

/** Fields a CachedImageSet propagates to its children. */
export const propagatedFields = {
  imagePullPolicy: PullPolicyEnum.default("Always").meta({
    description:
      "When the kubelet contacts the registry. Always (default): resolve the tag again even if present. IfNotPresent: skip nodes that already hold the tag. Never: only report images already on the node.",
  }),
  imagePullSecrets: z.array(LocalObjectReference).max(32).optional().meta({
    description:
      'Secrets of type kubernetes.io/dockerconfigjson, in the namespace of the pull Pods (default "drop-system"), used to pull from private registries.',
  }),
  nodeSelector: nodeSelector(
    "Nodes to cache on: a node must carry every label pair. Unset targets every node.",
  ),
  tolerations: tolerations(
    "Tolerations for tainted nodes. A node is targeted only when all its NoSchedule and NoExecute taints are tolerated.",
  ),
  policyRef: PolicyReference.optional().meta({
    description:
      "The PullPolicy that paces this image. Unset uses the built-in default (1 node at a time, 10s apart, backoff 30s to 5m).",
  }),
};

/** A node whose last pull failed for a node-local reason. */
export const NodeFailure = z.object({
  node: z.string().meta({ description: "Node name." }),
  failures: z.int32().meta({ description: "Consecutive failed attempts on this node." }),
  retryAt: time("When this node is tried again."),
  reason: z.string().optional().meta({ description: "Kubelet reason of the last failure." }),
  message: z.string().optional().meta({ description: "Cleaned message of the last failure." }),
}).meta({ description: "Failure state of one node." });

/** A node holding a digest other than `resolvedDigest`. */
export const NodeDigest = z.object({
  node: z.string().meta({ description: "Node name." }),
  digest: z.string().meta({ description: "The digest the node reported." }),
}).meta({ description: "The digest one node holds." });

/** CachedImage spec. */
export const CachedImageSpec = withRules(
  z.object({
    image: imageField(),
    tag: tagField(),
    digest: digestField(),
    ...propagatedFields,
    priority: z.int32().optional().meta({
      description:
        "Pull order hint: lower values are pulled first; equal priorities go by name. Unset counts as 0.",
    }),
  }).meta({ description: "The image to cache and where." }),
  [TAG_XOR_DIGEST],
);

/** CachedImage status. */
export const CachedImageStatus = z.object({
  observedGeneration: z.int().optional().meta({
    description: "The metadata.generation this status was computed from.",
  }),
  phase: z.enum(["Pending", "Pulling", "Ready", "Degraded"]).optional().meta({
    description: "Summary: Pending, Pulling, Ready or Degraded.",
  }),
  ready: z.string().optional().meta({
    description: 'Cached nodes over targeted nodes, e.g. "3/5".',
  }),
  resolvedDigest: z.string().optional().meta({
    description: "The manifest digest the nodes reported after pulling (sha256:...).",
  }),
  nodesTargeted: z.int32().optional().meta({ description: "Nodes that should hold the image." }),
  nodesReady: z.int32().optional().meta({ description: "Nodes that hold the image." }),
  nodesPulling: z.int32().optional().meta({ description: "Nodes pulling the image right now." }),
  cachedNodes: z.array(z.string()).optional().meta({
    description: "Names of the nodes that hold the image.",
  }),
  consecutiveFailures: z.int32().optional().meta({
    description: "Failed attempts since the last success; drives the retry backoff.",
  }),
  lastPulledAt: time("When a pull last succeeded.").optional(),
  lastAttemptedAt: time("When a pull was last started.").optional(),
  conditions: conditions("Ready and PullProgress conditions."),
  nodesFailed: z.int32().optional().meta({
    description: "Target nodes whose last pull failed and that wait for a retry.",
  }),
  pullReference: z.string().optional().meta({
    description:
      "The image reference cachedNodes hold. When the spec names another image, every node pulls again.",
  }),
  nextRetryAt: time(
    "While the image itself fails (registry, name, credentials): when pulls are tried again.",
  ).optional(),
  nodeFailures: z.array(NodeFailure).max(5000).optional().meta({
    description: "Nodes whose last pull failed for a node-local reason, with their own backoff.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["node"],
  }),
  nodeDigests: z.array(NodeDigest).max(5000).optional().meta({
    description:
      "Nodes that reported a digest other than resolvedDigest (the tag moved between their pulls).",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["node"],
  }),
  repullPending: z.array(z.string()).optional().meta({
    description: "Cached nodes still to re-pull in the current repullInterval round.",
  }),
  lastRepullAt: time("When the current or last re-pull round started.").optional(),
}).meta({ description: "Observed state of the cache." });

/** CachedImage kind. */
export const CACHED_IMAGE = clusterKind({
  kind: "CachedImage",
  plural: "cachedimages",
  singular: "cachedimage",
  shortNames: ["ci"],
  description: "CachedImage keeps one container image pulled on every matching node.",
  statusSubresource: true,
  printerColumns: [
    { name: "Image", type: "string", jsonPath: ".spec.image" },
    { name: "Tag", type: "string", jsonPath: ".spec.tag" },
    READY_REASON_COLUMN,
    { name: "Ready", type: "string", jsonPath: ".status.ready" },
    AGE_COLUMN,
    { name: "Digest", type: "string", jsonPath: ".status.resolvedDigest", priority: 1 },
    {
      name: "Set",
      type: "string",
      jsonPath: ".metadata.labels.drop\\.corewire\\.io/imageset",
      description: "Parent CachedImageSet",
      priority: 1,
    },
    READY_MESSAGE_COLUMN,
    { name: "Policy", type: "string", jsonPath: ".spec.policyRef.name", priority: 1 },
  ],
  spec: CachedImageSpec,
  status: CachedImageStatus,
});

/** A CachedImage spec with defaults applied. */
export type CachedImageSpec = z.output<typeof CachedImageSpec>;
/** Failure state of one node. */
export type NodeFailure = z.output<typeof NodeFailure>;
/** A CachedImage status. */
export type CachedImageStatus = z.output<typeof CachedImageStatus>;
