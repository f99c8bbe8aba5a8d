import { follow } from "./_abort.ts";
import type { ClusterConfig, Credentials } from "./cluster_config.ts";
import { ResourceClient } from "./resource_client.ts";
import type { ResourceRef } from "./resources.ts";
import { sendRetrying } from "./retrying.ts";
import type { RequestHooks, RestRequest, RestTransport } from "./transport.ts";
import type { KubeObject } from "./types.ts";

/** Options of {@linkcode KubeClient}. */
export interface KubeClientOptions {
  /** Metrics callbacks invoked per request. */
  hooks?: RequestHooks;
  /** User-Agent header. Default "drop-in-deno". */
  userAgent?: string;
  /** Overall timeout of non-streaming requests. Default 60 s. */
  requestTimeoutMs?: number;
  /** Retries of 429 (and 5xx carrying Retry-After) answers, as client-go. Default 10. */
  maxRetries?: number;
  /** Cap on one Retry-After wait, so a misbehaving server cannot park a worker for hours. Default 60 s. */
  maxRetryAfterSeconds?: number;
  /** Allow HTTP/2 (off by default: Deno's HTTP/2 client is known to stall long-lived streams). */
  http2?: boolean;
  /**
   * Transport hook: each request goes to this function instead of the global `fetch`, e.g. to
   * the handler of a server in the same process (tests, simulations) without TLS or sockets. The
   * config's CA, client certificate and proxy are then unused; credentials, headers, timeouts,
   * abort signals, retries and hooks work as over the network. As with `fetch`, an aborted signal
   * rejects a pending answer and errors the body of a received one.
   */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * A Kubernetes REST client over Deno's fetch. It attaches credentials (refreshing them after a
 * 401), honours Retry-After, turns every non-2xx answer into a {@linkcode KubeApiError} and hands
 * out typed {@linkcode ResourceClient}s.
 */
export class KubeClient implements RestTransport {
  readonly #config: ClusterConfig;
  readonly #hooks: RequestHooks;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #maxRetryAfter: number;
  readonly #http2: boolean;
  readonly #baseUrl: URL;
  readonly #fetch?: (request: Request) => Promise<Response>;
  #http?: Deno.HttpClient;
  #certKey = "";
  #retired: Deno.HttpClient[] = [];
  #closed = false;

  /** Creates a client; throws when the server URL is invalid. */
  constructor(config: ClusterConfig, opts: KubeClientOptions = {}) {
    this.#config = config;
    this.#hooks = opts.hooks ?? {};
    this.#userAgent = opts.userAgent ?? "drop-in-deno";
    this.#timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.#maxRetries = opts.maxRetries ?? 10;
    this.#maxRetryAfter = opts.maxRetryAfterSeconds ?? 60;
    this.#http2 = opts.http2 ?? false;
    try {
      this.#baseUrl = new URL(config.server);
    } catch {
      throw new Error(`Cannot use API server URL "${config.server}": it is not a valid URL`);
    }
    this.#fetch = opts.fetch;
    if (!this.#fetch) {
      this.#http = this.#createHttpClient(config.clientCertData, config.clientKeyData);
    }
  }

  /** The default namespace of the config (context namespace or the pod's own). */
  get namespace(): string {
    return this.#config.namespace;
  }

  /** The config this client was built from. */
  get config(): ClusterConfig {
    return this.#config;
  }

  /**
   * A typed client for one resource. For namespaced resources, `namespace` scopes every call;
   * without it, list and watch span all namespaces and single-object calls use the object's
   * `metadata.namespace`.
   */
  resource<T extends KubeObject>(ref: ResourceRef, namespace?: string): ResourceClient<T> {
    return new ResourceClient<T>(this, ref, ref.namespaced ? namespace : undefined);
  }

  /** Sends a GET to an arbitrary API path (e.g. "/version") and decodes the JSON answer. */
  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.send({ method: "GET", path, verb: "get", resource: path, signal });
    return await res.json() as T;
  }

  /** Releases the HTTP connection pools. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#http?.close();
    for (const c of this.#retired) c.close();
    this.#retired = [];
  }

  /** {@inheritDoc RestTransport.send} */
  send(req: RestRequest): Promise<Response> {
    if (this.#closed) {
      return Promise.reject(new Error(`Cannot ${req.method} ${req.path}: the client is closed`));
    }
    let reauthenticated = false;
    return sendRetrying(req, async () => this.#fetchOnce(req, await this.#credentials()), {
      maxRetries: this.#maxRetries,
      maxRetryAfterSeconds: this.#maxRetryAfter,
      hooks: this.#hooks,
      // A rotated token or an expired exec credential: fetch fresh ones once and retry.
      again: (status) => {
        if (status !== 401 || reauthenticated || !this.#config.credentials) return false;
        reauthenticated = true;
        this.#config.credentials.invalidate();
        return true;
      },
    });
  }

  async #credentials(): Promise<Credentials> {
    const provider = this.#config.credentials;
    if (!provider) return {};
    const creds = await provider.get();
    if (this.#http && creds.clientCertData && creds.clientKeyData) {
      const key = creds.clientCertData + "\n" + creds.clientKeyData;
      if (key !== this.#certKey) {
        // In-flight requests may still use the previous client; close it one rotation later.
        for (const c of this.#retired) c.close();
        this.#retired = [this.#http];
        this.#http = this.#createHttpClient(creds.clientCertData, creds.clientKeyData);
        this.#certKey = key;
      }
    }
    return creds;
  }

  async #fetchOnce(req: RestRequest, creds: Credentials): Promise<Response> {
    const url = new URL(this.#baseUrl.pathname.replace(/\/+$/, "") + req.path, this.#baseUrl);
    if (req.query) url.search = req.query.toString();
    const headers = new Headers({ "accept": "application/json", "user-agent": this.#userAgent });
    if (req.contentType) headers.set("content-type", req.contentType);
    if (creds.token) headers.set("authorization", `Bearer ${creds.token}`);
    else if (creds.basic) {
      headers.set(
        "authorization",
        `Basic ${basicAuth(creds.basic.username, creds.basic.password)}`,
      );
    }
    // A non-streaming request and its body get `#timeoutMs`, under a timer cleared as soon as
    // they are done: `AbortSignal.timeout` kept every request's timer (and the signals tied to it)
    // alive for the whole timeout, thousands of them at a few hundred requests per second.
    const bounded = req.stream ? undefined : new AbortController();
    let timedOut = false;
    const timer = bounded && setTimeout(() => {
      timedOut = true;
      bounded.abort(new DOMException("The request timed out", "TimeoutError"));
    }, this.#timeoutMs);
    const unfollow = bounded ? follow(req.signal, bounded) : () => {};
    const started = performance.now();
    try {
      const init: RequestInit = {
        method: req.method,
        headers,
        body: req.body,
        signal: bounded?.signal ?? req.signal,
      };
      let res: Response;
      try {
        res = this.#fetch
          ? await fetchThrough(this.#fetch, new Request(url, init), req.stream === true)
          : await fetch(url, { ...init, client: this.#http });
      } catch (e) {
        this.#hooks.onRequest?.(req.verb, req.resource, 0, elapsed(started));
        throw e;
      }
      this.#hooks.onRequest?.(req.verb, req.resource, res.status, elapsed(started));
      // A hook's answer is read already (`fetchThrough`); fetch's is read here, within the
      // timeout, and the caller reads it from memory.
      if (!bounded || !res.body || this.#fetch) return res;
      const body = await res.arrayBuffer();
      return new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    } catch (e) {
      if (req.signal?.aborted) throw req.signal.reason;
      if (timedOut) {
        throw new Error(
          `Cannot ${req.method} ${url.pathname}: no answer within ${this.#timeoutMs / 1000} s`,
        );
      }
      const hint = this.#http && this.#config.insecureSkipTlsVerify && url.protocol === "https:"
        ? ` (insecure-skip-tls-verify needs deno run --unsafely-ignore-certificate-errors=${url.hostname})`
        : "";
      throw new Error(
        `Cannot ${req.method} ${url.origin}${url.pathname}: ${(e as Error).message}${hint}`,
        { cause: e },
      );
    } finally {
      clearTimeout(timer);
      unfollow();
    }
  }

  #createHttpClient(cert?: string, key?: string): Deno.HttpClient {
    const opts: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {
      http1: true,
      http2: this.#http2,
    };
    if (this.#config.caData) opts.caCerts = [this.#config.caData];
    if (cert && key) {
      opts.cert = cert;
      opts.key = key;
    }
    if (this.#config.proxyUrl) opts.proxy = { url: this.#config.proxyUrl };
    return Deno.createHttpClient(opts as Deno.CreateHttpClientOptions & Deno.TlsCertifiedKeyPem);
  }
}

/**
 * Sends through a transport hook with `fetch`'s abort semantics: an aborted signal (the caller's
 * or the timeout) rejects before the answer and while a body is read, and errors a streaming body
 * afterwards, cancelling the hook's stream as a closed connection would. An answer that arrives
 * after the abort has its body cancelled, so a server-side stream (a watch) does not stay open.
 * A non-streaming body is read here, within the timeout, so the caller reads it from memory.
 */
async function fetchThrough(
  hook: (request: Request) => Promise<Response>,
  request: Request,
  stream: boolean,
): Promise<Response> {
  const signal = request.signal;
  signal.throwIfAborted();
  const pending = hook(request);
  let res: Response;
  try {
    res = await abortable(pending, signal);
  } catch (e) {
    if (signal.aborted) {
      pending.then((late) => late.body?.cancel(signal.reason).catch(() => {}), () => {});
    }
    throw e;
  }
  if (!res.body) return res;
  const init = { status: res.status, statusText: res.statusText, headers: res.headers };
  if (stream) return new Response(abortableBody(res.body, signal), init);
  // A body still being produced at the abort is left to finish: the read holds its lock.
  return new Response(await abortable(res.arrayBuffer(), signal), init);
}

/** Settles as `promise` does, or rejects with the signal's reason once it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** `body` until `signal` aborts; then an error with its reason, and `body` is cancelled. */
function abortableBody(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let onAbort = () => {};
  const release = () => signal.removeEventListener("abort", onAbort);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onAbort = () => {
        controller.error(signal.reason);
        reader.cancel(signal.reason).catch(() => {});
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        release();
        throw e;
      }
      if (signal.aborted) return;
      if (chunk.done) {
        release();
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function elapsed(started: number): number {
  return (performance.now() - started) / 1000;
}

function basicAuth(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return btoa(String.fromCharCode(...bytes));
}
