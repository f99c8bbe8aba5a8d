// The deployment checks must catch what they are for: each test breaks the kustomize base's own
// manifests in one way and expects that defect, and only it, to be reported.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { DropMetrics } from "../lib/metrics/mod.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../lib/podbuilder/mod.ts";
import { VERSION } from "../lib/cli/version.ts";
import {
  dashboardProblems,
  deploymentProblems,
  EMITTED_HISTOGRAMS,
  EMITTED_METRICS,
  excessRights,
  expandArg,
  type Expectations,
  flagValue,
  grantsOf,
  type Manifest,
  metricNamesIn,
  missingRights,
  OPERATOR_NEEDS,
  unknownKinds,
} from "./deploy_checks.ts";

const BASE = new URL("../deploy/kustomize/base/", import.meta.url).pathname;
const NS = "drop-system";
const EXPECT: Expectations = {
  namespace: NS,
  podNamespace: NS,
  imageTag: VERSION,
  leaderElect: true,
  pullPodLabels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
};

// deno-lint-ignore no-explicit-any
type Any = any;

/** The base's manifests with the namespace filled in as kustomize does. */
function base(): Any[] {
  const files = [
    "service_account.yaml",
    "cluster_role.yaml",
    "cluster_role_binding.yaml",
    "role.yaml",
    "role_binding.yaml",
    "deployment.yaml",
    "metrics_service.yaml",
  ];
  return files.map((f) => {
    const o = parse(Deno.readTextFileSync(`${BASE}${f}`)) as Any;
    if (!o.kind.startsWith("Cluster")) o.metadata.namespace = NS;
    for (const s of o.subjects ?? []) s.namespace = NS;
    return o;
  });
}

function find(objects: Any[], kind: string): Any {
  return objects.find((o) => o.kind === kind);
}

function rbac(objects: Manifest[]) {
  const { grants, problems } = grantsOf(objects, { name: "drop", namespace: NS });
  return { problems, missing: missingRights(grants, NS), excess: excessRights(grants, NS) };
}

Deno.test("deploy checks: the unmodified base passes every check", () => {
  const objects = base();
  assert.deepEqual(unknownKinds(objects), []);
  assert.deepEqual(deploymentProblems(objects, EXPECT), []);
  assert.deepEqual(rbac(objects), { problems: [], missing: [], excess: [] });
});

Deno.test("deploy checks: Pod Security defects of the Deployment are reported", () => {
  const cases: [string, (pod: Any, c: Any) => void, RegExp][] = [
    ["privileged", (_p, c) => c.securityContext.privileged = true, /is privileged/],
    ["capabilities kept", (_p, c) => c.securityContext.capabilities.drop = [], /does not drop ALL/],
    [
      "capability added",
      (_p, c) => c.securityContext.capabilities.add = ["SYS_ADMIN"],
      /adds capability SYS_ADMIN/,
    ],
    [
      "writable root",
      (_p, c) => c.securityContext.readOnlyRootFilesystem = false,
      /root filesystem is writable/,
    ],
    [
      "escalation",
      (_p, c) => delete c.securityContext.allowPrivilegeEscalation,
      /allowPrivilegeEscalation/,
    ],
    ["root", (p, c) => {
      delete p.securityContext.runAsNonRoot;
      delete c.securityContext.runAsNonRoot;
    }, /may run as root/],
    ["uid 0", (p) => p.securityContext.runAsUser = 0, /runAsUser is 0/],
    [
      "no seccomp",
      (p) => delete p.securityContext.seccompProfile,
      /no RuntimeDefault or Localhost seccompProfile/,
    ],
    [
      "hostPath",
      (p) => p.volumes = [{ name: "sock", hostPath: { path: "/run/containerd" } }],
      /volume sock has type hostPath/,
    ],
    ["host network", (p) => p.hostNetwork = true, /host namespaces/],
    ["host port", (_p, c) => c.ports[0].hostPort = 8080, /uses a host port/],
    ["no token", (p) => p.automountServiceAccountToken = false, /automountServiceAccountToken/],
  ];
  for (const [name, mutate, want] of cases) {
    const objects = base();
    const pod = find(objects, "Deployment").spec.template.spec;
    mutate(pod, pod.containers[0]);
    const problems = deploymentProblems(objects, EXPECT);
    assert.equal(problems.length, 1, `${name}: ${problems}`);
    assert.match(problems[0], want, name);
  }
});

Deno.test("deploy checks: flags, probes, selectors and Services that disagree are reported", () => {
  const cases: [string, (objects: Any[]) => void, RegExp][] = [
    ["pod namespace", (o) => {
      const args = find(o, "Deployment").spec.template.spec.containers[0].args;
      args[args.indexOf("--pod-namespace=$(POD_NAMESPACE)")] = "--pod-namespace=default";
    }, /--pod-namespace is "default"/],
    ["no leader election", (o) => {
      const c = find(o, "Deployment").spec.template.spec.containers[0];
      c.args = c.args.filter((a: string) => a !== "--leader-elect");
    }, /--leader-elect is missing/],
    ["probe port", (o) => {
      find(o, "Deployment").spec.template.spec.containers[0].readinessProbe.httpGet.port =
        "metrics";
    }, /readiness probe port metrics/],
    ["probe path", (o) => {
      find(o, "Deployment").spec.template.spec.containers[0].livenessProbe.httpGet.path = "/";
    }, /liveness probe path/],
    ["pull pod label", (o) => {
      find(o, "Deployment").spec.template.metadata.labels[MANAGED_BY_LABEL] = MANAGED_BY_VALUE;
    }, /carries the pull Pod labels/],
    ["service selector", (o) => {
      find(o, "Service").spec.selector = { "app.kubernetes.io/name": "other" };
    }, /does not select the operator Pod/],
    [
      "service port",
      (o) => find(o, "Service").spec.ports[0].targetPort = "health",
      /targets health/,
    ],
    ["image tag", (o) => {
      find(o, "Deployment").spec.template.spec.containers[0].image = "ghcr.io/corewire/drop:latest";
    }, /does not have tag/],
    ["no memory limit", (o) => {
      delete find(o, "Deployment").spec.template.spec.containers[0].resources.limits;
    }, /no memory limit/],
    [
      "missing account",
      (o) => o.splice(o.indexOf(find(o, "ServiceAccount")), 1),
      /ServiceAccount drop-system\/drop/,
    ],
  ];
  for (const [name, mutate, want] of cases) {
    const objects = base();
    mutate(objects);
    const problems = deploymentProblems(objects, EXPECT);
    assert.equal(problems.length, 1, `${name}: ${problems}`);
    assert.match(problems[0], want, name);
  }
});

Deno.test("deploy checks: a ServiceMonitor must select the metrics Service by its port", () => {
  const objects = base();
  const monitor = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: "drop", namespace: NS },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/component": "metrics" } },
      endpoints: [{ port: "metrics" }],
    },
  };
  assert.deepEqual(deploymentProblems([...objects, monitor], EXPECT), []);
  monitor.spec.endpoints[0].port = "http";
  assert.deepEqual(deploymentProblems([...objects, monitor], EXPECT), [
    "ServiceMonitor endpoint port http is not a Service port",
  ]);
  monitor.spec.selector.matchLabels["app.kubernetes.io/component"] = "web";
  assert.match(deploymentProblems([...objects, monitor], EXPECT)[0], /selects 0 Services/);
});

Deno.test("deploy checks: RBAC beyond or short of the operator's needs is reported", () => {
  const cases: [
    string,
    (objects: Any[]) => void,
    Partial<Record<"problems" | "missing" | "excess", RegExp>>,
  ][] = [
    ["secrets cluster-wide", (o) => {
      find(o, "ClusterRole").rules.push({
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get"],
      });
    }, { excess: /cluster-wide grant on secrets/ }],
    ["pods cluster-wide", (o) => {
      find(o, "ClusterRole").rules.push({
        apiGroups: [""],
        resources: ["pods"],
        verbs: ["create"],
      });
    }, { excess: /cluster-wide grant on pods/ }],
    ["wildcard", (o) => {
      find(o, "ClusterRole").rules.push({
        apiGroups: ["drop.corewire.io"],
        resources: ["*"],
        verbs: ["get"],
      });
    }, { excess: /wildcard grant/ }],
    ["unneeded", (o) => {
      find(o, "Role").rules.push({ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] });
    }, { excess: /not needed: list core\/configmaps in namespace drop-system/ }],
    ["secrets write", (o) => {
      find(o, "Role").rules[1].verbs.push("update");
    }, { excess: /not needed: update core\/secrets/ }],
    ["no lease update", (o) => {
      find(o, "Role").rules[3].verbs = ["get", "create"];
    }, { missing: /missing update coordination\.k8s\.io\/leases in namespace drop-system/ }],
    ["no status", (o) => {
      find(o, "ClusterRole").rules[3].resources = ["cachedimages/status"];
    }, { missing: /missing update drop\.corewire\.io\/cachedimagesets\/status cluster-wide/ }],
    ["role elsewhere", (o) => {
      find(o, "Role").metadata.namespace = "default";
      find(o, "RoleBinding").metadata.namespace = "default";
    }, {
      missing: /missing get core\/pods in namespace drop-system/,
      excess: /in namespace default/,
    }],
    ["other subject", (o) => {
      find(o, "ClusterRoleBinding").subjects[0].name = "default";
    }, { missing: /missing get core\/nodes cluster-wide/ }],
    ["dangling binding", (o) => {
      find(o, "RoleBinding").roleRef.name = "gone";
    }, { problems: /missing Role gone/, missing: /pods/ }],
  ];
  for (const [name, mutate, want] of cases) {
    const objects = base();
    mutate(objects);
    const got = rbac(objects);
    for (const key of ["problems", "missing", "excess"] as const) {
      if (want[key]) {
        assert.ok(got[key].length > 0, `${name}: ${key} reported`);
        assert.ok(got[key].some((l) => want[key]!.test(l)), `${name}: ${got[key]}`);
      } else {
        assert.deepEqual(got[key], [], `${name}: no ${key}`);
      }
    }
  }
});

Deno.test("deploy checks: the operator's needs list each resource once per scope", () => {
  const keys = OPERATOR_NEEDS.map((n) => `${n.scope} ${n.group}/${n.resource}`);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(
    !OPERATOR_NEEDS.some((n) => n.scope === "cluster" && ["pods", "secrets"].includes(n.resource)),
  );
});

Deno.test("deploy checks: container arguments expand $(VAR) from the downward API", () => {
  const c = {
    name: "manager",
    env: [
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "LEVEL", value: "debug" },
    ],
  };
  assert.equal(
    expandArg("--pod-namespace=$(POD_NAMESPACE)", c, { namespace: "ns1" }),
    "--pod-namespace=ns1",
  );
  assert.equal(expandArg("--log-level=$(LEVEL)", c, { namespace: "ns1" }), "--log-level=debug");
  assert.equal(expandArg("--x=$(UNSET)", c, { namespace: "ns1" }), "--x=$(UNSET)");
  assert.equal(flagValue(["run", "--leader-elect", "--a=b"], "leader-elect"), true);
  assert.equal(flagValue(["run", "--a", "b"], "a"), "b");
  assert.equal(flagValue(["run", "--a=b"], "ab"), undefined);
});

Deno.test("deploy checks: metric names are found in PromQL, functions and labels are not", () => {
  const cases: [string, string[]][] = [
    [`sum by (reason) (rate(drop_pull_errors_total{job=~"$job", reason!="x"}[$__rate_interval]))`, [
      "drop_pull_errors_total",
    ]],
    [
      `histogram_quantile(0.99, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket[5m])))`,
      ["controller_runtime_reconcile_time_seconds_bucket"],
    ],
    [`sum(drop_nodes_cached) / on(cachedimage) group_left sum(drop_nodes_targeted)`, [
      "drop_nodes_cached",
      "drop_nodes_targeted",
    ]],
    [`count(max by (cachedimage) (drop_consecutive_failures) > 0) or vector(0)`, [
      "drop_consecutive_failures",
    ]],
    [`label_values(drop_reconcile_total, job)`, ["drop_reconcile_total"]],
    [`rate(node_cpu_seconds_total{mode="idle"}[1m]) * 1e3 offset 5m`, ["node_cpu_seconds_total"]],
  ];
  for (const [expr, want] of cases) assert.deepEqual(metricNamesIn(expr).sort(), want.sort(), expr);
});

Deno.test("deploy checks: a dashboard querying a metric we do not emit is reported", () => {
  const dashboard = (expr: string) => ({ panels: [{ title: "P", targets: [{ expr }] }] });
  assert.deepEqual(
    dashboardProblems(dashboard("sum(rate(drop_pull_duration_seconds_count[5m]))")),
    [],
  );
  assert.deepEqual(dashboardProblems(dashboard("sum(drop_nodes_cached_bucket)")), [
    'panel "P": drop_nodes_cached_bucket is not a metric Drop emits',
  ]);
  assert.deepEqual(dashboardProblems(dashboard("kube_pod_info")), [
    'panel "P": kube_pod_info is not a metric Drop emits',
  ]);
  assert.deepEqual(dashboardProblems({ panels: [] }), ["dashboard has no queries"]);
  // Nested row panels and variable queries are checked too.
  assert.equal(
    dashboardProblems({
      panels: [{ type: "row", panels: [{ title: "Q", targets: [{ expr: "up" }] }] }],
      templating: {
        list: [{ name: "job", type: "query", query: { query: "label_values(up, job)" } }],
      },
    }).length,
    2,
  );
});

Deno.test("deploy checks: every metric a dashboard may use is one the operator registers", async () => {
  const metrics = new DropMetrics();
  const registered = new Map(
    (await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]),
  );
  for (const name of EMITTED_METRICS) assert.ok(registered.has(name), `${name} is registered`);
  for (const name of EMITTED_HISTOGRAMS) assert.equal(registered.get(name), "histogram", name);
});
