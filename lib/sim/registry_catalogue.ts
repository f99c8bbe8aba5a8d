/**
 * The simulated registry's catalogue: which repositories and tags exist, their digests and sizes,
 * and which hosts fail how. Pure state, shared by the simulated kubelets (pulls) and the OCI
 * distribution endpoint (tag listing).
 *
 * @module
 */
import { parseImageReference } from "../api/mod.ts";
import { sha256Hex, unitFraction } from "./_hash.ts";

/** A manifest as the registry serves it: what a tag or digest resolves to. */
export interface ImageManifest {
  /** Registry host with optional port, as in references: `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path, e.g. `library/alpine`. */
  repository: string;
  /** The tag asked for, when the reference had one. */
  tag?: string;
  /** Manifest digest, `sha256:<64 hex>`. */
  digest: string;
  /** Compressed size of the image in bytes (what a pull transfers). */
  size: number;
}

/**
 * How a host misbehaves. `dns`: the name does not resolve; `connection-refused`; `timeout`: the
 * TCP dial times out; `unavailable`: the registry answers 503; `unauthorized`: it answers 401
 * whatever the credentials.
 */
export type RegistryFault =
  | "dns"
  | "connection-refused"
  | "timeout"
  | "unavailable"
  | "unauthorized";

/** Why a reference cannot be resolved: a host fault, or the repository/tag/digest is unknown. */
export type ResolveFailure = RegistryFault | "not-found";

/** The outcome of {@linkcode RegistryCatalogue.resolve}. */
export type Resolution =
  | { ok: true; manifest: ImageManifest; latencyMs: number }
  | { ok: false; failure: ResolveFailure; latencyMs: number };

/** Options of {@linkcode RegistryCatalogue}. */
export interface RegistryCatalogueOptions {
  /**
   * Every repository and tag not explicitly removed exists, with a digest and size derived from
   * its name (default true), so any reasonable reference can be pulled. With false only what was
   * added exists.
   */
  openWorld?: boolean;
}

interface TagEntry {
  digest: string;
  size: number;
}

interface RepoEntry {
  /** Only the listed tags exist (added with `addRepository`), otherwise defaults apply. */
  closed: boolean;
  removed: boolean;
  tags: Map<string, TagEntry>;
  removedTags: Set<string>;
  /** How often each tag has been moved, so every move yields a fresh digest. */
  generations: Map<string, number>;
}

interface HostEntry {
  latencyMs: number;
  fault?: RegistryFault;
  requireAuth?: boolean;
}

const MB = 1_000_000;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * A mutable registry catalogue. Lookup rules (applied in this order):
 * 1. a host with a DNS label `invalid` or `nonexistent` (also as a dash-separated word, e.g.
 *    `nonexistent-registry`) does not resolve; a host fault set with `setHostFault` applies;
 * 2. hosts beginning with `private.` (or marked with `setHostAuth`) need credentials;
 * 3. a repository containing `does-not-exist`, a tag `notfound`, a removed repository or tag, or
 *    (with `openWorld: false`) anything not added is not found;
 * 4. anything else exists: its digest and size are derived from the name deterministically
 *    unless set explicitly.
 */
export class RegistryCatalogue {
  readonly #openWorld: boolean;
  readonly #repos = new Map<string, RepoEntry>();
  readonly #hosts = new Map<string, HostEntry>();

  constructor(opts: RegistryCatalogueOptions = {}) {
    this.#openWorld = opts.openWorld ?? true;
  }

  /** Resolves a reference as a pull does; `authenticated` says whether credentials were sent. */
  resolve(ref: string, opts: { authenticated?: boolean } = {}): Resolution {
    const parsed = parseImageReference(ref);
    const { registry, repository } = parsed;
    const host = this.#hosts.get(registry);
    const latencyMs = host?.latencyMs ?? 0;
    const hostFailure = this.hostFailure(registry, opts.authenticated ?? false);
    if (hostFailure) return { ok: false, failure: hostFailure, latencyMs };
    if (parsed.digest) {
      const manifest = this.#byDigest(registry, repository, parsed.digest);
      if (!manifest) return { ok: false, failure: "not-found", latencyMs };
      return { ok: true, manifest: { ...manifest, tag: parsed.tag }, latencyMs };
    }
    const tag = parsed.tag ?? "latest";
    const entry = this.#tag(registry, repository, tag);
    if (!entry) return { ok: false, failure: "not-found", latencyMs };
    return {
      ok: true,
      manifest: { registry, repository, tag, digest: entry.digest, size: entry.size },
      latencyMs,
    };
  }

  /**
   * The failure every request to `host` meets before any repository is looked at, or undefined.
   * `host` is a registry as in references (`docker.io`, `example.com:5000`).
   */
  hostFailure(host: string, authenticated: boolean): RegistryFault | undefined {
    if (isUnresolvableHost(host)) return "dns";
    const entry = this.#hosts.get(host);
    if (entry?.fault) return entry.fault;
    if (this.requiresAuth(host) && !authenticated) return "unauthorized";
    return undefined;
  }

  /** Simulated latency of every request to `host`, in milliseconds. */
  hostLatencyMs(host: string): number {
    return this.#hosts.get(host)?.latencyMs ?? 0;
  }

  /** Whether pulls from `host` need credentials. */
  requiresAuth(host: string): boolean {
    return this.#hosts.get(host)?.requireAuth ?? host.startsWith("private.");
  }

  /** The tags of a repository in registry order (lexical), or undefined when it does not exist. */
  listTags(image: string): string[] | undefined {
    const { registry, repository } = repoOf(image);
    if (isMissingRepository(repository)) return undefined;
    const repo = this.#repos.get(repoKey(registry, repository));
    if (repo?.removed) return undefined;
    const tags = new Set<string>();
    if (!repo?.closed) {
      if (!this.#openWorld && !repo) return undefined;
      if (this.#openWorld) { for (const t of defaultTags(registry, repository)) tags.add(t); }
    }
    for (const t of repo?.tags.keys() ?? []) tags.add(t);
    for (const t of repo?.removedTags ?? []) tags.delete(t);
    return [...tags].filter((t) => t !== "notfound").sort();
  }

  /** Repositories of a host that were added or changed explicitly, sorted. */
  listRepositories(host: string): string[] {
    const prefix = `${host}/`;
    const out: string[] = [];
    for (const [key, repo] of this.#repos) {
      if (key.startsWith(prefix) && !repo.removed) out.push(key.slice(prefix.length));
    }
    return out.sort();
  }

  /** Adds a repository holding exactly `tags` (no default tags), replacing what it had. */
  addRepository(image: string, tags: string[] = []): void {
    const { registry, repository } = repoOf(image);
    const repo = this.#repo(registry, repository);
    repo.closed = true;
    repo.removed = false;
    repo.tags.clear();
    repo.removedTags.clear();
    for (const tag of tags) this.#setTag(registry, repository, repo, tag);
  }

  /** Removes a repository: every reference into it becomes not found. */
  removeRepository(image: string): void {
    const { registry, repository } = repoOf(image);
    const repo = this.#repo(registry, repository);
    repo.removed = true;
    repo.tags.clear();
  }

  /**
   * Points `tag` at a manifest: the given digest and size, or the tag's current one (derived
   * from the name) when omitted. Creates the repository if needed. Returns the manifest.
   */
  setTag(image: string, tag: string, opts: { digest?: string; size?: number } = {}): ImageManifest {
    const { registry, repository } = repoOf(image);
    if (opts.digest !== undefined && !SHA256_DIGEST.test(opts.digest)) {
      throw new TypeError(
        `Cannot set tag "${tag}" of "${image}": digest "${opts.digest}" is not sha256:<64 hex>`,
      );
    }
    const repo = this.#repo(registry, repository);
    repo.removed = false;
    repo.removedTags.delete(tag);
    const entry = this.#setTag(registry, repository, repo, tag, opts);
    return { registry, repository, tag, ...entry };
  }

  /** Moves `tag` to a new digest (a new build was pushed), with a slightly different size. */
  moveTag(image: string, tag: string): ImageManifest {
    const { registry, repository } = repoOf(image);
    const repo = this.#repo(registry, repository);
    repo.removed = false;
    repo.removedTags.delete(tag);
    repo.generations.set(tag, (repo.generations.get(tag) ?? 0) + 1);
    const entry = this.#setTag(registry, repository, repo, tag);
    return { registry, repository, tag, ...entry };
  }

  /** Removes one tag; pulls of it become not found. */
  removeTag(image: string, tag: string): void {
    const { registry, repository } = repoOf(image);
    const repo = this.#repo(registry, repository);
    repo.tags.delete(tag);
    repo.removedTags.add(tag);
  }

  /** Adds latency (milliseconds of simulated time) to every request to `host`. */
  setHostLatency(host: string, latencyMs: number): void {
    this.#host(host).latencyMs = Math.max(0, latencyMs);
  }

  /** Makes every request to `host` fail with `fault`; undefined clears it. */
  setHostFault(host: string, fault: RegistryFault | undefined): void {
    this.#host(host).fault = fault;
  }

  /** Overrides whether `host` needs credentials (default: hosts beginning with `private.`). */
  setHostAuth(host: string, required: boolean): void {
    this.#host(host).requireAuth = required;
  }

  #tag(registry: string, repository: string, tag: string): TagEntry | undefined {
    if (isMissingRepository(repository) || tag === "notfound") return undefined;
    const repo = this.#repos.get(repoKey(registry, repository));
    if (repo?.removed || repo?.removedTags.has(tag)) return undefined;
    const explicit = repo?.tags.get(tag);
    if (explicit) return explicit;
    if (repo?.closed || !this.#openWorld) return undefined;
    return derivedEntry(registry, repository, tag, 0);
  }

  #byDigest(registry: string, repository: string, digest: string): ImageManifest | undefined {
    if (isMissingRepository(repository) || !SHA256_DIGEST.test(digest)) return undefined;
    const repo = this.#repos.get(repoKey(registry, repository));
    if (repo?.removed) return undefined;
    for (const entry of repo?.tags.values() ?? []) {
      if (entry.digest === digest) return { registry, repository, digest, size: entry.size };
    }
    if (!this.#openWorld) return undefined;
    // Any digest of an existing repository is taken to exist: old builds stay pullable by digest.
    return { registry, repository, digest, size: sizeOf(registry, repository, digest) };
  }

  #setTag(
    registry: string,
    repository: string,
    repo: RepoEntry,
    tag: string,
    opts: { digest?: string; size?: number } = {},
  ): TagEntry {
    const derived = derivedEntry(registry, repository, tag, repo.generations.get(tag) ?? 0);
    const entry = { digest: opts.digest ?? derived.digest, size: opts.size ?? derived.size };
    repo.tags.set(tag, entry);
    return entry;
  }

  #repo(registry: string, repository: string): RepoEntry {
    const key = repoKey(registry, repository);
    let repo = this.#repos.get(key);
    if (!repo) {
      repo = {
        closed: false,
        removed: false,
        tags: new Map(),
        removedTags: new Set(),
        generations: new Map(),
      };
      this.#repos.set(key, repo);
    }
    return repo;
  }

  #host(host: string): HostEntry {
    let entry = this.#hosts.get(host);
    if (!entry) this.#hosts.set(host, entry = { latencyMs: 0 });
    return entry;
  }
}

/** Whether a registry host (with optional port) is taken not to resolve in DNS. */
export function isUnresolvableHost(host: string): boolean {
  const hostname = hostnameOf(host);
  return hostname.split(".").some((label) =>
    label.split("-").some((word) => word === "invalid" || word === "nonexistent")
  );
}

/** The host name of `host[:port]` (brackets of IPv6 literals kept). */
export function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

/** The image digest and size a tag has by default; `generation` counts moves of the tag. */
function derivedEntry(
  registry: string,
  repository: string,
  tag: string,
  generation: number,
): TagEntry {
  const digest = `sha256:${sha256Hex(`${registry}/${repository}:${tag}#${generation}`)}`;
  return { digest, size: sizeOf(registry, repository, digest) };
}

/**
 * Realistic sizes: a base per repository, log-uniform between 20 MB and 600 MB, varied by up to
 * 15 % per build so that a moved tag has a different size.
 */
function sizeOf(registry: string, repository: string, digest: string): number {
  const base = 20 * MB * 30 ** unitFraction(`${registry}/${repository}`);
  const variation = 0.85 + 0.3 * unitFraction(digest);
  return Math.round(base * variation);
}

/** The tags an open-world repository lists by default: a few semantic versions and `latest`. */
function defaultTags(registry: string, repository: string): string[] {
  const seed = unitFraction(`tags:${registry}/${repository}`);
  const count = 3 + Math.floor(seed * 6);
  const major = 1 + Math.floor(seed * 3);
  const tags = ["latest"];
  for (let i = 0; i < count; i++) tags.push(`${major}.${Math.floor(i / 3)}.${i % 3}`);
  return tags;
}

function isMissingRepository(repository: string): boolean {
  return repository.includes("does-not-exist");
}

function repoOf(image: string): { registry: string; repository: string } {
  const { registry, repository } = parseImageReference(image);
  return { registry, repository };
}

function repoKey(registry: string, repository: string): string {
  return `${registry}/${repository}`;
}
