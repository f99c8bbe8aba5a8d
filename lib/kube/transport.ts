/** One REST call as the resource clients describe it to the transport. */
export interface RestRequest {
  /** HTTP method. */
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Absolute API path, e.g. "/api/v1/namespaces/default/pods". */
  path: string;
  /** Query parameters. */
  query?: URLSearchParams;
  /** Request body (JSON or a patch document). */
  body?: string;
  /** Content-Type of the body. */
  contentType?: string;
  /** Kubernetes verb for metrics: get, list, watch, create, update, patch, delete. */
  verb: string;
  /** Resource label for metrics, e.g. "pods". */
  resource: string;
  /** Aborts the request (and a stream's body). */
  signal?: AbortSignal;
  /** Streams: no overall request timeout, the caller owns the body. */
  stream?: boolean;
}

/**
 * Sends REST calls. Resolves only with 2xx responses whose body is unread; everything else
 * rejects with a `KubeApiError` (HTTP answers) or an `Error` (network failures).
 */
export interface RestTransport {
  /** Sends one request; see the interface description for what resolves and what rejects. */
  send(req: RestRequest): Promise<Response>;
}

/** Metrics callbacks the client invokes; injected so lib/kube does not depend on a metrics library. */
export interface RequestHooks {
  /** After every HTTP attempt; `code` is 0 when no response arrived. */
  onRequest?(verb: string, resource: string, code: number, seconds: number): void;
  /** When a 429/5xx answer's Retry-After makes the client wait before retrying. */
  onRetryAfter?(verb: string, resource: string, seconds: number): void;
}
