/**
 * Kubernetes duration strings (`metav1.Duration`), which use Go's `time.ParseDuration` syntax:
 * a sequence of decimal numbers, each with an optional fraction and a unit, such as `30s`, `1h30m`
 * or `1.5h`. A bare `0` is also accepted.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Source text of the pattern a duration string must match (also used in the generated CRDs). */
export const DURATION_PATTERN = "^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+)$";

const SEGMENT = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Kubernetes duration string into milliseconds.
 *
 * @throws {TypeError} when the text is not a valid duration.
 */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  if (text.length === 0) throw new TypeError("Cannot parse duration: the value is empty");
  let total = 0;
  SEGMENT.lastIndex = 0;
  while (SEGMENT.lastIndex < text.length) {
    const start = SEGMENT.lastIndex;
    const match = SEGMENT.exec(text);
    if (match === null) {
      throw new TypeError(
        `Cannot parse duration "${text}": unexpected "${
          text.slice(start)
        }" (use units ns, us, ms, s, m, h, e.g. "30s" or "1h30m")`,
      );
    }
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  if (!Number.isFinite(total)) throw new TypeError(`Cannot parse duration "${text}": too large`);
  return total;
}

/** Returns true when `text` is a valid duration string. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

/** Formats milliseconds as a compact duration string such as `1h30m`, `45s` or `250ms`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}
