/**
 * Which tags of a repository a registry source keeps: `tagFilter`, then `topX` newest. The tag
 * list API has no timestamps, so "newest" is semantic-version order when every remaining tag
 * parses as a version, and otherwise the registry's own order (the last tags listed are taken as
 * the newest, as the reference implementation does).
 *
 * Scores: the kept tags score 1 (oldest) to N (newest), N being the number kept, so newer tags
 * rank higher and, with `topX`, the newest tag of every repository scores `topX`.
 *
 * @module
 */

/** A version parsed from a tag such as `v1.10`, `1.2.3` or `2.0.0-rc.1+build.5`. */
export interface Version {
  /** Major, minor and patch as digit strings without leading zeros; missing parts are "0". */
  core: [string, string, string];
  /** Pre-release identifiers; empty for a release. */
  pre: string[];
}

/** A kept tag with its score. */
export interface RankedTag {
  tag: string;
  score: number;
}

/** How tags are selected. */
export interface TagSelection {
  /** Only tags matching this are kept. */
  filter?: RegExp;
  /** Keep at most this many, the newest. */
  topX?: number;
}

const VERSION =
  /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Parses a tag as a version: optional `v`, one to three numbers, optional pre-release and build. */
export function parseVersion(tag: string): Version | undefined {
  const match = VERSION.exec(tag);
  if (match === null) return undefined;
  const num = (s: string | undefined) => (s ?? "0").replace(/^0+(?=\d)/, "");
  return {
    core: [num(match[1]), num(match[2]), num(match[3])],
    pre: match[4] === undefined ? [] : match[4].split("."),
  };
}

/** Orders versions by semantic-version precedence (a pre-release is older than its release). */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const c = compareNumeric(a.core[i], b.core[i]);
    if (c !== 0) return c;
  }
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const c = compareIdentifier(a.pre[i], b.pre[i]);
    if (c !== 0) return c;
  }
  return a.pre.length - b.pre.length;
}

/**
 * Applies the filter, orders the remaining tags oldest to newest and keeps the newest `topX`.
 * Returns them newest first with their scores.
 */
export function selectTags(tags: readonly string[], selection: TagSelection = {}): RankedTag[] {
  const kept = selection.filter ? tags.filter((t) => selection.filter!.test(t)) : [...tags];
  const versions = kept.map(parseVersion);
  let ordered = kept;
  if (kept.length > 0 && versions.every((v) => v !== undefined)) {
    // Equal versions (v1.2 and 1.2.0) keep the registry's order, which makes the sort stable.
    ordered = kept.map((tag, i) => ({ tag, i, v: versions[i]! }))
      .sort((x, y) => compareVersions(x.v, y.v) || x.i - y.i)
      .map((x) => x.tag);
  }
  const count = selection.topX === undefined
    ? ordered.length
    : Math.min(ordered.length, selection.topX);
  const newest = ordered.slice(ordered.length - count).reverse();
  return newest.map((tag, rank) => ({ tag, score: count - rank }));
}

function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareIdentifier(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return compareNumeric(a.replace(/^0+(?=\d)/, ""), b.replace(/^0+(?=\d)/, ""));
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
