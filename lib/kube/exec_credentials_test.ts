import assert from "node:assert/strict";
import { ExecCredentials } from "./exec_credentials.ts";

/** Writes a plugin script that prints a numbered token and logs KUBERNETES_EXEC_INFO. */
async function writePlugin(dir: string, apiVersion: string, expiry: string): Promise<string> {
  const path = `${dir}/plugin.sh`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
n=$(cat "${dir}/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "${dir}/count"
printf '%s' "$KUBERNETES_EXEC_INFO" > "${dir}/info.json"
cat <<JSON
{"apiVersion":"${apiVersion}","kind":"ExecCredential",
 "status":{"token":"token-$n-$PLUGIN_EXTRA"${expiry ? `,"expirationTimestamp":"${expiry}"` : ""}}}
JSON
`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("ExecCredentials caches the credential until it expires, then re-runs the plugin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const command = await writePlugin(
      dir,
      "client.authentication.k8s.io/v1",
      "2030-01-01T00:00:00Z",
    );
    let now = Date.parse("2029-12-31T23:00:00Z");
    const creds = new ExecCredentials({
      apiVersion: "client.authentication.k8s.io/v1",
      command,
      args: ["--region", "x"],
      env: [{ name: "PLUGIN_EXTRA", value: "e" }],
      provideClusterInfo: true,
    }, { cluster: { server: "https://h:6443" }, now: () => now });
    const [a, b] = await Promise.all([creds.get(), creds.get()]);
    assert.deepEqual(a, { token: "token-1-e" });
    assert.deepEqual(b, a, "concurrent callers share one run");
    assert.equal(creds.runs, 1);
    now = Date.parse("2029-12-31T23:59:59Z");
    assert.deepEqual(await creds.get(), { token: "token-1-e" }, "still valid");
    now = Date.parse("2030-01-01T00:00:01Z");
    assert.deepEqual(await creds.get(), { token: "token-2-e" }, "expired: re-run");
    assert.equal(creds.runs, 2);
    const info = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
    assert.deepEqual(info, {
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      spec: { interactive: false, cluster: { server: "https://h:6443" } },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ExecCredentials v1beta1 without expiry is cached until a 401 invalidates it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const command = await writePlugin(dir, "client.authentication.k8s.io/v1beta1", "");
    const creds = new ExecCredentials({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command,
      env: [{ name: "PLUGIN_EXTRA", value: "b" }],
    });
    assert.deepEqual(await creds.get(), { token: "token-1-b" });
    assert.deepEqual(await creds.get(), { token: "token-1-b" });
    creds.invalidate();
    assert.deepEqual(await creds.get(), { token: "token-2-b" });
    const info = JSON.parse(await Deno.readTextFile(`${dir}/info.json`));
    assert.equal(info.spec.cluster, undefined, "cluster info only when asked for");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ExecCredentials returns client certificates from the plugin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/p.sh`;
    await Deno.writeTextFile(
      path,
      `#!/bin/sh
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}'
`,
    );
    await Deno.chmod(path, 0o755);
    const creds = new ExecCredentials({
      apiVersion: "client.authentication.k8s.io/v1",
      command: path,
    });
    assert.deepEqual(await creds.get(), { clientCertData: "CERT", clientKeyData: "KEY" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ExecCredentials reports plugin failures with their cause", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = async (name: string, body: string) => {
      await Deno.writeTextFile(`${dir}/${name}`, `#!/bin/sh\n${body}\n`);
      await Deno.chmod(`${dir}/${name}`, 0o755);
      return `${dir}/${name}`;
    };
    const v1 = "client.authentication.k8s.io/v1";
    const failing = await script("fail.sh", "echo 'token expired, run login' >&2; exit 3");
    await assert.rejects(
      () => new ExecCredentials({ apiVersion: v1, command: failing }).get(),
      /failed with exit code 3: token expired, run login/,
    );
    const notJson = await script("text.sh", "echo hello");
    await assert.rejects(
      () => new ExecCredentials({ apiVersion: v1, command: notJson }).get(),
      /it is not JSON/,
    );
    const wrongVersion = await script(
      "v.sh",
      `echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'`,
    );
    await assert.rejects(
      () => new ExecCredentials({ apiVersion: v1, command: wrongVersion }).get(),
      /apiVersion is "client.authentication.k8s.io\/v1beta1", want "client.authentication.k8s.io\/v1"/,
    );
    const empty = await script(
      "e.sh",
      `echo '{"apiVersion":"${v1}","kind":"ExecCredential","status":{}}'`,
    );
    await assert.rejects(
      () => new ExecCredentials({ apiVersion: v1, command: empty }).get(),
      /neither a token nor a client certificate/,
    );
    await assert.rejects(
      () =>
        new ExecCredentials({
          apiVersion: v1,
          command: `${dir}/absent-plugin`,
          installHint: "install it with apt",
        }).get(),
      /Cannot run exec credential plugin ".*absent-plugin": .*; install it with apt/,
    );
    assert.throws(
      () =>
        new ExecCredentials({ apiVersion: "client.authentication.k8s.io/v1alpha1", command: "x" }),
      /apiVersion "client.authentication.k8s.io\/v1alpha1" is not one of/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
