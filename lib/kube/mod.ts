/**
 * Generic Kubernetes runtime over Deno's fetch: config and auth, typed REST, watch streams,
 * informers, work queues, a controller runner, status writer, leader election and events.
 * It knows nothing about the operator's CRDs.
 *
 * ```ts
 * const client = new KubeClient(await loadKubeConfig({ kubeconfig: flags.kubeconfig }));
 * const pods = new Informer<Pod>(client.resource<Pod>(PODS, client.namespace), {
 *   labelSelector: "app.kubernetes.io/managed-by=drop",
 *   indexers: { node: nodeNameIndexer, owner: ownerUidIndexer },
 * });
 * const queue = new WorkQueue<string>({ name: "cachedimages" });
 * pods.on({ add: (p) => queue.add(ownerName(p)), update: (_o, p) => queue.add(ownerName(p)) });
 * pods.start(signal);
 * await pods.synced;
 * await new Controller({ name: "cachedimage", queue, workers: 4, reconcile }).run(signal);
 * ```
 *
 * Runtime permissions: `--allow-net` to the API server; `--allow-read` of the kubeconfig files
 * (or the service account directory); `--allow-env` of KUBECONFIG, HOME,
 * KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT; `--allow-run` only for exec credential
 * plugins; `--unsafely-ignore-certificate-errors=<host>` only for insecure-skip-tls-verify.
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
  type ExecClusterInfo,
  type ExecConfig,
  ExecCredentials,
  type ExecCredentialsOptions,
} from "./exec_credentials.ts";
export {
  clusterConfigFromKubeconfig,
  configFromKubeconfigText,
  type Kubeconfig,
  type KubeconfigCluster,
  type KubeconfigContext,
  type KubeconfigOptions,
  type KubeconfigUser,
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
export { type RetryOptions, sendRetrying } from "./retrying.ts";
export { type ObjectCallOptions, ResourceClient } from "./resource_client.ts";
export { WatchStalledError } from "./watch.ts";
export { LineSplitter } from "./ndjson.ts";
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from "./rate_limiter.ts";
export { Backoff, type BackoffOptions } from "./backoff.ts";
export { WorkQueue, type WorkQueueHooks, type WorkQueueOptions } from "./work_queue.ts";
export {
  Controller,
  type ControllerHooks,
  type ControllerOptions,
  type MaybePromise,
  type ReconcileResult,
  TerminalError,
} from "./controller.ts";
export { objectKey, splitKey } from "./object_key.ts";
export { type IndexFunc, labelIndexer, nodeNameIndexer, ownerUidIndexer } from "./indexers.ts";
export { Store, type StoreDiff } from "./store.ts";
export {
  Informer,
  type InformerHandlers,
  type InformerOptions,
  type ListWatcher,
} from "./informer.ts";
export { deepEqual } from "./deep_equal.ts";
export { forEachLimited } from "./for_each_limited.ts";
export {
  type StatusClient,
  writeStatus,
  type WriteStatusOptions,
  type WriteStatusResult,
} from "./status_writer.ts";
export {
  LeaderElector,
  type LeaderElectorOptions,
  type LeaseClient,
  microTime,
} from "./leader_elector.ts";
export { type EventClient, EventRecorder, type EventRecorderOptions } from "./event_recorder.ts";
