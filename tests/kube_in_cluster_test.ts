/**
 * In-cluster config end to end: service account token file, CA and namespace against the
 * simulated API server over HTTPS, including a token rotated while the client runs.
 */
import assert from "node:assert/strict";
import { inClusterConfig, KubeClient, NAMESPACES } from "../lib/kube/mod.ts";
import { startApiServer } from "../lib/sim/apiserver/mod.ts";

Deno.test("in-cluster config follows a rotated service account token after a 401", async () => {
  // Only the rotated token is valid: the old one has been revoked, as bound tokens are.
  const server = await startApiServer({
    tls: true,
    requireAuth: true,
    authTokens: { "rotated-token": "system:serviceaccount:drop-system:drop" },
  });
  const sa = await Deno.makeTempDir();
  let client: KubeClient | undefined;
  try {
    await Deno.writeTextFile(`${sa}/token`, "old-token");
    await Deno.writeTextFile(`${sa}/ca.crt`, server.caPem!);
    await Deno.writeTextFile(`${sa}/namespace`, "drop-system");
    const port = new URL(server.url).port;
    const env = (n: string) =>
      ({ KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port })[n];
    const config = inClusterConfig({ env, serviceAccountDir: sa });
    assert.equal(config.namespace, "drop-system");
    assert.equal(config.server, server.url);
    assert.deepEqual(await config.credentials!.get(), { token: "old-token" }, "old token cached");
    client = new KubeClient(config);
    // The kubelet rotates the projected token file.
    await Deno.writeTextFile(`${sa}/token`, "rotated-token");
    const list = await client.resource(NAMESPACES).list();
    assert.ok(Array.isArray(list.items));
    const users = server.counters.snapshot().byUser;
    assert.equal(users["system:serviceaccount:drop-system:drop"], 1);
    assert.equal(server.counters.snapshot().byCode["401"], 1, "one 401 with the old token");
  } finally {
    client?.close();
    await server.stop();
    await Deno.remove(sa, { recursive: true });
  }
});
