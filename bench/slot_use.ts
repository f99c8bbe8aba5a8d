/**
 * How well a warm-up kept its pull slots busy: the slot time left idle between the first pull
 * start and the last pull end, split into the ramp-up (before the slots first filled), the body
 * and the tail (after the last start); the body's idle time by how long the pulls of the moment
 * took (a fixed cost per slot cycle weighs more on short pulls, and short pulls need the most
 * starts per second); and the body's worst windows. Pure: fed with the kubelets' pull records
 * (epoch ms).
 *
 * @module
 */
import { median, round } from "./stats.ts";

/** One pull: when it started and ended (ms). */
export interface PullSpan {
  startedAt: number;
  finishedAt: number;
}

/** A window of the body and the slot time it left idle. */
export interface IdleWindow {
  /** Start of the window, ms after the first pull start. */
  from_ms: number;
  /** Idle slot time in the window, slot-seconds. */
  idle_slot_s: number;
  /** Mean pulls in flight over the part of the window in the body. */
  mean_in_flight: number;
}

/** Idle slot time of the body's windows whose pulls took a given time. */
export interface IdleByPullTime {
  /** Class of the median pull time of the pulls started in a window, e.g. `300-700 ms`. */
  pull_ms: string;
  /** Body time in windows of the class, s. */
  body_s: number;
  idle_slot_s: number;
  /** Idle share of the slots over those windows (0.05: 5 of 100 slots idle on average). */
  idle_share: number;
}

/** Idle slot time of a warm-up (slot-seconds: one slot idle for one second). */
export interface SlotUse {
  /** Slots the policy allows at once. */
  slots: number;
  /** First pull start to last pull end, s. */
  span_s: number;
  /** Mean pulls in flight over the span. */
  mean_in_flight: number;
  /** Before the slots first all filled. */
  ramp_idle_slot_s: number;
  /** From then to the last pull start. */
  body_idle_slot_s: number;
  /** From the last pull start to the last pull end (slots drain: not overhead). */
  tail_idle_slot_s: number;
  /** The body's idle time by the pull time of the moment, shortest pulls first. */
  by_pull_time: IdleByPullTime[];
  /** The body's worst windows, most idle first. */
  worst_windows: IdleWindow[];
}

/** Upper bounds (ms, exclusive) of the pull time classes; the last class is open. */
const PULL_CLASSES_MS = [300, 700, 1500];

function pullClass(ms: number): number {
  const i = PULL_CLASSES_MS.findIndex((bound) => ms < bound);
  return i === -1 ? PULL_CLASSES_MS.length : i;
}

function className(i: number): string {
  const lo = i === 0 ? 0 : PULL_CLASSES_MS[i - 1];
  return i === PULL_CLASSES_MS.length ? `>= ${lo} ms` : `${lo}-${PULL_CLASSES_MS[i]} ms`;
}

interface Bucket {
  idle: number;
  busy: number;
  ms: number;
}

/**
 * Integrates `slots - inFlight` over the warm-up from the pull records. In-flight counts above
 * `slots` (never expected) count as no idle time, not as negative. `windowMs` sizes the windows
 * of `worst_windows` and of the pull time classes.
 */
export function slotUse(
  pulls: readonly PullSpan[],
  slots: number,
  windowMs = 1000,
  worst = 5,
): SlotUse {
  const edges: [number, number][] = [];
  for (const p of pulls) edges.push([p.startedAt, 1], [p.finishedAt, -1]);
  // Ends before starts at the same instant: a slot handed straight on is never double-counted.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (edges.length === 0) {
    return {
      slots,
      span_s: 0,
      mean_in_flight: 0,
      ramp_idle_slot_s: 0,
      body_idle_slot_s: 0,
      tail_idle_slot_s: 0,
      by_pull_time: [],
      worst_windows: [],
    };
  }
  const first = edges[0][0];
  const end = edges[edges.length - 1][0];
  let lastStart = first;
  for (const p of pulls) if (p.startedAt > lastStart) lastStart = p.startedAt;
  const windowOf = (t: number) => Math.floor((t - first) / windowMs);
  const windows = new Map<number, Bucket>();
  const addBody = (from: number, to: number, idle: number, flight: number) => {
    // Split the interval at window edges so each window gets its share.
    for (let at = from; at < to;) {
      const w = windowOf(at);
      const wEnd = Math.min(to, first + (w + 1) * windowMs);
      let bucket = windows.get(w);
      if (!bucket) windows.set(w, bucket = { idle: 0, busy: 0, ms: 0 });
      bucket.idle += idle * (wEnd - at);
      bucket.busy += flight * (wEnd - at);
      bucket.ms += wEnd - at;
      at = wEnd;
    }
  };
  let inFlight = 0;
  let filled = false;
  let ramp = 0;
  let body = 0;
  let tail = 0;
  let busy = 0;
  for (let i = 0; i < edges.length; i++) {
    const [t, d] = edges[i];
    if (i > 0) {
      const prev = edges[i - 1][0];
      const dt = t - prev;
      const idle = Math.max(0, slots - inFlight);
      busy += inFlight * dt;
      if (!filled) ramp += idle * dt;
      else if (prev >= lastStart) tail += idle * dt;
      else {
        body += idle * dt;
        addBody(prev, t, idle, inFlight);
      }
    }
    inFlight += d;
    if (inFlight >= slots) filled = true;
  }
  return {
    slots,
    span_s: round((end - first) / 1000, 3),
    mean_in_flight: round(end > first ? busy / (end - first) : 0, 2),
    ramp_idle_slot_s: round(ramp / 1000, 2),
    body_idle_slot_s: round(body / 1000, 2),
    tail_idle_slot_s: round(tail / 1000, 2),
    by_pull_time: byPullTime(pulls, windows, windowOf, slots),
    worst_windows: [...windows].filter(([, b]) => b.idle > 0)
      .sort((a, b) => b[1].idle - a[1].idle)
      .slice(0, worst)
      .map(([w, b]) => ({
        from_ms: w * windowMs,
        idle_slot_s: round(b.idle / 1000, 2),
        mean_in_flight: round(b.busy / b.ms, 2),
      })),
  };
}

/** Sums the body's windows by the median time of the pulls started in each. */
function byPullTime(
  pulls: readonly PullSpan[],
  windows: Map<number, Bucket>,
  windowOf: (t: number) => number,
  slots: number,
): IdleByPullTime[] {
  const durations = new Map<number, number[]>();
  for (const p of pulls) {
    const w = windowOf(p.startedAt);
    if (!windows.has(w)) continue;
    let list = durations.get(w);
    if (!list) durations.set(w, list = []);
    list.push(p.finishedAt - p.startedAt);
  }
  const classes = new Map<number, { idle: number; ms: number }>();
  for (const [w, b] of windows) {
    const list = durations.get(w);
    // A window where no pull started: all slots were busy or waiting; it takes the class of the
    // pulls still running, which the previous window's median stands for.
    const c = pullClass(list ? median(list) : medianBefore(durations, w));
    const sum = classes.get(c) ?? { idle: 0, ms: 0 };
    sum.idle += b.idle;
    sum.ms += b.ms;
    classes.set(c, sum);
  }
  return [...classes].sort((a, b) => a[0] - b[0]).map(([c, s]) => ({
    pull_ms: className(c),
    body_s: round(s.ms / 1000, 1),
    idle_slot_s: round(s.idle / 1000, 1),
    idle_share: round(s.ms > 0 ? s.idle / (s.ms * slots) : 0, 4),
  }));
}

function medianBefore(durations: Map<number, number[]>, w: number): number {
  for (let i = w - 1; i >= 0; i--) {
    const list = durations.get(i);
    if (list) return median(list);
  }
  return Infinity;
}
