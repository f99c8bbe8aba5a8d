import type { Status } from "kubernetes-types/meta/v1.d.ts";

/** An API server answer that was not 2xx, carrying the server's `Status` body. */
export class KubeApiError extends Error {
  /** HTTP status code (also `status.code` when the server sent one). */
  readonly code: number;
  /** Machine-readable reason, e.g. "NotFound", "Conflict", "Expired". */
  readonly reason: string;
  /** The decoded Status body, or one synthesised from the response when the body was not a Status. */
  readonly status: Status;
  /** Seconds from `Retry-After` (or `status.details.retryAfterSeconds`), when the server sent one. */
  readonly retryAfterSeconds?: number;

  /** Wraps a Status; `retryAfterSeconds` comes from the Retry-After header if any. */
  constructor(status: Status, retryAfterSeconds?: number) {
    super(
      status.message || `Kubernetes API request failed with ${status.code ?? "an unknown"} code`,
    );
    this.name = "KubeApiError";
    this.code = status.code ?? 0;
    this.reason = status.reason ?? "Unknown";
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds ?? status.details?.retryAfterSeconds;
  }
}

/** Reasons the API server uses for the common HTTP codes, used when a body is not a Status. */
const REASON_BY_CODE: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

/**
 * Builds a `KubeApiError` from an HTTP code and a response body. The body is used as-is when it
 * is a `Status`; any other body becomes the message of a synthesised one.
 */
export function errorFromResponse(
  code: number,
  bodyText: string,
  context: string,
  retryAfterSeconds?: number,
): KubeApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  if (isStatus(parsed)) {
    const status: Status = { ...parsed, code: parsed.code ?? code };
    return new KubeApiError(status, retryAfterSeconds);
  }
  const reason = REASON_BY_CODE[code] ?? "Unknown";
  const snippet = bodyText.trim().slice(0, 300);
  const message = snippet
    ? `${context} failed with ${code} ${reason}: ${snippet}`
    : `${context} failed with ${code} ${reason}`;
  return new KubeApiError(
    { apiVersion: "v1", kind: "Status", status: "Failure", code, reason, message },
    retryAfterSeconds,
  );
}

function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status";
}

function hasCode(e: unknown, code: number): boolean {
  return e instanceof KubeApiError && e.code === code;
}

/** True for 404 Not Found. */
export function isNotFound(e: unknown): boolean {
  return hasCode(e, 404);
}

/** True for 409 Conflict other than AlreadyExists (a stale resourceVersion). */
export function isConflict(e: unknown): boolean {
  return hasCode(e, 409) && (e as KubeApiError).reason !== "AlreadyExists";
}

/** True for 409 AlreadyExists. */
export function isAlreadyExists(e: unknown): boolean {
  return hasCode(e, 409) && (e as KubeApiError).reason === "AlreadyExists";
}

/** True for 410 Gone / Expired (a resourceVersion too old to watch or list from). */
export function isGone(e: unknown): boolean {
  return hasCode(e, 410) ||
    (e instanceof KubeApiError && (e.reason === "Expired" || e.reason === "Gone"));
}

/** True for 429 Too Many Requests. */
export function isTooManyRequests(e: unknown): boolean {
  return hasCode(e, 429);
}

/** True for 401 Unauthorized. */
export function isUnauthorized(e: unknown): boolean {
  return hasCode(e, 401);
}

/** True for 403 Forbidden. */
export function isForbidden(e: unknown): boolean {
  return hasCode(e, 403);
}

/** True for 422 Invalid. */
export function isInvalid(e: unknown): boolean {
  return hasCode(e, 422);
}
