/**
 * The pure core of the CachedImageSet reconciler: the desired children (static entries plus the
 * discovered images, one per canonical reference), their deterministic names and specs, and the
 * difference to the children that exist.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  API_VERSION,
  CACHED_IMAGE,
  CACHED_IMAGE_SET,
  type CachedImageSet,
  type CachedImageSpec,
  canonicalReference,
  DIGEST_PATTERN,
  type DiscoveredImage,
  type ImageEntry,
  splitTagAndDigest,
} from "../api/mod.ts";
import { deepEqual } from "../kube/mod.ts";
import type { RawObject } from "./context.ts";

/** Label on children: the name of their CachedImageSet. */
export const IMAGESET_LABEL = "drop.corewire.io/imageset";
/** Label on children: `static` (from `spec.images`) or `discovered`. */
export const ORIGIN_LABEL = "drop.corewire.io/origin";

const MAX_NAME = 63;
const HASH_LEN = 8;

/** One desired child. */
export interface DesiredChild {
  name: string;
  origin: "static" | "discovered";
  /** The canonical reference, for deduplication and messages. */
  reference: string;
  spec: CachedImageSpec;
}

/** Splits a reported reference into `image`, `tag` and `digest`, keeping it as written. */
export function splitReference(ref: string): ImageEntry {
  const { name, tag, digest } = splitTagAndDigest(ref);
  // A digest pins the content; a tag beside it would be ignored by the runtime anyway, and the
  // API does not allow both.
  if (digest) return { image: name, digest };
  return tag ? { image: name, tag } : { image: name };
}

/**
 * A child's name: `<set>-<repository basename>-<tag>` made DNS-safe and cut to fit, then a hash of
 * the set and the canonical reference. Two images with the same basename from different
 * registries (or tags that differ only in characters the name drops) still get distinct names,
 * and the same set and image always get the same name.
 */
export function childName(setName: string, reference: string): string {
  const hash = createHash("sha256").update(`${setName}\n${reference}`).digest("hex").slice(
    0,
    HASH_LEN,
  );
  const entry = splitReference(reference);
  const base = entry.image.split("/").pop() ?? "image";
  const version = entry.tag ??
    (entry.digest ? entry.digest.replace(/^sha256:/, "").slice(0, 12) : "");
  const readable = [setName, base, version].filter(Boolean).join("-").toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-");
  const room = MAX_NAME - HASH_LEN - 1;
  const prefix = readable.slice(0, room).replace(/^-+|-+$/g, "");
  return `${prefix || "image"}-${hash}`;
}

/** The spec fields a set hands down to every child. */
function propagated(set: CachedImageSet): Omit<CachedImageSpec, "image" | "tag" | "digest"> {
  const s = set.spec;
  const out: Omit<CachedImageSpec, "image" | "tag" | "digest"> = {
    imagePullPolicy: s.imagePullPolicy,
  };
  if (s.imagePullSecrets) out.imagePullSecrets = s.imagePullSecrets;
  if (s.nodeSelector) out.nodeSelector = s.nodeSelector;
  if (s.tolerations) out.tolerations = s.tolerations;
  if (s.policyRef) out.policyRef = s.policyRef;
  return out;
}

/**
 * The desired children: static entries first, then discovered images, deduplicated by canonical
 * reference (a static entry wins over the same discovered image). References that cannot be
 * parsed are returned in `rejected` rather than silently dropped.
 */
export function desiredChildren(
  set: CachedImageSet,
  discovered: readonly DiscoveredImage[],
): { children: DesiredChild[]; rejected: string[] } {
  const setName = set.metadata.name!;
  const seen = new Set<string>();
  const children: DesiredChild[] = [];
  const rejected: string[] = [];
  const add = (entry: ImageEntry, origin: DesiredChild["origin"], raw: string) => {
    let reference: string;
    try {
      reference = canonicalReference(raw);
    } catch {
      rejected.push(raw);
      return;
    }
    if (seen.has(reference)) return;
    seen.add(reference);
    const spec: CachedImageSpec = { image: entry.image, ...propagated(set) };
    if (entry.tag) spec.tag = entry.tag;
    if (entry.digest) spec.digest = entry.digest;
    children.push({ name: childName(setName, reference), origin, reference, spec });
  };
  for (const entry of set.spec.images ?? []) {
    const raw = entry.digest
      ? `${entry.image}@${entry.digest}`
      : entry.tag
      ? `${entry.image}:${entry.tag}`
      : entry.image;
    add(entry, "static", raw);
  }
  for (const d of discovered) {
    const entry = splitReference(d.image);
    if (!validEntry(entry)) {
      rejected.push(d.image);
      continue;
    }
    add(entry, "discovered", d.image);
  }
  return { children, rejected };
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = new RegExp(DIGEST_PATTERN);

/** Whether a discovered reference makes a valid CachedImage spec (the CRD's own rules). */
function validEntry(entry: ImageEntry): boolean {
  if (!/^[^\s@]+$/.test(entry.image) || entry.image.length > 512) return false;
  if (entry.tag !== undefined && !TAG.test(entry.tag)) return false;
  return entry.digest === undefined || DIGEST.test(entry.digest);
}

/** The CachedImage object of a desired child. */
export function childObject(set: CachedImageSet, child: DesiredChild): RawObject {
  return {
    apiVersion: API_VERSION,
    kind: CACHED_IMAGE.kind,
    metadata: {
      name: child.name,
      labels: { [IMAGESET_LABEL]: set.metadata.name!, [ORIGIN_LABEL]: child.origin },
      ownerReferences: [{
        apiVersion: API_VERSION,
        kind: CACHED_IMAGE_SET.kind,
        name: set.metadata.name!,
        uid: set.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    spec: child.spec,
  };
}

/** What to do with the children. */
export interface ChildDiff {
  create: DesiredChild[];
  /** Existing children whose spec or labels differ from the desired ones. */
  update: { child: DesiredChild; current: RawObject }[];
  /** Existing children that are no longer desired. */
  remove: RawObject[];
}

/**
 * Compares desired and existing children. With `keepDiscovered`, discovered children that are not
 * desired are kept (their DiscoveryPolicy is missing or has not answered yet: the last known good
 * list stays).
 */
export function diffChildren(
  desired: readonly DesiredChild[],
  existing: readonly RawObject[],
  keepDiscovered: boolean,
): ChildDiff {
  const byName = new Map(existing.map((o) => [o.metadata!.name!, o]));
  const diff: ChildDiff = { create: [], update: [], remove: [] };
  const wanted = new Set<string>();
  for (const child of desired) {
    wanted.add(child.name);
    const current = byName.get(child.name);
    if (!current) {
      diff.create.push(child);
      continue;
    }
    const labels = current.metadata?.labels ?? {};
    if (
      !sameSpec(current.spec as CachedImageSpec, child.spec) ||
      labels[ORIGIN_LABEL] !== child.origin
    ) {
      diff.update.push({ child, current });
    }
  }
  for (const o of existing) {
    if (wanted.has(o.metadata!.name!)) continue;
    if (keepDiscovered && o.metadata?.labels?.[ORIGIN_LABEL] === "discovered") continue;
    diff.remove.push(o);
  }
  return diff;
}

/** Spec equality after the API server's defaulting (imagePullPolicy defaults to Always). */
function sameSpec(current: CachedImageSpec | undefined, desired: CachedImageSpec): boolean {
  if (!current) return false;
  const norm = (s: CachedImageSpec) => {
    const out: Record<string, unknown> = { ...s, imagePullPolicy: s.imagePullPolicy ?? "Always" };
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    // Children carry no priority of their own; an edited priority is kept.
    delete out.priority;
    return out;
  };
  return deepEqual(norm(current), norm(desired));
}
