/**
 * Groups fast /proc samples of a process into fixed time buckets for `rss_timeline.ts`.
 *
 * @module
 */

/** One reading: time since sampling began, RSS, peak RSS (VmHWM) and CPU seconds so far. */
export interface TimelineSample {
  t_ms: number;
  rss_mib: number;
  hwm_mib: number;
  cpu_s: number;
}

/** One bucket of the timeline. */
export interface TimelineBucket {
  /** Start of the bucket (ms since sampling began). */
  t_ms: number;
  /** Largest RSS sampled in the bucket. */
  rss_mib_max: number;
  /** VmHWM at the bucket's last sample. */
  hwm_mib: number;
  /** CPU seconds spent in the bucket (last sample minus the previous bucket's last). */
  cpu_s: number;
  /** Marks that fall in the bucket. */
  marks: string[];
}

/**
 * Buckets samples (in time order) by `bucketMs`; buckets without samples are left out. Marks
 * land in the bucket that covers their time, or the last bucket when they come after it.
 */
export function bucketSamples(
  samples: readonly TimelineSample[],
  marks: readonly { t_ms: number; what: string }[],
  bucketMs: number,
): TimelineBucket[] {
  if (!(bucketMs > 0)) throw new Error(`Invalid bucket length ${bucketMs}: must be positive`);
  const buckets: TimelineBucket[] = [];
  let prevCpu = samples[0]?.cpu_s ?? 0;
  for (const s of samples) {
    const start = Math.floor(s.t_ms / bucketMs) * bucketMs;
    let b = buckets.at(-1);
    if (!b || b.t_ms !== start) {
      if (b) prevCpu += b.cpu_s;
      b = { t_ms: start, rss_mib_max: s.rss_mib, hwm_mib: s.hwm_mib, cpu_s: 0, marks: [] };
      buckets.push(b);
    }
    b.rss_mib_max = Math.max(b.rss_mib_max, s.rss_mib);
    b.hwm_mib = s.hwm_mib;
    b.cpu_s = s.cpu_s - prevCpu;
  }
  for (const m of marks) {
    const b = buckets.findLast((b) => b.t_ms <= m.t_ms) ?? buckets[0];
    b?.marks.push(m.what);
  }
  return buckets;
}
