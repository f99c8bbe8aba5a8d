/**
 * A Kubernetes-compatible API server held in memory, for tests, the demo and benchmarks; the
 * real kubectl works against it.
 *
 * ```ts
 * import { startApiServer } from "./lib/sim/apiserver/mod.ts";
 *
 * const server = await startApiServer({ tls: true });
 * server.registerCrd(crdObject); // same as POSTing it
 * await Deno.writeTextFile("kubeconfig", server.kubeconfig());
 * server.faults.tooManyRequestsFraction = 0.1; // live fault injection
 * console.log(server.counters.snapshot().byVerb.create);
 * await server.stop();
 * ```
 *
 * Serves discovery, OpenAPI v3, and CRUD + list/watch of Namespaces, Nodes, Pods, Secrets,
 * ConfigMaps, ServiceAccounts, core and events.k8s.io Events, Leases, CRDs and every CRD's
 * resources, with kube-apiserver's semantics (resourceVersion, 409, 410, bookmarks,
 * selectors, paging, generation, status subresource, patches, dry run, finalizers, garbage
 * collection, schema and CEL validation, Table output). HTTP endpoints beside the API:
 * `GET|DELETE /sim/counters`, `GET|PUT /sim/faults`.
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
