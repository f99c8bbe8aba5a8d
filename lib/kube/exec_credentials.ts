import type { CredentialProvider, Credentials } from "./cluster_config.ts";

/** The `user.exec` section of a kubeconfig. */
export interface ExecConfig {
  /** ExecCredential API version: client.authentication.k8s.io/v1 or v1beta1. */
  apiVersion?: string;
  /** Plugin executable; relative paths with a slash are relative to the kubeconfig. */
  command: string;
  /** Arguments of the plugin. */
  args?: string[];
  /** Extra environment variables of the plugin. */
  env?: { name: string; value: string }[];
  /** Shown when the plugin cannot be started. */
  installHint?: string;
  /** Pass the cluster's server and CA in KUBERNETES_EXEC_INFO. */
  provideClusterInfo?: boolean;
  /** Never | IfAvailable | Always; plugins always run non-interactively here. */
  interactiveMode?: string;
}

/** Cluster information handed to plugins that ask for it (`provideClusterInfo`). */
export interface ExecClusterInfo {
  /** API server URL. */
  server: string;
  /** Base64 PEM CA bundle. */
  "certificate-authority-data"?: string;
  /** Whether server certificates are not verified. */
  "insecure-skip-tls-verify"?: boolean;
  /** Proxy for requests to the cluster. */
  "proxy-url"?: string;
}

/** Options of {@linkcode ExecCredentials}. */
export interface ExecCredentialsOptions {
  /** Sent to the plugin in KUBERNETES_EXEC_INFO when `provideClusterInfo` is set. */
  cluster?: ExecClusterInfo;
  /** Kill a plugin that has not answered after this long. Default 60 s. */
  timeoutMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

const SUPPORTED_API_VERSIONS = new Set([
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
]);

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/**
 * Credentials from an exec plugin (ExecCredential v1 or v1beta1), cached until their
 * `expirationTimestamp` and re-fetched after a 401. Concurrent callers share one plugin run.
 */
export class ExecCredentials implements CredentialProvider {
  readonly #config: ExecConfig;
  readonly #apiVersion: string;
  readonly #cluster?: ExecClusterInfo;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #cached?: Credentials;
  #expiresAt = Number.POSITIVE_INFINITY;
  #pending?: Promise<Credentials>;
  #runs = 0;

  /** Creates the provider; throws for an unsupported apiVersion. */
  constructor(config: ExecConfig, opts: ExecCredentialsOptions = {}) {
    const apiVersion = config.apiVersion ?? "";
    if (!SUPPORTED_API_VERSIONS.has(apiVersion)) {
      throw new Error(
        `Cannot use exec credential plugin "${config.command}": apiVersion "${apiVersion}" is not one of ${
          [...SUPPORTED_API_VERSIONS].join(", ")
        }`,
      );
    }
    this.#config = config;
    this.#apiVersion = apiVersion;
    this.#cluster = opts.cluster;
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** How many times the plugin has been run; lets tests observe caching. */
  get runs(): number {
    return this.#runs;
  }

  /** Cached credentials while valid, else the result of a (shared) plugin run. */
  get(): Promise<Credentials> {
    if (this.#cached && this.#now() < this.#expiresAt) return Promise.resolve(this.#cached);
    this.#pending ??= this.#run().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the cached credentials so the next `get` runs the plugin. */
  invalidate(): void {
    this.#cached = undefined;
  }

  async #run(): Promise<Credentials> {
    this.#runs++;
    const name = this.#config.command;
    const info = {
      apiVersion: this.#apiVersion,
      kind: "ExecCredential",
      spec: {
        interactive: false,
        ...(this.#config.provideClusterInfo && this.#cluster ? { cluster: this.#cluster } : {}),
      },
    };
    const env: Record<string, string> = { KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name: key, value } of this.#config.env ?? []) env[key] = value;
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(name, {
        args: this.#config.args ?? [],
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(this.#timeoutMs),
      }).output();
    } catch (e) {
      const hint = this.#config.installHint ? `; ${this.#config.installHint.trim()}` : "";
      throw new Error(
        `Cannot run exec credential plugin "${name}": ${(e as Error).message}${hint}`,
      );
    }
    const stderr = new TextDecoder().decode(output.stderr).trim().slice(0, 500);
    if (!output.success) {
      throw new Error(
        `Exec credential plugin "${name}" failed with exit code ${output.code}${
          stderr ? `: ${stderr}` : ""
        }`,
      );
    }
    const status = parseExecCredential(new TextDecoder().decode(output.stdout), this.#apiVersion);
    if (!status.token && !(status.clientCertificateData && status.clientKeyData)) {
      throw new Error(
        `Exec credential plugin "${name}" returned neither a token nor a client certificate and key`,
      );
    }
    const creds: Credentials = {};
    if (status.token) creds.token = status.token;
    if (status.clientCertificateData && status.clientKeyData) {
      creds.clientCertData = status.clientCertificateData;
      creds.clientKeyData = status.clientKeyData;
    }
    this.#expiresAt = Number.POSITIVE_INFINITY;
    if (status.expirationTimestamp) {
      const t = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(t)) {
        throw new Error(
          `Exec credential plugin "${name}" returned an invalid expirationTimestamp "${status.expirationTimestamp}"`,
        );
      }
      this.#expiresAt = t;
    }
    this.#cached = creds;
    return creds;
  }
}

function parseExecCredential(stdout: string, apiVersion: string): ExecCredentialStatus {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error("Cannot decode exec credential plugin output: it is not JSON");
  }
  const obj = doc as { apiVersion?: string; kind?: string; status?: ExecCredentialStatus };
  if (obj?.kind !== "ExecCredential") {
    throw new Error(
      `Cannot decode exec credential plugin output: kind is "${obj?.kind}", want "ExecCredential"`,
    );
  }
  if (obj.apiVersion !== apiVersion) {
    throw new Error(
      `Cannot decode exec credential plugin output: apiVersion is "${obj.apiVersion}", want "${apiVersion}"`,
    );
  }
  return obj.status ?? {};
}
