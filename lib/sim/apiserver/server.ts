/**
 * Starts the simulated API server on 127.0.0.1 over HTTP or HTTPS.
 *
 * @module
 */
import { ApiCore } from "./api_core.ts";
import { RequestCounters } from "./counters.ts";
import { createHandler } from "./http_handler.ts";
import { isObject, type JsonObject } from "./json_util.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { OpenApiCache } from "./openapi.ts";
import type {
  ApiServer,
  ApiServerOptions,
  FaultOptions,
  KubeconfigOptions,
  KubeJson,
  StoreAccess,
  TlsMaterial,
} from "./options.ts";
import { objectKey } from "./resource_def.ts";
import { ApiError } from "./status.ts";
import { WatchManager } from "./watch.ts";
import { generateTlsMaterial } from "./x509.ts";

/** Name of the admin user the generated token authenticates as. */
export const ADMIN_USER = "system:admin";

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function storeAccess(core: ApiCore): StoreAccess {
  const bucketOf = (group: string, plural: string) => {
    const def = core.registry.all().find((d) => d.group === group && d.plural === plural);
    return def ? core.store.bucket(def.storageKey) : undefined;
  };
  return {
    get(group, plural, name, namespace) {
      const rec = bucketOf(group, plural)?.objects.get(objectKey(namespace ?? "", name));
      return rec ? JSON.parse(rec.json) : undefined;
    },
    list(group, plural, namespace) {
      const bucket = bucketOf(group, plural);
      if (!bucket) return [];
      return bucket.sortedKeys()
        .map((k) => bucket.objects.get(k)!)
        .filter((r) => namespace === undefined || r.ns === namespace)
        .map((r) => JSON.parse(r.json));
    },
    resourceVersion: () => String(core.store.rv),
  };
}

/**
 * Starts a Kubernetes-compatible API server held in memory.
 *
 * ```ts
 * const server = await startApiServer({ tls: true });
 * await Deno.writeTextFile("kubeconfig", server.kubeconfig());
 * // ... kubectl --kubeconfig kubeconfig get nodes
 * await server.stop();
 * ```
 */
export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const tls: TlsMaterial | undefined = opts.tls === true
    ? await generateTlsMaterial()
    : isObject(opts.tls)
    ? opts.tls as TlsMaterial
    : undefined;
  // The core tells the watch manager about removed resources; the manager needs the core's store.
  const late: { watches?: WatchManager } = {};
  const core = new ApiCore({
    watchWindow: opts.watchWindow ?? 10_000,
    watchWindowMs: (opts.watchWindowSeconds ?? 75) * 1000,
    maxEvents: opts.maxEvents ?? 50_000,
    gracefulPodDeletion: opts.gracefulPodDeletion ?? true,
    onResourceRemoved: (storageKey) => late.watches?.closeBucket(storageKey),
  });
  const watches = new WatchManager(core.store, opts.bookmarkIntervalMs ?? 60_000);
  late.watches = watches;
  const liveWatches = watches;
  const counters = new RequestCounters(() => liveWatches.open);
  const faults: FaultOptions = { ...(opts.faults ?? {}) };
  const adminToken = randomToken();
  const tokens = new Map<string, string>([[adminToken, ADMIN_USER]]);
  for (const [token, user] of Object.entries(opts.authTokens ?? {})) tokens.set(token, user);
  let address = "";
  const handler = createHandler({
    core,
    watches,
    counters,
    openapi: new OpenApiCache(core.registry),
    faults,
    tokens,
    requireAuth: opts.requireAuth ?? tls !== undefined,
    serverAddress: () => address,
  });
  const abort = new AbortController();
  const serveOpts = {
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    signal: abort.signal,
    onListen() {},
  };
  // The handler's context is not Deno.serve's ServeHandlerInfo: only in-process callers give one.
  const serve = (req: Request) => handler(req);
  const server = tls
    ? Deno.serve({ ...serveOpts, cert: tls.cert, key: tls.key }, serve)
    : Deno.serve(serveOpts, serve);
  address = `127.0.0.1:${server.addr.port}`;
  const url = `${tls ? "https" : "http"}://${address}`;
  const ttl = opts.eventTtlSeconds ?? 3600;
  const sweeper = setInterval(() => core.expireEvents(ttl), Math.min(60_000, ttl * 1000));
  let stopped = false;

  return {
    url,
    caPem: tls?.caPem,
    adminToken,
    counters,
    faults,
    store: storeAccess(core),
    handle(req) {
      if (stopped) {
        return Promise.reject(
          new Error(`Cannot ${req.method} ${new URL(req.url).pathname}: the API server is stopped`),
        );
      }
      return handler(req, { signal: req.signal, inProcess: true });
    },
    kubeconfig(k: KubeconfigOptions = {}) {
      return renderKubeconfig({
        server: url,
        token: k.token ?? adminToken,
        caPem: tls?.caPem,
        name: k.name,
        namespace: k.namespace,
      });
    },
    registerCrd(crd: KubeJson): KubeJson {
      try {
        return JSON.parse(core.registerCrd(crd as JsonObject).json);
      } catch (e) {
        if (e instanceof ApiError) {
          throw new Error(
            `Cannot register CRD ${
              JSON.stringify((crd.metadata as JsonObject)?.name)
            }: ${e.message}`,
          );
        }
        throw e;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweeper);
      liveWatches.closeAll();
      abort.abort();
      await server.finished;
    },
  };
}
