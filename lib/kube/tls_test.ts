import assert from "node:assert/strict";
import { KubeClient } from "./client.ts";
import type { ClusterConfig } from "./cluster_config.ts";
import { ExecCredentials } from "./exec_credentials.ts";
import { configFromKubeconfigText } from "./kubeconfig.ts";
import { NODES } from "./resources.ts";
import { json, makePki, serve, type TestPki } from "./_test_helpers.ts";

const pki: Promise<TestPki> = makePki();

// The PKI directory outlives the tests of this file; remove it after the last one.
Deno.test({
  name: "TLS: a server certificate is verified against the configured CA",
  async fn() {
    const p = await pki;
    const server = serve(() => json({ metadata: { name: "n" } }), {
      cert: p.serverCertPem,
      key: p.serverKeyPem,
    });
    const trusted = new KubeClient({
      server: server.url,
      namespace: "default",
      caData: p.caPem,
      source: "test",
    });
    const untrusted = new KubeClient({ server: server.url, namespace: "default", source: "test" });
    try {
      assert.equal((await trusted.resource(NODES).get("n")).metadata?.name, "n");
      await assert.rejects(
        () => untrusted.resource(NODES).get("n"),
        /Cannot GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes\/n: /,
      );
    } finally {
      trusted.close();
      untrusted.close();
      await server.close();
    }
  },
});

/** openssl s_server in -HTTP mode that demands a client certificate signed by the test CA. */
async function startMtlsServer(p: TestPki) {
  const www = await Deno.makeTempDir({ prefix: "kube-mtls-" });
  await Deno.mkdir(`${www}/api/v1/nodes`, { recursive: true });
  const body = JSON.stringify({ kind: "Node", apiVersion: "v1", metadata: { name: "n" } });
  // s_server -HTTP sends files verbatim, so the file is a whole HTTP response.
  await Deno.writeTextFile(
    `${www}/api/v1/nodes/n`,
    `HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
  );
  const child = new Deno.Command("openssl", {
    args: [
      "s_server",
      "-HTTP",
      "-accept",
      "127.0.0.1:0",
      "-cert",
      `${p.dir}/server.crt`,
      "-key",
      `${p.dir}/server.key`,
      "-CAfile",
      `${p.dir}/ca.crt`,
      "-Verify",
      "1",
    ],
    cwd: www,
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let port = 0;
  while (!port) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot start openssl s_server: ${out}`);
    out += value;
    const m = out.match(/ACCEPT 127\.0\.0\.1:(\d+)/);
    if (m) port = Number(m[1]);
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    url: `https://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drain;
      await Deno.remove(www, { recursive: true });
    },
  };
}

Deno.test("TLS: client certificates from kubeconfig files authenticate to an mTLS server", async () => {
  const p = await pki;
  const server = await startMtlsServer(p);
  const kubeconfig = (user: string) => `
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "${server.url}", certificate-authority: ca.crt}}]
users: [{name: u, user: ${user}}]
`;
  const withCert = new KubeClient(configFromKubeconfigText(
    kubeconfig("{client-certificate: client.crt, client-key: client.key}"),
    { baseDir: p.dir },
  ));
  const withoutCert = new KubeClient(
    configFromKubeconfigText(kubeconfig("{}"), { baseDir: p.dir }),
  );
  try {
    assert.equal((await withCert.resource(NODES).get("n")).metadata?.name, "n");
    await assert.rejects(() => withoutCert.resource(NODES).get("n"), /Cannot GET https:/);
  } finally {
    withCert.close();
    withoutCert.close();
    await server.stop();
  }
});

Deno.test("TLS: client certificates returned by an exec plugin are used", async () => {
  const p = await pki;
  const server = await startMtlsServer(p);
  const plugin = `${p.dir}/cert-plugin.sh`;
  const status = JSON.stringify({
    clientCertificateData: p.clientCertPem,
    clientKeyData: p.clientKeyPem,
  });
  await Deno.writeTextFile(
    plugin,
    `#!/bin/sh\ncat <<'JSON'\n{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":${status}}\nJSON\n`,
  );
  await Deno.chmod(plugin, 0o755);
  const config: ClusterConfig = {
    server: server.url,
    namespace: "default",
    caData: p.caPem,
    credentials: new ExecCredentials({
      apiVersion: "client.authentication.k8s.io/v1",
      command: plugin,
    }),
    source: "test",
  };
  const client = new KubeClient(config);
  try {
    assert.equal((await client.resource(NODES).get("n")).metadata?.name, "n");
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("TLS: insecure-skip-tls-verify works under --unsafely-ignore-certificate-errors and says so otherwise", async () => {
  const p = await pki;
  const server = serve(() => json({ metadata: { name: "n" } }), {
    cert: p.serverCertPem,
    key: p.serverKeyPem,
  });
  const script = `${p.dir}/insecure.ts`;
  await Deno.writeTextFile(
    script,
    `import { KubeClient } from "${new URL("./mod.ts", import.meta.url).href}";
const c = new KubeClient({ server: Deno.args[0], namespace: "default", insecureSkipTlsVerify: true, source: "t" });
try {
  console.log((await c.resource({ group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false }).get("n")).metadata.name);
} catch (e) {
  console.log("ERR " + e.message);
} finally {
  c.close();
}
`,
  );
  const run = async (flags: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
        "--allow-net=127.0.0.1",
        ...flags,
        script,
        server.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout).trim() || new TextDecoder().decode(out.stderr);
  };
  try {
    assert.equal(await run(["--unsafely-ignore-certificate-errors=127.0.0.1"]), "n");
    assert.match(
      await run([]),
      /^ERR Cannot GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/nodes\/n: .*insecure-skip-tls-verify needs deno run --unsafely-ignore-certificate-errors=127\.0\.0\.1/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("TLS: clean up the test PKI", async () => {
  await Deno.remove((await pki).dir, { recursive: true });
});
