/**
 * PullPolicy: pacing and retry settings shared by the images that reference it.
 *
 * @module
 */
import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { duration, nodeSelector, tolerations, withRules } from "./_schema.ts";
import { AGE_COLUMN, clusterKind } from "./kind.ts";

/** Exponential retry delays after failed pulls. */
export const BackoffConfig = withRules(
  z.object({
    initial: duration(
      'Delay before the first retry after a failure; doubles with each further failure. Default "30s".',
    ).default("30s"),
    max: duration('Upper bound of the retry delay. Default "5m".').default("5m"),
  }).meta({ description: "Exponential retry backoff after failed pulls." }),
  [{
    cel: "duration(self.initial) <= duration(self.max)",
    message: "initial must not be longer than max",
    fieldPath: ".initial",
    check: (b) => parseDuration(b.initial) <= parseDuration(b.max),
  }],
);

/** PullPolicy spec. */
export const PullPolicySpec = z.object({
  maxConcurrentNodes: z.int32().min(1).default(1).meta({
    description:
      "How many nodes may pull at the same time, across all images that reference this policy. Default 1.",
  }),
  minDelayBetweenPulls: duration(
    'Minimum time between two pull starts under this policy, to avoid bursts at the registry. Default "10s".',
  ).default("10s"),
  failureBackoff: BackoffConfig.optional().meta({
    description: "Retry delays after failed pulls. Unset means 30s doubling up to 5m.",
  }),
  repullInterval: duration(
    "How often cached images are pulled again (node by node, paced) to pick up a moved tag. Unset or 0 never re-pulls.",
  ).optional(),
  nodeSelector: nodeSelector(
    "Further restricts the nodes of every image under this policy: a node must match all pairs.",
  ),
  tolerations: tolerations(
    "Tolerations added to the pull Pods of every image under this policy.",
  ),
}).meta({ description: "Pacing and retry behaviour for image pulls." });

/** PullPolicy kind. */
export const PULL_POLICY = clusterKind({
  kind: "PullPolicy",
  plural: "pullpolicies",
  singular: "pullpolicy",
  shortNames: ["pp"],
  description:
    "PullPolicy paces image pulls across nodes: concurrency, spacing between pulls, retry backoff and re-pulls. It has no status.",
  statusSubresource: false,
  printerColumns: [
    { name: "MaxNodes", type: "integer", jsonPath: ".spec.maxConcurrentNodes" },
    { name: "MinDelay", type: "string", jsonPath: ".spec.minDelayBetweenPulls" },
    { name: "RepullInterval", type: "string", jsonPath: ".spec.repullInterval" },
    AGE_COLUMN,
  ],
  spec: PullPolicySpec,
});

/** A PullPolicy spec with defaults applied. */
export type PullPolicySpec = z.output<typeof PullPolicySpec>;
/** Backoff settings with defaults applied. */
export type BackoffConfig = z.output<typeof BackoffConfig>;
