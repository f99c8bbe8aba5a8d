/**
 * Credentials of a source, read from the decoded `data` of its Secret. The controller fetches the
 * Secret; this module only interprets its keys, so discovery never talks to Kubernetes.
 *
 * @module
 */
import { DiscoveryError } from "./errors.ts";

/** The decoded `data` of a Secret: bytes as the API returns them, or strings from `stringData`. */
export type SecretData = Record<string, Uint8Array | string>;

/** What a source may authenticate with. Every field is optional. */
export interface SourceCredentials {
  /** Sent as `Authorization: Bearer <token>` (Secret key `token`). */
  token?: string;
  /** Basic credentials, or the credentials given to a registry token server. */
  username?: string;
  /** Password for `username`; empty when the Secret has none. */
  password?: string;
  /** PEM bundle of extra trusted CAs (Secret key `ca.crt`). */
  caCert?: string;
  /** PEM client certificate (Secret key `tls.crt`). */
  clientCert?: string;
  /** PEM private key of the client certificate (Secret key `tls.key`). */
  clientKey?: string;
  /** Extra request headers from the Secret keys `headers.<Name>`. */
  headers: [string, string][];
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Header values may not contain line breaks or NUL: they would split or truncate the request.
const BAD_HEADER_VALUE = /[\r\n\0]/;
const HEADER_PREFIX = "headers.";

/**
 * Interprets the Secret keys `token`, `username`, `password`, `ca.crt`, `tls.crt`, `tls.key` and
 * `headers.<Name>`. Other keys are ignored. A trailing line break on `token`, `username`,
 * `password` and header values is dropped, because Secrets made from files usually carry one.
 *
 * @throws {DiscoveryError} `InvalidSpec` when a key cannot be used (not UTF-8, a certificate
 * without its key, a malformed header). The message names the key, never its value.
 */
export function parseCredentials(data: SecretData | undefined): SourceCredentials {
  const creds: SourceCredentials = { headers: [] };
  if (data === undefined) return creds;
  const text = (key: string) => data[key] === undefined ? undefined : decode(key, data[key]);
  const line = (key: string) => text(key)?.replace(/\r?\n$/, "");

  const token = line("token");
  if (token) creds.token = token;
  const username = line("username");
  const password = line("password");
  if (username !== undefined && username !== "") {
    creds.username = username;
    creds.password = password ?? "";
  } else if (password) {
    throw new DiscoveryError(
      "InvalidSpec",
      'Cannot use the Secret: key "password" is set without "username"',
    );
  }
  const caCert = text("ca.crt");
  if (caCert?.trim()) creds.caCert = caCert;
  const clientCert = text("tls.crt");
  const clientKey = text("tls.key");
  if (Boolean(clientCert?.trim()) !== Boolean(clientKey?.trim())) {
    throw new DiscoveryError(
      "InvalidSpec",
      'Cannot use the Secret: keys "tls.crt" and "tls.key" must be set together',
    );
  }
  if (clientCert?.trim() && clientKey?.trim()) {
    creds.clientCert = clientCert;
    creds.clientKey = clientKey;
  }
  for (const key of Object.keys(data).sort()) {
    if (!key.startsWith(HEADER_PREFIX)) continue;
    const name = key.slice(HEADER_PREFIX.length);
    const value = line(key) ?? "";
    if (!HEADER_NAME.test(name)) {
      throw new DiscoveryError(
        "InvalidSpec",
        `Cannot use the Secret: key "${key}" does not name a valid HTTP header`,
      );
    }
    if (BAD_HEADER_VALUE.test(value)) {
      throw new DiscoveryError(
        "InvalidSpec",
        `Cannot use the Secret: the value of key "${key}" contains a line break`,
      );
    }
    creds.headers.push([name, value]);
  }
  return creds;
}

/** The credential values that must never appear in a message, longest first. */
export function secretValues(creds: SourceCredentials): string[] {
  const values = [
    creds.token,
    creds.password,
    creds.clientKey,
    ...creds.headers.map(([, v]) => v),
  ];
  if (creds.username !== undefined && creds.password !== undefined) {
    values.push(btoa(`${creds.username}:${creds.password}`));
  }
  // Very short values would blank out ordinary words; they cannot be told apart from text anyway.
  return values.filter((v): v is string => v !== undefined && v.length >= 4)
    .sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of a credential value in `text` with `<redacted>`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("<redacted>");
  return out;
}

function decode(key: string, value: Uint8Array | string): string {
  if (typeof value === "string") return value;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(value);
  } catch {
    throw new DiscoveryError("InvalidSpec", `Cannot use the Secret: key "${key}" is not UTF-8`);
  }
}
