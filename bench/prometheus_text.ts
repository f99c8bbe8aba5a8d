/**
 * Reading the operator's own `/metrics`: the Prometheus text format, counters by label, and
 * quantiles of histograms the way PromQL's `histogram_quantile` computes them, so the figures
 * match what a user's dashboard would show.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (comments and timestamps are skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(LABEL)) {
      labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    out.push({ name: m[1], labels, value: parseValue(m[4]) });
  }
  return out;
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

/** Sums the samples of `name` grouped by the values of `by` (joined with `/`). */
export function sumBy(samples: readonly Sample[], name: string, by: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = by.map((l) => s.labels[l] ?? "").join("/");
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** The value of the first sample of `name` whose labels include `match`. */
export function valueOf(
  samples: readonly Sample[],
  name: string,
  match: Record<string, string> = {},
): number | undefined {
  return samples.find((s) =>
    s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)
  )?.value;
}

/** A cumulative histogram: `le` upper bounds (ascending, ending with +Inf) and counts. */
export interface Histogram {
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** The histograms of `name`, one per value of the label `by`. */
export function histogramsBy(
  samples: readonly Sample[],
  name: string,
  by: string,
): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  const get = (key: string) => {
    let h = out.get(key);
    if (!h) out.set(key, h = { buckets: [], count: 0, sum: 0 });
    return h;
  };
  for (const s of samples) {
    const key = s.labels[by] ?? "";
    if (s.name === `${name}_bucket`) {
      get(key).buckets.push({ le: parseValue(s.labels.le ?? "+Inf"), count: s.value });
    } else if (s.name === `${name}_count`) get(key).count = s.value;
    else if (s.name === `${name}_sum`) get(key).sum = s.value;
  }
  for (const h of out.values()) h.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/** `after - before`, bucket by bucket: the observations made between two scrapes. */
export function histogramDelta(after: Histogram, before?: Histogram): Histogram {
  if (!before) return after;
  const prior = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (prior.get(b.le) ?? 0) })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * The `q`-quantile (0-1) of a histogram as PromQL's `histogram_quantile`: linear interpolation
 * inside the bucket that holds the rank, the first bucket starting at 0, and the upper bound of
 * the last finite bucket when the rank falls into +Inf. NaN without observations.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  const buckets = h.buckets;
  if (buckets.length === 0) return Number.NaN;
  const total = buckets[buckets.length - 1].count;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      if (inBucket <= 0) return b.le;
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
