/**
 * One timer for the whole simulator: every heartbeat, pull and backoff of thousands of nodes is
 * an entry in a min-heap, and a single `setTimeout` is armed for the earliest, so 5,000 nodes
 * never mean 5,000 timers.
 *
 * @module
 */

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

const NOOP = () => {};
/** Cancelled entries kept in the heap before it is rebuilt without them. */
const SWEEP_MIN = 1024;

/** Cancels a scheduled callback; harmless after it ran. */
export type Cancel = () => void;

/** A timer heap with one armed `setTimeout`. Callbacks run in due order, ties in insertion order. */
export class Scheduler {
  readonly #now: () => number;
  #heap: Entry[] = [];
  #seq = 0;
  #live = 0;
  /** Cancelled entries still in the heap. */
  #dead = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #armedAt = Infinity;
  #stopped = false;
  readonly #stopController = new AbortController();

  /** `now` is a millisecond clock (default `performance.now`). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Callbacks waiting to run. */
  get pending(): number {
    return this.#live;
  }

  /** Entries in the heap: the pending ones and cancelled ones not yet dropped. */
  get held(): number {
    return this.#heap.length;
  }

  /** Aborts when the scheduler stops, so sleepers can end. */
  get signal(): AbortSignal {
    return this.#stopController.signal;
  }

  /** Runs `fn` once `delayMs` have passed. */
  after(delayMs: number, fn: () => void): Cancel {
    return this.at(this.#now() + Math.max(0, delayMs), fn);
  }

  /** Runs `fn` at the clock time `at`. */
  at(at: number, fn: () => void): Cancel {
    if (this.#stopped) return () => {};
    const entry: Entry = { at, seq: this.#seq++, fn, cancelled: false };
    this.#push(entry);
    this.#live++;
    this.#arm();
    return () => {
      if (entry.cancelled) return;
      entry.cancelled = true;
      // A cancelled entry stays in the heap until its time; it must not keep what the callback
      // holds (a pod worker, its pod) alive until then.
      entry.fn = NOOP;
      this.#live--;
      this.#dead++;
      if (this.#live === 0) this.#disarm();
      else if (this.#dead > SWEEP_MIN && this.#dead > this.#heap.length / 2) this.#sweep();
    };
  }

  /** Resolves after `ms`; rejects with the signal's reason when it (or the scheduler) stops first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const stop = signal ? AbortSignal.any([signal, this.signal]) : this.signal;
      if (stop.aborted) return reject(stop.reason);
      const onAbort = () => {
        cancel();
        reject(stop.reason);
      };
      const cancel = this.after(ms, () => {
        stop.removeEventListener("abort", onAbort);
        resolve();
      });
      stop.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Drops every pending callback and the timer; sleepers reject. Later calls do nothing. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
    for (const e of this.#heap) e.cancelled = true;
    this.#heap = [];
    this.#live = 0;
    this.#dead = 0;
    this.#stopController.abort(new Error("The simulator's scheduler stopped"));
  }

  #run(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    // Everything due within the timer's granularity runs in this turn.
    const horizon = this.#now() + 1;
    while (this.#heap.length > 0 && this.#heap[0].at <= horizon) {
      const entry = this.#pop()!;
      if (entry.cancelled) {
        this.#dead--;
        continue;
      }
      entry.cancelled = true;
      this.#live--;
      const fn = entry.fn;
      entry.fn = NOOP;
      try {
        fn();
      } catch (e) {
        console.error(`Scheduled simulator task failed: ${e instanceof Error ? e.message : e}`);
      }
      if (this.#stopped) return;
    }
    this.#arm();
  }

  #arm(): void {
    while (this.#heap.length > 0 && this.#heap[0].cancelled) {
      this.#pop();
      this.#dead--;
    }
    const next = this.#heap[0];
    if (!next) return;
    if (next.at >= this.#armedAt) return;
    this.#disarm();
    this.#armedAt = next.at;
    this.#timer = setTimeout(() => this.#run(), Math.max(0, next.at - this.#now()));
  }

  /** Rebuilds the heap from the live entries. */
  #sweep(): void {
    const live = this.#heap.filter((e) => !e.cancelled);
    this.#heap = [];
    this.#dead = 0;
    for (const e of live) this.#push(e);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #push(entry: Entry): void {
    const h = this.#heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < h.length && before(h[l], h[min])) min = l;
        if (r < h.length && before(h[r], h[min])) min = r;
        if (min === i) break;
        [h[min], h[i]] = [h[i], h[min]];
        i = min;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
