// The Helm charts: lint both, render the operator chart with its defaults and as the Quickstart
// installs it (CRDs from their own release, ServiceMonitor and dashboard on, another namespace),
// and check every render: known kinds, restricted Pod Security, --pod-namespace, least-privilege
// RBAC that covers what the operator does, CRDs equal to the generated ones, and a dashboard that
// only queries metrics we emit.
//
// helm is found by $TEST_ASSET_HELM, $DROP_HELM, the build cache of .ci/build_control_plane.sh, then
// $PATH; without it these tests skip with one line (DROP_REQUIRE_HELM=1 makes that an error).
// The chart files that need no helm (dashboard, CRD copies, versions) are checked always.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { VERSION } from "../lib/cli/version.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../lib/podbuilder/mod.ts";
import {
  dashboardProblems,
  deploymentProblems,
  excessRights,
  grantsOf,
  type Manifest,
  missingRights,
  ofKind,
  parseManifests,
  unknownKinds,
} from "./deploy_checks.ts";
import { CHARTS, findHelm, type Helm, withCharts } from "./deploy_helm.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** Kubernetes version to render for; the binary's built-in default may predate our kubeVersion. */
const KUBE_VERSION = "1.32.0";
const PULL_POD_LABELS = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };

const found = findHelm();
if ("skip" in found) {
  if (Deno.env.get("DROP_REQUIRE_HELM") === "1") {
    throw new Error(`DROP_REQUIRE_HELM=1 but ${found.skip}`);
  }
  console.log(`skipping helm chart tests: ${found.skip}`);
}

/** {@linkcode withCharts} with the helm found above. */
function charts<T>(fn: (helm: Helm, dir: string) => Promise<T>): Promise<T> {
  if ("skip" in found) throw new Error(found.skip);
  return withCharts(found.helm, fn);
}

async function render(
  helm: Helm,
  dir: string,
  chart: string,
  namespace: string,
  sets: string[] = [],
): Promise<Manifest[]> {
  const args = [
    "template",
    chart,
    `${dir}/${chart}`,
    "--namespace",
    namespace,
    "--kube-version",
    KUBE_VERSION,
  ];
  for (const s of sets) args.push("--set", s);
  const r = await helm(args);
  assert.equal(r.code, 0, `helm ${args.join(" ")} failed: ${r.stderr}`);
  return parseManifests(r.stdout);
}

/** The generated CRDs in crds/, by name. */
async function generatedCrds(): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const e of Deno.readDir(`${ROOT}crds`)) {
    if (!e.name.endsWith(".yaml")) continue;
    const crd = parse(await Deno.readTextFile(`${ROOT}crds/${e.name}`)) as Manifest;
    out.set(crd.metadata.name, crd);
  }
  assert.ok(out.size >= 4, "crds/ holds the generated CRDs");
  return out;
}

async function assertCrdsEqualGenerated(objects: Manifest[]): Promise<void> {
  const want = await generatedCrds();
  const got = ofKind(objects, "CustomResourceDefinition");
  assert.deepEqual(got.map((c) => c.metadata.name).sort(), [...want.keys()].sort());
  for (const crd of got) {
    assert.deepEqual(crd, want.get(crd.metadata.name), `CRD ${crd.metadata.name}`);
  }
}

/** The checks every render of the operator chart must pass. */
function assertOperatorRender(
  objects: Manifest[],
  opts: { namespace: string; podNamespace: string; leaderElect?: boolean },
): void {
  assert.deepEqual(unknownKinds(objects), []);
  assert.deepEqual(
    deploymentProblems(objects, {
      namespace: opts.namespace,
      podNamespace: opts.podNamespace,
      imageTag: VERSION,
      leaderElect: opts.leaderElect ?? true,
      pullPodLabels: PULL_POD_LABELS,
    }),
    [],
  );
  // Pods and Secrets through a Role in the pod namespace, never a ClusterRole.
  const roles = ofKind<{ rules: { resources?: string[] }[] }>(objects, "Role");
  assert.equal(roles.length, 1);
  assert.equal(roles[0].metadata.namespace, opts.podNamespace);
  const roleResources = roles[0].rules.flatMap((r) => r.resources ?? []);
  for (const r of ["pods", "secrets", "leases"]) {
    assert.ok(roleResources.includes(r), `Role grants ${r}`);
  }
  for (const cr of ofKind<{ rules: { resources?: string[] }[] }>(objects, "ClusterRole")) {
    const res = cr.rules.flatMap((r) => r.resources ?? []);
    assert.ok(
      !res.some((r) => /^(pods|secrets)(\/|$)|^\*$/.test(r)),
      `ClusterRole ${cr.metadata.name} grants ${res}`,
    );
  }
  const deployment = ofKind<{ spec: { template: { spec: { serviceAccountName: string } } } }>(
    objects,
    "Deployment",
  )[0];
  const account = {
    name: deployment.spec.template.spec.serviceAccountName,
    namespace: opts.namespace,
  };
  const { grants, problems } = grantsOf(objects, account);
  assert.deepEqual(problems, []);
  assert.deepEqual(missingRights(grants, opts.podNamespace), []);
  assert.deepEqual(excessRights(grants, opts.podNamespace), []);
}

Deno.test("charts: versions follow the operator and the CRD copies are the generated ones", async () => {
  for (const chart of ["drop", "drop-crds"]) {
    const meta = parse(await Deno.readTextFile(`${CHARTS}/${chart}/Chart.yaml`));
    assert.equal(meta.appVersion, VERSION, `${chart} appVersion`);
    assert.equal(meta.version, VERSION, `${chart} version`);
  }
  const deps = parse(await Deno.readTextFile(`${CHARTS}/drop/Chart.yaml`)).dependencies;
  assert.deepEqual(
    deps.map((
      d: { name: string; version: string; condition: string },
    ) => [d.name, d.version, d.condition]),
    [
      ["drop-crds", VERSION, "crds.install"],
    ],
  );
  // The drop-crds chart includes files/ verbatim; each file must be byte-identical to crds/.
  const names = [...Deno.readDirSync(`${ROOT}crds`)].map((e) => e.name).filter((n) =>
    n.endsWith(".yaml")
  ).sort();
  const copies = [...Deno.readDirSync(`${CHARTS}/drop-crds/files`)].map((e) => e.name)
    .filter((n) => n.startsWith("drop.corewire.io_")).sort();
  assert.deepEqual(copies, names);
  for (const n of names) {
    assert.equal(
      await Deno.readTextFile(`${CHARTS}/drop-crds/files/${n}`),
      await Deno.readTextFile(`${ROOT}crds/${n}`),
      `deploy/charts/drop-crds/files/${n} differs from crds/${n} (run "deno task gen")`,
    );
  }
});

/** Keys of values.yaml as documented: nested maps flattened, except the ones passed through whole. */
function valueKeys(values: Record<string, unknown>, prefix = ""): string[] {
  const whole = new Set(["resources", "podSecurityContext", "securityContext"]);
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const nested = v !== null && typeof v === "object" && !Array.isArray(v) &&
      Object.keys(v).length > 0 && !whole.has(key);
    if (nested) out.push(...valueKeys(v as Record<string, unknown>, key));
    else out.push(key);
  }
  return out;
}

Deno.test("charts: the drop chart's README documents every value, and only those", async () => {
  const values = parse(await Deno.readTextFile(`${CHARTS}/drop/values.yaml`));
  const readme = await Deno.readTextFile(`${CHARTS}/drop/README.md`);
  const documented = [...readme.matchAll(/^\| `([^`]+)` *\|/gm)].map((m) => m[1]);
  assert.deepEqual(documented, valueKeys(values));
  // The schema knows every top-level value, so a typo in --set is caught by helm lint.
  const schema = JSON.parse(await Deno.readTextFile(`${CHARTS}/drop/values.schema.json`));
  assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(values).sort());
});

Deno.test("charts: the Grafana dashboard queries only metrics the operator emits", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(`${CHARTS}/drop/dashboards/drop.json`));
  assert.deepEqual(dashboardProblems(dashboard), []);
  // Each panel has a unique id and sits inside the 24-column grid.
  const panels = dashboard.panels as { id: number; gridPos: { x: number; w: number } }[];
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
  for (const p of panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, `panel ${p.id} fits the grid`);
});

Deno.test({
  name: "charts: helm lint passes for both charts, with default and Quickstart values",
  ignore: "skip" in found,
  async fn() {
    await charts(async (helm, dir) => {
      for (
        const args of [
          ["lint", "--strict", `${dir}/drop-crds`],
          ["lint", "--strict", `${dir}/drop`],
          [
            "lint",
            "--strict",
            `${dir}/drop`,
            "--set",
            "crds.install=false,serviceMonitor.enabled=true,grafana.dashboard.enabled=true",
          ],
        ]
      ) {
        const r = await helm(args);
        assert.equal(r.code, 0, `helm ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
      }
    });
  },
});

Deno.test({
  name: "charts: drop with default values installs CRDs and a least-privilege operator",
  ignore: "skip" in found,
  async fn() {
    await charts(async (helm, dir) => {
      const objects = await render(helm, dir, "drop", "drop-system");
      assertOperatorRender(objects, { namespace: "drop-system", podNamespace: "drop-system" });
      await assertCrdsEqualGenerated(objects);
      // Off by default: nothing that needs the Prometheus Operator or Grafana.
      assert.equal(ofKind(objects, "ServiceMonitor").length, 0);
      assert.equal(ofKind(objects, "ConfigMap").length, 0);
      assert.equal(ofKind(objects, "Service").length, 1);
    });
  },
});

Deno.test({
  name:
    "charts: drop as the Quickstart installs it (crds.install=false) follows the release namespace",
  ignore: "skip" in found,
  async fn() {
    await charts(async (helm, dir) => {
      const objects = await render(helm, dir, "drop", "ci-cache", [
        "crds.install=false",
        "serviceMonitor.enabled=true",
        "serviceMonitor.labels.release=prometheus",
        "grafana.dashboard.enabled=true",
      ]);
      assertOperatorRender(objects, { namespace: "ci-cache", podNamespace: "ci-cache" });
      assert.equal(ofKind(objects, "CustomResourceDefinition").length, 0);
      const [sm] = ofKind(objects, "ServiceMonitor");
      assert.equal(sm.metadata.labels?.release, "prometheus");
      const [cm] = ofKind<{ data: Record<string, string> }>(objects, "ConfigMap");
      assert.equal(cm.metadata.labels?.grafana_dashboard, "1");
      const shipped = JSON.parse(cm.data["drop.json"]);
      assert.deepEqual(
        shipped,
        JSON.parse(await Deno.readTextFile(`${CHARTS}/drop/dashboards/drop.json`)),
      );
      assert.deepEqual(dashboardProblems(shipped), []);
    });
  },
});

Deno.test({
  name: "charts: values reach the Deployment; podNamespace moves the Role, not the release",
  ignore: "skip" in found,
  async fn() {
    await charts(async (helm, dir) => {
      const objects = await render(helm, dir, "drop", "drop-system", [
        "crds.install=false",
        "podNamespace=pull-pods",
        "leaderElection.enabled=false",
        "metrics.port=9090",
        "logLevel=debug",
        "image.repository=registry.example.com/drop",
        "nodeSelector.role=infra",
        "tolerations[0].key=infra,tolerations[0].operator=Exists,tolerations[0].effect=NoSchedule",
        "podAnnotations.team=platform",
        "imagePullSecrets[0].name=regcred",
        "extraArgs={--workers=8}",
      ]);
      assertOperatorRender(objects, {
        namespace: "drop-system",
        podNamespace: "pull-pods",
        leaderElect: false,
      });
      const [d] = ofKind<
        {
          spec: {
            template: {
              metadata: { annotations: Record<string, string> };
              spec: Record<string, unknown>;
            };
          };
        }
      >(
        objects,
        "Deployment",
      );
      const pod = d.spec.template.spec as {
        containers: {
          image: string;
          args: string[];
          ports: { name: string; containerPort: number }[];
        }[];
        nodeSelector: Record<string, string>;
        tolerations: unknown[];
        imagePullSecrets: unknown[];
      };
      const c = pod.containers[0];
      assert.equal(c.image, `registry.example.com/drop:${VERSION}`);
      for (const a of ["--metrics-bind-address=:9090", "--log-level=debug", "--workers=8"]) {
        assert.ok(c.args.includes(a), `args include ${a}: ${c.args}`);
      }
      assert.deepEqual(c.ports.find((p) => p.name === "metrics")?.containerPort, 9090);
      assert.deepEqual(pod.nodeSelector, { role: "infra" });
      assert.deepEqual(pod.tolerations, [{
        key: "infra",
        operator: "Exists",
        effect: "NoSchedule",
      }]);
      assert.deepEqual(pod.imagePullSecrets, [{ name: "regcred" }]);
      assert.equal(d.spec.template.metadata.annotations.team, "platform");
      // Events about pull Pods and the Lease are in the pod namespace; the binding's subject stays
      // the ServiceAccount of the release namespace.
      const [rb] = ofKind<{ subjects: { namespace: string }[] }>(objects, "RoleBinding");
      assert.equal(rb.metadata.namespace, "pull-pods");
      assert.equal(rb.subjects[0].namespace, "drop-system");
    });
  },
});

Deno.test({
  name: "charts: contradictory values are refused at render time",
  ignore: "skip" in found,
  async fn() {
    await charts(async (helm, dir) => {
      const cases: [string[], RegExp][] = [
        [["replicaCount=2", "leaderElection.enabled=false"], /needs leaderElection\.enabled/],
        [["metrics.enabled=false", "serviceMonitor.enabled=true"], /needs metrics\.enabled/],
        [["logFormat=xml"], /logFormat/],
        [["serviceAccount.create=false"], /serviceAccount\.name is required/],
      ];
      for (const [sets, message] of cases) {
        const args = ["template", "drop", `${dir}/drop`, "--kube-version", KUBE_VERSION];
        for (const s of sets) args.push("--set", s);
        const r = await helm(args);
        assert.notEqual(r.code, 0, `helm template --set ${sets.join(",")} should fail`);
        assert.match(r.stderr, message);
      }
      // Metrics off: no Service, and the operator is told not to serve them.
      const objects = await render(helm, dir, "drop", "drop-system", ["metrics.enabled=false"]);
      assert.equal(ofKind(objects, "Service").length, 0);
      const [d] = ofKind<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(
        objects,
        "Deployment",
      );
      assert.ok(d.spec.template.spec.containers[0].args.includes("--metrics-bind-address=0"));
    });
  },
});

Deno.test({
  name: "charts: drop-crds renders exactly the generated CRDs",
  ignore: "skip" in found,
  async fn() {
    await charts(async (helm, dir) => {
      const objects = await render(helm, dir, "drop-crds", "default");
      assert.deepEqual(unknownKinds(objects), []);
      assert.equal(objects.length, ofKind(objects, "CustomResourceDefinition").length);
      await assertCrdsEqualGenerated(objects);
    });
  },
});
