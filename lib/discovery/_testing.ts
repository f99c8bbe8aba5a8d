/**
 * Test helpers: loopback HTTP servers and a fake OCI registry with the auth schemes real ones use.
 * Only tests import this file.
 *
 * @module
 */

/** A loopback server that records the requests it received. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` (or https with TLS). */
  url: string;
  port: number;
  /** Every request, in arrival order, with its body read as text. */
  requests: { method: string; url: URL; headers: Headers; body: string }[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 and a free port. */
export function startServer(
  handler: (request: Request, url: URL, body: string) => Response | Promise<Response>,
  tls?: { cert: string; key: string },
): TestServer {
  const requests: TestServer["requests"] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    ...(tls ?? {}),
  }, async (request) => {
    const url = new URL(request.url);
    const body = await request.text();
    requests.push({ method: request.method, url, headers: request.headers, body });
    return handler(request, url, body);
  });
  const port = server.addr.port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    requests,
    close: () => server.shutdown(),
  };
}

/** How the fake registry authenticates. */
export type FakeAuth =
  | { kind: "none" }
  | { kind: "basic"; username: string; password: string }
  | {
    kind: "bearer";
    /** Credentials the token server requires; undefined allows anonymous tokens. */
    username?: string;
    password?: string;
    expiresIn?: number;
    /** Answer with `access_token` instead of `token`. */
    accessTokenField?: boolean;
  }
  | { kind: "static"; token: string }
  | { kind: "header"; name: string; value: string };

/** Settings of {@linkcode fakeRegistry}. */
export interface FakeRegistryOptions {
  /** Tags per repository, listed in the given order (real registries sort them). */
  repositories: Record<string, string[]>;
  auth?: FakeAuth;
  /** Page size when the client sends no `n`; unset means one page. */
  defaultPageSize?: number;
  /** Emit absolute `Link` URLs instead of relative ones. */
  absoluteLinks?: boolean;
  /** Override the next link, e.g. to point to another host. */
  linkOverride?: string;
}

/** A fake registry server and what it saw. */
export interface FakeRegistry extends TestServer {
  /** Tokens issued by the token endpoint, in order, with their scope. */
  issued: { token: string; scope: string | null; account: string | null }[];
}

/**
 * Serves `/v2/<repo>/tags/list` with `n`/`last` pagination like the distribution registry, and
 * `/token` as the bearer realm. 404 bodies use the distribution error format.
 */
export function fakeRegistry(options: FakeRegistryOptions): FakeRegistry {
  const auth = options.auth ?? { kind: "none" };
  const issued: FakeRegistry["issued"] = [];
  const valid = new Map<string, string | null>();
  let base = "";
  const server = startServer((request, url) => {
    if (url.pathname === "/token" && auth.kind === "bearer") {
      if (auth.username !== undefined) {
        const expected = `Basic ${btoa(`${auth.username}:${auth.password ?? ""}`)}`;
        if (request.headers.get("authorization") !== expected) {
          return Response.json({ details: "incorrect username or password" }, { status: 401 });
        }
      }
      const token = `tok-${issued.length + 1}-${crypto.randomUUID()}`;
      const scope = url.searchParams.get("scope");
      issued.push({ token, scope, account: url.searchParams.get("account") });
      valid.set(token, scope);
      const field = auth.accessTokenField ? "access_token" : "token";
      return Response.json({ [field]: token, expires_in: auth.expiresIn ?? 300 });
    }
    const match = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (match === null) return new Response("not found", { status: 404 });
    const repository = match[1];
    const denied = checkAuth(request, repository, auth, valid, base);
    if (denied !== undefined) return denied;
    const tags = options.repositories[repository];
    if (tags === undefined) {
      return Response.json({
        errors: [{
          code: "NAME_UNKNOWN",
          message: "repository name not known to registry",
          detail: { name: repository },
        }],
      }, { status: 404 });
    }
    const n = Number(url.searchParams.get("n") ?? options.defaultPageSize ?? tags.length);
    const last = url.searchParams.get("last");
    const start = last === null ? 0 : tags.indexOf(last) + 1;
    const page = tags.slice(start, start + n);
    const headers = new Headers();
    if (start + n < tags.length && page.length > 0) {
      const path = `/v2/${repository}/tags/list?n=${n}&last=${encodeURIComponent(page.at(-1)!)}`;
      const link = options.linkOverride ?? (options.absoluteLinks ? `${base}${path}` : path);
      headers.set("link", `<${link}>; rel="next"`);
    }
    return Response.json({ name: repository, tags: page }, { headers });
  });
  base = server.url;
  return { ...server, issued };
}

function checkAuth(
  request: Request,
  repository: string,
  auth: FakeAuth,
  valid: Map<string, string | null>,
  base: string,
): Response | undefined {
  const header = request.headers.get("authorization");
  const unauthorized = (challenge: string) =>
    Response.json({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, {
      status: 401,
      headers: { "www-authenticate": challenge },
    });
  switch (auth.kind) {
    case "none":
      return undefined;
    case "basic":
      return header === `Basic ${btoa(`${auth.username}:${auth.password}`)}`
        ? undefined
        : unauthorized('Basic realm="fake-registry"');
    case "static":
      return header === `Bearer ${auth.token}` ? undefined : unauthorized('Bearer realm="static"');
    case "header":
      return request.headers.get(auth.name) === auth.value
        ? undefined
        : new Response("forbidden", { status: 403 });
    case "bearer": {
      const scope = `repository:${repository}:pull`;
      const token = header?.startsWith("Bearer ") ? header.slice(7) : undefined;
      if (token !== undefined && valid.get(token) === scope) return undefined;
      return unauthorized(
        `Bearer realm="${base}/token",service="fake-registry",scope="${scope}"`,
      );
    }
  }
}
