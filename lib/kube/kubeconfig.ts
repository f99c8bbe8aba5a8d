import { parse as parseYaml } from "yaml";
import {
  type ClusterConfig,
  type CredentialProvider,
  StaticCredentials,
} from "./cluster_config.ts";
import { type ExecConfig, ExecCredentials } from "./exec_credentials.ts";
import { TokenFileCredentials } from "./token_file_credentials.ts";

/** One kubeconfig cluster entry, with file paths already made absolute. */
export interface KubeconfigCluster {
  /** API server URL. */
  server?: string;
  /** Path of a PEM CA bundle. */
  "certificate-authority"?: string;
  /** Base64 PEM CA bundle. */
  "certificate-authority-data"?: string;
  /** Skip server certificate verification. */
  "insecure-skip-tls-verify"?: boolean;
  /** Server name for TLS verification (not supported by Deno's client; ignored). */
  "tls-server-name"?: string;
  /** Proxy for requests to this cluster. */
  "proxy-url"?: string;
}

/** One kubeconfig user entry, with file paths already made absolute. */
export interface KubeconfigUser {
  /** Path of a PEM client certificate. */
  "client-certificate"?: string;
  /** Base64 PEM client certificate. */
  "client-certificate-data"?: string;
  /** Path of a PEM client key. */
  "client-key"?: string;
  /** Base64 PEM client key. */
  "client-key-data"?: string;
  /** Bearer token. */
  token?: string;
  /** Path of a file holding a bearer token (re-read as it rotates). */
  tokenFile?: string;
  /** Basic auth user. */
  username?: string;
  /** Basic auth password. */
  password?: string;
  /** Exec credential plugin. */
  exec?: ExecConfig;
  /** Legacy auth provider (rejected: use an exec plugin). */
  "auth-provider"?: { name?: string };
}

/** One kubeconfig context entry. */
export interface KubeconfigContext {
  /** Name of the cluster entry. */
  cluster?: string;
  /** Name of the user entry. */
  user?: string;
  /** Default namespace. */
  namespace?: string;
}

/** A parsed (and possibly merged) kubeconfig. */
export interface Kubeconfig {
  /** The `current-context` of the (first) file. */
  currentContext?: string;
  /** Cluster entries by name. */
  clusters: Map<string, KubeconfigCluster>;
  /** User entries by name. */
  users: Map<string, KubeconfigUser>;
  /** Context entries by name. */
  contexts: Map<string, KubeconfigContext>;
}

/** Options for turning kubeconfig text into a {@linkcode ClusterConfig}. */
export interface KubeconfigOptions {
  /** Context to use instead of `current-context`. */
  context?: string;
  /** Directory that relative paths in the file are relative to. Default: the working directory. */
  baseDir?: string;
  /** Shown in errors and in `ClusterConfig.source`. Default "kubeconfig". */
  source?: string;
}

/**
 * Parses one kubeconfig document. Relative file paths (certificates, keys, token files and exec
 * commands containing a slash) are resolved against `baseDir`, as kubectl resolves them against
 * the file that names them.
 */
export function parseKubeconfig(text: string, baseDir: string, source = "kubeconfig"): Kubeconfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new Error(`Cannot parse ${source}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new Error(`Cannot parse ${source}: the document is not a mapping`);
  }
  const raw = doc as Record<string, unknown>;
  const result: Kubeconfig = {
    currentContext: typeof raw["current-context"] === "string" && raw["current-context"]
      ? raw["current-context"]
      : undefined,
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
  };
  for (const [name, cluster] of namedEntries<KubeconfigCluster>(raw.clusters, "cluster", source)) {
    const c = { ...cluster };
    if (c["certificate-authority"]) {
      c["certificate-authority"] = resolvePath(c["certificate-authority"], baseDir);
    }
    result.clusters.set(name, c);
  }
  for (const [name, user] of namedEntries<KubeconfigUser>(raw.users, "user", source)) {
    const u = { ...user };
    if (u["client-certificate"]) {
      u["client-certificate"] = resolvePath(u["client-certificate"], baseDir);
    }
    if (u["client-key"]) u["client-key"] = resolvePath(u["client-key"], baseDir);
    if (u.tokenFile) u.tokenFile = resolvePath(u.tokenFile, baseDir);
    if (u.exec?.command?.includes("/")) {
      u.exec = { ...u.exec, command: resolvePath(u.exec.command, baseDir) };
    }
    result.users.set(name, u);
  }
  for (const [name, ctx] of namedEntries<KubeconfigContext>(raw.contexts, "context", source)) {
    result.contexts.set(name, { ...ctx });
  }
  return result;
}

/**
 * Merges kubeconfigs in `$KUBECONFIG` order: the first file to define a name (or a
 * current-context) wins, as kubectl does.
 */
export function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
  const merged: Kubeconfig = {
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
  };
  for (const c of configs) {
    merged.currentContext ??= c.currentContext;
    for (const [k, v] of c.clusters) if (!merged.clusters.has(k)) merged.clusters.set(k, v);
    for (const [k, v] of c.users) if (!merged.users.has(k)) merged.users.set(k, v);
    for (const [k, v] of c.contexts) if (!merged.contexts.has(k)) merged.contexts.set(k, v);
  }
  return merged;
}

/**
 * Builds a {@linkcode ClusterConfig} from a parsed kubeconfig and a context (default: its
 * current-context). Certificate and key files are read now; token files and exec plugins are read
 * or run lazily, on the first request.
 */
export function clusterConfigFromKubeconfig(
  kc: Kubeconfig,
  opts: { context?: string; source?: string } = {},
): ClusterConfig {
  const source = opts.source ?? "kubeconfig";
  const contextName = opts.context || kc.currentContext;
  if (!contextName) {
    throw new Error(`Cannot choose a context from ${source}: no current-context is set`);
  }
  const ctx = kc.contexts.get(contextName);
  if (!ctx) throw new Error(`Cannot use context "${contextName}": it is not in ${source}`);
  if (!ctx.cluster) {
    throw new Error(`Cannot use context "${contextName}": it names no cluster`);
  }
  const cluster = kc.clusters.get(ctx.cluster);
  if (!cluster) {
    throw new Error(
      `Cannot use context "${contextName}": cluster "${ctx.cluster}" is not in ${source}`,
    );
  }
  if (!cluster.server) {
    throw new Error(`Cannot use cluster "${ctx.cluster}": it has no server URL`);
  }
  const user: KubeconfigUser = ctx.user ? kc.users.get(ctx.user) ?? {} : {};
  if (ctx.user && !kc.users.has(ctx.user)) {
    throw new Error(`Cannot use context "${contextName}": user "${ctx.user}" is not in ${source}`);
  }
  const config: ClusterConfig = {
    server: cluster.server.replace(/\/+$/, ""),
    namespace: ctx.namespace || "default",
    source: `${source} context "${contextName}"`,
  };
  const ca = dataOrFile(
    cluster["certificate-authority-data"],
    cluster["certificate-authority"],
    "certificate authority",
  );
  if (ca) config.caData = ca;
  if (cluster["insecure-skip-tls-verify"] === true) config.insecureSkipTlsVerify = true;
  if (cluster["proxy-url"]) config.proxyUrl = cluster["proxy-url"];
  const cert = dataOrFile(
    user["client-certificate-data"],
    user["client-certificate"],
    "client certificate",
  );
  const key = dataOrFile(user["client-key-data"], user["client-key"], "client key");
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error(
      `Cannot use user "${ctx.user}": a client certificate needs both a certificate and a key`,
    );
  }
  if (cert && key) {
    config.clientCertData = cert;
    config.clientKeyData = key;
  }
  const creds = credentialsFor(user, ctx.user ?? "", cluster, config);
  if (creds) config.credentials = creds;
  return config;
}

/** Parses kubeconfig text and builds the config of its current (or the named) context. */
export function configFromKubeconfigText(
  text: string,
  opts: KubeconfigOptions = {},
): ClusterConfig {
  const source = opts.source ?? "kubeconfig";
  const kc = parseKubeconfig(text, opts.baseDir ?? Deno.cwd(), source);
  return clusterConfigFromKubeconfig(kc, { context: opts.context, source });
}

function credentialsFor(
  user: KubeconfigUser,
  userName: string,
  cluster: KubeconfigCluster,
  config: ClusterConfig,
): CredentialProvider | undefined {
  if (user["auth-provider"]) {
    throw new Error(
      `Cannot use user "${userName}": auth-provider "${
        user["auth-provider"].name ?? ""
      }" is not supported, use an exec credential plugin`,
    );
  }
  const hasBasic = Boolean(user.username || user.password);
  if (hasBasic && (user.token || user.tokenFile)) {
    throw new Error(
      `Cannot use user "${userName}": it sets both basic auth and a bearer token`,
    );
  }
  // client-go prefers a literal token over a token file; both beat an exec plugin.
  if (user.token) return new StaticCredentials({ token: user.token });
  if (user.tokenFile) return new TokenFileCredentials(user.tokenFile);
  if (hasBasic) {
    return new StaticCredentials({
      basic: { username: user.username ?? "", password: user.password ?? "" },
    });
  }
  if (user.exec) {
    if (!user.exec.command) {
      throw new Error(`Cannot use user "${userName}": its exec plugin names no command`);
    }
    return new ExecCredentials(user.exec, {
      cluster: {
        server: config.server,
        ...(config.caData ? { "certificate-authority-data": btoa(config.caData) } : {}),
        ...(cluster["insecure-skip-tls-verify"] ? { "insecure-skip-tls-verify": true } : {}),
        ...(cluster["proxy-url"] ? { "proxy-url": cluster["proxy-url"] } : {}),
      },
    });
  }
  return undefined;
}

function* namedEntries<T>(
  list: unknown,
  field: string,
  source: string,
): Iterable<[string, T]> {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new Error(`Cannot parse ${source}: "${field}s" is not a list`);
  for (const entry of list) {
    const name = (entry as { name?: unknown })?.name;
    if (typeof name !== "string" || !name) {
      throw new Error(`Cannot parse ${source}: a ${field} entry has no name`);
    }
    const value = (entry as Record<string, unknown>)[field];
    if (value !== undefined && (typeof value !== "object" || value === null)) {
      throw new Error(`Cannot parse ${source}: ${field} "${name}" is not a mapping`);
    }
    yield [name, (value ?? {}) as T];
  }
}

function dataOrFile(data: string | undefined, file: string | undefined, what: string) {
  if (data) return decodeBase64Text(data, what);
  if (file) {
    try {
      return Deno.readTextFileSync(file);
    } catch (e) {
      throw new Error(`Cannot read ${what} file "${file}": ${(e as Error).message}`);
    }
  }
  return undefined;
}

function decodeBase64Text(data: string, what: string): string {
  try {
    const bin = atob(data.replace(/\s+/g, ""));
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    throw new Error(`Cannot decode ${what} data: it is not valid base64`);
  }
}

function resolvePath(path: string, baseDir: string): string {
  if (path.startsWith("/")) return path;
  return `${baseDir.replace(/\/+$/, "")}/${path}`;
}
