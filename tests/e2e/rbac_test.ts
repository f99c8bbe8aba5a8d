// The operator under the RBAC of deploy/: the kustomize base's Namespace, ServiceAccount and
// roles are applied, and the operator bundle runs with a real ServiceAccount token of
// system:serviceaccount:drop-system:drop through a scenario that touches everything it does
// (pull Pods on simulated nodes, Secrets, a PullPolicy, a CachedImageSet with children, a
// DiscoveryPolicy whose endpoint is unreachable, Events, status writes). Not one request may be
// refused: not in its logs, not in its rest_client_requests_total, not in the API server's audit
// log. And it cannot read Secrets outside drop-system.
import assert from "node:assert/strict";
import {
  announceSkip,
  type AuditEvent,
  type E2ECluster,
  e2eTarget,
  metricSum,
  OPERATOR_NAMESPACE,
  parseMetrics,
  tailLines,
  waitUntil,
  withE2ECluster,
} from "./_cluster.ts";
import { SIM_NODE_CONTROLLERS, startSimNodes } from "./_sim_nodes.ts";

const target = e2eTarget();
const skipped = announceSkip(target, "tests/e2e/rbac_test.ts");

const API_VERSION = "drop.corewire.io/v1alpha1";

interface Status {
  phase?: string;
  ready?: string;
  observedGeneration?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
  discoveredImages?: unknown[];
}

/** A port nothing listens on: connections to it are refused at once. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function statusOf(c: E2ECluster, kind: string, name: string): Promise<Status> {
  const o = await c.getJson<{ status?: Status }>([kind, name]);
  return o.status ?? {};
}

async function rbacScenario(c: E2ECluster, t: Deno.TestContext) {
  const applied = await c.installOperatorRbac();
  for (
    const expected of [
      `Namespace/${OPERATOR_NAMESPACE}`,
      "ServiceAccount/drop",
      "Role/drop",
      "RoleBinding/drop",
      "ClusterRole/drop",
      "ClusterRoleBinding/drop",
    ]
  ) {
    assert.ok(applied.includes(expected), `deploy/ lacks ${expected}: ${applied.join(", ")}`);
  }

  const nodes = c.mode === "local"
    ? await startSimNodes(c, { nodes: [c.name("node-a"), c.name("node-b")] })
    : undefined;
  if (nodes) {
    // A private registry host: the kubelet pulls only with the Secret the image names.
    nodes.catalogue.setHostAuth("private.registry.local", true);
  }

  const pullSecret = c.name("pull-creds");
  const promSecret = c.name("prom-creds");
  const policy = c.name("paced");
  const image = c.name("private-app");
  const discovery = c.name("unreachable");
  const set = c.name("tools");
  await c.apply(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { ...c.meta(pullSecret), namespace: OPERATOR_NAMESPACE },
      type: "kubernetes.io/dockerconfigjson",
      stringData: {
        ".dockerconfigjson": JSON.stringify({
          auths: { "private.registry.local": { username: "ci", password: "secret-pw" } },
        }),
      },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { ...c.meta(promSecret), namespace: OPERATOR_NAMESPACE },
      type: "Opaque",
      stringData: { token: "prometheus-token-value" },
    },
  );

  // With leader election, as deploy/'s Deployment runs it.
  const lease = c.name("drop-leader");
  c.defer(async () => {
    await c.kubectl(["delete", "lease", lease, "-n", OPERATOR_NAMESPACE, "--ignore-not-found"]);
  });
  const op = await c.startOperator([
    "--leader-elect",
    `--leader-election-id=${lease}`,
    "--log-level=debug",
  ]);
  await waitUntil("the operator's readyz", async () => (await op.get("/readyz")).status === 200);

  await c.apply(
    {
      apiVersion: API_VERSION,
      kind: "PullPolicy",
      metadata: c.meta(policy),
      spec: { maxConcurrentNodes: 2, minDelayBetweenPulls: "0s" },
    },
    {
      apiVersion: API_VERSION,
      kind: "CachedImage",
      metadata: c.meta(image),
      spec: {
        image: "private.registry.local/team/app",
        tag: "1.0.0",
        imagePullSecrets: [{ name: pullSecret }],
        policyRef: { name: policy },
      },
    },
    {
      apiVersion: API_VERSION,
      kind: "DiscoveryPolicy",
      metadata: c.meta(discovery),
      spec: {
        syncInterval: "30s",
        sources: [{
          type: "prometheus",
          prometheus: { endpoint: `http://127.0.0.1:${closedPort()}`, query: "up" },
          secretRef: { name: promSecret },
        }],
      },
    },
    {
      apiVersion: API_VERSION,
      kind: "CachedImageSet",
      metadata: c.meta(set),
      spec: {
        policyRef: { name: policy },
        discoveryPolicyRef: { name: discovery },
        images: [
          { image: "docker.io/library/alpine", tag: "3.20" },
          { image: "docker.io/library/busybox", tag: "1.36" },
        ],
      },
    },
  );

  await t.step("the scenario reaches its end states as the ServiceAccount", async () => {
    // The DiscoveryPolicy reports the refused connection in its status.
    const dp = await waitUntil("the DiscoveryPolicy's failure condition", async () => {
      const s = await statusOf(c, "discoverypolicy", discovery);
      const failed = s.conditions?.find((x) => x.status === "False");
      return failed && s.observedGeneration === 1 ? s : undefined;
    }, { describe: async () => JSON.stringify(await statusOf(c, "discoverypolicy", discovery)) });
    assert.match(JSON.stringify(dp.conditions), /refused/i);
    // The set made its children, and they are cached on the nodes (pull Pods ran).
    const children = await waitUntil("two children of the set", async () => {
      const list = await c.getJson<{ items: { metadata: { name: string } }[] }>([
        "cachedimages",
        "-l",
        `drop.corewire.io/imageset=${set}`,
      ]);
      return list.items.length === 2 ? list.items.map((i) => i.metadata.name) : undefined;
    });
    const expectedPhase = nodes ? "Ready" : undefined;
    for (const name of [image, ...children]) {
      await waitUntil(`${name} ${expectedPhase ?? "with a status"}`, async () => {
        const s = await statusOf(c, "cachedimage", name);
        return expectedPhase ? s.phase === expectedPhase && s.ready === "2/2" : s.phase;
      }, { describe: async () => JSON.stringify(await statusOf(c, "cachedimage", name)) });
    }
    await waitUntil("the set's status", async () => {
      const s = await statusOf(c, "cachedimageset", set);
      return s.observedGeneration === 1;
    });
    if (nodes) {
      // Pull Pods were created and deleted by the operator.
      await waitUntil("no pull Pods left", async () => {
        const pods = await c.getJson<{ items: unknown[] }>(["pods", "-n", OPERATOR_NAMESPACE]);
        return pods.items.length === 0;
      });
      // A new tag: every node pulls again.
      await c.kubectl([
        "patch",
        "cachedimage",
        image,
        "--type=merge",
        "-p",
        '{"spec":{"tag":"1.1.0"}}',
      ]);
      await waitUntil("the re-pull of the new tag", async () => {
        const s = await statusOf(c, "cachedimage", image);
        return s.observedGeneration === 2 && s.phase === "Ready" && s.ready === "2/2";
      });
    }
  });

  await t.step("no request of the operator was refused", async () => {
    const logs = op.logs();
    assert.doesNotMatch(logs, /forbidden|\b403\b/i, tailLines(logs, 40));
    const metrics = parseMetrics((await op.get("/metrics", op.metricsPort)).body);
    const total = metricSum(metrics, "rest_client_requests_total");
    const refused = metricSum(metrics, "rest_client_requests_total", { code: "403" });
    assert.ok(total > 20, `only ${total} requests counted`);
    assert.equal(refused, 0, "rest_client_requests_total counts 403 answers");
    assert.ok(metricSum(metrics, "rest_client_requests_total", { code: "201" }) > 0);
    if (c.mode !== "local") return;
    const events = (await c.auditEvents()).filter((e) => e.userAgent?.startsWith("drop-operator"));
    assert.ok(events.length > 20, `only ${events.length} audited requests of the operator`);
    const denied = events.filter((e) => e.responseStatus?.code === 403);
    assert.deepEqual(denied.map(describe), [], "the API server refused requests");
    // The scenario exercised what the RBAC grants: these requests were made, and allowed.
    const made = new Set(events.map(describe));
    const expected = [
      "list nodes",
      "watch nodes",
      `list pods -n ${OPERATOR_NAMESPACE}`,
      `create pods -n ${OPERATOR_NAMESPACE}`,
      `delete pods -n ${OPERATOR_NAMESPACE}`,
      `get secrets -n ${OPERATOR_NAMESPACE}`,
      "create cachedimages",
      "list cachedimagesets",
      "list discoverypolicies",
      "list pullpolicies",
      "create events -n default",
      `get leases -n ${OPERATOR_NAMESPACE}`,
      `create leases -n ${OPERATOR_NAMESPACE}`,
    ].filter((e) => nodes || !e.includes(" pods "));
    const statusWrites = [...made].filter((m) => m.includes("/status"));
    for (const e of expected) {
      assert.ok(made.has(e), `not made: ${e}; made: ${[...made].join(", ")}`);
    }
    for (const kind of ["cachedimages", "cachedimagesets", "discoverypolicies"]) {
      assert.ok(
        statusWrites.some((m) => m.includes(`${kind}/status`)),
        `no status write of ${kind}: ${statusWrites.join(", ")}`,
      );
    }
    console.log(
      `operator requests (${events.length}), all allowed: ${[...made].sort().join("; ")}`,
    );
  });

  await t.step("the ServiceAccount cannot read Secrets outside drop-system", async () => {
    await c.kubectl([
      "create",
      "secret",
      "generic",
      c.name("other"),
      "-n",
      "default",
      "--from-literal=k=v",
    ]);
    const kubeconfig = await c.operatorKubeconfig();
    const inOwn = await c.kubectl(["get", "secret", promSecret, "-n", OPERATOR_NAMESPACE], {
      kubeconfig,
    });
    assert.match(inOwn.stdout, new RegExp(promSecret));
    for (
      const args of [
        ["get", "secret", c.name("other"), "-n", "default"],
        ["get", "secrets", "-n", "default"],
        ["get", "secrets", "--all-namespaces"],
        ["get", "secrets", "-n", "kube-system"],
        ["get", "pods", "-n", "default"],
        ["create", "secret", "generic", "x", "-n", OPERATOR_NAMESPACE, "--from-literal=k=v"],
      ]
    ) {
      const r = await c.kubectl(args, { kubeconfig, allowFailure: true });
      assert.notEqual(r.code, 0, `allowed: kubectl ${args.join(" ")}`);
      assert.match(r.stderr, /forbidden/i, `kubectl ${args.join(" ")}: ${r.stderr}`);
    }
  });
}

/** "verb resource[/subresource] [-n namespace]" of an audited request. */
function describe(e: AuditEvent): string {
  const r = e.objectRef ?? {};
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  return `${e.verb} ${resource}${r.namespace ? ` -n ${r.namespace}` : ""}`;
}

Deno.test({
  name: "e2e: the operator as its ServiceAccount under deploy/'s RBAC is never refused",
  ignore: skipped,
  async fn(t) {
    if ("skip" in target) return;
    await withE2ECluster(target, {
      audit: true,
      controlPlane: {
        controllers: [...SIM_NODE_CONTROLLERS],
        // As on OpenShift: setting blockOwnerDeletion needs update on the owner's finalizers.
        apiServerArgs: ["--enable-admission-plugins=OwnerReferencesPermissionEnforcement"],
      },
    }, (c) => rbacScenario(c, t));
  },
});
