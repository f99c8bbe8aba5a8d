// The deploy manifests against a real kube-apiserver: the kustomize base (and, with helm, the
// chart as the Quickstart installs it) is applied server-side, so every object passes the API
// server's own validation, and the real RBAC authorizer is asked, through SubjectAccessReviews,
// whether the operator's ServiceAccount may do each thing the operator does, and may not do what
// least privilege forbids. Skips with one line when the control-plane binaries are missing.
import assert from "node:assert/strict";
import {
  type ControlPlane,
  findControlPlaneAssets,
  withControlPlane,
} from "./envtest/control_plane.ts";
import { OPERATOR_NEEDS } from "./deploy_checks.ts";
import { findHelm, withCharts } from "./deploy_helm.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** Kubernetes version helm renders for (its built-in default may predate the charts' kubeVersion). */
const KUBE_VERSION = "1.32.0";
const found = findControlPlaneAssets();
if ("skip" in found) console.log(`skipping deploy control-plane tests: ${found.skip}`);

interface Access {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
}

/** Asks the API server's authorizer whether a ServiceAccount may do `a`. */
async function allowed(cp: ControlPlane, account: { namespace: string; name: string }, a: Access) {
  const review = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: `system:serviceaccount:${account.namespace}:${account.name}`,
      groups: [
        "system:serviceaccounts",
        `system:serviceaccounts:${account.namespace}`,
        "system:authenticated",
      ],
      resourceAttributes: a,
    },
  };
  const res = await cp.fetch("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(review),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.status?.allowed === true;
}

/** Everything the operator does, as access requests in `podNamespace`. */
function needed(podNamespace: string): Access[] {
  const out: Access[] = [];
  for (const n of OPERATOR_NEEDS) {
    const [resource, subresource] = n.resource.split("/");
    // Cluster-wide Events are written to "default" (cluster-scoped objects); other cluster-wide
    // rights are on cluster-scoped resources.
    const namespace = n.scope === "pod-namespace"
      ? podNamespace
      : resource === "events"
      ? "default"
      : undefined;
    for (const verb of n.verbs) {
      out.push({ verb, group: n.group, resource, subresource, namespace });
    }
  }
  return out;
}

/** Rights the operator must not hold. */
function forbidden(podNamespace: string): Access[] {
  return [
    { verb: "get", group: "", resource: "secrets", namespace: "default" },
    { verb: "list", group: "", resource: "secrets" },
    { verb: "update", group: "", resource: "secrets", namespace: podNamespace },
    { verb: "create", group: "", resource: "pods", namespace: "default" },
    { verb: "list", group: "", resource: "pods" },
    { verb: "update", group: "", resource: "pods", namespace: podNamespace },
    { verb: "delete", group: "", resource: "nodes" },
    { verb: "patch", group: "", resource: "nodes" },
    { verb: "get", group: "", resource: "configmaps", namespace: podNamespace },
    { verb: "list", group: "", resource: "events", namespace: podNamespace },
    { verb: "delete", group: "coordination.k8s.io", resource: "leases", namespace: podNamespace },
    { verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "default" },
    { verb: "delete", group: "drop.corewire.io", resource: "cachedimagesets" },
    { verb: "update", group: "drop.corewire.io", resource: "pullpolicies" },
    { verb: "update", group: "drop.corewire.io", resource: "pullpolicies", subresource: "status" },
    { verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions" },
    { verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles" },
  ];
}

async function assertRights(
  cp: ControlPlane,
  account: { namespace: string; name: string },
  podNamespace: string,
) {
  const missing: string[] = [];
  for (const a of needed(podNamespace)) {
    if (!(await allowed(cp, account, a))) missing.push(JSON.stringify(a));
  }
  assert.deepEqual(missing, [], "the operator's ServiceAccount lacks rights it needs");
  const excess: string[] = [];
  for (const a of forbidden(podNamespace)) {
    if (await allowed(cp, account, a)) excess.push(JSON.stringify(a));
  }
  assert.deepEqual(excess, [], "the operator's ServiceAccount holds rights it must not");
}

async function output(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return text;
}

Deno.test({
  name:
    "deploy on a real API server: the kustomize base applies and its RBAC is what the operator needs",
  ignore: "skip" in found,
  async fn() {
    if ("skip" in found) return;
    await withControlPlane({ assets: found, controllers: false }, async (cp) => {
      const manifests = await output(found.kubectl, ["kustomize", `${ROOT}deploy/kustomize/base`]);
      await cp.kubectl(["apply", "--server-side", "-f", "-"], { input: manifests });
      await cp.kubectl([
        "wait",
        "--for=condition=Established",
        "crd/cachedimages.drop.corewire.io",
        "crd/cachedimagesets.drop.corewire.io",
        "crd/discoverypolicies.drop.corewire.io",
        "crd/pullpolicies.drop.corewire.io",
        "--timeout=60s",
      ]);
      await assertRights(cp, { namespace: "drop-system", name: "drop" }, "drop-system");
      // The spec's examples are accepted by the installed CRDs.
      const example = {
        apiVersion: "drop.corewire.io/v1alpha1",
        kind: "CachedImage",
        metadata: { name: "alpine-3-20" },
        spec: { image: "docker.io/library/alpine", tag: "3.20" },
      };
      await cp.kubectl(["apply", "--server-side", "-f", "-"], { input: JSON.stringify(example) });
    });
  },
});

const helmFound = findHelm();
if (!("skip" in found) && "skip" in helmFound) {
  console.log(`skipping the chart part of the deploy control-plane tests: ${helmFound.skip}`);
}

Deno.test({
  name:
    "deploy on a real API server: the drop chart, as the Quickstart installs it, grants what the operator needs",
  ignore: "skip" in found || "skip" in helmFound,
  async fn() {
    if ("skip" in found || "skip" in helmFound) return;
    const [crds, chart] = await withCharts(helmFound.helm, async (helm, dir) => {
      const render = async (args: string[]) => {
        const r = await helm(["template", ...args, "--kube-version", KUBE_VERSION]);
        assert.equal(r.code, 0, `helm template ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      };
      return [
        await render(["drop-crds", `${dir}/drop-crds`]),
        await render([
          "drop",
          `${dir}/drop`,
          "--namespace",
          "ci-cache",
          "--set",
          "crds.install=false",
        ]),
      ];
    });
    await withControlPlane({ assets: found, controllers: false }, async (cp) => {
      await cp.kubectl(["apply", "--server-side", "-f", "-"], { input: crds });
      await cp.kubectl(["create", "namespace", "ci-cache"]);
      await cp.kubectl(["apply", "--server-side", "-f", "-"], { input: chart });
      await assertRights(cp, { namespace: "ci-cache", name: "drop" }, "ci-cache");
    });
  },
});
