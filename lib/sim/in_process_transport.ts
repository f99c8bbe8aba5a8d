/**
 * A REST transport to an API server in the same process, for clients that live beside it (the
 * simulated kubelets). It hands the server the method, path, query, headers and body as they
 * are, skipping what only a network client needs: URL and Headers objects, a `Request` and a
 * copy of each answer, a timeout timer per request. At thousands of nodes the kubelets send over
 * a thousand requests a second, all on the API server's thread, and that machinery was a fifth
 * of the thread's time. Answers are handled as {@linkcode KubeClient} handles them (retries of
 * 429, errors as `KubeApiError`).
 *
 * @module
 */
import {
  type KubeObject,
  ResourceClient,
  type ResourceRef,
  type RestRequest,
  type RestTransport,
  sendRetrying,
} from "../kube/mod.ts";
import type { ApiRequest } from "./apiserver/http_handler.ts";

/** Options of {@linkcode InProcessTransport}. */
export interface InProcessTransportOptions {
  /** The server's in-process entry point (`ApiServer.handle`). */
  handle(req: ApiRequest & { readonly signal?: AbortSignal }): Promise<Response>;
  /** Bearer token the requests carry. */
  token?: string;
  /** User-Agent header. */
  userAgent?: string;
  /** Retries of 429 (and 5xx carrying Retry-After) answers. Default 10, as KubeClient. */
  maxRetries?: number;
}

/** See the module documentation. */
export class InProcessTransport implements RestTransport {
  readonly #handle: InProcessTransportOptions["handle"];
  readonly #headers = new Map<string, string>();
  readonly #maxRetries: number;

  constructor(opts: InProcessTransportOptions) {
    this.#handle = opts.handle;
    this.#headers.set("accept", "application/json");
    if (opts.userAgent) this.#headers.set("user-agent", opts.userAgent);
    if (opts.token) this.#headers.set("authorization", `Bearer ${opts.token}`);
    this.#maxRetries = opts.maxRetries ?? 10;
  }

  /** A typed client for one resource, as {@linkcode KubeClient.resource}. */
  resource<T extends KubeObject>(ref: ResourceRef, namespace?: string): ResourceClient<T> {
    return new ResourceClient<T>(this, ref, ref.namespaced ? namespace : undefined);
  }

  /** {@inheritDoc RestTransport.send} */
  send(req: RestRequest): Promise<Response> {
    return sendRetrying(req, () => this.#once(req), {
      maxRetries: this.#maxRetries,
      maxRetryAfterSeconds: 60,
    });
  }

  #once(req: RestRequest): Promise<Response> {
    if (req.signal?.aborted) return Promise.reject(req.signal.reason);
    const query = req.query?.toString();
    const body = req.body ?? "";
    const contentType = req.contentType ?? null;
    const headers = this.#headers;
    return this.#handle({
      method: req.method,
      // The origin is ignored by the server; only the path and query are read.
      url: `http://in-process${req.path}${query ? `?${query}` : ""}`,
      headers: {
        get(name: string) {
          const key = name.toLowerCase();
          return key === "content-type" ? contentType : headers.get(key) ?? null;
        },
      },
      text: () => Promise.resolve(body),
      arrayBuffer: () => Promise.resolve(new TextEncoder().encode(body).buffer as ArrayBuffer),
      signal: req.signal,
    });
  }
}
