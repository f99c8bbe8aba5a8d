/**
 * Building blocks shared by the CRD schemas: descriptions, CEL rules that are enforced both by the
 * API server (through `x-kubernetes-validations`) and by our own parser, and Kubernetes core types.
 *
 * @module
 */
import { z } from "zod";
import { DURATION_PATTERN } from "./duration.ts";

/** A validation rule expressed twice: as CEL for the API server and as a predicate for zod. */
export interface CrossFieldRule<T> {
  /** The CEL expression, evaluated with `self` bound to the object. */
  cel: string;
  /** The message shown when the rule fails. */
  message: string;
  /** The same rule, in TypeScript. */
  check: (value: T) => boolean;
  /** The field the error is reported on, relative to the object (e.g. `.digest`). */
  fieldPath?: string;
}

/** Attaches cross-field rules to an object schema, in both the CRD and the parser. */
export function withRules<S extends z.ZodType>(
  schema: S,
  rules: CrossFieldRule<z.output<S>>[],
): S {
  const refined = schema.check((ctx) => {
    for (const rule of rules) {
      if (!rule.check(ctx.value as z.output<S>)) {
        const path = rule.fieldPath ? [rule.fieldPath.replace(/^\./, "")] : [];
        ctx.issues.push({ code: "custom", message: rule.message, input: ctx.value, path });
      }
    }
  });
  return refined.meta({
    "x-kubernetes-validations": rules.map((r) => ({
      rule: r.cel,
      message: r.message,
      ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
    })),
  }) as S;
}

/** A Kubernetes duration string such as `30s` or `1h30m`. */
export function duration(description: string): z.ZodString {
  return z.string().max(64).regex(new RegExp(DURATION_PATTERN), {
    message:
      'Invalid duration: use a number with a unit (ns, us, ms, s, m, h), e.g. "30s" or "1h30m"',
  }).meta({ description });
}

/** An RFC 3339 timestamp (`metav1.Time`). */
export function time(description: string): z.ZodString {
  return z.string().meta({ description, format: "date-time" });
}

/** A `corev1.LocalObjectReference`. */
export const LocalObjectReference = z.object({
  name: z.string().min(1).max(253).meta({
    description: "Name of the referent, in the namespace where the operator creates pull Pods.",
  }),
}).meta({
  description: "A reference to an object by name in the operator's pod namespace.",
  "x-kubernetes-map-type": "atomic",
});

/** A `corev1.Toleration`, with the semantics of the Kubernetes scheduler. */
export const Toleration = z.object({
  key: z.string().optional().meta({
    description:
      "The taint key the toleration applies to. Empty means all taint keys; then operator must be Exists.",
  }),
  operator: z.enum(["Exists", "Equal"]).optional().meta({
    description:
      "Relationship of key and value: Exists (any value) or Equal (the default, value must match).",
  }),
  value: z.string().optional().meta({
    description: "The taint value the toleration matches when operator is Equal.",
  }),
  effect: z.enum(["", "NoSchedule", "PreferNoSchedule", "NoExecute"]).optional().meta({
    description: "The taint effect to match. Empty matches all effects.",
  }),
  tolerationSeconds: z.int().optional().meta({
    description:
      "For NoExecute taints: how long the toleration lasts once the taint is added. Unset means forever.",
  }),
}).meta({ description: "A toleration of a node taint, as in a Pod spec." });

/** A `metav1.Condition`. */
export const Condition = z.object({
  type: z.string().min(1).max(316).meta({ description: "Type of the condition, e.g. Ready." }),
  status: z.enum(["True", "False", "Unknown"]).meta({ description: "Status of the condition." }),
  observedGeneration: z.int().min(0).optional().meta({
    description: "The metadata.generation the condition was computed from.",
  }),
  lastTransitionTime: time("When the condition last changed status."),
  reason: z.string().min(1).max(1024).meta({
    description: "A CamelCase machine-readable reason for the last transition.",
  }),
  message: z.string().max(32768).meta({ description: "A human-readable explanation." }),
}).meta({ description: "A metav1.Condition: one aspect of the object's current state." });

/** The shape of `status.conditions`: a list keyed by `type`. */
export function conditions(description: string) {
  return z.array(Condition).optional().meta({
    description,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
  });
}

/** `corev1.PullPolicy`. */
export const PullPolicyEnum = z.enum(["Always", "IfNotPresent", "Never"]);

/** A node label selector as a map: every pair must match. */
export function nodeSelector(description: string) {
  return z.record(z.string(), z.string()).optional().meta({ description });
}

/** Tolerations list. */
export function tolerations(description: string) {
  return z.array(Toleration).max(64).optional().meta({ description });
}

/** `metadata` as stored in the typed objects: we only type what we read. */
export const ObjectMeta = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  ownerReferences: z.array(z.looseObject({
    apiVersion: z.string(),
    kind: z.string(),
    name: z.string(),
    uid: z.string(),
    controller: z.boolean().optional(),
    blockOwnerDeletion: z.boolean().optional(),
  })).optional(),
  finalizers: z.array(z.string()).optional(),
});

/** The digest syntax for `sha256` digests. */
export const DIGEST_PATTERN = "^sha256:[a-f0-9]{64}$";
