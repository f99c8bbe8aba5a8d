/**
 * Request counters by verb and resource, status code and user, so benchmarks can report the
 * API load a controller causes.
 *
 * @module
 */
import type { Counters, CounterSnapshot } from "./options.ts";

/** The counters of one server. */
export class RequestCounters implements Counters {
  #total = 0;
  #byVerb = new Map<string, Map<string, number>>();
  #byCode = new Map<string, number>();
  #byUser = new Map<string, number>();
  #openWatches: () => number;

  constructor(openWatches: () => number) {
    this.#openWatches = openWatches;
  }

  /** Counts one request. */
  count(verb: string, resource: string, user: string): void {
    this.#total++;
    let m = this.#byVerb.get(verb);
    if (!m) {
      m = new Map();
      this.#byVerb.set(verb, m);
    }
    m.set(resource, (m.get(resource) ?? 0) + 1);
    this.#byUser.set(user, (this.#byUser.get(user) ?? 0) + 1);
  }

  /** Counts the status code of an answered request. */
  code(code: number): void {
    const k = String(code);
    this.#byCode.set(k, (this.#byCode.get(k) ?? 0) + 1);
  }

  snapshot(): CounterSnapshot {
    const byVerb: Record<string, Record<string, number>> = {};
    for (const [verb, m] of this.#byVerb) byVerb[verb] = Object.fromEntries(m);
    return {
      total: this.#total,
      byVerb,
      byCode: Object.fromEntries(this.#byCode),
      byUser: Object.fromEntries(this.#byUser),
      openWatches: this.#openWatches(),
    };
  }

  get(verb: string, resource: string): number {
    return this.#byVerb.get(verb)?.get(resource) ?? 0;
  }

  reset(): void {
    this.#total = 0;
    this.#byVerb.clear();
    this.#byCode.clear();
    this.#byUser.clear();
  }
}
