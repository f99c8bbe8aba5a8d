// The kustomize layout, rendered with `kubectl kustomize` (kubectl's built-in kustomize): the same
// checks as the Helm charts get (known kinds, restricted Pod Security, --pod-namespace, RBAC that
// covers exactly what the operator does, the generated CRDs), for the base, the monitoring overlay
// and an overlay that moves everything to another namespace. Skips with one line without kubectl.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { VERSION } from "../lib/cli/version.ts";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../lib/podbuilder/mod.ts";
import {
  deploymentProblems,
  excessRights,
  grantsOf,
  type Manifest,
  missingRights,
  ofKind,
  parseManifests,
  unknownKinds,
} from "./deploy_checks.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const KUSTOMIZE = `${ROOT}deploy/kustomize`;

function findKubectl(): string | undefined {
  const explicit = Deno.env.get("TEST_ASSET_KUBECTL");
  const candidates = [
    ...(explicit ? [explicit] : []),
    ...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((d) => `${d}/kubectl`),
  ];
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return c;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

const KUBECTL = findKubectl();
if (!KUBECTL) {
  console.log("skipping kustomize tests: no kubectl on PATH and TEST_ASSET_KUBECTL is unset");
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

async function kustomize(dir: string): Promise<Manifest[]> {
  const out = await new Deno.Command(KUBECTL!, { args: ["kustomize", dir], stdin: "null" })
    .output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `kubectl kustomize ${dir} failed: ${stderr}`);
  return parseManifests(new TextDecoder().decode(out.stdout));
}

async function assertCrdsEqualGenerated(objects: Manifest[]): Promise<void> {
  const want = new Map<string, unknown>();
  for await (const e of Deno.readDir(`${ROOT}crds`)) {
    if (!e.name.endsWith(".yaml")) continue;
    const crd = parse(await Deno.readTextFile(`${ROOT}crds/${e.name}`)) as Manifest;
    want.set(crd.metadata.name, crd);
  }
  const got = ofKind(objects, "CustomResourceDefinition");
  assert.deepEqual(got.map((c) => c.metadata.name).sort(), [...want.keys()].sort());
  for (const crd of got) {
    assert.deepEqual(crd, want.get(crd.metadata.name), `CRD ${crd.metadata.name}`);
  }
}

function assertOperatorRender(objects: Manifest[], namespace: string): void {
  assert.deepEqual(unknownKinds(objects), []);
  const [ns] = ofKind(objects, "Namespace");
  assert.equal(ns?.metadata.name, namespace);
  // Pull Pods run in this namespace; it enforces the profile they are built for.
  assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
  assert.deepEqual(
    deploymentProblems(objects, {
      namespace,
      podNamespace: namespace,
      imageTag: VERSION,
      leaderElect: true,
      pullPodLabels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
    }),
    [],
  );
  const [role] = ofKind(objects, "Role");
  assert.equal(role.metadata.namespace, namespace);
  const account = { name: "drop", namespace };
  const { grants, problems } = grantsOf(objects, account);
  assert.deepEqual(problems, []);
  assert.deepEqual(missingRights(grants, namespace), []);
  assert.deepEqual(excessRights(grants, namespace), []);
}

Deno.test({
  name:
    "kustomize: the base renders a restricted, least-privilege operator with the generated CRDs",
  ignore: !KUBECTL,
  async fn() {
    const objects = await kustomize(`${KUSTOMIZE}/base`);
    assertOperatorRender(objects, "drop-system");
    await assertCrdsEqualGenerated(objects);
    assert.equal(ofKind(objects, "ServiceMonitor").length, 0);
  },
});

Deno.test({
  name: "kustomize: the crds kustomization holds exactly the generated CRDs",
  ignore: !KUBECTL,
  async fn() {
    const objects = await kustomize(`${KUSTOMIZE}/crds`);
    assert.equal(objects.length, ofKind(objects, "CustomResourceDefinition").length);
    await assertCrdsEqualGenerated(objects);
  },
});

Deno.test({
  name: "kustomize: the monitoring overlay adds a ServiceMonitor for the metrics Service",
  ignore: !KUBECTL,
  async fn() {
    const objects = await kustomize(`${KUSTOMIZE}/overlays/monitoring`);
    assertOperatorRender(objects, "drop-system");
    const [sm] = ofKind(objects, "ServiceMonitor");
    assert.equal(sm?.metadata.namespace, "drop-system");
  },
});

Deno.test({
  name:
    "kustomize: an overlay with another namespace moves the Role, the subjects and the pod namespace",
  ignore: !KUBECTL,
  async fn() {
    // kustomize loads bases by relative path only: the overlay goes into a copy of deploy/.
    const dir = await Deno.makeTempDir({ prefix: "drop-kustomize-" });
    try {
      await copyDir(`${ROOT}deploy`, `${dir}/deploy`);
      const overlay = `${dir}/deploy/kustomize/overlays/ci-cache`;
      await Deno.mkdir(overlay);
      await Deno.writeTextFile(
        `${overlay}/kustomization.yaml`,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" +
          "namespace: ci-cache\nresources:\n  - ../../base\ncomponents:\n  - ../../components/servicemonitor\n",
      );
      const objects = await kustomize(overlay);
      assertOperatorRender(objects, "ci-cache");
      for (const o of objects) {
        if (o.kind === "CustomResourceDefinition" || o.kind.startsWith("Cluster")) continue;
        if (o.kind === "Namespace") continue;
        assert.equal(o.metadata.namespace, "ci-cache", `${o.kind} ${o.metadata.name}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
