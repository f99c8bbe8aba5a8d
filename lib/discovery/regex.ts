/**
 * User-written regular expressions (`imageFilter`, `tagFilter`). They are JavaScript regular
 * expressions; a leading Go/RE2 flag group such as `(?i)` is accepted too, because policies are
 * often written for the Go implementation, and becomes the matching JavaScript flag.
 *
 * @module
 */
import { DiscoveryError } from "./errors.ts";

const LEADING_FLAGS = /^\(\?([ims]+)\)/;

/**
 * Compiles `pattern` for the spec field `field`.
 *
 * @throws {DiscoveryError} `InvalidSpec` naming the field and the pattern when it does not compile
 */
export function compilePattern(pattern: string, field: string): RegExp {
  let source = pattern;
  let flags = "";
  const leading = LEADING_FLAGS.exec(pattern);
  if (leading) {
    flags = [...new Set(leading[1])].join("");
    source = pattern.slice(leading[0].length);
  }
  try {
    return new RegExp(source, flags);
  } catch (error) {
    const why = error instanceof SyntaxError ? error.message : String(error);
    throw new DiscoveryError("InvalidSpec", `Invalid ${field} ${JSON.stringify(pattern)}: ${why}`, {
      cause: error,
    });
  }
}
