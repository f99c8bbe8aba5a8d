/**
 * Container image references: building the reference to pull from a spec, and normalising
 * references so that `nginx`, `docker.io/nginx:latest` and `docker.io/library/nginx:latest` are
 * recognised as one image.
 *
 * @module
 */

/** The parts of an image reference. */
export interface ImageReference {
  /** Registry host with optional port, e.g. `docker.io` or `localhost:5000`. */
  registry: string;
  /** Repository path, e.g. `library/nginx`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_REGISTRY = "docker.io";

/**
 * Splits `name[:tag][@digest]` as written, without normalising the name. A colon counts as a tag
 * separator only after the last slash (`localhost:5000/app` has no tag).
 */
export function splitTagAndDigest(ref: string): { name: string; tag?: string; digest?: string } {
  let name = ref.trim();
  let digest: string | undefined;
  const at = name.indexOf("@");
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  return { name, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Splits a reference into registry, repository, tag and digest, as the container runtime does. */
export function parseImageReference(ref: string): ImageReference {
  if (ref.trim().length === 0) throw new TypeError("Cannot parse image reference: it is empty");
  const { name: rest, tag, digest } = splitTagAndDigest(ref);
  const firstSlash = rest.indexOf("/");
  const first = firstSlash >= 0 ? rest.slice(0, firstSlash) : "";
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  if (first && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    repository = rest.slice(firstSlash + 1);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") {
    registry = DEFAULT_REGISTRY;
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes("/")) {
    repository = `library/${repository}`;
  }
  if (repository.length === 0) {
    throw new TypeError(`Cannot parse image reference "${ref}": the repository is empty`);
  }
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The fields of a spec that name an image. */
export interface ImageFields {
  image: string;
  tag?: string;
  digest?: string;
}

/**
 * The reference the kubelet is asked to pull. A digest wins over a tag; with neither, the image
 * is used as written (the runtime then assumes `latest` unless it carries its own tag).
 */
export function pullReference(fields: ImageFields): string {
  if (fields.digest) return `${fields.image}@${fields.digest}`;
  if (fields.tag) return `${fields.image}:${fields.tag}`;
  return fields.image;
}

/**
 * The fully qualified form of a reference, used to compare images: registry and `library/`
 * made explicit, `latest` assumed when there is neither tag nor digest.
 */
export function canonicalReference(ref: string): string {
  const p = parseImageReference(ref);
  const base = `${p.registry}/${p.repository}`;
  if (p.digest) return p.tag ? `${base}:${p.tag}@${p.digest}` : `${base}@${p.digest}`;
  return `${base}:${p.tag ?? "latest"}`;
}

/** The digest part of an `imageID` such as `docker.io/library/alpine@sha256:...`. */
export function digestOfImageId(imageId: string): string | undefined {
  const match = /(sha256:[a-f0-9]{64})$/.exec(imageId);
  return match ? match[1] : undefined;
}
