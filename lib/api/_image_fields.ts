/**
 * The image reference fields shared by CachedImage specs and CachedImageSet entries.
 *
 * @module
 */
import { z } from "zod";
import type { CrossFieldRule } from "./_schema.ts";
import { DIGEST_PATTERN } from "./_schema.ts";

/** `image`: a repository reference without tag or digest. */
export function imageField() {
  return z.string().min(1).max(512).regex(/^[^\s@]+$/, {
    message: "Invalid image: must be a repository reference without spaces or a digest",
  }).meta({
    description:
      'Repository to pull, without tag or digest, e.g. "docker.io/library/nginx" or "registry.example.com/team/app".',
  });
}

/** `tag`: a tag as the OCI distribution spec allows. */
export function tagField() {
  return z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, {
    message: "Invalid tag: use letters, digits, '_', '.' and '-', at most 128 characters",
  }).optional().meta({
    description: 'Tag to pull, e.g. "1.25-alpine" or "latest". Cannot be combined with digest.',
  });
}

/** `digest`: an immutable `sha256:` digest. */
export function digestField() {
  return z.string().regex(new RegExp(DIGEST_PATTERN), {
    message: 'Invalid digest: expected "sha256:" followed by 64 lowercase hex characters',
  }).optional().meta({
    description:
      'Digest to pull, e.g. "sha256:a3ed95ca...". Immutable, for reproducible caches. Cannot be combined with tag.',
  });
}

/** `tag` and `digest` exclude each other. */
export const TAG_XOR_DIGEST: CrossFieldRule<{ tag?: string; digest?: string }> = {
  cel: "!(has(self.tag) && has(self.digest))",
  message: "tag and digest are mutually exclusive: set one of them",
  check: (v) => !(v.tag !== undefined && v.digest !== undefined),
};
