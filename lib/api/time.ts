/**
 * Times as the API writes them (`metav1.Time`, RFC 3339 in UTC). A plan reads several per pull
 * Pod, hundreds of Pods per reconcile of a large image, and `Date.parse` was a visible share of
 * that: the usual UTC form is read field by field here, anything else by `Date.parse`.
 *
 * @module
 */

/** Formats a time the way `metav1.Time` is serialised: RFC 3339 with second precision. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The digits of `text` from `start` to `end` as a number, or -1 when one is not a digit. */
function digits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Milliseconds since the epoch of an RFC 3339 time, as `Date.parse` reads it (NaN when it is
 * not a time). `YYYY-MM-DDTHH:MM:SS[.fraction]Z` takes the fast path.
 */
export function parseTime(text: string): number {
  const n = text.length;
  if (
    n < 20 || text.charCodeAt(n - 1) !== 90 /* Z */ || text[4] !== "-" || text[7] !== "-" ||
    text[10] !== "T" || text[13] !== ":" || text[16] !== ":"
  ) {
    return Date.parse(text);
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  let ms = 0;
  if (n > 20) {
    // A fraction: ".d" to ".ddddddddd"; milliseconds are its first three digits.
    if (text[19] !== "." || n > 30 || n === 21) return Date.parse(text);
    const fraction = digits(text, 20, n - 1);
    if (fraction < 0) return Date.parse(text);
    const width = n - 21;
    ms = width >= 3 ? Math.floor(fraction / 10 ** (width - 3)) : fraction * 10 ** (3 - width);
  }
  if (
    year < 0 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 ||
    minute < 0 || minute > 59 || second < 0 || second > 59
  ) {
    // Days past the 28th need the month's length, and the rest is not the usual form: leave the
    // checks to Date.parse.
    return Date.parse(text);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}
