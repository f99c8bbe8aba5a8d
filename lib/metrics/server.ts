/**
 * Serves `/metrics` on the metrics address and `/healthz`, `/readyz` on the probe address, as
 * controller-runtime managers do. Either address may be "0" to disable that server.
 *
 * @module
 */
import type { DropMetrics } from "./metrics.ts";

/** A parsed `host:port` bind address. */
export interface BindAddress {
  hostname: string;
  port: number;
}

/**
 * Parses `":8080"`, `"127.0.0.1:8080"` or `"[::1]:8080"`. Returns `undefined` for `"0"`, which
 * disables the server, like controller-runtime's flags.
 *
 * @throws {TypeError} when the address is malformed.
 */
export function parseBindAddress(text: string): BindAddress | undefined {
  if (text === "0") return undefined;
  const match = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new TypeError(`Invalid bind address "${text}": expected [host]:port, e.g. ":8080"`);
  }
  const host = match[1].replace(/^\[|\]$/g, "");
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}

/** Running probe and metrics servers. */
export interface ProbeServer {
  /** Bound metrics address, when enabled. */
  metricsAddr?: Deno.NetAddr;
  /** Bound probe address, when enabled. */
  probeAddr?: Deno.NetAddr;
  shutdown(): Promise<void>;
}

/** Options of `startProbeServers`. */
export interface ProbeServerOptions {
  metrics: DropMetrics;
  metricsBind?: BindAddress;
  probeBind?: BindAddress;
  /** Liveness: the process is working. */
  healthy: () => boolean;
  /** Readiness: the caches have synced. */
  ready: () => boolean;
}

function text(body: string, status = 200, type = "text/plain; charset=utf-8"): Response {
  return new Response(body, { status, headers: { "content-type": type } });
}

/** Starts the metrics and probe servers. */
export function startProbeServers(opts: ProbeServerOptions): ProbeServer {
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  const out: ProbeServer = {
    async shutdown() {
      await Promise.all(servers.map((s) => s.shutdown()));
    },
  };
  if (opts.metricsBind) {
    const server = Deno.serve({ ...opts.metricsBind, onListen() {} }, async (req) => {
      if (new URL(req.url).pathname !== "/metrics") return text("not found\n", 404);
      return text(await opts.metrics.exposition(), 200, opts.metrics.registry.contentType);
    });
    servers.push(server);
    out.metricsAddr = server.addr;
  }
  if (opts.probeBind) {
    const server = Deno.serve({ ...opts.probeBind, onListen() {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/healthz" || path === "/livez") {
        return opts.healthy() ? text("ok\n") : text("unhealthy\n", 500);
      }
      if (path === "/readyz") return opts.ready() ? text("ok\n") : text("caches not synced\n", 503);
      return text("not found\n", 404);
    });
    servers.push(server);
    out.probeAddr = server.addr;
  }
  return out;
}
