/**
 * Checks of rendered deployment manifests (the Helm charts and the kustomize base), shared by the
 * chart and kustomize tests: known kinds, the restricted Pod Security profile, RBAC against what
 * the operator does, selectors, ports and the Grafana dashboard's PromQL.
 *
 * Every check returns readable problems (empty when all is well) rather than throwing, so a test
 * reports every defect of a render at once.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";
import { restrictedViolations as podRestrictedViolations } from "../lib/podbuilder/mod.ts";
import type { Container, PodSpec } from "kubernetes-types/core/v1.d.ts";
import type { Deployment } from "kubernetes-types/apps/v1.d.ts";
import type { PolicyRule, RoleRef, Subject } from "kubernetes-types/rbac/v1.d.ts";

/** A rendered Kubernetes object, loosely typed. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** Parses a multi-document YAML stream; empty documents (comments only) are skipped. */
export function parseManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`Cannot parse manifest: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    out.push(value as Manifest);
  }
  return out;
}

/** The `apiVersion/kind` pairs our manifests may contain. */
export const KNOWN_KINDS: ReadonlySet<string> = new Set([
  "v1/Namespace",
  "v1/ServiceAccount",
  "v1/Service",
  "v1/ConfigMap",
  "apps/v1/Deployment",
  "rbac.authorization.k8s.io/v1/ClusterRole",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
  "rbac.authorization.k8s.io/v1/Role",
  "rbac.authorization.k8s.io/v1/RoleBinding",
  "apiextensions.k8s.io/v1/CustomResourceDefinition",
  "monitoring.coreos.com/v1/ServiceMonitor",
]);

/** Objects whose kind is not in {@linkcode KNOWN_KINDS}, or that lack a name. */
export function unknownKinds(objects: Manifest[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const id = `${o.apiVersion}/${o.kind}`;
    if (!KNOWN_KINDS.has(id)) out.push(`unknown kind ${id} (${o.metadata?.name})`);
    if (!o.metadata?.name) out.push(`${id} without metadata.name`);
  }
  return out;
}

/** Objects of one kind. */
export function ofKind<T = Manifest>(objects: Manifest[], kind: string): (Manifest & T)[] {
  return objects.filter((o) => o.kind === kind) as (Manifest & T)[];
}

// ---------------------------------------------------------------------------------------------
// Pod Security

/** Every way a Pod spec breaks the `restricted` profile or our read-only root rule. */
export function restrictedViolations(spec: PodSpec): string[] {
  return podRestrictedViolations({ spec });
}

export type Scope = "cluster" | "pod-namespace";

/** One thing the operator does against the API. */
export interface Need {
  scope: Scope;
  /** API group; "" for the core group. */
  group: string;
  /** Plural resource, with `/subresource` when it is one. */
  resource: string;
  verbs: string[];
}

/**
 * What the operator does against the API, written once: its informers (list, watch), its reads,
 * its writes of children, pull Pods, status, Events and the leader Lease. The RBAC of every
 * render must grant exactly this, no more.
 */
export const OPERATOR_NEEDS: readonly Need[] = [
  // Informers on Nodes and on our four kinds.
  { scope: "cluster", group: "", resource: "nodes", verbs: ["get", "list", "watch"] },
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "cachedimagesets",
    verbs: ["get", "list", "watch"],
  },
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "discoverypolicies",
    verbs: ["get", "list", "watch"],
  },
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "pullpolicies",
    verbs: ["get", "list", "watch"],
  },
  // The CachedImageSet controller creates, updates and deletes its child CachedImages.
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "cachedimages",
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
  },
  // Status goes to the /status subresource.
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "cachedimages/status",
    verbs: ["update", "patch"],
  },
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "cachedimagesets/status",
    verbs: ["update", "patch"],
  },
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "discoverypolicies/status",
    verbs: ["update", "patch"],
  },
  // Owner references with blockOwnerDeletion (pull Pods -> CachedImage, children -> set).
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "cachedimages/finalizers",
    verbs: ["update"],
  },
  {
    scope: "cluster",
    group: "drop.corewire.io",
    resource: "cachedimagesets/finalizers",
    verbs: ["update"],
  },
  // Events about cluster-scoped objects are written to namespace "default".
  { scope: "cluster", group: "", resource: "events", verbs: ["create", "patch"] },
  { scope: "cluster", group: "events.k8s.io", resource: "events", verbs: ["create", "patch"] },
  // Pull Pods, imagePullSecrets and discovery credentials, Events on Pods, the leader Lease.
  {
    scope: "pod-namespace",
    group: "",
    resource: "pods",
    verbs: ["get", "list", "watch", "create", "delete"],
  },
  { scope: "pod-namespace", group: "", resource: "secrets", verbs: ["get", "list", "watch"] },
  { scope: "pod-namespace", group: "", resource: "events", verbs: ["create", "patch"] },
  {
    scope: "pod-namespace",
    group: "events.k8s.io",
    resource: "events",
    verbs: ["create", "patch"],
  },
  {
    scope: "pod-namespace",
    group: "coordination.k8s.io",
    resource: "leases",
    verbs: ["get", "create", "update"],
  },
];

/** Core resources that must never be granted cluster-wide. */
const NAMESPACE_ONLY = new Set(["pods", "secrets"]);

/** One (verb, group, resource) granted to a subject, and where. */
export interface Grant {
  /** "cluster" for a ClusterRoleBinding, else the RoleBinding's namespace. */
  where: string;
  group: string;
  resource: string;
  verb: string;
  /** The role that grants it, e.g. "ClusterRole/drop". */
  via: string;
}

interface Binding extends Manifest {
  roleRef: RoleRef;
  subjects?: Subject[];
}
interface RoleObject extends Manifest {
  rules?: PolicyRule[];
}

/**
 * Every right a ServiceAccount holds through the bindings and roles in `objects`. A RoleBinding's
 * grants hold in its namespace, a ClusterRoleBinding's everywhere. A binding to a role that is not
 * in `objects` is reported in `problems`.
 */
export function grantsOf(
  objects: Manifest[],
  account: { name: string; namespace: string },
): { grants: Grant[]; problems: string[] } {
  const grants: Grant[] = [];
  const problems: string[] = [];
  const bindings = [
    ...ofKind<Binding>(objects, "ClusterRoleBinding"),
    ...ofKind<Binding>(objects, "RoleBinding"),
  ];
  for (const b of bindings) {
    const bound = (b.subjects ?? []).some((s) =>
      s.kind === "ServiceAccount" && s.name === account.name && s.namespace === account.namespace
    );
    if (!bound) continue;
    const cluster = b.kind === "ClusterRoleBinding";
    const where = cluster ? "cluster" : b.metadata.namespace ?? "";
    const role = objects.find((o) =>
      o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name &&
      (o.kind === "ClusterRole" || o.metadata.namespace === b.metadata.namespace)
    ) as RoleObject | undefined;
    if (!role) {
      problems.push(
        `${b.kind} ${b.metadata.name} refers to missing ${b.roleRef.kind} ${b.roleRef.name}`,
      );
      continue;
    }
    for (const rule of role.rules ?? []) {
      if (rule.nonResourceURLs?.length) {
        problems.push(`${role.kind} ${role.metadata.name} grants non-resource URLs`);
      }
      if (rule.resourceNames?.length) {
        problems.push(`${role.kind} ${role.metadata.name} limits by resourceNames`);
      }
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) {
            grants.push({
              where,
              group,
              resource,
              verb,
              via: `${role.kind}/${role.metadata.name}`,
            });
          }
        }
      }
    }
  }
  return { grants, problems };
}

function allows(g: Grant, where: string, group: string, resource: string, verb: string): boolean {
  const match = (granted: string, wanted: string) => granted === "*" || granted === wanted;
  return (g.where === "cluster" || g.where === where) && match(g.group, group) &&
    match(g.resource, resource) && match(g.verb, verb);
}

/** Each (verb, resource) of `needs` that `grants` do not allow, as a readable line. */
export function missingRights(
  grants: Grant[],
  podNamespace: string,
  needs: readonly Need[] = OPERATOR_NEEDS,
): string[] {
  const out: string[] = [];
  for (const n of needs) {
    for (const verb of n.verbs) {
      const ok = grants.some((g) =>
        n.scope === "cluster"
          ? g.where === "cluster" && allows(g, "cluster", n.group, n.resource, verb)
          : allows(g, podNamespace, n.group, n.resource, verb)
      );
      if (!ok) {
        const where = n.scope === "cluster" ? "cluster-wide" : `in namespace ${podNamespace}`;
        out.push(`missing ${verb} ${n.group || "core"}/${n.resource} ${where}`);
      }
    }
  }
  return out;
}

/**
 * Every grant beyond `needs` (least privilege), every wildcard, and every cluster-wide grant on
 * Pods or Secrets, as readable lines.
 */
export function excessRights(
  grants: Grant[],
  podNamespace: string,
  needs: readonly Need[] = OPERATOR_NEEDS,
): string[] {
  const out: string[] = [];
  for (const g of grants) {
    const what = `${g.verb} ${g.group || "core"}/${g.resource} ${
      g.where === "cluster" ? "cluster-wide" : `in namespace ${g.where}`
    } (${g.via})`;
    if (g.group === "*" || g.resource === "*" || g.verb === "*") {
      out.push(`wildcard grant: ${what}`);
      continue;
    }
    if (g.where === "cluster" && g.group === "" && NAMESPACE_ONLY.has(g.resource.split("/")[0])) {
      out.push(`cluster-wide grant on ${g.resource}: ${what}`);
      continue;
    }
    const needed = needs.some((n) =>
      n.group === g.group && n.resource === g.resource && n.verbs.includes(g.verb) &&
      (g.where === "cluster" ? n.scope === "cluster" : g.where === podNamespace)
    );
    if (!needed) out.push(`not needed: ${what}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The operator's Deployment

/** Resolves `$(VAR)` references in a container argument from the container's env, as the kubelet does. */
export function expandArg(
  arg: string,
  container: Container,
  pod: { namespace: string; name?: string },
): string {
  return arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
    const env = (container.env ?? []).find((e) => e.name === name);
    if (!env) return whole;
    if (env.value !== undefined) return env.value;
    const path = env.valueFrom?.fieldRef?.fieldPath;
    if (path === "metadata.namespace") return pod.namespace;
    if (path === "metadata.name" && pod.name) return pod.name;
    return whole;
  });
}

/** The value of `--name=value` (or `--name value`) in expanded args; `true` for a bare `--name`. */
export function flagValue(args: string[], name: string): string | true | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === `--${name}`) {
      const next = args[i + 1];
      return next !== undefined && !next.startsWith("-") ? next : true;
    }
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** What a render is expected to hold. */
export interface Expectations {
  /** Namespace of the Deployment and ServiceAccount. */
  namespace: string;
  /** Namespace the operator is told to use for pull Pods and Secrets. */
  podNamespace: string;
  /** Image tag the Deployment runs. */
  imageTag: string;
  leaderElect: boolean;
  /** Labels that mark pull Pods; the operator's own Pod must not carry them. */
  pullPodLabels: Record<string, string>;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string>) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function portNumber(container: Container, port: number | string | undefined): number | undefined {
  if (typeof port === "number") return port;
  return (container.ports ?? []).find((p) => p.name === port)?.containerPort;
}

function bindPort(address: string | true | undefined): number | undefined {
  if (typeof address !== "string") return undefined;
  const m = address.match(/:(\d+)$/);
  return m ? Number(m[1]) : undefined;
}

/**
 * Checks the operator's Deployment, its ServiceAccount, metrics Service and ServiceMonitor (when
 * present) against each other and against `expect`.
 */
export function deploymentProblems(objects: Manifest[], expect: Expectations): string[] {
  const out: string[] = [];
  const deployments = ofKind<Deployment>(objects, "Deployment");
  if (deployments.length !== 1) return [`expected one Deployment, found ${deployments.length}`];
  const d = deployments[0];
  const ns = d.metadata.namespace ?? "";
  if (ns !== expect.namespace) {
    out.push(`Deployment namespace is "${ns}", want "${expect.namespace}"`);
  }
  const tpl = d.spec?.template;
  const spec = tpl?.spec;
  if (!spec) return [...out, "Deployment has no pod spec"];
  const podLabels = (tpl.metadata?.labels ?? {}) as Record<string, string>;
  if (!selects(d.spec?.selector.matchLabels, podLabels)) {
    out.push("Deployment selector does not match its pod template labels");
  }
  if (selects(d.spec?.selector.matchLabels, expect.pullPodLabels)) {
    out.push("Deployment selector matches pull Pods");
  }
  if (Object.entries(expect.pullPodLabels).every(([k, v]) => podLabels[k] === v)) {
    out.push("operator Pod carries the pull Pod labels; its informer would take it for a pull Pod");
  }
  out.push(...restrictedViolations(spec));
  if (spec.automountServiceAccountToken === false) {
    out.push("automountServiceAccountToken is false; the operator needs its token");
  }
  const saName = spec.serviceAccountName ?? "default";
  if (
    !objects.some((o) =>
      o.kind === "ServiceAccount" && o.metadata.name === saName && o.metadata.namespace === ns
    )
  ) {
    out.push(`ServiceAccount ${ns}/${saName} is not in the render`);
  }
  if (spec.containers.length !== 1) {
    out.push(`expected one container, found ${spec.containers.length}`);
  }
  const c = spec.containers[0];
  const podRef = { namespace: ns };
  const args = (c.args ?? []).map((a) => expandArg(a, c, podRef));
  if (args[0] !== "run") out.push(`first argument is "${args[0]}", want "run"`);
  const podNs = flagValue(args, "pod-namespace");
  if (podNs !== expect.podNamespace) {
    out.push(`--pod-namespace is ${JSON.stringify(podNs)}, want "${expect.podNamespace}"`);
  }
  if ((flagValue(args, "leader-elect") === true) !== expect.leaderElect) {
    out.push(`--leader-elect is ${expect.leaderElect ? "missing" : "set"}`);
  }
  if (flagValue(args, "log-format") !== "json") out.push("--log-format is not json");
  const tag = c.image?.split("@")[0].split(":").at(-1);
  if (tag !== expect.imageTag) out.push(`image ${c.image} does not have tag ${expect.imageTag}`);

  const probePort = bindPort(flagValue(args, "health-probe-bind-address"));
  for (
    const [name, probe, path] of [
      ["liveness", c.livenessProbe, "/healthz"],
      ["readiness", c.readinessProbe, "/readyz"],
    ] as const
  ) {
    const get = probe?.httpGet;
    if (!get) {
      out.push(`no ${name} probe`);
      continue;
    }
    if (get.path !== path) out.push(`${name} probe path is ${get.path}, want ${path}`);
    const port = portNumber(c, get.port);
    if (port === undefined || port !== probePort) {
      out.push(`${name} probe port ${get.port} is not --health-probe-bind-address (${probePort})`);
    }
  }
  const res = c.resources ?? {};
  for (const k of ["cpu", "memory"]) {
    if (!res.requests?.[k]) out.push(`no ${k} request`);
  }
  if (!res.limits?.memory) out.push("no memory limit");

  // Metrics: the flag, the container port, the Service and the ServiceMonitor must agree.
  const metricsPort = bindPort(flagValue(args, "metrics-bind-address"));
  const services = ofKind(objects, "Service");
  for (const svc of services) {
    const sspec = svc.spec as {
      selector?: Record<string, string>;
      ports?: { name?: string; targetPort?: number | string }[];
    };
    if (!selects(sspec.selector, podLabels)) {
      out.push(`Service ${svc.metadata.name} does not select the operator Pod`);
    }
    if (selects(sspec.selector, expect.pullPodLabels)) {
      out.push(`Service ${svc.metadata.name} selects pull Pods`);
    }
    for (const p of sspec.ports ?? []) {
      const target = portNumber(c, p.targetPort);
      if (target === undefined || target !== metricsPort) {
        out.push(
          `Service ${svc.metadata.name} port ${p.name} targets ${p.targetPort}, not the metrics port ${metricsPort}`,
        );
      }
    }
  }
  for (const sm of ofKind(objects, "ServiceMonitor")) {
    const smspec = sm.spec as {
      selector?: { matchLabels?: Record<string, string> };
      endpoints?: { port?: string; path?: string }[];
    };
    const targets = services.filter((s) =>
      s.metadata.namespace === sm.metadata.namespace &&
      selects(smspec.selector?.matchLabels, s.metadata.labels ?? {})
    );
    if (targets.length !== 1) {
      out.push(`ServiceMonitor ${sm.metadata.name} selects ${targets.length} Services, want 1`);
    }
    for (const e of smspec.endpoints ?? []) {
      const ports = (targets[0]?.spec as { ports?: { name?: string }[] } | undefined)?.ports ?? [];
      if (!ports.some((p) => p.name === e.port)) {
        out.push(`ServiceMonitor endpoint port ${e.port} is not a Service port`);
      }
      if (e.path && e.path !== "/metrics") out.push(`ServiceMonitor path is ${e.path}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Grafana dashboard

/** The metric names the operator emits, which a dashboard may use. */
export const EMITTED_METRICS: readonly string[] = [
  "drop_images_cached_total",
  "drop_pull_duration_seconds",
  "drop_pull_errors_total",
  "drop_active_pulls",
  "drop_reconcile_total",
  "controller_runtime_reconcile_time_seconds",
  "drop_nodes_targeted",
  "drop_nodes_cached",
  "drop_consecutive_failures",
  "drop_discovery_images_found",
  "drop_discovery_source_health",
  "drop_discovery_source_latency_seconds",
  "workqueue_depth",
  "rest_client_requests_total",
  "leader_election_master_status",
];

/** Histograms among {@linkcode EMITTED_METRICS}: their series carry `_bucket`, `_sum`, `_count`. */
export const EMITTED_HISTOGRAMS: readonly string[] = [
  "drop_pull_duration_seconds",
  "controller_runtime_reconcile_time_seconds",
  "drop_discovery_source_latency_seconds",
];

const PROMQL_KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "atan2",
  "inf",
  "nan",
]);

/**
 * Metric names referenced by a PromQL expression (or a Grafana `label_values(metric, label)`
 * query). Strings, label matchers, grouping clauses, ranges, Grafana variables and function
 * calls are not metric names.
 */
export function metricNamesIn(expr: string): string[] {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_:]*\}?/g, " ");
  // Label lists after grouping keywords, e.g. "by (le, controller)" or "on(pod)".
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  // label_values(metric, label): the second argument is a label.
  s = s.replace(/\blabel_values\s*\(([^,()]*),[^)]*\)/g, " $1 ");
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = s.slice(m.index! + m[0].length);
    if (/^\s*\(/.test(after)) continue; // a function or aggregation
    if (PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    const before = s.slice(0, m.index!);
    if (/[0-9.]$/.test(before) || /^[eE]$/.test(m[0])) continue; // part of a number such as 1e3
    names.add(m[0]);
  }
  return [...names];
}

/** A metric name, its histogram suffix removed when it has one of an emitted histogram. */
function baseMetric(name: string): string {
  for (const h of EMITTED_HISTOGRAMS) {
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      if (name === h + suffix) return h;
    }
  }
  return name;
}

/** Every PromQL expression and variable query of a Grafana dashboard, with where it is. */
export function dashboardQueries(dashboard: unknown): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const d = dashboard as {
    panels?: unknown[];
    templating?: { list?: { name?: string; type?: string; query?: unknown }[] };
  };
  const walk = (panels: unknown[] | undefined) => {
    for (const p of panels ?? []) {
      const panel = p as { title?: string; targets?: { expr?: string }[]; panels?: unknown[] };
      for (const t of panel.targets ?? []) {
        if (t.expr) out.push({ where: `panel "${panel.title}"`, expr: t.expr });
      }
      walk(panel.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : (v.query as { query?: string })?.query;
    if (q) out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

/** Metric names a dashboard uses that the operator does not emit, and panels without queries. */
export function dashboardProblems(dashboard: unknown): string[] {
  const out: string[] = [];
  const queries = dashboardQueries(dashboard);
  if (queries.length === 0) out.push("dashboard has no queries");
  const allowed = new Set(EMITTED_METRICS);
  for (const { where, expr } of queries) {
    const names = metricNamesIn(expr);
    if (names.length === 0) out.push(`${where}: no metric in ${expr}`);
    for (const n of names) {
      if (!allowed.has(baseMetric(n))) out.push(`${where}: ${n} is not a metric Drop emits`);
    }
  }
  return out;
}
