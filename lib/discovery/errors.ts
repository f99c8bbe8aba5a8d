/**
 * The typed failure of a discovery source. Its `reason` is what the DiscoveryPolicy controller
 * puts into conditions and source health, so it is always derived from structured facts (an HTTP
 * status, a `Deno.errors` class, a `DOMException` name), never from the text of a message.
 *
 * @module
 */

/**
 * Why a source failed.
 *
 * - `DNSError`: the host name does not resolve.
 * - `ConnectionRefused`: nothing listens on the host and port.
 * - `Timeout`: no complete answer within the request timeout.
 * - `TLSError`: the TLS handshake failed (unknown CA, name mismatch, rejected client certificate).
 * - `NetworkError`: the connection failed in another way (reset, protocol error).
 * - `Unauthorized`, `Forbidden`, `NotFound`: HTTP 401, 403, 404.
 * - `HTTPError`: any other non-2xx HTTP status.
 * - `InvalidResponse`: the body is not what the API promises (bad JSON, a Prometheus error
 *   status, a response over the size limit, a pagination link to another host).
 * - `InvalidSpec`: the policy cannot be executed as written (bad regex, bad template, unusable
 *   credentials such as `tls.crt` without `tls.key`).
 * - `CredentialsError`: the source's Secret could not be read.
 * - `InternalError`: a defect of discovery itself; reported for the source instead of hiding the
 *   other sources' results.
 */
export type DiscoveryErrorReason =
  | "DNSError"
  | "ConnectionRefused"
  | "Timeout"
  | "TLSError"
  | "NetworkError"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "HTTPError"
  | "InvalidResponse"
  | "InvalidSpec"
  | "CredentialsError"
  | "InternalError";

/** Options of a {@linkcode DiscoveryError}. */
export interface DiscoveryErrorOptions {
  /** HTTP status of the answer that failed, when there was one. */
  status?: number;
  /** The underlying error, kept for debugging; it never carries credentials. */
  cause?: unknown;
}

/** A discovery failure with a machine-readable reason and a message safe to show in status. */
export class DiscoveryError extends Error {
  /** Why the source failed; see {@linkcode DiscoveryErrorReason}. */
  readonly reason: DiscoveryErrorReason;
  /** HTTP status of the failing answer, when there was one. */
  readonly status?: number;

  constructor(reason: DiscoveryErrorReason, message: string, options: DiscoveryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DiscoveryError";
    this.reason = reason;
    if (options.status !== undefined) this.status = options.status;
  }
}

/** The reason matching an HTTP status that is not 2xx. */
export function reasonForStatus(status: number): DiscoveryErrorReason {
  switch (status) {
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    default:
      return "HTTPError";
  }
}

/** Returns true when `error` is the `TimeoutError` an `AbortSignal.timeout` raises. */
export function isTimeoutError(error: unknown): boolean {
  return error instanceof DOMException && error.name === "TimeoutError";
}
