import type { ClusterConfig } from "./cluster_config.ts";
import {
  clusterConfigFromKubeconfig,
  type Kubeconfig,
  mergeKubeconfigs,
  parseKubeconfig,
} from "./kubeconfig.ts";
import { inClusterConfig, type InClusterOptions, isInCluster } from "./in_cluster.ts";

/** Options of {@linkcode loadKubeConfig}. */
export interface LoadKubeConfigOptions {
  /** Explicit kubeconfig path (the `--kubeconfig` flag); beats everything else. */
  kubeconfig?: string;
  /** Context to use instead of the current-context. */
  context?: string;
  /** Environment lookup; default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Passed to the in-cluster loader (tests point it at a temp directory). */
  inCluster?: Omit<InClusterOptions, "env">;
}

/**
 * Finds the cluster config the way client-go's controller-runtime does: `--kubeconfig`, then
 * `$KUBECONFIG` (a path list, merged, first wins), then in-cluster, then `~/.kube/config`.
 */
export async function loadKubeConfig(opts: LoadKubeConfigOptions = {}): Promise<ClusterConfig> {
  const env = opts.env ?? ((name: string) => Deno.env.get(name));
  if (opts.kubeconfig) {
    const kc = await readKubeconfigFile(opts.kubeconfig, true);
    return clusterConfigFromKubeconfig(kc!, { context: opts.context, source: opts.kubeconfig });
  }
  const list = env("KUBECONFIG");
  if (list) {
    const paths = list.split(":").filter((p) => p !== "");
    const configs: Kubeconfig[] = [];
    for (const path of paths) {
      // kubectl skips missing entries of $KUBECONFIG.
      const kc = await readKubeconfigFile(path, false);
      if (kc) configs.push(kc);
    }
    if (configs.length > 0) {
      return clusterConfigFromKubeconfig(mergeKubeconfigs(configs), {
        context: opts.context,
        source: `$KUBECONFIG (${paths.join(":")})`,
      });
    }
  }
  if (isInCluster(env)) return inClusterConfig({ ...opts.inCluster, env });
  const home = env("HOME");
  if (home) {
    const path = `${home}/.kube/config`;
    const kc = await readKubeconfigFile(path, false);
    if (kc) return clusterConfigFromKubeconfig(kc, { context: opts.context, source: path });
  }
  throw new Error(
    "Cannot find a Kubernetes config: no --kubeconfig, $KUBECONFIG, in-cluster environment or ~/.kube/config",
  );
}

async function readKubeconfigFile(
  path: string,
  required: boolean,
): Promise<Kubeconfig | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!required && e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Cannot read kubeconfig "${path}": ${(e as Error).message}`);
  }
  return parseKubeconfig(text, dirname(path), path);
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return Deno.cwd();
  if (i === 0) return "/";
  const dir = path.slice(0, i);
  return dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
}
