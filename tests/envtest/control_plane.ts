/**
 * A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager started on
 * loopback from binaries found by the envtest convention, with generated certificates, RBAC authorization,
 * an admin identity and per-test identities (static tokens, client certificates, or real ServiceAccount
 * tokens from the TokenRequest API).
 *
 * Binaries are looked up in this order, per binary:
 *   TEST_ASSET_KUBE_APISERVER, TEST_ASSET_ETCD, TEST_ASSET_KUBECTL, TEST_ASSET_KUBE_CONTROLLER_MANAGER;
 *   then $KUBEBUILDER_ASSETS/<binary>;
 *   then the newest $DROP_ASSETS_DIR/k8s/<version>-linux-amd64/ (default $HOME/.cache/drop/assets), which is
 *   where .ci/build_control_plane.sh puts them.
 *
 * Usage:
 *   const found = findControlPlaneAssets();
 *   if ("skip" in found) { ...skip with found.skip... }
 *   await withControlPlane({ assets: found }, async (cp) => { await cp.kubectl(["get", "ns"]); });
 *
 * @module
 */

/** Paths of the control-plane binaries. */
export interface ControlPlaneAssets {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
  kubeControllerManager: string;
  /** Where the binaries were found, for messages. */
  source: string;
}

/** A reason, one line, why the control plane cannot run here. */
export interface ControlPlaneSkip {
  skip: string;
}

/** Who a test acts as: a user name and its groups, as the API server's authenticators report them. */
export interface IdentitySpec {
  name: string;
  groups?: string[];
  uid?: string;
}

/** An identity the API server accepts, with a kubeconfig file that authenticates as it. */
export interface Identity extends IdentitySpec {
  groups: string[];
  /** Path of a kubeconfig for this identity (one context, current). */
  kubeconfig: string;
  /** Bearer token (static token identities and ServiceAccount tokens). */
  token?: string;
  /** PEM client certificate and key (client-certificate identities). */
  clientCertificate?: string;
  clientKey?: string;
}

export interface StartControlPlaneOptions {
  /** Binaries; found with {@linkcode findControlPlaneAssets} when absent (throws if missing). */
  assets?: ControlPlaneAssets;
  /** Identities authenticated by static bearer tokens (the token file is read once, at start). */
  identities?: IdentitySpec[];
  /**
   * Controllers kube-controller-manager runs; `false` starts no controller manager. Default
   * {@linkcode DEFAULT_CONTROLLERS}.
   */
  controllers?: string[] | false;
  /**
   * CustomResourceDefinition manifests (file paths) applied and awaited Established before the
   * controller manager starts, so the garbage collector watches their kinds from the beginning.
   */
  crds?: string[];
  /** Extra kube-apiserver flags, appended (later flags win). */
  apiServerArgs?: string[];
  /** Extra kube-controller-manager flags, appended. */
  controllerManagerArgs?: string[];
  /** Total time allowed for startup. Default 120 s. */
  startTimeoutMs?: number;
  /** Keep the temporary directory after stop (also with DROP_ENVTEST_KEEP=1). */
  keepDir?: boolean;
}

/** Controllers that make garbage collection, namespace deletion and ServiceAccounts work. */
export const DEFAULT_CONTROLLERS: readonly string[] = [
  "garbage-collector-controller",
  "namespace-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "root-ca-certificate-publisher-controller",
];

/** The user and groups the API server gives a ServiceAccount's tokens. */
export function serviceAccountIdentity(namespace: string, name: string): IdentitySpec {
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`],
  };
}

export interface KubectlOptions {
  /** Identity name to act as (default admin). */
  as?: string;
  /** Kubeconfig path; overrides `as`. */
  kubeconfig?: string;
  /** Text written to kubectl's standard input. */
  input?: string;
  /** Return a failed result instead of throwing. */
  allowFailure?: boolean;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** PEM of the CA that signed the serving and client certificates. */
  readonly caPem: string;
  /** Path of that CA certificate. */
  readonly caFile: string;
  /** Temporary directory holding certificates, kubeconfigs, etcd data and logs. */
  readonly dir: string;
  /** The admin identity (group system:masters, static token). */
  readonly admin: Identity;
  readonly assets: ControlPlaneAssets;
  /** etcd client URL (http, loopback). */
  readonly etcdUrl: string;
  /** Milliseconds from start to ready, per phase. */
  readonly timings: Readonly<Record<string, number>>;
  /** A known identity by name (admin, static-token identities, and those added since). */
  identity(name: string): Identity;
  /** Adds an identity authenticated by a client certificate signed by the cluster CA. */
  addIdentity(spec: IdentitySpec): Promise<Identity>;
  /**
   * An identity for a ServiceAccount from the TokenRequest API (the ServiceAccount must exist). Its token
   * is a real signed ServiceAccount token, so it authenticates exactly as in a cluster. It becomes known by
   * name (for `as`) unless an identity of that name exists already, e.g. a static token for the same user.
   */
  serviceAccountToken(
    namespace: string,
    name: string,
    opts?: { expirationSeconds?: number },
  ): Promise<Identity>;
  /** Runs kubectl against this control plane; throws on failure unless allowFailure. */
  kubectl(args: string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** fetch() against the API server as an identity (default admin); the caller consumes the body. */
  fetch(path: string, init?: RequestInit, as?: string): Promise<Response>;
  /** The last lines of each process's log, labelled. */
  logs(lines?: number): Promise<string>;
  /** Throws if a control-plane process has exited. */
  assertRunning(): void;
  /** Stops every process (process groups) and removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const BINARIES = {
  kubeApiserver: ["kube-apiserver", "TEST_ASSET_KUBE_APISERVER"],
  etcd: ["etcd", "TEST_ASSET_ETCD"],
  kubectl: ["kubectl", "TEST_ASSET_KUBECTL"],
  kubeControllerManager: ["kube-controller-manager", "TEST_ASSET_KUBE_CONTROLLER_MANAGER"],
} as const;

const BUILD_HINT = "run .ci/build_control_plane.sh";

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o755) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function versionKey(dirName: string): number[] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(dirName);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [-1, -1, -1];
}

function compareVersionsDesc(a: string, b: string): number {
  const ka = versionKey(a), kb = versionKey(b);
  for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return kb[i] - ka[i];
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The default asset directory: the newest complete <version>-linux-amd64 under the build cache. */
function defaultAssetsDir(env: (name: string) => string | undefined): string | undefined {
  const root = env("DROP_ASSETS_DIR") ??
    (env("HOME") ? `${env("HOME")}/.cache/drop/assets` : undefined);
  if (!root) return undefined;
  let names: string[];
  try {
    names = [...Deno.readDirSync(`${root}/k8s`)].filter((e) => e.isDirectory).map((e) => e.name);
  } catch {
    return undefined;
  }
  names.sort(compareVersionsDesc);
  for (const n of names) {
    const dir = `${root}/k8s/${n}`;
    if (Object.values(BINARIES).every(([bin]) => isExecutable(`${dir}/${bin}`))) return dir;
  }
  return undefined;
}

/**
 * Finds the control-plane binaries by the envtest convention, or says in one line why they cannot be
 * used. Needs read access to the environment and the file system; without it, returns a skip.
 */
export function findControlPlaneAssets(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): ControlPlaneAssets | ControlPlaneSkip {
  try {
    const kubebuilder = env("KUBEBUILDER_ASSETS");
    const fallback = kubebuilder ? undefined : defaultAssetsDir(env);
    const dir = kubebuilder ?? fallback;
    const found: Record<string, string> = {};
    const sources = new Set<string>();
    for (const [key, [bin, envName]] of Object.entries(BINARIES)) {
      const explicit = env(envName);
      if (explicit) {
        if (!isExecutable(explicit)) {
          return { skip: `${envName}=${explicit} is not an executable file` };
        }
        found[key] = explicit;
        sources.add(envName);
        continue;
      }
      if (!dir) {
        return {
          skip: `no ${bin}: KUBEBUILDER_ASSETS and ${envName} are unset and the build cache ` +
            `has none (${BUILD_HINT})`,
        };
      }
      const path = `${dir}/${bin}`;
      if (!isExecutable(path)) {
        return {
          skip: `no ${bin} in ${kubebuilder ? "KUBEBUILDER_ASSETS=" : ""}${dir} (${BUILD_HINT})`,
        };
      }
      found[key] = path;
      sources.add(dir);
    }
    return {
      kubeApiserver: found.kubeApiserver,
      etcd: found.etcd,
      kubectl: found.kubectl,
      kubeControllerManager: found.kubeControllerManager,
      source: [...sources].join(", "),
    };
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return { skip: `cannot look for control-plane binaries: ${(err as Error).message}` };
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Internals

const decoder = new TextDecoder();

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function b64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (const x of bytes) s += String.fromCharCode(x);
  return btoa(s);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command to completion, feeding `input` on stdin, and collects its output. */
export async function run(cmd: string, args: string[], input?: string): Promise<KubectlResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function openssl(args: string[]): Promise<void> {
  const r = await run("openssl", args);
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.trim()}`);
}

/** Reserves distinct free loopback ports (held together so they differ, then released). */
function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return ports;
}

function subject(name: string, groups: string[]): string {
  const esc = (s: string) => s.replace(/[/\\]/g, (c) => `\\${c}`);
  return `/CN=${esc(name)}` + groups.map((g) => `/O=${esc(g)}`).join("");
}

async function writeOpensslConfig(path: string, extensions: string[]): Promise<void> {
  await Deno.writeTextFile(
    path,
    [
      "[req]",
      "distinguished_name = dn",
      "prompt = no",
      "[dn]",
      "[ext]",
      ...extensions,
      "",
    ].join("\n"),
  );
}

/** A P-256 key and a certificate signed by the CA (or self-signed when ca is undefined). */
async function issueCertificate(
  dir: string,
  base: string,
  subj: string,
  extensions: string[],
  ca?: { cert: string; key: string },
): Promise<{ cert: string; key: string }> {
  const key = `${dir}/${base}.key`;
  const cert = `${dir}/${base}.crt`;
  const cnf = `${dir}/${base}.cnf`;
  await writeOpensslConfig(cnf, extensions);
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-noenc",
    "-keyout",
    key,
    "-out",
    cert,
    "-subj",
    subj,
    "-config",
    cnf,
    "-extensions",
    "ext",
    "-days",
    "3650",
    "-set_serial",
    `0x${randomHex(16)}`,
    ...(ca ? ["-CA", ca.cert, "-CAkey", ca.key] : []),
  ]);
  return { cert, key };
}

function kubeconfigJson(server: string, caPem: string, user: string, auth: object): string {
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{
        name: "drop-envtest",
        cluster: { server, "certificate-authority-data": b64(caPem) },
      }],
      users: [{ name: user, user: auth }],
      contexts: [{ name: user, context: { cluster: "drop-envtest", user } }],
      "current-context": user,
    },
    null,
    2,
  ) + "\n";
}

interface Proc {
  name: string;
  child: Deno.ChildProcess;
  log: string;
  exited?: Deno.CommandStatus;
  done: Promise<Deno.CommandStatus>;
}

function spawnLogged(name: string, bin: string, args: string[], log: string): Proc {
  // sh redirects the process's output to its log file, then execs it; detached gives it its own
  // session and process group, so stop() can signal the whole group.
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$0" "$@" >"$DROP_ENVTEST_LOG" 2>&1 </dev/null', bin, ...args],
    env: { DROP_ENVTEST_LOG: log },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  const proc: Proc = { name, child, log, done: child.status };
  proc.done = child.status.then((s) => (proc.exited = s));
  return proc;
}

async function tail(path: string, lines: number): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    const all = text.split("\n");
    return all.slice(Math.max(0, all.length - lines - 1)).join("\n");
  } catch {
    return "(no log)";
  }
}

async function stopProc(p: Proc, graceMs: number): Promise<void> {
  if (p.exited) return;
  const signal = (sig: Deno.Signal) => {
    try {
      Deno.kill(-p.child.pid, sig);
    } catch {
      // the group is already gone
    }
  };
  signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = await Promise.race([
    p.done.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (killed) signal("SIGKILL");
  await p.done;
  signal("SIGKILL"); // anything the process left behind in its group
}

class StartupError extends Error {}

/**
 * Starts etcd, kube-apiserver and (unless `controllers: false`) kube-controller-manager and waits until
 * the API is ready, the default namespace exists and the controller manager has created the default
 * ServiceAccount. On failure, prints every process's log tail, stops everything and throws.
 */
export async function startControlPlane(
  opts: StartControlPlaneOptions = {},
): Promise<ControlPlane> {
  let assets = opts.assets;
  if (!assets) {
    const found = findControlPlaneAssets();
    if ("skip" in found) throw new Error(`control plane unavailable: ${found.skip}`);
    assets = found;
  }
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  let lastError: unknown;
  // A port reserved then released can be taken by another process before ours binds it; retry then.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(assets, opts, timeoutMs);
    } catch (err) {
      lastError = err;
      if (!(err instanceof StartupError && /address already in use/i.test(err.message))) throw err;
    }
  }
  throw lastError;
}

async function startOnce(
  assets: ControlPlaneAssets,
  opts: StartControlPlaneOptions,
  timeoutMs: number,
): Promise<ControlPlane> {
  const t0 = performance.now();
  const deadline = Date.now() + timeoutMs;
  const timings: Record<string, number> = {};
  const dir = await Deno.makeTempDir({ prefix: "drop-envtest-" });
  const pki = `${dir}/pki`;
  await Deno.mkdir(pki);
  const procs: Proc[] = [];
  const httpClients = new Map<string, Deno.HttpClient>();
  let watchdog: Proc | undefined;
  let stopped = false;
  const keepDir = opts.keepDir || Deno.env.get("DROP_ENVTEST_KEEP") === "1";

  const onUnload = () => {
    // The test process is exiting without stop(): kill synchronously, nothing async runs now.
    for (const p of [...procs, ...(watchdog ? [watchdog] : [])]) {
      try {
        Deno.kill(-p.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  globalThis.addEventListener("unload", onUnload);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    globalThis.removeEventListener("unload", onUnload);
    for (const c of httpClients.values()) c.close();
    httpClients.clear();
    if (watchdog) await stopProc(watchdog, 0);
    for (const p of [...procs].reverse()) await stopProc(p, 10_000);
    if (!keepDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  const logs = async (lines = 40) => {
    const parts = [];
    for (const p of procs) {
      const state = p.exited ? `exited with ${p.exited.code}` : "running";
      parts.push(`----- ${p.name} (${state}), ${p.log}\n${await tail(p.log, lines)}`);
    }
    return parts.join("\n");
  };

  const assertRunning = () => {
    for (const p of procs) {
      if (p.exited) throw new StartupError(`${p.name} exited with code ${p.exited.code}`);
    }
  };

  try {
    // The watchdog kills the process groups listed in $dir/pgids and removes $dir when the test
    // process dies without calling stop() (killed, crashed).
    watchdog = spawnLogged("watchdog", "sh", [
      "-c",
      'while kill -0 "$1" 2>/dev/null; do sleep 1; done; ' +
      'for g in $(cat "$2/pgids" 2>/dev/null); do kill -KILL "-$g" 2>/dev/null; done; ' +
      '[ "$3" = 1 ] || rm -rf "$2"',
      "watchdog",
      String(Deno.pid),
      dir,
      keepDir ? "1" : "0",
    ], "/dev/null");
    const track = async (p: Proc) => {
      procs.push(p);
      await Deno.writeTextFile(`${dir}/pgids`, `${p.child.pid}\n`, { append: true });
    };

    // Certificates and keys: one CA signs the serving certificate and the client certificates.
    const tPki = performance.now();
    const ca = await issueCertificate(pki, "ca", "/CN=drop-envtest-ca", [
      "basicConstraints = critical,CA:TRUE",
      "keyUsage = critical,keyCertSign,cRLSign,digitalSignature",
      "subjectKeyIdentifier = hash",
    ]);
    const [, saKey] = await Promise.all([
      issueCertificate(pki, "apiserver", "/CN=kube-apiserver", [
        "basicConstraints = critical,CA:FALSE",
        "keyUsage = critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage = serverAuth",
        "subjectAltName = IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes," +
        "DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
      ], ca),
      (async () => {
        const key = `${pki}/sa.key`;
        await openssl([
          "genpkey",
          "-algorithm",
          "EC",
          "-pkeyopt",
          "ec_paramgen_curve:P-256",
          "-out",
          key,
        ]);
        await openssl(["pkey", "-in", key, "-pubout", "-out", `${pki}/sa.pub`]);
        return key;
      })(),
    ]);
    const caPem = await Deno.readTextFile(ca.cert);
    timings.pki = performance.now() - tPki;

    const [etcdClientPort, etcdPeerPort, apiPort] = freePorts(3);
    const server = `https://127.0.0.1:${apiPort}`;
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;

    // Static tokens: admin, the controller manager, and the requested identities.
    const identities = new Map<string, Identity>();
    const tokenLines: string[] = [];
    const addTokenIdentity = async (spec: IdentitySpec) => {
      if (identities.has(spec.name)) throw new Error(`identity ${spec.name} given twice`);
      const token = randomHex(24);
      const groups = spec.groups ?? [];
      const uid = spec.uid ?? spec.name;
      for (const v of [spec.name, uid, ...groups]) {
        if (/[",\n]/.test(v)) {
          throw new Error(`identity field ${JSON.stringify(v)} has , " or newline`);
        }
      }
      tokenLines.push(`${token},${spec.name},${uid},"${groups.join(",")}"`);
      const kubeconfig = `${dir}/kubeconfig-${identities.size}.json`;
      await Deno.writeTextFile(kubeconfig, kubeconfigJson(server, caPem, spec.name, { token }));
      const id: Identity = { name: spec.name, uid, groups, token, kubeconfig };
      identities.set(spec.name, id);
      return id;
    };
    const admin = await addTokenIdentity({ name: "admin", groups: ["system:masters"] });
    await Deno.copyFile(admin.kubeconfig, `${dir}/admin.kubeconfig`);
    admin.kubeconfig = `${dir}/admin.kubeconfig`;
    const kcmIdentity = await addTokenIdentity({
      name: "system:kube-controller-manager",
      groups: ["system:masters"],
    });
    for (const spec of opts.identities ?? []) await addTokenIdentity(spec);
    await Deno.writeTextFile(`${pki}/tokens.csv`, tokenLines.join("\n") + "\n");

    const client = (as: string): Deno.HttpClient => {
      const id = identities.get(as);
      if (!id) throw new Error(`unknown identity ${as}`);
      let c = httpClients.get(as);
      if (!c) {
        c = id.clientCertificate && id.clientKey
          ? Deno.createHttpClient({
            caCerts: [caPem],
            cert: id.clientCertificate,
            key: id.clientKey,
          })
          : Deno.createHttpClient({ caCerts: [caPem] });
        httpClients.set(as, c);
      }
      return c;
    };
    const apiFetch = (path: string, init: RequestInit = {}, as = "admin") => {
      const id = identities.get(as);
      if (!id) throw new Error(`unknown identity ${as}`);
      const headers = new Headers(init.headers);
      if (id.token) headers.set("authorization", `Bearer ${id.token}`);
      return fetch(`${server}${path}`, { ...init, headers, client: client(as) });
    };

    const waitFor = async (what: string, check: () => Promise<boolean>) => {
      while (true) {
        assertRunning();
        let ok = false;
        try {
          ok = await check();
        } catch {
          ok = false;
        }
        if (ok) return;
        if (Date.now() > deadline) throw new StartupError(`timed out waiting for ${what}`);
        await sleep(100);
      }
    };

    // etcd
    const tEtcd = performance.now();
    const peer = `http://127.0.0.1:${etcdPeerPort}`;
    await track(spawnLogged("etcd", assets.etcd, [
      "--name=drop-envtest",
      `--data-dir=${dir}/etcd`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=drop-envtest=${peer}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ], `${dir}/etcd.log`));
    await waitFor("etcd health", async () => {
      const r = await fetch(`${etcdUrl}/health`);
      const body = await r.text();
      return r.ok && body.includes('"true"');
    });
    timings.etcd = performance.now() - tEtcd;

    // kube-apiserver
    const tApi = performance.now();
    await track(spawnLogged("kube-apiserver", assets.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${dir}/apiserver-certs`,
      `--tls-cert-file=${pki}/apiserver.crt`,
      `--tls-private-key-file=${pki}/apiserver.key`,
      `--client-ca-file=${ca.cert}`,
      `--token-auth-file=${pki}/tokens.csv`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki}/sa.pub`,
      `--service-account-signing-key-file=${saKey}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      // No token volumes are projected into pods: the simulated kubelets run nothing.
      "--disable-admission-plugins=ServiceAccount",
      "--allow-privileged=true",
      "--profiling=false",
      "--endpoint-reconciler-type=none",
      ...(opts.apiServerArgs ?? []),
    ], `${dir}/kube-apiserver.log`));
    await waitFor("kube-apiserver /readyz", async () => {
      const r = await apiFetch("/readyz");
      await r.body?.cancel();
      return r.status === 200;
    });
    await waitFor("the default namespace", async () => {
      const r = await apiFetch("/api/v1/namespaces/default");
      await r.body?.cancel();
      return r.status === 200;
    });
    timings.apiserver = performance.now() - tApi;

    const kubectl = async (args: string[], o: KubectlOptions = {}): Promise<KubectlResult> => {
      const as = o.as ?? "admin";
      const kubeconfig = o.kubeconfig ?? identities.get(as)?.kubeconfig;
      if (!kubeconfig) throw new Error(`unknown identity ${as}`);
      const r = await run(assets.kubectl, [`--kubeconfig=${kubeconfig}`, ...args], o.input);
      if (r.code !== 0 && !o.allowFailure) {
        throw new Error(
          `kubectl ${args.join(" ")} (as ${as}) exited ${r.code}: ${r.stderr.trim()}`,
        );
      }
      return r;
    };

    if (opts.crds?.length) {
      const tCrds = performance.now();
      for (const f of opts.crds) await kubectl(["apply", "--server-side", "-f", f]);
      await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);
      timings.crds = performance.now() - tCrds;
    }

    // kube-controller-manager
    const controllers = opts.controllers === undefined ? DEFAULT_CONTROLLERS : opts.controllers;
    if (controllers !== false) {
      const tKcm = performance.now();
      await track(spawnLogged("kube-controller-manager", assets.kubeControllerManager, [
        `--kubeconfig=${kcmIdentity.kubeconfig}`,
        `--controllers=${controllers.join(",")}`,
        "--leader-elect=false",
        "--use-service-account-credentials=false",
        "--secure-port=0",
        `--cert-dir=${dir}/kcm-certs`,
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${ca.cert}`,
        "--profiling=false",
        ...(opts.controllerManagerArgs ?? []),
      ], `${dir}/kube-controller-manager.log`));
      if (controllers.includes("serviceaccount-controller")) {
        await waitFor("the default ServiceAccount (controller manager)", async () => {
          const r = await apiFetch("/api/v1/namespaces/default/serviceaccounts/default");
          await r.body?.cancel();
          return r.status === 200;
        });
      }
      timings.controllerManager = performance.now() - tKcm;
    }
    timings.total = performance.now() - t0;

    const addIdentity = async (spec: IdentitySpec): Promise<Identity> => {
      if (identities.has(spec.name)) throw new Error(`identity ${spec.name} exists`);
      const n = identities.size;
      const groups = spec.groups ?? [];
      const { cert, key } = await issueCertificate(dir, `client-${n}`, subject(spec.name, groups), [
        "basicConstraints = critical,CA:FALSE",
        "keyUsage = critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage = clientAuth",
      ], ca);
      const clientCertificate = await Deno.readTextFile(cert);
      const clientKey = await Deno.readTextFile(key);
      const kubeconfig = `${dir}/kubeconfig-${n}.json`;
      await Deno.writeTextFile(
        kubeconfig,
        kubeconfigJson(server, caPem, spec.name, {
          "client-certificate-data": b64(clientCertificate),
          "client-key-data": b64(clientKey),
        }),
      );
      const id: Identity = { name: spec.name, groups, kubeconfig, clientCertificate, clientKey };
      identities.set(spec.name, id);
      return id;
    };

    const serviceAccountToken = async (
      namespace: string,
      name: string,
      o: { expirationSeconds?: number } = {},
    ): Promise<Identity> => {
      const r = await apiFetch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/` +
          `${encodeURIComponent(name)}/token`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { expirationSeconds: o.expirationSeconds ?? 3600 },
          }),
        },
      );
      const body = await r.text();
      if (r.status !== 201 && r.status !== 200) {
        throw new Error(`TokenRequest for ${namespace}/${name}: HTTP ${r.status}: ${body}`);
      }
      const token = JSON.parse(body).status.token as string;
      const spec = serviceAccountIdentity(namespace, name);
      const kubeconfig = `${dir}/kubeconfig-${identities.size}.json`;
      await Deno.writeTextFile(kubeconfig, kubeconfigJson(server, caPem, spec.name, { token }));
      const id: Identity = { ...spec, groups: spec.groups ?? [], token, kubeconfig };
      if (!identities.has(spec.name)) identities.set(spec.name, id);
      return id;
    };

    const cp: ControlPlane = {
      server,
      caPem,
      caFile: ca.cert,
      dir,
      admin,
      assets,
      etcdUrl,
      timings,
      identity(name: string): Identity {
        const id = identities.get(name);
        if (!id) throw new Error(`unknown identity ${name}`);
        return id;
      },
      addIdentity,
      serviceAccountToken,
      kubectl,
      fetch: apiFetch,
      logs,
      assertRunning,
      stop,
      [Symbol.asyncDispose]: stop,
    };
    return cp;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const detail = await logs();
    await stop();
    if (err instanceof StartupError) {
      throw new StartupError(`control plane failed to start: ${message}\n${detail}`);
    }
    console.error(`control plane failed to start: ${message}\n${detail}`);
    throw err;
  }
}

/**
 * Polls `check` every 200 ms until it returns a value other than undefined, and returns that value; throws
 * after `timeoutMs` (default 60 s) naming `what`. Errors thrown by `check` propagate at once.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(200);
  }
}

/**
 * Starts a control plane, runs `fn` with it, prints the processes' logs if `fn` throws, and always stops
 * the control plane.
 */
export async function withControlPlane<T>(
  opts: StartControlPlaneOptions,
  fn: (cp: ControlPlane) => Promise<T>,
): Promise<T> {
  const cp = await startControlPlane(opts);
  try {
    return await fn(cp);
  } catch (err) {
    console.error(`control-plane logs (${cp.dir}):\n${await cp.logs()}`);
    throw err;
  } finally {
    await cp.stop();
  }
}
