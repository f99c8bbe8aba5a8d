import assert from "node:assert/strict";
import { inClusterConfig, isInCluster } from "./in_cluster.ts";
import { TokenFileCredentials } from "./token_file_credentials.ts";

Deno.test("inClusterConfig reads host, port, CA, namespace and the token file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, "t1\n");
    await Deno.writeTextFile(`${dir}/ca.crt`, "CA");
    await Deno.writeTextFile(`${dir}/namespace`, "drop-system");
    const env = (n: string) =>
      ({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" })[n];
    assert.ok(isInCluster(env));
    const c = inClusterConfig({ env, serviceAccountDir: dir });
    assert.equal(c.server, "https://[fd00::1]:6443");
    assert.equal(c.caData, "CA");
    assert.equal(c.namespace, "drop-system");
    assert.deepEqual(await c.credentials!.get(), { token: "t1" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inClusterConfig fails clearly outside a pod", () => {
  assert.equal(isInCluster(() => undefined), false);
  assert.throws(
    () => inClusterConfig({ env: () => undefined }),
    /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set/,
  );
  assert.throws(
    () =>
      inClusterConfig({
        env: (n) => ({ KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "1" })[n],
        serviceAccountDir: "/nonexistent-sa-dir",
      }),
    /Cannot load in-cluster config: \/nonexistent-sa-dir\/token/,
  );
});

Deno.test("TokenFileCredentials re-reads a rotated token after 60 s or after invalidate", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/token`;
    await Deno.writeTextFile(path, "first");
    let now = 1_000_000;
    const creds = new TokenFileCredentials(path, { now: () => now });
    assert.deepEqual(await creds.get(), { token: "first" });
    await Deno.writeTextFile(path, "second");
    now += 59_000;
    assert.deepEqual(await creds.get(), { token: "first" }, "cached within 60 s");
    now += 2_000;
    assert.deepEqual(await creds.get(), { token: "second" }, "re-read after 60 s");
    await Deno.writeTextFile(path, "third");
    assert.deepEqual(await creds.get(), { token: "second" });
    creds.invalidate();
    assert.deepEqual(await creds.get(), { token: "third" }, "re-read after a 401");
    await Deno.remove(path);
    creds.invalidate();
    assert.deepEqual(await creds.get(), { token: "third" }, "a vanished file keeps the last token");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TokenFileCredentials rejects an unreadable or empty token file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => new TokenFileCredentials(`${dir}/none`).get(),
      /Cannot read token file ".*none"/,
    );
    await Deno.writeTextFile(`${dir}/empty`, "\n");
    await assert.rejects(() => new TokenFileCredentials(`${dir}/empty`).get(), /it is empty/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
