/**
 * Object name rules (DNS-1123 subdomain and label, path segment) and `generateName` suffixes.
 *
 * @module
 */

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` breaks the rule, or undefined when it is valid. Messages as in apimachinery. */
export function nameError(name: string, rule: "subdomain" | "label" | "path"): string | undefined {
  if (rule === "path") {
    if (name === "." || name === "..") return `may not be '${name}'`;
    if (name.includes("/")) return "may not contain '/'";
    if (name.includes("%")) return "may not contain '%'";
    return undefined;
  }
  if (rule === "label") {
    if (name.length > 63) return "must be no more than 63 characters";
    if (!LABEL.test(name)) {
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }
    return undefined;
  }
  if (name.length > 253) return "must be no more than 253 characters";
  if (!SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return undefined;
}

/** Characters apimachinery uses for generated name suffixes (no vowels, no look-alikes). */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** `prefix` (cut to leave room) plus five random characters, as kube's name generator does. */
export function generateName(prefix: string): string {
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  let suffix = "";
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  for (const b of bytes) suffix += ALPHANUMS[b % ALPHANUMS.length];
  return base + suffix;
}
