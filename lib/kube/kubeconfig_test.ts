import assert from "node:assert/strict";
import { ExecCredentials } from "./exec_credentials.ts";
import {
  clusterConfigFromKubeconfig,
  configFromKubeconfigText,
  mergeKubeconfigs,
  parseKubeconfig,
} from "./kubeconfig.ts";
import { loadKubeConfig } from "./load_config.ts";
import { TokenFileCredentials } from "./token_file_credentials.ts";

const b64 = (s: string) => btoa(s);

const BASE = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    certificate-authority-data: ${b64("CA-PEM")}
- name: prod-cluster
  cluster:
    server: https://prod.example:6443
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    token: dev-token
- name: basic-user
  user:
    username: admin
    password: s3cret
contexts:
- name: dev
  context: { cluster: dev-cluster, user: dev-user, namespace: team-a }
- name: prod
  context: { cluster: prod-cluster, user: basic-user }
`;

Deno.test("configFromKubeconfigText uses the current context", async () => {
  const c = configFromKubeconfigText(BASE);
  assert.equal(c.server, "https://dev.example:6443");
  assert.equal(c.namespace, "team-a");
  assert.equal(c.caData, "CA-PEM");
  assert.equal(c.insecureSkipTlsVerify, undefined);
  assert.deepEqual(await c.credentials!.get(), { token: "dev-token" });
  assert.match(c.source, /context "dev"/);
});

Deno.test("configFromKubeconfigText uses a named context with basic auth", async () => {
  const c = configFromKubeconfigText(BASE, { context: "prod" });
  assert.equal(c.server, "https://prod.example:6443");
  assert.equal(c.namespace, "default");
  assert.equal(c.insecureSkipTlsVerify, true);
  assert.deepEqual(await c.credentials!.get(), {
    basic: { username: "admin", password: "s3cret" },
  });
});

Deno.test("configFromKubeconfigText reports missing pieces clearly", () => {
  assert.throws(
    () => configFromKubeconfigText(BASE, { context: "nope" }),
    /Cannot use context "nope": it is not in kubeconfig/,
  );
  assert.throws(
    () => configFromKubeconfigText("clusters: []\n"),
    /no current-context is set/,
  );
  assert.throws(
    () =>
      configFromKubeconfigText(
        "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n",
      ),
    /cluster "c" is not in kubeconfig/,
  );
  assert.throws(() => configFromKubeconfigText("a: [\n"), /Cannot parse kubeconfig/);
  assert.throws(
    () =>
      configFromKubeconfigText(`
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {token: t, username: a, password: b}}]
`),
    /both basic auth and a bearer token/,
  );
  assert.throws(
    () =>
      configFromKubeconfigText(`
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {auth-provider: {name: gcp}}}]
`),
    /auth-provider "gcp" is not supported/,
  );
});

Deno.test("certificate data and certificate files give the same config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/pki`);
    await Deno.writeTextFile(`${dir}/pki/ca.crt`, "CA\n");
    await Deno.writeTextFile(`${dir}/pki/client.crt`, "CERT\n");
    await Deno.writeTextFile(`${dir}/pki/client.key`, "KEY\n");
    const withFiles = configFromKubeconfigText(
      `
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h", certificate-authority: pki/ca.crt}}]
users: [{name: u, user: {client-certificate: pki/client.crt, client-key: ${dir}/pki/client.key}}]
`,
      { baseDir: dir },
    );
    const withData = configFromKubeconfigText(`
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h", certificate-authority-data: ${b64("CA\n")}}}]
users: [{name: u, user: {client-certificate-data: ${b64("CERT\n")}, client-key-data: ${
      b64("KEY\n")
    }}}]
`);
    for (const c of [withFiles, withData]) {
      assert.equal(c.caData, "CA\n");
      assert.equal(c.clientCertData, "CERT\n");
      assert.equal(c.clientKeyData, "KEY\n");
      assert.equal(c.credentials, undefined);
    }
    assert.throws(
      () =>
        configFromKubeconfigText(
          `
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {client-certificate: pki/client.crt}}]
`,
          { baseDir: dir },
        ),
      /needs both a certificate and a key/,
    );
    assert.throws(
      () =>
        configFromKubeconfigText(
          `
current-context: x
contexts: [{name: x, context: {cluster: c}}]
clusters: [{name: c, cluster: {server: "https://h", certificate-authority: missing.crt}}]
`,
          { baseDir: dir },
        ),
      /Cannot read certificate authority file ".*missing.crt"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokenFile and exec users get refreshing credential providers", () => {
  const c1 = configFromKubeconfigText(
    `
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {tokenFile: tok}}]
`,
    { baseDir: "/etc/x" },
  );
  assert.ok(c1.credentials instanceof TokenFileCredentials);
  const c2 = configFromKubeconfigText(`
current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}}}]
`);
  assert.ok(c2.credentials instanceof ExecCredentials);
});

Deno.test("parseKubeconfig resolves relative paths against the file's directory", () => {
  const kc = parseKubeconfig(
    `
clusters: [{name: c, cluster: {server: "https://h", certificate-authority: ca.crt}}]
users: [{name: u, user: {tokenFile: ./t, client-key: /abs/k, exec: {command: bin/plugin}}}]
`,
    "/home/me/.kube",
  );
  assert.equal(kc.clusters.get("c")?.["certificate-authority"], "/home/me/.kube/ca.crt");
  assert.equal(kc.users.get("u")?.tokenFile, "/home/me/.kube/./t");
  assert.equal(kc.users.get("u")?.["client-key"], "/abs/k");
  assert.equal(kc.users.get("u")?.exec?.command, "/home/me/.kube/bin/plugin");
});

Deno.test("mergeKubeconfigs lets the first file win per name and for current-context", () => {
  const a = parseKubeconfig(
    `
current-context: a
clusters: [{name: shared, cluster: {server: "https://from-a"}}]
contexts: [{name: a, context: {cluster: shared}}]
`,
    "/",
  );
  const b = parseKubeconfig(
    `
current-context: b
clusters:
- {name: shared, cluster: {server: "https://from-b"}}
- {name: only-b, cluster: {server: "https://only-b"}}
contexts: [{name: b, context: {cluster: only-b, namespace: nb}}]
`,
    "/",
  );
  const merged = mergeKubeconfigs([a, b]);
  assert.equal(merged.currentContext, "a");
  assert.equal(clusterConfigFromKubeconfig(merged).server, "https://from-a");
  const viaB = clusterConfigFromKubeconfig(merged, { context: "b" });
  assert.equal(viaB.server, "https://only-b");
  assert.equal(viaB.namespace, "nb");
});

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function kubeconfigFor(server: string, ctx = "x"): string {
  return `
current-context: ${ctx}
contexts: [{name: ${ctx}, context: {cluster: ${ctx}}}]
clusters: [{name: ${ctx}, cluster: {server: "${server}"}}]
`;
}

Deno.test("loadKubeConfig prefers --kubeconfig, then $KUBECONFIG, in-cluster, ~/.kube/config", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/flag`, kubeconfigFor("https://flag"));
    await Deno.writeTextFile(`${dir}/env1`, kubeconfigFor("https://env1", "e1"));
    await Deno.writeTextFile(`${dir}/env2`, kubeconfigFor("https://env2", "e2"));
    await Deno.mkdir(`${dir}/home/.kube`, { recursive: true });
    await Deno.writeTextFile(`${dir}/home/.kube/config`, kubeconfigFor("https://home"));
    const sa = `${dir}/sa`;
    await Deno.mkdir(sa);
    await Deno.writeTextFile(`${sa}/token`, "sa-token\n");
    await Deno.writeTextFile(`${sa}/namespace`, "ops\n");
    const envs: Record<string, string> = {
      KUBECONFIG: `${dir}/missing:${dir}/env1:${dir}/env2`,
      KUBERNETES_SERVICE_HOST: "10.0.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      HOME: `${dir}/home`,
    };
    const env = (n: string) => envs[n];
    const inCluster = { serviceAccountDir: sa };

    const fromFlag = await loadKubeConfig({ kubeconfig: `${dir}/flag`, env, inCluster });
    assert.equal(fromFlag.server, "https://flag");

    const fromEnv = await loadKubeConfig({ env, inCluster });
    assert.equal(fromEnv.server, "https://env1", "first file's current-context wins");
    const fromEnvCtx = await loadKubeConfig({ env, inCluster, context: "e2" });
    assert.equal(fromEnvCtx.server, "https://env2", "contexts of later files are merged in");

    delete envs.KUBECONFIG;
    const fromCluster = await loadKubeConfig({ env, inCluster });
    assert.equal(fromCluster.server, "https://10.0.0.1:443");
    assert.equal(fromCluster.namespace, "ops");
    assert.deepEqual(await fromCluster.credentials!.get(), { token: "sa-token" });

    delete envs.KUBERNETES_SERVICE_HOST;
    const fromHome = await loadKubeConfig({ env, inCluster });
    assert.equal(fromHome.server, "https://home");

    envs.HOME = `${dir}/nowhere`;
    await assert.rejects(
      () => loadKubeConfig({ env, inCluster }),
      /Cannot find a Kubernetes config/,
    );
    await assert.rejects(
      () => loadKubeConfig({ kubeconfig: `${dir}/absent`, env }),
      /Cannot read kubeconfig ".*absent"/,
    );
  });
});
