/** Credentials to attach to one request. */
export interface Credentials {
  /** Bearer token. */
  token?: string;
  /** HTTP basic auth. */
  basic?: { username: string; password: string };
  /** PEM client certificate and key (exec plugins may return these). */
  clientCertData?: string;
  /** PEM client key matching `clientCertData`. */
  clientKeyData?: string;
}

/**
 * Supplies credentials, possibly refreshing them (token files, exec plugins).
 * `invalidate` is called after a 401 so the next `get` fetches fresh ones.
 */
export interface CredentialProvider {
  /** Current credentials, refreshed when cached ones expired or were invalidated. */
  get(): Promise<Credentials>;
  /** Marks cached credentials as rejected (after a 401). */
  invalidate(): void;
}

/** Everything needed to talk to one API server, however it was discovered. */
export interface ClusterConfig {
  /** Base URL of the API server, without a trailing slash. */
  server: string;
  /** Default namespace: the context's, the in-cluster pod's, or "default". */
  namespace: string;
  /** PEM bundle of CAs trusted in addition to the system roots. */
  caData?: string;
  /** PEM client certificate and key for mutual TLS. */
  clientCertData?: string;
  /** PEM client key matching `clientCertData`. */
  clientKeyData?: string;
  /**
   * Skip server certificate verification. Deno cannot do this per client: the process must be
   * started with `--unsafely-ignore-certificate-errors=<host>`; the client reports that clearly
   * when verification fails.
   */
  insecureSkipTlsVerify?: boolean;
  /** Proxy URL from the kubeconfig cluster entry. */
  proxyUrl?: string;
  /** Credentials attached to every request. */
  credentials?: CredentialProvider;
  /** Where this config came from, for logs (never contains secrets). */
  source: string;
}

/** Credentials that never change: a literal token, or basic auth. */
export class StaticCredentials implements CredentialProvider {
  #creds: Credentials;

  /** Wraps fixed credentials. */
  constructor(creds: Credentials) {
    this.#creds = { ...creds };
  }

  /** The fixed credentials. */
  get(): Promise<Credentials> {
    return Promise.resolve(this.#creds);
  }

  /** Does nothing: fixed credentials cannot be refreshed. */
  invalidate(): void {
    // A literal credential cannot be refreshed; the 401 surfaces to the caller.
  }
}
