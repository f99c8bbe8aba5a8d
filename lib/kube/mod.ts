/**
 * Generic Kubernetes runtime over Deno's fetch: config and auth, typed REST, watch streams,
 * informers, work queues, a controller runner, status writer, leader election and events.
 * It knows nothing about the operator's CRDs.
 *
 * @module
 */

export type { ResourceRef } from "./resources.ts";
export {
  apiVersionOf,
  CONFIGMAPS,
  CRDS,
  EVENTS,
  EVENTS_V1,
  LEASES,
  NAMESPACES,
  NODES,
  PODS,
  SECRETS,
  SERVICEACCOUNTS,
} from "./resources.ts";
export type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  WatchEvent,
  WatchEventType,
  WatchOptions,
  WriteOptions,
} from "./types.ts";
export {
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isTooManyRequests,
  isUnauthorized,
  KubeApiError,
} from "./errors.ts";
export type { ClusterConfig, CredentialProvider, Credentials } from "./cluster_config.ts";
export { StaticCredentials } from "./cluster_config.ts";
export {
  TokenFileCredentials,
  type TokenFileCredentialsOptions,
} from "./token_file_credentials.ts";
export {
  type ExecConfig,
  ExecCredentials,
  type ExecCredentialsOptions,
} from "./exec_credentials.ts";
export {
  clusterConfigFromKubeconfig,
  configFromKubeconfigText,
  type Kubeconfig,
  type KubeconfigOptions,
  mergeKubeconfigs,
  parseKubeconfig,
} from "./kubeconfig.ts";
export {
  inClusterConfig,
  type InClusterOptions,
  isInCluster,
  SERVICE_ACCOUNT_DIR,
} from "./in_cluster.ts";
export { loadKubeConfig, type LoadKubeConfigOptions } from "./load_config.ts";
export type { RequestHooks, RestRequest, RestTransport } from "./transport.ts";
export { KubeClient, type KubeClientOptions } from "./client.ts";
export { ResourceClient } from "./resource_client.ts";
export { WatchStalledError } from "./watch.ts";
export { LineSplitter } from "./ndjson.ts";
