/**
 * Parsing of `WWW-Authenticate` headers (RFC 9110 section 11.6.1), enough for the challenges
 * registries send: `Bearer realm="https://auth.example.com/token",service="registry",
 * scope="repository:team/app:pull"` and `Basic realm="Registry"`. Quoted values may contain
 * commas (`scope="repository:a:pull,push"`) and backslash escapes.
 *
 * @module
 */

/** One challenge: its scheme in lower case and its parameters (names in lower case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Parses every challenge in a header value; malformed trailing text is ignored. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let rest = header;
  let current: Challenge | undefined;
  const skip = (pattern: RegExp) => {
    rest = rest.replace(pattern, "");
  };
  skip(/^[\s,]+/);
  while (rest.length > 0) {
    const token = TOKEN.exec(rest);
    if (token === null) break;
    const afterToken = rest.slice(token[0].length);
    const param = /^\s*=\s*/.exec(afterToken);
    // A token followed by "=" is a parameter of the current challenge; any other token starts a
    // new challenge. token68 values (`Basic dXNlcg==`) are not used by registries and are skipped.
    if (current !== undefined && param !== null && !/^\s*=\s*(,|$)/.test(afterToken)) {
      rest = afterToken.slice(param[0].length);
      let value: string;
      if (rest.startsWith('"')) {
        const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
        if (quoted === null) break;
        value = quoted[1].replace(/\\(.)/g, "$1");
        rest = rest.slice(quoted[0].length);
      } else {
        // RFC 9110 allows only token characters here; servers also send URLs unquoted.
        const bare = /^[^\s,"]+/.exec(rest);
        value = bare === null ? "" : bare[0];
        rest = rest.slice(value.length);
      }
      current.params[token[0].toLowerCase()] = value;
    } else if (param === null) {
      current = { scheme: token[0].toLowerCase(), params: {} };
      challenges.push(current);
      rest = afterToken;
    } else {
      rest = afterToken.replace(/^\s*=+/, "");
    }
    skip(/^[\s,]+/);
  }
  return challenges;
}
