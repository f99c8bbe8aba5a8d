import type { ClusterConfig } from "./cluster_config.ts";
import { TokenFileCredentials } from "./token_file_credentials.ts";

/** Where a pod finds its service account credentials. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options of {@linkcode inClusterConfig}; the defaults are the real pod environment. */
export interface InClusterOptions {
  /** Environment lookup; default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Service account directory holding token, ca.crt and namespace. */
  serviceAccountDir?: string;
  /** How often the token file may be re-read; default 60 s. */
  tokenRefreshMs?: number;
  /** Clock for the token cache, injectable for tests. */
  now?: () => number;
}

/** True when the environment says we run in a pod (KUBERNETES_SERVICE_HOST and _PORT are set). */
export function isInCluster(env: (name: string) => string | undefined = Deno.env.get): boolean {
  return Boolean(env("KUBERNETES_SERVICE_HOST") && env("KUBERNETES_SERVICE_PORT"));
}

/**
 * The config of a pod's own service account: server from KUBERNETES_SERVICE_HOST/_PORT, CA and
 * namespace from the service account directory, and the token *file* (bound tokens rotate, so it
 * is re-read at most every 60 s and after a 401).
 */
export function inClusterConfig(opts: InClusterOptions = {}): ClusterConfig {
  const env = opts.env ?? ((name: string) => Deno.env.get(name));
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env("KUBERNETES_SERVICE_HOST");
  const port = env("KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    throw new Error(
      "Cannot load in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set",
    );
  }
  const tokenPath = `${dir}/token`;
  try {
    Deno.statSync(tokenPath);
  } catch (e) {
    throw new Error(`Cannot load in-cluster config: ${tokenPath}: ${(e as Error).message}`);
  }
  let caData: string | undefined;
  try {
    caData = Deno.readTextFileSync(`${dir}/ca.crt`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new Error(`Cannot read in-cluster CA "${dir}/ca.crt": ${(e as Error).message}`);
    }
  }
  let namespace = "default";
  try {
    namespace = Deno.readTextFileSync(`${dir}/namespace`).trim() || "default";
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new Error(
        `Cannot read in-cluster namespace "${dir}/namespace": ${(e as Error).message}`,
      );
    }
  }
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const config: ClusterConfig = {
    server: `https://${hostPart}:${port}`,
    namespace,
    credentials: new TokenFileCredentials(tokenPath, {
      refreshMs: opts.tokenRefreshMs,
      now: opts.now,
    }),
    source: "in-cluster service account",
  };
  if (caData) config.caData = caData;
  return config;
}
