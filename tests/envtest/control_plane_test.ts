// Smoke test of the real control plane: kubectl works, the real garbage collector deletes dependents of a
// deleted owner, and RBAC confines a ServiceAccount identity to its namespace.
import assert from "node:assert/strict";
import {
  type ControlPlane,
  eventually,
  findControlPlaneAssets,
  serviceAccountIdentity,
  withControlPlane,
} from "./control_plane.ts";

const found = findControlPlaneAssets();
const required = Deno.env.get("DROP_REQUIRE_CONTROL_PLANE") === "1";
if ("skip" in found) {
  if (required) throw new Error(`DROP_REQUIRE_CONTROL_PLANE=1 but ${found.skip}`);
  console.log(`skipping real-control-plane tests: ${found.skip}`);
}

const OPERATOR = serviceAccountIdentity("drop-system", "drop");

async function applyJson(cp: ControlPlane, obj: unknown): Promise<void> {
  await cp.kubectl(["apply", "-f", "-"], { input: JSON.stringify(obj) });
}

Deno.test({
  name: "real control plane: kubectl, garbage collection and RBAC",
  ignore: "skip" in found,
  async fn() {
    if ("skip" in found) return;
    await withControlPlane({ assets: found, identities: [OPERATOR] }, async (cp) => {
      console.log(
        `control plane ready in ${Math.round(cp.timings.total)} ms (${
          Object.entries(cp.timings).map(([k, v]) => `${k} ${Math.round(v)}`).join(", ")
        })`,
      );

      // /version reports the version the binaries were built as.
      const version = JSON.parse((await cp.kubectl(["version", "-o", "json"])).stdout);
      assert.match(version.serverVersion.gitVersion, /^v1\.\d+\.\d+/);
      assert.equal(version.clientVersion.gitVersion, version.serverVersion.gitVersion);

      await cp.kubectl(["create", "namespace", "smoke"]);
      await cp.kubectl(["create", "namespace", "drop-system"]);

      // An owner and a dependent that names it; deleting the owner lets the real garbage collector
      // delete the dependent.
      await cp.kubectl(["-n", "smoke", "create", "configmap", "owner", "--from-literal=k=v"]);
      const ownerUid = (await cp.kubectl([
        "-n",
        "smoke",
        "get",
        "configmap",
        "owner",
        "-o",
        "jsonpath={.metadata.uid}",
      ])).stdout;
      assert.match(ownerUid, /^[0-9a-f-]{36}$/);
      await applyJson(cp, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: "dependent",
          namespace: "smoke",
          ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: ownerUid }],
        },
        data: { k: "v" },
      });
      // An unrelated ConfigMap stays: the collector deletes only dependents.
      await cp.kubectl(["-n", "smoke", "create", "configmap", "bystander"]);
      await cp.kubectl(["-n", "smoke", "delete", "configmap", "owner", "--wait=true"]);
      await eventually("garbage collection of smoke/dependent", async () => {
        const r = await cp.kubectl(["-n", "smoke", "get", "configmap", "dependent"], {
          allowFailure: true,
        });
        if (r.code === 0) return undefined;
        assert.match(r.stderr, /NotFound/);
        return true;
      });
      await cp.kubectl(["-n", "smoke", "get", "configmap", "bystander"]);

      // The operator's identity may read Secrets in its own namespace only.
      await cp.kubectl([
        "-n",
        "smoke",
        "create",
        "secret",
        "generic",
        "other",
        "--from-literal=a=b",
      ]);
      await cp.kubectl([
        "-n",
        "drop-system",
        "create",
        "secret",
        "generic",
        "own",
        "--from-literal=a=b",
      ]);
      await applyJson(cp, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "read-secrets", namespace: "drop-system" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }],
      });
      await cp.kubectl([
        "-n",
        "drop-system",
        "create",
        "rolebinding",
        "read-secrets",
        "--role=read-secrets",
        `--serviceaccount=drop-system:drop`,
      ]);
      const own = await cp.kubectl(["-n", "drop-system", "get", "secret", "own", "-o", "name"], {
        as: OPERATOR.name,
      });
      assert.equal(own.stdout.trim(), "secret/own");
      const other = await cp.kubectl(["-n", "smoke", "get", "secret", "other"], {
        as: OPERATOR.name,
        allowFailure: true,
      });
      assert.notEqual(other.code, 0);
      assert.match(
        other.stderr,
        /Forbidden.*system:serviceaccount:drop-system:drop.*cannot get resource "secrets".*namespace "smoke"/,
      );
      // The API server agrees through its own access review, for the same identity.
      const review = await cp.kubectl(["auth", "can-i", "list", "secrets", "-n", "smoke"], {
        as: OPERATOR.name,
        allowFailure: true,
      });
      assert.equal(review.stdout.trim(), "no");

      // A real ServiceAccount token (TokenRequest, signed by the service-account key) authenticates as
      // the same user and gets the same answers.
      await cp.kubectl(["-n", "drop-system", "create", "serviceaccount", "drop"]);
      const sa = await cp.serviceAccountToken("drop-system", "drop");
      const whoami = JSON.parse(
        (await cp.kubectl(["auth", "whoami", "-o", "json"], { kubeconfig: sa.kubeconfig })).stdout,
      );
      assert.equal(whoami.status.userInfo.username, OPERATOR.name);
      const r = await cp.fetch("/api/v1/namespaces/smoke/secrets", {}, OPERATOR.name);
      assert.equal(r.status, 403);
      await r.body?.cancel();

      // A client-certificate identity added after start, with no RBAC at all, is denied.
      const nobody = await cp.addIdentity({ name: "nobody", groups: ["drop:testers"] });
      const denied = await cp.kubectl(["get", "namespaces"], {
        kubeconfig: nobody.kubeconfig,
        allowFailure: true,
      });
      assert.match(denied.stderr, /Forbidden.*User "nobody" cannot list resource "namespaces"/);

      // Namespace deletion completes through the real namespace controller.
      await cp.kubectl(["delete", "namespace", "smoke", "--wait=true", "--timeout=60s"]);
      const gone = await cp.kubectl(["get", "namespace", "smoke"], { allowFailure: true });
      assert.match(gone.stderr, /NotFound/);
    });
  },
});
