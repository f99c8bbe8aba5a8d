/**
 * A node's container image store as containerd keeps it: images by digest, each with repo
 * digests and repo tags; a tag names one image at a time.
 *
 * @module
 */
import type { ContainerImage } from "kubernetes-types/core/v1.d.ts";
import { parseImageReference } from "../api/mod.ts";
import type { ImageManifest } from "./registry_catalogue.ts";

/** The kubelet's `--node-status-max-images` default. */
export const NODE_STATUS_MAX_IMAGES = 50;
/** The kubelet reports at most this many names per image. */
const MAX_NAMES_PER_IMAGE = 5;

interface StoredImage {
  digest: string;
  size: number;
  repoDigests: Set<string>;
  repoTags: Set<string>;
}

/** One image of the store, as tests and the kubelet see it. */
export interface StoredImageInfo {
  digest: string;
  size: number;
  repoDigests: string[];
  repoTags: string[];
}

/** The images on one node. Every change bumps {@linkcode ImageStore.version}. */
export class ImageStore {
  readonly #byDigest = new Map<string, StoredImage>();
  readonly #byTag = new Map<string, string>();
  #version = 0;

  /** Increases with every change, so status writers can tell whether the list changed. */
  get version(): number {
    return this.#version;
  }

  /** Number of distinct images. */
  get size(): number {
    return this.#byDigest.size;
  }

  /**
   * The image a reference names on this node, or undefined: a tag reference by its fully
   * qualified `repo:tag`, a digest reference by `repo@digest`.
   */
  find(ref: string): StoredImageInfo | undefined {
    const p = parseImageReference(ref);
    const repo = `${p.registry}/${p.repository}`;
    let image: StoredImage | undefined;
    if (p.digest) {
      image = this.#byDigest.get(p.digest);
      if (image && !image.repoDigests.has(`${repo}@${p.digest}`)) image = undefined;
    } else {
      const digest = this.#byTag.get(`${repo}:${p.tag ?? "latest"}`);
      image = digest ? this.#byDigest.get(digest) : undefined;
    }
    return image && info(image);
  }

  /** Whether the image a reference names is present. */
  has(ref: string): boolean {
    return this.find(ref) !== undefined;
  }

  /**
   * Records a pulled image. A tag that named another image moves to this one (the old image
   * keeps its repo digest, as after `ctr image pull` of a moved tag). Returns the image ID the
   * kubelet reports, `<registry>/<repository>@<digest>`.
   */
  add(manifest: ImageManifest): string {
    const repo = `${manifest.registry}/${manifest.repository}`;
    const repoDigest = `${repo}@${manifest.digest}`;
    let image = this.#byDigest.get(manifest.digest);
    if (!image) {
      image = {
        digest: manifest.digest,
        size: manifest.size,
        repoDigests: new Set(),
        repoTags: new Set(),
      };
      this.#byDigest.set(manifest.digest, image);
    }
    image.repoDigests.add(repoDigest);
    if (manifest.tag) {
      const tagName = `${repo}:${manifest.tag}`;
      const previous = this.#byTag.get(tagName);
      if (previous && previous !== manifest.digest) {
        this.#byDigest.get(previous)?.repoTags.delete(tagName);
      }
      this.#byTag.set(tagName, manifest.digest);
      image.repoTags.add(tagName);
    }
    this.#version++;
    return repoDigest;
  }

  /** Removes an image by digest (garbage collection); returns whether it was there. */
  remove(digest: string): boolean {
    const image = this.#byDigest.get(digest);
    if (!image) return false;
    for (const tag of image.repoTags) this.#byTag.delete(tag);
    this.#byDigest.delete(digest);
    this.#version++;
    return true;
  }

  /** Every image, largest first. */
  list(): StoredImageInfo[] {
    return [...this.#byDigest.values()].sort(bySizeDescending).map(info);
  }

  /**
   * `status.images` as the kubelet reports it: largest first, at most `max` images, each named
   * by its repo digests then its repo tags (at most five names).
   */
  nodeStatusImages(max = NODE_STATUS_MAX_IMAGES): ContainerImage[] {
    return [...this.#byDigest.values()].sort(bySizeDescending).slice(0, max).map((image) => ({
      names: [...image.repoDigests, ...image.repoTags].slice(0, MAX_NAMES_PER_IMAGE),
      sizeBytes: image.size,
    }));
  }
}

function bySizeDescending(a: StoredImage, b: StoredImage): number {
  return b.size - a.size || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
}

function info(image: StoredImage): StoredImageInfo {
  return {
    digest: image.digest,
    size: image.size,
    repoDigests: [...image.repoDigests],
    repoTags: [...image.repoTags],
  };
}
