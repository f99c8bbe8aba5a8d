/**
 * A Kubernetes-compatible API server held in memory, for tests, the demo and benchmarks.
 * `startApiServer(opts?: ApiServerOptions): Promise<ApiServer>` starts one on 127.0.0.1.
 *
 * @module
 */
export type {
  ApiServer,
  ApiServerOptions,
  Counters,
  CounterSnapshot,
  FaultOptions,
  FaultScope,
  KubeconfigOptions,
  KubeJson,
  StoreAccess,
  TlsMaterial,
} from "./options.ts";
export { ADMIN_USER, startApiServer } from "./server.ts";
