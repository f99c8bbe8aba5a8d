/**
 * The HTTP layer every source uses: one `Deno.HttpClient` per source run (extra CAs, client
 * certificate, HTTP/1.1 only), a timeout per request, a cap on response sizes, and failures turned
 * into {@linkcode DiscoveryError}s from structured facts.
 *
 * @module
 */
import { diagnoseConnection, type TlsMaterial } from "./_diagnose.ts";
import { DiscoveryError, isTimeoutError } from "./errors.ts";

/** Settings of a {@linkcode HttpTransport}. */
export interface TransportOptions {
  /** TLS material from the source's Secret. */
  tls: TlsMaterial;
  /** Limit for one request, from sending to the last byte of the body. */
  timeoutMs: number;
  /** Largest accepted body of a successful answer. */
  maxResponseBytes: number;
  /** Cancels everything; its reason is rethrown as-is. */
  signal?: AbortSignal;
}

/** A request to send. */
export interface HttpRequest {
  method?: "GET" | "POST";
  headers?: Headers;
  body?: string | URLSearchParams;
}

/** A complete answer: status, headers and the whole body. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** The URL that answered. */
  url: URL;
}

// Bodies of error answers are only read for diagnostics, so they get a much smaller budget.
const ERROR_BODY_BYTES = 64 * 1024;

/** Sends requests for one source run; call {@linkcode HttpTransport.close} when done. */
export class HttpTransport {
  #client: Deno.HttpClient;
  #options: TransportOptions;

  /** @throws {DiscoveryError} `InvalidSpec` when the certificates or key cannot be loaded. */
  constructor(options: TransportOptions) {
    this.#options = options;
    const { caCert, clientCert, clientKey } = options.tls;
    const base: Deno.CreateHttpClientOptions = {
      http1: true,
      http2: false,
      ...(caCert ? { caCerts: [caCert] } : {}),
    };
    try {
      this.#client = clientCert && clientKey
        ? Deno.createHttpClient({ ...base, cert: clientCert, key: clientKey })
        : Deno.createHttpClient(base);
    } catch (error) {
      throw new DiscoveryError(
        "InvalidSpec",
        'Cannot use the Secret: "ca.crt", "tls.crt" or "tls.key" is not a valid PEM certificate or key',
        { cause: error },
      );
    }
  }

  /**
   * Sends one request and reads the whole answer. Non-2xx answers are returned, not thrown, so
   * callers can read challenges and error bodies.
   *
   * @param context how a failure message starts, e.g. `Cannot list tags of "team/app"`
   * @throws {DiscoveryError} when no complete answer arrived, or a 2xx body is too large
   */
  async send(url: URL, request: HttpRequest, context: string): Promise<HttpAnswer> {
    const { signal: outer, timeoutMs, maxResponseBytes } = this.#options;
    outer?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    const shown = displayUrl(url);
    try {
      const response = await fetch(url, {
        method: request.method ?? "GET",
        headers: request.headers,
        body: request.body,
        client: this.#client,
        // Following a redirect could carry the Authorization header to another host; a 3xx is
        // reported instead, naming where the endpoint should point.
        redirect: "manual",
        signal,
      });
      const ok = response.status >= 200 && response.status < 300;
      const limit = ok ? maxResponseBytes : ERROR_BODY_BYTES;
      const body = await readLimited(response, limit, ok);
      if (body === undefined) {
        throw new DiscoveryError(
          "InvalidResponse",
          `${context}: the answer of ${shown} exceeds ${formatBytes(maxResponseBytes)}`,
          { status: response.status },
        );
      }
      return { status: response.status, headers: response.headers, body, url };
    } catch (error) {
      if (error instanceof DiscoveryError) throw error;
      if (outer?.aborted) throw outer.reason;
      if (timeout.aborted || isTimeoutError(error)) {
        throw new DiscoveryError(
          "Timeout",
          `${context}: ${shown} did not answer within ${formatMs(timeoutMs)}`,
          { cause: error },
        );
      }
      // The probes get their own budget: the request's may be spent already.
      const probeSignal = outer
        ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)])
        : AbortSignal.timeout(timeoutMs);
      const diagnosis = await diagnoseConnection(url, this.#options.tls, probeSignal);
      if (outer?.aborted) throw outer.reason;
      throw new DiscoveryError(diagnosis.reason, `${context}: ${diagnosis.detail}`, {
        cause: error,
      });
    }
  }

  /** Releases the connection pool. */
  close(): void {
    this.#client.close();
  }
}

/** A URL as shown in messages: no user info, no query (which may carry a PromQL query or scope). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** ` (a redirect to <url>)` for a 3xx answer with a Location, else "". Redirects are never followed. */
export function redirectHint(answer: HttpAnswer): string {
  if (answer.status < 300 || answer.status >= 400) return "";
  const location = answer.headers.get("location");
  if (!location) return "";
  try {
    return ` (a redirect to ${displayUrl(new URL(location, answer.url))})`;
  } catch {
    return "";
  }
}

/**
 * Reads a body up to `limit` bytes. Returns undefined when it is larger and `strict` is set;
 * otherwise truncates, which is enough for the diagnostics error bodies are read for.
 */
async function readLimited(
  response: Response,
  limit: number,
  strict: boolean,
): Promise<Uint8Array | undefined> {
  if (response.body === null) return new Uint8Array(0);
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (strict && declared > limit) {
    await response.body.cancel();
    return undefined;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      await reader.cancel();
      if (strict) return undefined;
      chunks.push(value.subarray(0, limit - size));
      size = limit;
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
