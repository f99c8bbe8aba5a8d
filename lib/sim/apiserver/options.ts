/**
 * Options and public types of the simulated API server.
 *
 * @module
 */
import type { ApiRequest } from "./http_handler.ts";

/** Which requests a fault applies to; an empty or missing list matches everything. */
export interface FaultScope {
  /** Kubernetes verbs: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs?: string[];
  /** Resources as counted, e.g. "pods", "pods/status", "cachedimages.drop.corewire.io". */
  resources?: string[];
}

/**
 * Faults injected into resource requests (discovery, OpenAPI, health and `/sim/*` are never
 * faulted). The object returned as {@linkcode ApiServer.faults} is live: change its fields at
 * runtime and the next request sees them. Fractions are probabilities in [0, 1].
 */
export interface FaultOptions {
  /** Extra delay before every matching request is answered, in milliseconds. */
  latencyMs?: number;
  /** Every watch stream is closed cleanly this many milliseconds after it opened. */
  closeWatchesAfterMs?: number;
  /** Fraction of watch requests answered with an `ERROR` event carrying 410 Expired. */
  watchGoneFraction?: number;
  /** Fraction of watch streams that send nothing at all (no events, no bookmarks) until closed. */
  stallWatchesFraction?: number;
  /** Fraction of requests answered 429 TooManyRequests with a `Retry-After` header. */
  tooManyRequestsFraction?: number;
  /** Seconds sent in `Retry-After` with injected 429s (default 1). */
  retryAfterSeconds?: number;
  /** Fraction of update, patch and status writes answered 409 Conflict. */
  conflictFraction?: number;
  /** Fraction of requests answered 500 InternalError. */
  internalErrorFraction?: number;
  /** Restricts the faults above to these requests. */
  scope?: FaultScope;
}

/** Serving certificate material for HTTPS; generated when `tls: true`. */
export interface TlsMaterial {
  /** PEM of the CA that signed `cert`, given to clients. */
  caPem: string;
  /** PEM serving certificate (valid for 127.0.0.1 and localhost). */
  cert: string;
  /** PEM PKCS#8 private key of `cert`. */
  key: string;
}

/** Options of {@linkcode startApiServer}. */
export interface ApiServerOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Serve HTTPS: `true` generates a CA and a serving certificate; or give your own. */
  tls?: boolean | TlsMaterial;
  /** Faults to inject from the start; mutable later through {@linkcode ApiServer.faults}. */
  faults?: FaultOptions;
  /** Watch events retained per resource for resuming watches and paging (default 10,000). */
  watchWindow?: number;
  /**
   * Watch events older than this are dropped from a resource's window once newer ones arrive
   * (the newest 100 stay whatever their age), as kube-apiserver's watch cache keeps 75 s of
   * history (default 75). A watch or continue token from before the window is answered 410.
   */
  watchWindowSeconds?: number;
  /**
   * Accepted bearer tokens mapped to user names. An admin token is always generated. Requests
   * without a token are anonymous and allowed unless `requireAuth` is set; an unknown token is
   * always answered 401.
   */
  authTokens?: Record<string, string>;
  /** Reject requests without a valid token (default: true with TLS, false without). */
  requireAuth?: boolean;
  /** Interval of watch bookmarks in milliseconds (default 60,000, as kube-apiserver). */
  bookmarkIntervalMs?: number;
  /**
   * Pods bound to a node (and not finished) are deleted gracefully, as kube-apiserver does: the
   * delete sets `deletionTimestamp` and the kubelet removes the pod with a zero grace period.
   * Set false to delete such pods at once (default true).
   */
  gracefulPodDeletion?: boolean;
  /**
   * Core Events are removed this long after their last write, like kube-apiserver's
   * `--event-ttl` (default 3600).
   */
  eventTtlSeconds?: number;
  /** Core Events kept at most; beyond, the least recently written go first (default 50,000). */
  maxEvents?: number;
}

/** Options of {@linkcode ApiServer.kubeconfig}. */
export interface KubeconfigOptions {
  /** Context, cluster and user name (default "drop-sim"). */
  name?: string;
  /** Bearer token to put in the kubeconfig (default: the admin token). */
  token?: string;
  /** Default namespace of the context. */
  namespace?: string;
}

/** Request counts of an API server since start or the last reset. */
export interface CounterSnapshot {
  /** All counted requests. */
  total: number;
  /** verb -> resource -> count, e.g. `byVerb.create.pods`. */
  byVerb: Record<string, Record<string, number>>;
  /** HTTP status code -> count. */
  byCode: Record<string, number>;
  /** Authenticated user name ("system:anonymous" without a token) -> count. */
  byUser: Record<string, number>;
  /** Watch streams open right now. */
  openWatches: number;
}

/** Read access to the request counters. */
export interface Counters {
  /** A copy of the counts. */
  snapshot(): CounterSnapshot;
  /** Count of one verb on one resource (0 when never seen). */
  get(verb: string, resource: string): number;
  /** Sets every count to zero. */
  reset(): void;
}

/** Any Kubernetes object as stored: plain JSON. */
export type KubeJson = Record<string, unknown>;

/** Direct in-process access to stored objects, for tests and assertions. */
export interface StoreAccess {
  /** The current object, or undefined. `group` is "" for the core group. */
  get(group: string, plural: string, name: string, namespace?: string): KubeJson | undefined;
  /** Every current object of a resource, sorted by namespace and name. */
  list(group: string, plural: string, namespace?: string): KubeJson[];
  /** The last issued resourceVersion. */
  resourceVersion(): string;
}

/** A running simulated API server. */
export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` or `https://127.0.0.1:41234`. */
  readonly url: string;
  /** PEM of the CA clients must trust (only with TLS). */
  readonly caPem?: string;
  /** Bearer token of the admin user. */
  readonly adminToken: string;
  /** Kubeconfig text (YAML) for this server with a token identity. */
  kubeconfig(opts?: KubeconfigOptions): string;
  /** Request counters, also served at `GET /sim/counters` (`DELETE` resets). */
  readonly counters: Counters;
  /** Live fault settings, also readable and replaceable at `GET`/`PUT /sim/faults`. */
  readonly faults: FaultOptions;
  /** Creates or replaces a CustomResourceDefinition, as a POST would; returns the stored object. */
  registerCrd(crd: KubeJson): KubeJson;
  /** In-process read access to the store. */
  readonly store: StoreAccess;
  /**
   * Answers one request in-process, without TLS or sockets, as over HTTP (same authentication,
   * counters and faults); the URL's origin is ignored. The request's signal stands for the
   * connection: its abort ends a watch. Rejects once the server is stopped, as a refused
   * connection would.
   */
  handle(req: ApiRequest & { readonly signal?: AbortSignal }): Promise<Response>;
  /** Closes every watch and the listener. */
  stop(): Promise<void>;
}
