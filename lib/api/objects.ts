/**
 * Typed objects of our kinds and the parser that validates them and applies defaults the way the
 * API server applies CRD defaults.
 *
 * @module
 */
import type { z } from "zod";
import type { ObjectMeta } from "kubernetes-types/meta/v1.d.ts";
import { CACHED_IMAGE, type CachedImageSpec, type CachedImageStatus } from "./cached_image.ts";
import {
  CACHED_IMAGE_SET,
  type CachedImageSetSpec,
  type CachedImageSetStatus,
} from "./cached_image_set.ts";
import {
  DISCOVERY_POLICY,
  type DiscoveryPolicySpec,
  type DiscoveryPolicyStatus,
} from "./discovery_policy.ts";
import type { KindInfo } from "./kind.ts";
import { PULL_POLICY, type PullPolicySpec } from "./pull_policy.ts";

/** An object of one of our kinds. */
export interface DropObject<Spec, Status = never> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

/** A CachedImage. */
export type CachedImage = DropObject<CachedImageSpec, CachedImageStatus>;
/** A CachedImageSet. */
export type CachedImageSet = DropObject<CachedImageSetSpec, CachedImageSetStatus>;
/** A DiscoveryPolicy. */
export type DiscoveryPolicy = DropObject<DiscoveryPolicySpec, DiscoveryPolicyStatus>;
/** A PullPolicy. */
export type PullPolicy = DropObject<PullPolicySpec>;

/** One broken rule: where, and what. */
export interface FieldIssue {
  /** Dotted field path such as `spec.sources[0].registry.url`. */
  path: string;
  message: string;
}

/** An object that does not satisfy its schema. */
export class ValidationError extends Error {
  /** Every broken rule. */
  readonly issues: FieldIssue[];
  constructor(kind: string, name: string | undefined, issues: FieldIssue[]) {
    const what = name ? `${kind} "${name}"` : kind;
    super(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
    this.name = "ValidationError";
    this.issues = issues;
  }
}

function formatPath(prefix: string, path: PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  }
  return out;
}

function issuesOf(prefix: string, error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: formatPath(prefix, i.path), message: i.message }));
}

/** Input accepted by the parsers: any object with the usual Kubernetes shape. */
export interface UnknownObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

/**
 * Validates an object of `kind` and returns it with defaults applied. An invalid `status` is
 * dropped rather than rejected: status is ours to rewrite.
 *
 * @throws {ValidationError} naming each field path and the rule it breaks.
 */
export function parseObject<Spec, Status = never>(
  kind: KindInfo,
  obj: UnknownObject,
): DropObject<Spec, Status> {
  const issues: FieldIssue[] = [];
  const expected = `${kind.group}/${kind.version}`;
  if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
    issues.push({ path: "apiVersion", message: `expected "${expected}"` });
  }
  if (obj.kind !== undefined && obj.kind !== kind.kind) {
    issues.push({ path: "kind", message: `expected "${kind.kind}"` });
  }
  const spec = kind.spec.safeParse(obj.spec);
  if (!spec.success) issues.push(...issuesOf("spec", spec.error));
  if (issues.length > 0) throw new ValidationError(kind.kind, obj.metadata?.name, issues);
  const out: DropObject<Spec, Status> = {
    apiVersion: expected,
    kind: kind.kind,
    metadata: obj.metadata ?? {},
    spec: spec.data as Spec,
  };
  if (kind.status && obj.status !== undefined) {
    const status = kind.status.safeParse(obj.status);
    if (status.success) out.status = status.data as Status;
  }
  return out;
}

/** Parses a CachedImage. @throws {ValidationError} */
export function parseCachedImage(obj: UnknownObject): CachedImage {
  return parseObject(CACHED_IMAGE, obj);
}
/** Parses a CachedImageSet. @throws {ValidationError} */
export function parseCachedImageSet(obj: UnknownObject): CachedImageSet {
  return parseObject(CACHED_IMAGE_SET, withEmptySpec(obj));
}
/** Parses a DiscoveryPolicy. @throws {ValidationError} */
export function parseDiscoveryPolicy(obj: UnknownObject): DiscoveryPolicy {
  return parseObject(DISCOVERY_POLICY, obj);
}
/** Parses a PullPolicy. @throws {ValidationError} */
export function parsePullPolicy(obj: UnknownObject): PullPolicy {
  return parseObject(PULL_POLICY, withEmptySpec(obj));
}

/** Kinds whose spec has no required field get `{}` as the CRD's default spec; mirror that. */
function withEmptySpec(obj: UnknownObject): UnknownObject {
  return obj.spec === undefined ? { ...obj, spec: {} } : obj;
}
