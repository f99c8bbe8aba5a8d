/**
 * The `Link` header (RFC 8288) as the OCI distribution API uses it for pagination:
 * `</v2/team/app/tags/list?last=v1.2&n=100>; rel="next"`.
 *
 * @module
 */

/**
 * The target of the `rel="next"` link, resolved against `base` (links may be relative or
 * absolute), or undefined when there is none.
 */
export function nextLink(header: string | null, base: URL): URL | undefined {
  if (header === null) return undefined;
  const link = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
  for (const match of header.matchAll(link)) {
    const params = match[2].split(";").map((p) => p.trim()).filter((p) => p.length > 0);
    for (const param of params) {
      const kv = /^rel\s*=\s*"?([^"]*)"?$/i.exec(param);
      if (kv && kv[1].toLowerCase().split(/\s+/).includes("next")) {
        try {
          return new URL(match[1], base);
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
