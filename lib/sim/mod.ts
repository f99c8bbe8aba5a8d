/**
 * The simulated cluster: a Kubernetes-compatible API server, simulated kubelets that run pods
 * through real kubelet states, and a simulated registry with an OCI distribution endpoint.
 *
 * - {@linkcode startSimCluster} starts all of it in-process for tests, the demo and benchmarks.
 * - {@linkcode runSimCommand} is `drop sim`.
 * - {@linkcode KubeletPool} runs the kubelets against any API server (a real one too).
 * - {@linkcode RegistryCatalogue} and {@linkcode startRegistryServer} are the registry.
 *
 * @module
 */
export {
  type AddNodeOptions,
  KUBELET_USER,
  OPERATOR_NAMESPACE,
  type SimCluster,
  type SimClusterOptions,
  type SimNodes,
  type SimRegistryOptions,
  startSimCluster,
} from "./cluster.ts";
export { parseSimArgs, runSimCommand, type RunSimOptions, SIM_USAGE, type SimArgs } from "./cli.ts";
export {
  BANDWIDTH_ANNOTATION,
  DEFAULT_BANDWIDTH,
  KubeletPool,
  type KubeletPoolOptions,
  type KubeletStats,
  MANAGED_LABEL,
} from "./kubelet_pool.ts";
export type { PullRecord } from "./image_puller.ts";
export type { StoredImageInfo } from "./image_store.ts";
export {
  type ImageManifest,
  isUnresolvableHost,
  RegistryCatalogue,
  type RegistryCatalogueOptions,
  type RegistryFault,
  type Resolution,
  type ResolveFailure,
} from "./registry_catalogue.ts";
export {
  type RegistryAuth,
  type RegistryServer,
  type RegistryServerOptions,
  startRegistryServer,
} from "./registry_server.ts";
export {
  type ApiServer,
  type ApiServerOptions,
  type Counters,
  type CounterSnapshot,
  type FaultOptions,
  startApiServer,
} from "./apiserver/mod.ts";
