/**
 * The cluster an end-to-end test runs against, and what the scenarios do with it.
 *
 * Two targets:
 * - local (default): a real control plane (etcd, kube-apiserver, kube-controller-manager) started
 *   per test file by `tests/envtest/control_plane.ts`, with our CRDs installed before the
 *   controller manager starts, so its garbage collector watches them from the beginning;
 * - external: any cluster named by `DROP_E2E_KUBECONFIG` (kind, a dev cluster). Parts that need
 *   the simulated kubelets or the local control-plane processes (audit log) are skipped there.
 *
 * Every object a test creates carries the label `drop-e2e/run=<run id>` and a unique name, so an
 * external cluster is cleaned up by label afterwards, and test files on it take a lock (a
 * ConfigMap) so that their operators never reconcile each other's objects.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";
import {
  type ControlPlane,
  type ControlPlaneAssets,
  findControlPlaneAssets,
  type KubectlResult,
  run,
  startControlPlane,
  type StartControlPlaneOptions,
} from "../envtest/control_plane.ts";
import { type OperatorProcess, startOperatorProcess } from "../_operator_process.ts";
import { KubeClient, loadKubeConfig } from "../../lib/kube/mod.ts";

/** The repository root (a path ending in "/"). */
export const ROOT = new URL("../../", import.meta.url).pathname;
/** Namespace of the operator's pull Pods, Secrets and Lease, as in deploy/. */
export const OPERATOR_NAMESPACE = "drop-system";
/** The operator's ServiceAccount, as in deploy/. */
export const OPERATOR_ACCOUNT = "drop";
/** Label on everything a test creates, valued with the run id. */
export const RUN_LABEL = "drop-e2e/run";

/** The generated CRD files. */
export const CRD_FILES: string[] = [...Deno.readDirSync(`${ROOT}crds`)]
  .filter((e) => e.isFile && e.name.endsWith(".yaml"))
  .map((e) => `${ROOT}crds/${e.name}`)
  .sort();

/** Where the suite runs, or a one-line reason why it cannot. */
export type E2ETarget =
  | { mode: "local"; assets: ControlPlaneAssets }
  | { mode: "external"; kubeconfig: string; kubectl: string }
  | { skip: string };

/** Picks the target from the environment; `DROP_REQUIRE_CONTROL_PLANE=1` turns a skip into an error. */
export function e2eTarget(): E2ETarget {
  const external = Deno.env.get("DROP_E2E_KUBECONFIG");
  if (external) {
    const kubectl = kubectlBinary();
    if (!kubectl) {
      return {
        skip: "DROP_E2E_KUBECONFIG is set but no kubectl was found (TEST_ASSET_KUBECTL, PATH)",
      };
    }
    return { mode: "external", kubeconfig: external, kubectl };
  }
  const found = findControlPlaneAssets();
  if ("skip" in found) {
    if (Deno.env.get("DROP_REQUIRE_CONTROL_PLANE") === "1") {
      throw new Error(`DROP_REQUIRE_CONTROL_PLANE=1 but ${found.skip}`);
    }
    return found;
  }
  return { mode: "local", assets: found };
}

/** kubectl for an external cluster: the envtest one when built, else the one on PATH. */
function kubectlBinary(): string | undefined {
  const found = findControlPlaneAssets();
  if (!("skip" in found)) return found.kubectl;
  const explicit = Deno.env.get("TEST_ASSET_KUBECTL");
  if (explicit) return explicit;
  try {
    const out = new Deno.Command("kubectl", {
      args: ["version", "--client"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success ? "kubectl" : undefined;
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode kubectl} calls. */
export interface RunKubectlOptions {
  /** Kubeconfig to use (default: the admin's). */
  kubeconfig?: string;
  input?: string;
  /** Return a failed result instead of throwing. */
  allowFailure?: boolean;
}

/** A cluster for one test file. */
export interface E2ECluster {
  readonly mode: "local" | "external";
  /** The local control plane (local mode only). */
  readonly cp?: ControlPlane;
  /** Admin kubeconfig path. */
  readonly kubeconfig: string;
  /** Admin client (the project's own Kubernetes client). */
  readonly client: KubeClient;
  /** A temporary directory for kubeconfigs and manifests, removed afterwards. */
  readonly dir: string;
  /** Random id of this run; part of every name and the value of {@linkcode RUN_LABEL}. */
  readonly runId: string;
  /** A unique DNS-1123 name: `<prefix>-<run id>`. */
  name(prefix: string): string;
  /** `{ name, labels: { drop-e2e/run } }` for a new object's metadata. */
  meta(name: string, extra?: Record<string, unknown>): Record<string, unknown>;
  kubectl(args: string[], opts?: RunKubectlOptions): Promise<KubectlResult>;
  /** `kubectl get ... -o json`, parsed. */
  getJson<T = Record<string, unknown>>(args: string[]): Promise<T>;
  /** Applies objects (client-side `kubectl apply`, as users do). */
  apply(...objects: object[]): Promise<void>;
  /**
   * Applies the kustomize base of deploy/ without its Deployment and Service: Namespace,
   * ServiceAccount, RBAC and CRDs. Returns the kinds/names applied.
   */
  installOperatorRbac(): Promise<string[]>;
  /** A kubeconfig authenticating as the operator's ServiceAccount with a real TokenRequest token. */
  operatorKubeconfig(): Promise<string>;
  /** Starts the operator bundle as the ServiceAccount; it is stopped at the end of the test. */
  startOperator(extraArgs?: string[]): Promise<OperatorProcess>;
  /** Operators started so far (for logs). */
  readonly operators: OperatorProcess[];
  /** Runs `fn` at the end of the test, after the operators stopped (last deferred first). */
  defer(fn: () => Promise<void> | void): void;
  /**
   * The API server's audit events of the operator's ServiceAccount (local mode with
   * `audit: true`), each request once, at its final stage.
   */
  auditEvents(): Promise<AuditEvent[]>;
}

/** The fields of an audit.k8s.io/v1 Event the tests read. */
export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number; reason?: string; message?: string };
}

/** Options of {@linkcode withE2ECluster}. */
export interface E2EClusterOptions {
  /** Extra options of the local control plane. */
  controlPlane?: Omit<StartControlPlaneOptions, "assets" | "crds">;
  /**
   * Record the operator ServiceAccount's requests in the API server's audit log (local mode; an
   * external cluster's audit log is not ours to read).
   */
  audit?: boolean;
}

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs `fn` against the target's cluster: starts (local) or locks (external) it, installs the
 * CRDs, and always cleans up: operators stopped, objects deleted (external), control plane stopped
 * (local). When `fn` throws, the operators' and control plane's log tails are printed.
 */
export async function withE2ECluster<T>(
  target: Exclude<E2ETarget, { skip: string }>,
  opts: E2EClusterOptions,
  fn: (c: E2ECluster) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "drop-e2e-" });
  const runId = randomId();
  const operators: OperatorProcess[] = [];
  let cp: ControlPlane | undefined;
  let client: KubeClient | undefined;
  let unlock: (() => Promise<void>) | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  const deferred: (() => Promise<void> | void)[] = [];
  const auditLog = `${dir}/audit.log`;
  const operatorUser = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_ACCOUNT}`;
  try {
    let kubeconfig: string;
    let kubectlBin: string;
    if (target.mode === "local") {
      const apiServerArgs = [...(opts.controlPlane?.apiServerArgs ?? [])];
      if (opts.audit) {
        await Deno.writeTextFile(`${dir}/audit-policy.json`, auditPolicy(operatorUser));
        apiServerArgs.push(
          `--audit-policy-file=${dir}/audit-policy.json`,
          `--audit-log-path=${auditLog}`,
          "--audit-log-format=json",
          "--audit-log-mode=blocking",
        );
      }
      cp = await startControlPlane({
        ...opts.controlPlane,
        apiServerArgs,
        assets: target.assets,
        crds: CRD_FILES,
      });
      kubeconfig = cp.admin.kubeconfig;
      kubectlBin = target.assets.kubectl;
    } else {
      kubeconfig = target.kubeconfig;
      kubectlBin = target.kubectl;
    }
    const kubectl = async (args: string[], o: RunKubectlOptions = {}) => {
      const r = await run(
        kubectlBin,
        [`--kubeconfig=${o.kubeconfig ?? kubeconfig}`, ...args],
        o.input,
      );
      if (r.code !== 0 && !o.allowFailure) {
        throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
      }
      return r;
    };
    if (target.mode === "external") {
      unlock = await lockExternalCluster(kubectl, runId);
      await kubectl([
        "apply",
        "--server-side",
        "--force-conflicts",
        ...CRD_FILES.flatMap((f) => ["-f", f]),
      ]);
      await kubectl([
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd",
        "-l",
        "app.kubernetes.io/part-of=drop",
      ]);
      cleanup = () => cleanupExternal(kubectl, runId);
    }
    client = new KubeClient(await loadKubeConfig({ kubeconfig }), { userAgent: "drop-e2e" });
    let tokens = 0;
    const c: E2ECluster = {
      mode: target.mode,
      cp,
      kubeconfig,
      client,
      dir,
      runId,
      operators,
      name: (prefix) => `${prefix}-${runId}`,
      meta: (name, extra = {}) => {
        const labels = {
          ...(extra.labels as Record<string, string> | undefined),
          [RUN_LABEL]: runId,
        };
        return { ...extra, name, labels };
      },
      kubectl,
      async getJson<T>(args: string[]) {
        return JSON.parse((await kubectl(["get", ...args, "-o", "json"])).stdout) as T;
      },
      async apply(...objects: object[]) {
        const list = { apiVersion: "v1", kind: "List", items: objects };
        await kubectl(["apply", "-f", "-"], { input: JSON.stringify(list) });
      },
      async installOperatorRbac() {
        const rendered = await kubectl(["kustomize", `${ROOT}deploy/kustomize/base`]);
        const keep = new Set([
          "Namespace",
          "ServiceAccount",
          "ClusterRole",
          "ClusterRoleBinding",
          "Role",
          "RoleBinding",
          "CustomResourceDefinition",
        ]);
        const docs = parseAllDocuments(rendered.stdout).map((d) => d.toJS()).filter(Boolean);
        const chosen = docs.filter((d) => keep.has(d.kind));
        await kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], {
          input: JSON.stringify({ apiVersion: "v1", kind: "List", items: chosen }),
        });
        return chosen.map((d) => `${d.kind}/${d.metadata.name}`);
      },
      async operatorKubeconfig() {
        const token = (await kubectl([
          "create",
          "token",
          OPERATOR_ACCOUNT,
          "-n",
          OPERATOR_NAMESPACE,
          "--duration=2h",
        ])).stdout.trim();
        const view = JSON.parse(
          (await kubectl(["config", "view", "--minify", "--raw", "-o", "json"])).stdout,
        );
        const cluster = view.clusters[0].cluster;
        const user = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_ACCOUNT}`;
        const path = `${dir}/operator-${tokens++}.kubeconfig`;
        await Deno.writeTextFile(
          path,
          JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "e2e", cluster }],
            users: [{ name: user, user: { token } }],
            contexts: [{ name: "e2e", context: { cluster: "e2e", user } }],
            "current-context": "e2e",
          }),
        );
        return path;
      },
      defer(fn) {
        deferred.push(fn);
      },
      async auditEvents() {
        if (!opts.audit || target.mode !== "local") {
          throw new Error("Audit events need the local control plane and audit: true");
        }
        const text = await Deno.readTextFile(auditLog).catch(() => "");
        return text.split("\n").filter((l) => l.trim() !== "")
          .map((l) => JSON.parse(l) as AuditEvent)
          // Watches are logged when their response starts and again when they end.
          .filter((e) =>
            e.stage === "ResponseComplete" || e.stage === "Panic" ||
            (e.stage === "ResponseStarted" && e.verb === "watch")
          );
      },
      async startOperator(extraArgs = []) {
        const op = await startOperatorProcess(await c.operatorKubeconfig(), extraArgs);
        operators.push(op);
        return op;
      },
    };
    return await fn(c);
  } catch (err) {
    for (const [i, op] of operators.entries()) {
      console.error(`----- operator ${i} log tail\n${tailLines(op.logs(), 60)}`);
    }
    if (cp) console.error(`----- control plane (${cp.dir})\n${await cp.logs(30)}`);
    throw err;
  } finally {
    for (const op of operators) await stopOperator(op);
    for (const fn of deferred.reverse()) {
      try {
        await fn();
      } catch (e) {
        console.error(`deferred cleanup failed: ${e}`);
      }
    }
    client?.close();
    if (cleanup) await cleanup().catch((e) => console.error(`cleanup failed: ${e}`));
    if (unlock) await unlock().catch((e) => console.error(`unlock failed: ${e}`));
    await cp?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** An audit policy recording `user`'s requests (metadata only: never Secret contents). */
function auditPolicy(user: string): string {
  return JSON.stringify({
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived"],
    rules: [{ level: "Metadata", users: [user] }, { level: "None" }],
  });
}

/**
 * Stops an operator if it still runs: SIGTERM first, so that it releases its Lease, then SIGKILL
 * after 10 s. Waits for the exit.
 */
export async function stopOperator(op: OperatorProcess): Promise<void> {
  const signal = (sig: Deno.Signal) => {
    try {
      op.child.kill(sig);
    } catch {
      // already exited
    }
  };
  signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    op.status.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 10_000);
    }),
  ]);
  clearTimeout(timer);
  if (!exited) signal("SIGKILL");
  await op.status;
}

/** The last `n` lines of `text`. */
export function tailLines(text: string, n: number): string {
  const lines = text.trimEnd().split("\n");
  return lines.slice(Math.max(0, lines.length - n)).join("\n");
}

const LOCK = "drop-e2e-lock";
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 30 * 60_000;

/** Serialises test files on an external cluster through a ConfigMap in "default". */
async function lockExternalCluster(
  kubectl: (args: string[], o?: RunKubectlOptions) => Promise<KubectlResult>,
  runId: string,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  while (true) {
    const r = await kubectl(
      ["create", "configmap", LOCK, "-n", "default", `--from-literal=run=${runId}`],
      { allowFailure: true },
    );
    if (r.code === 0) break;
    if (!/AlreadyExists|already exists/.test(r.stderr)) {
      throw new Error(`Cannot take the e2e lock: ${r.stderr.trim()}`);
    }
    const held = await kubectl(
      ["get", "configmap", LOCK, "-n", "default", "-o", "jsonpath={.metadata.creationTimestamp}"],
      { allowFailure: true },
    );
    if (held.code === 0 && Date.now() - Date.parse(held.stdout) > STALE_LOCK_MS) {
      await kubectl(["delete", "configmap", LOCK, "-n", "default", "--ignore-not-found"]);
      continue;
    }
    if (Date.now() > deadline) throw new Error("Timed out waiting for the e2e lock");
    await new Promise((r) => setTimeout(r, 2000));
  }
  return async () => {
    await kubectl(["delete", "configmap", LOCK, "-n", "default", "--ignore-not-found"]);
  };
}

/** Deletes everything labelled with this run from an external cluster. */
async function cleanupExternal(
  kubectl: (args: string[], o?: RunKubectlOptions) => Promise<KubectlResult>,
  runId: string,
): Promise<void> {
  const selector = `${RUN_LABEL}=${runId}`;
  // Sets first, so their children go with them; CachedImages then take their pull Pods along.
  for (
    const kinds of [
      "cachedimagesets.drop.corewire.io",
      "cachedimages.drop.corewire.io,discoverypolicies.drop.corewire.io,pullpolicies.drop.corewire.io",
      "secrets",
      "namespaces",
    ]
  ) {
    const namespaced = !kinds.includes("drop.corewire.io") && kinds !== "namespaces";
    await kubectl([
      "delete",
      kinds,
      "-l",
      selector,
      ...(namespaced ? ["-n", OPERATOR_NAMESPACE] : []),
      "--ignore-not-found",
      "--wait=false",
    ], { allowFailure: true });
  }
}

/** Options of {@linkcode waitUntil}. */
export interface WaitOptions {
  /** Default 90 s: generous, the machine may be a loaded 2-core one. */
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `check` until it returns a value other than undefined/false and returns it. Errors thrown by
 * `check` count as "not yet" (the last one is reported on timeout), as does the state `describe`
 * returns, so a timeout says what was seen.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions & { describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (true) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      let seen = "";
      if (opts.describe) {
        try {
          seen = `; last seen: ${await opts.describe()}`;
        } catch (e) {
          seen = `; describe failed: ${e}`;
        }
      }
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}${seen}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

/** Parses Prometheus text exposition into `name{labels}` -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+?(?:\{.*\})?)\s+(\S+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Sum of the series of `name` whose labels include every `labels` pair. */
export function metricSum(
  metrics: Map<string, number>,
  name: string,
  labels: Record<string, string> = {},
): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** Prints the one-line skip reason of a test file (once, at load). */
export function announceSkip(target: E2ETarget, file: string): boolean {
  if ("skip" in target) {
    console.log(`skipping ${file}: ${target.skip}`);
    return true;
  }
  return false;
}
