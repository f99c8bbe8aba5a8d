/**
 * An in-process simulated cluster: the API server with our CRDs, Ready nodes run by simulated
 * kubelets, and a simulated registry with an OCI endpoint. For tests, the demo and benchmarks.
 *
 * @module
 */
import type { Namespace, Node, Taint } from "kubernetes-types/core/v1.d.ts";
import { parse as parseYaml } from "yaml";
import { crdFor, KINDS } from "../api/mod.ts";
import {
  configFromKubeconfigText,
  isAlreadyExists,
  KubeClient,
  type KubeClientOptions,
  NAMESPACES,
  NODES,
} from "../kube/mod.ts";
import {
  type ApiServer,
  type ApiServerOptions,
  type Counters,
  type FaultOptions,
  startApiServer,
} from "./apiserver/mod.ts";
import { Limiter } from "./_limiter.ts";
import { InProcessTransport } from "./in_process_transport.ts";
import { KubeletPool, type KubeletPoolOptions, MANAGED_LABEL } from "./kubelet_pool.ts";
import { RegistryCatalogue } from "./registry_catalogue.ts";
import { type RegistryAuth, type RegistryServer, startRegistryServer } from "./registry_server.ts";

/** Namespace the operator runs in; created with the cluster. */
export const OPERATOR_NAMESPACE = "drop-system";
/** User name the simulated kubelets authenticate as (see the API server's counters by user). */
export const KUBELET_USER = "system:sim-kubelets";

/** Options of the simulated registry of a cluster. */
export interface SimRegistryOptions {
  /** Use this catalogue instead of a fresh open-world one. */
  catalogue?: RegistryCatalogue;
  /** Serve the OCI distribution endpoint (default true). */
  serve?: boolean;
  /** Credentials the endpoint demands. */
  auth?: RegistryAuth;
  /** Catalogue host the endpoint serves (default its own `127.0.0.1:<port>`). */
  host?: string;
}

/** Options of {@linkcode startSimCluster}. */
export interface SimClusterOptions {
  /** Nodes `sim-node-1..N` created at start (default 3). */
  nodes?: number;
  /** Wall time per simulated time for pulls, backoffs and deadlines (default 1). */
  timeScale?: number;
  /** API server faults, applied once the cluster is up (start-up itself is never faulted). */
  faults?: FaultOptions;
  /** Serve the API over HTTPS with a generated CA (default false). */
  tls?: boolean;
  /** API server port on 127.0.0.1 (default: a free one). */
  port?: number;
  registry?: SimRegistryOptions;
  /** Pull bandwidth in bytes per second, for all nodes or by name (default 100 MB/s). */
  nodeBandwidth?: number | Record<string, number>;
  /**
   * Folder of CRD manifests registered at start. Default: the CRDs generated from `lib/api`, the
   * same objects `crds/` holds, built in-process so a bundled binary needs no files.
   */
  crdsDir?: string | URL;
  /** Write the kubeconfig here once the nodes are Ready. */
  kubeconfigPath?: string;
  /** Further API server options (watch window, bookmarks, event TTL...). */
  apiServer?: Omit<ApiServerOptions, "tls" | "port" | "faults">;
  /** Heartbeat intervals and limits of the kubelets. */
  kubelets?: Pick<
    KubeletPoolOptions,
    | "leaseRenewIntervalMs"
    | "nodeStatusReportIntervalMs"
    | "nodeStatusUpdateIntervalMs"
    | "normalPodEvents"
    | "maxConcurrentRequests"
    | "pullHistoryLimit"
    | "onError"
  >;
}

/** Options of {@linkcode SimNodes.add}. */
export interface AddNodeOptions {
  labels?: Record<string, string>;
  taints?: Taint[];
  /** Pull bandwidth in bytes per second. */
  bandwidth?: number;
}

/** Node helpers of a simulated cluster; changes go through the API like kubectl's. */
export interface SimNodes {
  /** Creates a managed node and resolves once its kubelet reported it Ready. */
  add(name: string, opts?: AddNodeOptions): Promise<Node>;
  /** Deletes a node; its kubelet stops and its pods are removed as pod GC would. */
  remove(name: string): Promise<void>;
  /** Sets labels (a null value removes one). */
  label(name: string, labels: Record<string, string | null>): Promise<Node>;
  /** Replaces the node's taints. */
  taint(name: string, taints: Taint[]): Promise<Node>;
  /** Makes the node's kubelet report Ready or NotReady; resolves once written. */
  setReady(name: string, ready: boolean): Promise<void>;
  /** Names of the managed nodes. */
  names(): string[];
}

/** A running simulated cluster. */
export interface SimCluster {
  /** API server URL. */
  readonly url: string;
  /** Kubeconfig (YAML) with the admin identity. */
  readonly kubeconfig: string;
  /** Where the kubeconfig was written, when `kubeconfigPath` was given. */
  readonly kubeconfigPath?: string;
  /** Writes the kubeconfig to `path` (mode 0600). */
  writeKubeconfig(path: string): Promise<void>;
  /** Request counters of the API server. */
  readonly counters: Counters;
  /** The API server itself (store access, live faults). */
  readonly apiServer: ApiServer;
  /** The registry: its catalogue, and the OCI endpoint's URL and host when served. */
  readonly registry: {
    catalogue: RegistryCatalogue;
    url?: string;
    host?: string;
    server?: RegistryServer;
  };
  readonly nodes: SimNodes;
  readonly kubelets: KubeletPool;
  /**
   * A client with the admin identity. It goes over HTTP(S) like any outside client, so tests of
   * an operator in this process exercise the real transport.
   */
  readonly client: KubeClient;
  /**
   * A new client that calls the API server in-process, without TLS or sockets (the simulated
   * kubelets use one), as the user `token` maps to (see `apiServer.authTokens`; default the
   * admin). Requests are counted, authenticated and faulted as over HTTP. The caller closes it.
   */
  inProcessClient(token?: string, opts?: Omit<KubeClientOptions, "fetch">): KubeClient;
  /** Stops kubelets, registry and API server. */
  stop(): Promise<void>;
}

const BASE_LABELS = {
  "kubernetes.io/os": "linux",
  "kubernetes.io/arch": "amd64",
  [MANAGED_LABEL]: "true",
};

/**
 * Starts a simulated cluster: API server (with our CRDs and the namespace
 * `drop-system`), nodes `sim-node-1..N` with their kubelets, and the registry. Resolves once
 * every node is Ready.
 */
export async function startSimCluster(opts: SimClusterOptions = {}): Promise<SimCluster> {
  const kubeletToken = crypto.randomUUID();
  const apiServer = await startApiServer({
    ...opts.apiServer,
    authTokens: { ...opts.apiServer?.authTokens, [kubeletToken]: KUBELET_USER },
    tls: opts.tls,
    port: opts.port,
  });
  const cleanups: (() => Promise<void> | void)[] = [() => apiServer.stop()];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // Stopping continues whatever one part says.
      }
    }
  };
  try {
    const crds = opts.crdsDir ? await readCrds(opts.crdsDir) : KINDS.map((k) => crdFor(k));
    for (const crd of crds) apiServer.registerCrd(crd);

    const kubeconfig = apiServer.kubeconfig();
    // The kubeconfig carries everything inline; a base directory avoids asking for the cwd.
    const client = new KubeClient(configFromKubeconfigText(kubeconfig, { baseDir: "/" }));
    cleanups.push(() => client.close());
    const inProcessClient = (token?: string, opts: Omit<KubeClientOptions, "fetch"> = {}) =>
      new KubeClient(
        configFromKubeconfigText(apiServer.kubeconfig({ token }), { baseDir: "/" }),
        { ...opts, fetch: (req) => apiServer.handle(req) },
      );
    // In-process and without a network client's machinery: the kubelets' requests are CPU of
    // this process that the operator's requests would wait for.
    const kubeletClient = new InProcessTransport({
      handle: (req) => apiServer.handle(req),
      token: kubeletToken,
      userAgent: "kubelet/v1.30.0 (linux/amd64) drop-sim",
    });
    await ensureNamespace(client, OPERATOR_NAMESPACE);

    const catalogue = opts.registry?.catalogue ?? new RegistryCatalogue();
    let registryServer: RegistryServer | undefined;
    if (opts.registry?.serve ?? true) {
      registryServer = await startRegistryServer({
        catalogue,
        auth: opts.registry?.auth,
        host: opts.registry?.host,
        timeScale: opts.timeScale,
      });
      cleanups.push(() => registryServer!.stop());
    }

    const kubelets = new KubeletPool({
      ...opts.kubelets,
      client: kubeletClient,
      catalogue,
      timeScale: opts.timeScale,
      bandwidth: opts.nodeBandwidth,
      deletePodsOfDeletedNodes: true,
    });
    cleanups.push(() => kubelets.stop());
    await kubelets.start();

    const names = Array.from({ length: opts.nodes ?? 3 }, (_, i) => `sim-node-${i + 1}`);
    const limiter = new Limiter(32);
    await Promise.all(names.map((name) => limiter.run(() => createNode(client, name))));
    await kubelets.waitForReady(names);

    const nodes = nodeHelpers(client, kubelets);
    if (opts.faults) Object.assign(apiServer.faults, opts.faults);

    const writeKubeconfig = (path: string) => writeAtomically(path, kubeconfig);
    if (opts.kubeconfigPath) await writeKubeconfig(opts.kubeconfigPath);

    return {
      url: apiServer.url,
      kubeconfig,
      kubeconfigPath: opts.kubeconfigPath,
      writeKubeconfig,
      counters: apiServer.counters,
      apiServer,
      registry: {
        catalogue,
        url: registryServer?.url,
        host: registryServer?.host,
        server: registryServer,
      },
      nodes,
      kubelets,
      client,
      inProcessClient,
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * Writes under a temporary name and renames, so whoever waits for the file reads it whole. When
 * permissions cover only the file itself, it is written in place.
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text, { mode: 0o600 });
    await Deno.rename(temporary, path);
    return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied)) {
      throw e;
    }
    await Deno.remove(temporary).catch(() => {});
  }
  await Deno.writeTextFile(path, text, { mode: 0o600 });
}

async function readCrds(dir: string | URL): Promise<Record<string, unknown>[]> {
  const base = typeof dir === "string" ? dir : dir.pathname;
  const crds: Record<string, unknown>[] = [];
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && /\.ya?ml$/.test(entry.name)) files.push(entry.name);
    }
  } catch (e) {
    throw new Error(`Cannot read the CRDs in "${base}": ${(e as Error).message}`, { cause: e });
  }
  for (const name of files.sort()) {
    const url = typeof dir === "string" ? `${dir.replace(/\/$/, "")}/${name}` : new URL(name, dir);
    const text = await Deno.readTextFile(url);
    const doc = parseYaml(text);
    if (doc && typeof doc === "object") crds.push(doc as Record<string, unknown>);
  }
  return crds;
}

async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  try {
    await client.resource<Namespace>(NAMESPACES).create({ metadata: { name } });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

function createNode(
  client: KubeClient,
  name: string,
  opts: AddNodeOptions = {},
): Promise<Node> {
  const annotations = opts.bandwidth ? { "drop-sim/bandwidth": String(opts.bandwidth) } : undefined;
  return client.resource<Node>(NODES).create({
    metadata: {
      name,
      labels: { ...BASE_LABELS, "kubernetes.io/hostname": name, ...opts.labels },
      annotations,
    },
    spec: opts.taints?.length ? { taints: opts.taints } : {},
  });
}

function nodeHelpers(client: KubeClient, kubelets: KubeletPool): SimNodes {
  const nodes = client.resource<Node>(NODES);
  return {
    async add(name, opts = {}) {
      await createNode(client, name, opts);
      await kubelets.waitForReady([name]);
      return await nodes.get(name);
    },
    async remove(name) {
      await nodes.delete(name);
    },
    async label(name, labels) {
      return await nodes.patch(name, "merge", { metadata: { labels } });
    },
    async taint(name, taints) {
      return await nodes.patch(name, "merge", { spec: { taints } });
    },
    async setReady(name, ready) {
      kubelets.setReady(name, ready);
      const deadline = Date.now() + 60_000;
      while (kubelets.isReady(name) !== ready) {
        if (Date.now() > deadline) {
          throw new Error(`Cannot set node "${name}" Ready=${ready}: its status was not written`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    names() {
      return kubelets.nodeNames();
    },
  };
}
