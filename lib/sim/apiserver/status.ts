/**
 * `Status` bodies and the error type every handler throws, with kube-apiserver's reasons and
 * message shapes.
 *
 * @module
 */

/** One cause of an Invalid (or other) status, as in `details.causes`. */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** A `meta/v1` Status object. */
export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** Identifies the resource an error is about: `plural` plus group, as kube words it. */
export interface ErrorTarget {
  group: string;
  plural: string;
}

/** An error answered to the client as a `Status` body with its HTTP code. */
export class ApiError extends Error {
  /** The Status body sent to the client. */
  readonly status: StatusBody;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(status: StatusBody, headers: Record<string, string> = {}) {
    super(status.message ?? status.reason ?? "API request failed");
    this.name = "ApiError";
    this.status = status;
    this.headers = headers;
  }

  /** HTTP status code. */
  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string): StatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
}

/** "pods" or "cachedimages.drop.corewire.io", the qualified resource in messages. */
export function qualifiedResource(t: ErrorTarget): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

function details(t: ErrorTarget, name: string): StatusBody["details"] {
  return t.group ? { name, group: t.group, kind: t.plural } : { name, kind: t.plural };
}

/** 404 `pods "x" not found`. */
export function notFound(t: ErrorTarget, name: string): ApiError {
  const s = failure(404, "NotFound", `${qualifiedResource(t)} "${name}" not found`);
  s.details = details(t, name);
  return new ApiError(s);
}

/** 409 `pods "x" already exists`. */
export function alreadyExists(t: ErrorTarget, name: string): ApiError {
  const s = failure(409, "AlreadyExists", `${qualifiedResource(t)} "${name}" already exists`);
  s.details = details(t, name);
  return new ApiError(s);
}

/** 409 Conflict as for a stale resourceVersion, or with a custom explanation. */
export function conflict(t: ErrorTarget, name: string, why?: string): ApiError {
  const reason = why ??
    "the object has been modified; please apply your changes to the latest version and try again";
  const s = failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": ${reason}`,
  );
  s.details = details(t, name);
  return new ApiError(s);
}

/** 422 Invalid: `Kind.group "name" is invalid: field: Reason: detail`, with one cause per error. */
export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: StatusCause[],
): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const list = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  const s = failure(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${list}`);
  s.details = group ? { name, group, kind, causes } : { name, kind, causes };
  return new ApiError(s);
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, "BadRequest", message));
}

/** 401 Unauthorized. */
export function unauthorized(): ApiError {
  return new ApiError(failure(401, "Unauthorized", "Unauthorized"));
}

/** 403 Forbidden with kube's message. */
export function forbidden(message: string): ApiError {
  return new ApiError(failure(403, "Forbidden", message));
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(): ApiError {
  return new ApiError(
    failure(
      405,
      "MethodNotAllowed",
      "the server does not allow this method on the requested resource",
    ),
  );
}

/** 404 for a path that names no resource. */
export function pathNotFound(): ApiError {
  const s = failure(404, "NotFound", "the server could not find the requested resource");
  s.details = {};
  return new ApiError(s);
}

/** 406 NotAcceptable. */
export function notAcceptable(message: string): ApiError {
  return new ApiError(failure(406, "NotAcceptable", message));
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(message: string): ApiError {
  return new ApiError(failure(415, "UnsupportedMediaType", message));
}

/** 410 Gone with reason Expired. */
export function expired(message: string): ApiError {
  return new ApiError(failure(410, "Expired", message));
}

/** 429 TooManyRequests with Retry-After. */
export function tooManyRequests(retryAfterSeconds: number): ApiError {
  const s = failure(429, "TooManyRequests", "Too many requests, please try again later.");
  s.details = { retryAfterSeconds };
  return new ApiError(s, { "retry-after": String(retryAfterSeconds) });
}

/** 500 InternalError. */
export function internalError(message: string): ApiError {
  const s = failure(500, "InternalError", `Internal error occurred: ${message}`);
  s.details = { causes: [{ reason: "", message }] };
  return new ApiError(s);
}

/** 422 for a patch that could not be applied, as kube words it (reason Invalid, no details). */
export function unprocessable(message: string): ApiError {
  return new ApiError(failure(422, "Invalid", message));
}

/** 504 Timeout. */
export function timeout(message: string): ApiError {
  return new ApiError(failure(504, "Timeout", message));
}

/** A Success Status, as immediate deletes of most built-ins answer (no code, like kube). */
export function success(t: ErrorTarget, name: string, uid?: string): Omit<StatusBody, "code"> {
  const d = details(t, name) ?? {};
  if (uid) d.uid = uid;
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: d };
}
