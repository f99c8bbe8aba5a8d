/**
 * The served resources by group, version and plural, kept in discovery order, with the
 * version priority kube-apiserver uses to pick a group's preferred version.
 *
 * @module
 */
import type { ResourceDef } from "./resource_def.ts";

/**
 * Kubernetes version priority: GA before beta before alpha, higher numbers first, anything
 * not shaped like a Kubernetes version last, alphabetically.
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return undefined;
    const level = m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1;
    return { major: Number(m[1]), level, minor: Number(m[3] ?? 0) };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa && !pb) return -1;
  if (!pa && pb) return 1;
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.level !== pb.level) return pb.level - pa.level;
  if (pa.major !== pb.major) return pb.major - pa.major;
  return pb.minor - pa.minor;
}

/** The set of served resources. */
export class ResourceRegistry {
  #defs = new Map<string, ResourceDef>();
  #groups: string[] = [];
  #generation = 0;

  /** Increases whenever the set changes, for caches of discovery documents. */
  get generation(): number {
    return this.#generation;
  }

  #id(group: string, version: string, plural: string): string {
    return `${group}/${version}/${plural}`;
  }

  /** Adds or replaces a served resource. */
  add(def: ResourceDef): void {
    this.#defs.set(this.#id(def.group, def.version, def.plural), def);
    if (!this.#groups.includes(def.group)) this.#groups.push(def.group);
    this.#generation++;
  }

  /** Stops serving a resource version. */
  remove(group: string, version: string, plural: string): void {
    if (this.#defs.delete(this.#id(group, version, plural))) {
      if (!this.all().some((d) => d.group === group)) {
        this.#groups = this.#groups.filter((g) => g !== group);
      }
      this.#generation++;
    }
  }

  /** The def serving a path's group, version and plural. */
  get(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.#defs.get(this.#id(group, version, plural));
  }

  /** Every served def. */
  all(): ResourceDef[] {
    return [...this.#defs.values()];
  }

  /** Defs sharing a storage bucket (the versions of one resource). */
  byStorageKey(storageKey: string): ResourceDef[] {
    return this.all().filter((d) => d.storageKey === storageKey);
  }

  /** Groups in registration order ("" is the core group). */
  groups(): string[] {
    return [...this.#groups];
  }

  /** Versions served in a group, preferred first. */
  versions(group: string): string[] {
    const set = new Set(this.all().filter((d) => d.group === group).map((d) => d.version));
    return [...set].sort(compareVersions);
  }

  /** Defs of one group version, in registration order. */
  inGroupVersion(group: string, version: string): ResourceDef[] {
    return this.all().filter((d) => d.group === group && d.version === version);
  }
}
