/**
 * Finds out why a request failed before any HTTP answer arrived. Deno's `fetch` reports every
 * such failure as a `TypeError("fetch failed")` whose cause is a plain `Error`, so the failure is
 * reproduced step by step with APIs that do raise structured errors: `Deno.connect`
 * (`Deno.errors.ConnectionRefused`), `Deno.resolveDns` (`Deno.errors.NotFound`) and
 * `Deno.connectTls`. The probes run only after a failure, so a healthy source pays nothing.
 *
 * @module
 */
import type { DiscoveryErrorReason } from "./errors.ts";

/** TLS material the failed request used, so the TLS probe sees what `fetch` saw. */
export interface TlsMaterial {
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
}

/** The outcome of a diagnosis: a reason and a short, credential-free explanation. */
export interface Diagnosis {
  reason: DiscoveryErrorReason;
  detail: string;
}

/** Reproduces a failed connection to `url` and classifies the failure. */
export async function diagnoseConnection(
  url: URL,
  tls: TlsMaterial,
  signal: AbortSignal,
): Promise<Diagnosis> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const where = `${url.hostname}:${port}`;

  try {
    const conn = await Deno.connect({ hostname, port, signal });
    conn.close();
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      return { reason: "ConnectionRefused", detail: `connection refused by ${where}` };
    }
    if (error instanceof Deno.errors.TimedOut || isTimeout(error)) {
      return { reason: "Timeout", detail: `connecting to ${where} timed out` };
    }
    if (!isIpAddress(hostname) && await nameDoesNotExist(hostname, signal)) {
      return { reason: "DNSError", detail: `cannot resolve host "${hostname}"` };
    }
    return { reason: "NetworkError", detail: `cannot connect to ${where}: ${describe(error)}` };
  }

  if (url.protocol === "https:") {
    const failure = await tlsFailure(hostname, port, tls, signal);
    if (failure !== undefined) {
      return { reason: "TLSError", detail: `TLS with ${where} failed: ${failure}` };
    }
  }
  return { reason: "NetworkError", detail: `the connection to ${where} failed` };
}

/** True when the resolver answers that neither an A nor an AAAA record exists. */
async function nameDoesNotExist(hostname: string, signal: AbortSignal): Promise<boolean> {
  const results = await Promise.allSettled([
    Deno.resolveDns(hostname, "A", { signal }),
    Deno.resolveDns(hostname, "AAAA", { signal }),
  ]);
  return results.every((r) => r.status === "rejected" && r.reason instanceof Deno.errors.NotFound);
}

/**
 * Runs a TLS handshake and one HTTP exchange like `fetch` would. With TLS 1.3 a server rejects a
 * client certificate only after the client finished its handshake, so the first read is part of
 * the check. Returns a description of the failure, or undefined when TLS works.
 */
async function tlsFailure(
  hostname: string,
  port: number,
  tls: TlsMaterial,
  signal: AbortSignal,
): Promise<string | undefined> {
  let conn: Deno.TlsConn | undefined;
  try {
    const options: Deno.ConnectTlsOptions = {
      hostname,
      port,
      ...(tls.caCert ? { caCerts: [tls.caCert] } : {}),
      alpnProtocols: ["http/1.1"],
    };
    conn = tls.clientCert && tls.clientKey
      ? await Deno.connectTls({ ...options, cert: tls.clientCert, key: tls.clientKey })
      : await Deno.connectTls(options);
    await withSignal(conn.handshake(), signal);
    const request = `HEAD / HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`;
    await withSignal(conn.write(new TextEncoder().encode(request)), signal);
    await withSignal(conn.read(new Uint8Array(64)), signal);
    return undefined;
  } catch (error) {
    if (signal.aborted) return undefined;
    return describe(error);
  } finally {
    try {
      conn?.close();
    } catch {
      // Already closed by the peer; nothing left to release.
    }
  }
}

function withSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function isTimeout(error: unknown): boolean {
  return error instanceof DOMException && error.name === "TimeoutError";
}

function isIpAddress(hostname: string): boolean {
  return /^[0-9.]+$/.test(hostname) || hostname.includes(":");
}

/** A one-line description of a low-level error; these carry host names, never credentials. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0].slice(0, 200);
}
