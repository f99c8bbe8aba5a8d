/**
 * A set of node names laid over one ordered list of target nodes: a byte per target, found by
 * the list's name index, plus an ordinary set for the few names outside the list. A plan builds
 * such a set from a status list of thousands of names on every full reconcile; with a `Set`,
 * its growth and hashing were most of the plan.
 *
 * @module
 */

/** The positions of an ordered list of names. */
export function indexNames(names: readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < names.length; i++) if (!index.has(names[i])) index.set(names[i], i);
  return index;
}

/** A set of node names, cheap for the targets of one ordered list. */
export class NodeMarks implements Iterable<string> {
  readonly #names: readonly string[];
  readonly #index: ReadonlyMap<string, number>;
  readonly #marks: Uint8Array;
  readonly #others = new Set<string>();
  #marked = 0;

  /** `index` gives each name of `names` its position (see {@linkcode indexNames}). */
  constructor(names: readonly string[], index: ReadonlyMap<string, number>) {
    this.#names = names;
    this.#index = index;
    this.#marks = new Uint8Array(names.length);
  }

  /** Names in the set. */
  get size(): number {
    return this.#marked + this.#others.size;
  }

  /** Whether `name` is in the set. */
  has(name: string): boolean {
    const i = this.#index.get(name);
    return i === undefined ? this.#others.has(name) : this.#marks[i] === 1;
  }

  /** Whether the target at position `i` of the list is in the set. */
  hasAt(i: number): boolean {
    return this.#marks[i] === 1;
  }

  /** Adds `name`, a target or not. */
  add(name: string): void {
    if (!this.addTarget(name)) this.#others.add(name);
  }

  /** Adds `name` when it is one of the targets; returns whether it is. */
  addTarget(name: string): boolean {
    const i = this.#index.get(name);
    if (i === undefined) return false;
    if (this.#marks[i] === 0) {
      this.#marks[i] = 1;
      this.#marked++;
    }
    return true;
  }

  /** The names in the set that are not targets. */
  others(): ReadonlySet<string> {
    return this.#others;
  }

  /** Targets in list order, then the other names in insertion order. */
  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.#marks.length; i++) if (this.#marks[i] === 1) yield this.#names[i];
    yield* this.#others;
  }
}
