/**
 * An OCI distribution endpoint over the simulated registry's catalogue, on 127.0.0.1, so that
 * registry discovery can list tags from it: `/v2/`, `/v2/<name>/tags/list` and `/v2/_catalog`
 * with `n`/`last` and `Link` pagination, manifest `HEAD`/`GET`, and optional basic or bearer
 * token authentication (the `/token` challenge flow).
 *
 * @module
 */
import { sha256Hex } from "./_hash.ts";
import type { RegistryCatalogue } from "./registry_catalogue.ts";

/** Credentials the endpoint demands, and how. */
export interface RegistryAuth {
  username: string;
  password: string;
  /** `basic`: HTTP basic on every request; `bearer` (default): the token challenge flow. */
  scheme?: "basic" | "bearer";
}

/** Options of {@linkcode startRegistryServer}. */
export interface RegistryServerOptions {
  catalogue: RegistryCatalogue;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /**
   * The catalogue host this endpoint serves, e.g. `registry.example.com`. Default: its own
   * address `127.0.0.1:<port>`, so that references built from its URL pull from it.
   */
  host?: string;
  /** Require credentials (default: none). */
  auth?: RegistryAuth;
  /** Serve HTTPS with this PEM certificate and PKCS#8 key. */
  tls?: { cert: string; key: string };
  /** Multiplies the catalogue's host latency (simulated milliseconds) into wall time. Default 1. */
  timeScale?: number;
}

/** A running registry endpoint. */
export interface RegistryServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The catalogue host it serves. */
  readonly host: string;
  /** Requests answered so far, by route: `base`, `tags`, `catalog`, `manifest`, `token`. */
  readonly requests: Readonly<Record<string, number>>;
  /** Stops listening; answers requests held by a `timeout` fault with 503 first. */
  stop(): Promise<void>;
}

const API_VERSION_HEADER = { "docker-distribution-api-version": "registry/2.0" };
const TOKEN_SERVICE = "drop-sim-registry";
const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

/** Starts an OCI distribution endpoint serving one host of `opts.catalogue`. */
export function startRegistryServer(opts: RegistryServerOptions): Promise<RegistryServer> {
  const held = new Set<() => void>();
  const stopping = new AbortController();
  const requests: Record<string, number> = {};
  const tokens = new Set<string>();
  let base = "";
  let host = opts.host ?? "";
  const timeScale = opts.timeScale ?? 1;

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const route = routeOf(url.pathname);
    requests[route.kind] = (requests[route.kind] ?? 0) + 1;
    if (route.kind === "token") return issueToken(req, opts.auth, tokens);
    if (route.kind === "unknown") return distributionError(404, "UNSUPPORTED", "not found");

    const fault = opts.catalogue.hostFailure(host, true);
    const latency = opts.catalogue.hostLatencyMs(host) * timeScale;
    if (latency > 0 && !(await wait(latency, req.signal, stopping.signal))) {
      return distributionError(503, "UNAVAILABLE", "service unavailable");
    }
    if (fault === "timeout") {
      // The client gives up first; a stopping server lets go of the request.
      await new Promise<void>((resolve) => {
        const release = () => {
          held.delete(release);
          req.signal.removeEventListener("abort", release);
          resolve();
        };
        held.add(release);
        req.signal.addEventListener("abort", release, { once: true });
      });
      return distributionError(503, "UNAVAILABLE", "service unavailable");
    }
    if (fault === "unauthorized") return challenge(opts.auth, base, route.name);
    if (fault) return distributionError(503, "UNAVAILABLE", "service unavailable");
    if (opts.auth && !authorized(req, opts.auth, tokens)) {
      return challenge(opts.auth, base, route.name);
    }

    switch (route.kind) {
      case "base":
        return json(200, {});
      case "catalog":
        return paginated(url, "/v2/_catalog", "repositories", {
          repositories: opts.catalogue.listRepositories(host),
        });
      case "tags": {
        const tags = opts.catalogue.listTags(`${host}/${route.name}`);
        if (!tags) return nameUnknown(route.name);
        return paginated(url, `/v2/${route.name}/tags/list`, "tags", {
          name: route.name,
          tags,
        });
      }
      case "manifest":
        return manifest(req, opts.catalogue, host, route.name, route.reference);
    }
  };

  const onListen = () => {};
  const server = opts.tls
    ? Deno.serve({
      hostname: "127.0.0.1",
      port: opts.port ?? 0,
      cert: opts.tls.cert,
      key: opts.tls.key,
      onListen,
    }, handler)
    : Deno.serve({
      hostname: "127.0.0.1",
      port: opts.port ?? 0,
      onListen,
    }, handler);
  const addr = server.addr as Deno.NetAddr;
  const address = `127.0.0.1:${addr.port}`;
  base = `${opts.tls ? "https" : "http"}://${address}`;
  if (!host) host = address;

  return Promise.resolve({
    url: base,
    host,
    requests,
    async stop() {
      stopping.abort();
      for (const release of [...held]) release();
      // shutdown() lets answered requests reach their clients; aborting a serve signal does not.
      await server.shutdown();
    },
  });
}

type Route =
  | { kind: "base"; name?: undefined }
  | { kind: "catalog"; name?: undefined }
  | { kind: "token"; name?: undefined }
  | { kind: "unknown"; name?: undefined }
  | { kind: "tags"; name: string }
  | { kind: "manifest"; name: string; reference: string };

function routeOf(path: string): Route {
  if (path === "/v2/" || path === "/v2") return { kind: "base" };
  if (path === "/v2/_catalog") return { kind: "catalog" };
  if (path === "/token") return { kind: "token" };
  let m = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (m) return { kind: "tags", name: decodeURIComponent(m[1]) };
  m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
  if (m) {
    return {
      kind: "manifest",
      name: decodeURIComponent(m[1]),
      reference: decodeURIComponent(m[2]),
    };
  }
  return { kind: "unknown" };
}

/** A page of a sorted list as the distribution spec defines it: `last` exclusive, at most `n`. */
function paginated(
  url: URL,
  path: string,
  key: "tags" | "repositories",
  body: { name?: string; tags?: string[]; repositories?: string[] },
): Response {
  const all = body[key] ?? [];
  const last = url.searchParams.get("last");
  const nParam = url.searchParams.get("n");
  const start = last === null ? 0 : all.findIndex((v) => v > last);
  const rest = start < 0 ? [] : all.slice(start);
  if (nParam === null) return json(200, { ...body, [key]: rest });
  const n = Number(nParam);
  if (!Number.isInteger(n) || n < 0) {
    return distributionError(
      400,
      "PAGINATION_NUMBER_INVALID",
      "invalid number of results requested",
    );
  }
  const page = rest.slice(0, n);
  const headers: Record<string, string> = {};
  if (page.length > 0 && rest.length > page.length) {
    const next = new URLSearchParams({ last: page[page.length - 1], n: String(n) });
    headers.link = `<${path}?${next}>; rel="next"`;
  }
  return json(200, { ...body, [key]: page }, headers);
}

function manifest(
  req: Request,
  catalogue: RegistryCatalogue,
  host: string,
  name: string,
  reference: string,
): Response {
  if (!catalogue.listTags(`${host}/${name}`)) return nameUnknown(name);
  const ref = reference.startsWith("sha256:")
    ? `${host}/${name}@${reference}`
    : `${host}/${name}:${reference}`;
  const r = catalogue.resolve(ref, { authenticated: true });
  if (!r.ok) {
    return distributionError(404, "MANIFEST_UNKNOWN", "manifest unknown", { tag: reference });
  }
  const { digest, size } = r.manifest;
  const seed = digest.slice("sha256:".length);
  const layerSizes = [Math.round(size * 0.6), Math.round(size * 0.3)];
  layerSizes.push(size - layerSizes[0] - layerSizes[1]);
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${sha256Hex(`${seed}:config`)}`,
      size: 1469,
    },
    layers: layerSizes.map((s, i) => ({
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: `sha256:${sha256Hex(`${seed}:layer:${i}`)}`,
      size: s,
    })),
  });
  const headers = {
    ...API_VERSION_HEADER,
    "content-type": MANIFEST_TYPE,
    "docker-content-digest": digest,
    "content-length": String(new TextEncoder().encode(body).length),
  };
  return new Response(req.method === "HEAD" ? null : body, { status: 200, headers });
}

function authorized(req: Request, auth: RegistryAuth, tokens: Set<string>): boolean {
  const header = req.headers.get("authorization") ?? "";
  if ((auth.scheme ?? "bearer") === "basic") return basicMatches(header, auth);
  return header.startsWith("Bearer ") && tokens.has(header.slice("Bearer ".length));
}

function basicMatches(header: string, auth: RegistryAuth): boolean {
  if (!header.startsWith("Basic ")) return false;
  try {
    return atob(header.slice("Basic ".length)) === `${auth.username}:${auth.password}`;
  } catch {
    return false;
  }
}

function challenge(auth: RegistryAuth | undefined, base: string, name?: string): Response {
  const headers: Record<string, string> = {};
  if (auth?.scheme === "basic") {
    headers["www-authenticate"] = `Basic realm="${TOKEN_SERVICE}"`;
  } else {
    const scope = name ? `,scope="repository:${name}:pull"` : "";
    headers["www-authenticate"] = `Bearer realm="${base}/token",service="${TOKEN_SERVICE}"${scope}`;
  }
  return distributionError(401, "UNAUTHORIZED", "authentication required", undefined, headers);
}

function issueToken(req: Request, auth: RegistryAuth | undefined, tokens: Set<string>): Response {
  if (auth && !basicMatches(req.headers.get("authorization") ?? "", auth)) {
    return distributionError(401, "UNAUTHORIZED", "authentication required", undefined, {
      "www-authenticate": `Basic realm="${TOKEN_SERVICE}"`,
    });
  }
  const token = crypto.randomUUID();
  tokens.add(token);
  return json(200, {
    token,
    access_token: token,
    expires_in: 300,
    issued_at: new Date().toISOString(),
  });
}

function nameUnknown(name: string): Response {
  return distributionError(404, "NAME_UNKNOWN", "repository name not known to registry", { name });
}

function distributionError(
  status: number,
  code: string,
  message: string,
  detail?: unknown,
  headers: Record<string, string> = {},
): Response {
  return json(status, { errors: [{ code, message, detail: detail ?? null }] }, headers);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...API_VERSION_HEADER, "content-type": "application/json", ...headers },
  });
}

/** Waits `ms`; false when the request or the server went away first. */
function wait(ms: number, ...signals: AbortSignal[]): Promise<boolean> {
  return new Promise((resolve) => {
    const signal = AbortSignal.any(signals);
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
