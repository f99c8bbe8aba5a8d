/**
 * Test helpers that run the operator as its own process: the `deno bundle` output, run by the
 * pinned deno with exactly the permission set and V8 flags the compiled binary gets.
 *
 * @module
 */
import { OPERATOR_DENO_FLAG, OPERATOR_ENV } from "../lib/cli/runtime_flags.ts";

const ROOT = new URL("../", import.meta.url);
let bundled: Promise<string> | undefined;

/** Builds the bundle once per test process and returns its path. */
export function operatorBundle(): Promise<string> {
  bundled ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "drop-bundle-" });
    const out = `${dir}/drop.js`;
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform=deno", "-o", out, "main.ts"],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`deno bundle failed: ${new TextDecoder().decode(stderr)}`);
    // Readable by other users: some tests run it as an unprivileged uid.
    await Deno.chmod(dir, 0o755);
    await Deno.chmod(out, 0o644);
    return out;
  })();
  return bundled;
}

/** Two free loopback ports. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running operator process. */
export interface OperatorProcess {
  child: Deno.ChildProcess;
  metricsPort: number;
  probePort: number;
  /** Everything the process wrote to stderr so far. */
  logs(): string;
  /** Resolves with the exit status. */
  status: Promise<Deno.CommandStatus>;
  get(path: string, port?: number): Promise<{ status: number; body: string }>;
}

/** Starts `drop run` from the bundle with the operator's permission set. */
export async function startOperatorProcess(
  kubeconfigPath: string,
  extraArgs: string[] = [],
  /** Extra `deno run` flags (e.g. V8 options for benchmarks); the permission set is unchanged. */
  denoFlags: string[] = [],
): Promise<OperatorProcess> {
  const bundle = await operatorBundle();
  const metricsPort = freePort();
  const probePort = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${new URL("deno.json", ROOT).pathname}`,
      "-P=operator",
      OPERATOR_DENO_FLAG,
      ...denoFlags,
      bundle,
      "run",
      `--kubeconfig=${kubeconfigPath}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${probePort}`,
      "--log-format=json",
      ...extraArgs,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", ...OPERATOR_ENV },
  }).spawn();
  let logText = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) logText += decoder.decode(chunk, { stream: true });
  })();
  const status = child.status.then(async (s) => {
    await reading;
    return s;
  });
  return {
    child,
    metricsPort,
    probePort,
    logs: () => logText,
    status,
    async get(path: string, port = probePort) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`Timed out waiting for ${what}${lastError ? `: ${lastError}` : ""}`);
}
