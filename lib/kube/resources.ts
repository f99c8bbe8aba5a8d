/** Identifies one kind of Kubernetes resource by its REST coordinates. */
export interface ResourceRef {
  /** API group; "" for the core group. */
  group: string;
  /** API version, e.g. "v1". */
  version: string;
  /** Lower-case plural used in URL paths, e.g. "pods". */
  plural: string;
  /** Kind, e.g. "Pod". */
  kind: string;
  /** Whether objects live in namespaces. */
  namespaced: boolean;
}

/** `apiVersion` of a resource: "v1" for core, "group/version" otherwise. */
export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === "" ? ref.version : `${ref.group}/${ref.version}`;
}

/** core/v1 Nodes. */
export const NODES: ResourceRef = {
  group: "",
  version: "v1",
  plural: "nodes",
  kind: "Node",
  namespaced: false,
};
/** core/v1 Pods. */
export const PODS: ResourceRef = {
  group: "",
  version: "v1",
  plural: "pods",
  kind: "Pod",
  namespaced: true,
};
/** core/v1 Secrets. */
export const SECRETS: ResourceRef = {
  group: "",
  version: "v1",
  plural: "secrets",
  kind: "Secret",
  namespaced: true,
};
/** core/v1 Namespaces. */
export const NAMESPACES: ResourceRef = {
  group: "",
  version: "v1",
  plural: "namespaces",
  kind: "Namespace",
  namespaced: false,
};
/** core/v1 Events. */
export const EVENTS: ResourceRef = {
  group: "",
  version: "v1",
  plural: "events",
  kind: "Event",
  namespaced: true,
};
/** events.k8s.io/v1 Events. */
export const EVENTS_V1: ResourceRef = {
  group: "events.k8s.io",
  version: "v1",
  plural: "events",
  kind: "Event",
  namespaced: true,
};
/** coordination.k8s.io/v1 Leases. */
export const LEASES: ResourceRef = {
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  kind: "Lease",
  namespaced: true,
};
/** core/v1 ConfigMaps. */
export const CONFIGMAPS: ResourceRef = {
  group: "",
  version: "v1",
  plural: "configmaps",
  kind: "ConfigMap",
  namespaced: true,
};
/** core/v1 ServiceAccounts. */
export const SERVICEACCOUNTS: ResourceRef = {
  group: "",
  version: "v1",
  plural: "serviceaccounts",
  kind: "ServiceAccount",
  namespaced: true,
};
/** apiextensions.k8s.io/v1 CustomResourceDefinitions. */
export const CRDS: ResourceRef = {
  group: "apiextensions.k8s.io",
  version: "v1",
  plural: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
};
