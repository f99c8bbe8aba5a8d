/**
 * `drop run`: the operator. Loads the Kubernetes config, starts the probe and metrics servers and
 * the controllers, and shuts down in order on SIGTERM or SIGINT: stop taking work, let running
 * reconciles finish, release the leader lease, exit 0.
 *
 * @module
 */
import { startOperator } from "../controllers/mod.ts";
import { KubeClient, loadKubeConfig } from "../kube/mod.ts";
import { type LogFormat, Logger, type LogLevel } from "../log/mod.ts";
import { DropMetrics, parseBindAddress, startProbeServers } from "../metrics/mod.ts";
import { type FlagSpec, formatFlags, parseFlags, UsageError } from "./flags.ts";

/** Flags of `drop run`, named like controller-runtime operators'. */
export const RUN_FLAGS: Record<string, FlagSpec> = {
  kubeconfig: {
    type: "string",
    metavar: "PATH",
    help: "Kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)",
  },
  context: { type: "string", metavar: "NAME", help: "Kubeconfig context to use" },
  "pod-namespace": {
    type: "string",
    default: "drop-system",
    metavar: "NS",
    help: "Namespace of pull Pods and of the Secrets Drop reads",
  },
  "metrics-bind-address": {
    type: "string",
    default: ":8080",
    metavar: "ADDR",
    help: 'Address of /metrics; "0" disables it',
  },
  "health-probe-bind-address": {
    type: "string",
    default: ":8081",
    metavar: "ADDR",
    help: 'Address of /healthz and /readyz; "0" disables it',
  },
  "leader-elect": {
    type: "boolean",
    default: false,
    help: "Elect a leader through a Lease so only one replica reconciles",
  },
  "leader-election-namespace": {
    type: "string",
    metavar: "NS",
    help: "Namespace of the leader Lease (default: the pod namespace)",
  },
  "leader-election-id": {
    type: "string",
    default: "drop-leader",
    metavar: "NAME",
    help: "Name of the leader Lease",
  },
  workers: {
    type: "number",
    default: 4,
    metavar: "N",
    help: "Concurrent reconciles per controller",
  },
  "pull-deadline": {
    type: "duration",
    default: "10m",
    metavar: "DURATION",
    help: "activeDeadlineSeconds of pull Pods",
  },
  "log-level": {
    type: "string",
    default: "info",
    choices: ["debug", "info", "warn", "error"],
    help: "Log level",
  },
  "log-format": {
    type: "string",
    default: "text",
    choices: ["json", "text"],
    help: "Log format (json in clusters)",
  },
};

/** Help text of `drop run`. */
export function runHelp(): string {
  return `Run the operator against a cluster.\n\nUsage: drop run [flags]\n\nFlags:\n${
    formatFlags(RUN_FLAGS)
  }\n`;
}

/** Options of `drop run` after validation. */
export interface RunOptions {
  kubeconfig?: string;
  context?: string;
  podNamespace: string;
  metricsBind?: { hostname: string; port: number };
  probeBind?: { hostname: string; port: number };
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  workers: number;
  pullDeadlineSeconds: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** Validates the flags of `drop run`. @throws {UsageError} */
export function runOptions(args: string[]): RunOptions | "help" {
  const { values, positional, help } = parseFlags(args, RUN_FLAGS);
  if (help) return "help";
  if (positional.length > 0) throw new UsageError(`Unexpected argument "${positional[0]}"`);
  const bind = (name: string) => {
    try {
      return parseBindAddress(String(values[name]));
    } catch (e) {
      throw new UsageError(`Invalid value for --${name}: ${(e as Error).message}`);
    }
  };
  const workers = values.workers as number;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UsageError(`Invalid value "${workers}" for --workers: expected a positive integer`);
  }
  const podNamespace = values["pod-namespace"] as string;
  const deadline = parseDurationSeconds(values["pull-deadline"] as string);
  return {
    kubeconfig: values.kubeconfig as string | undefined,
    context: values.context as string | undefined,
    podNamespace,
    metricsBind: bind("metrics-bind-address"),
    probeBind: bind("health-probe-bind-address"),
    leaderElect: values["leader-elect"] as boolean,
    leaderElectionNamespace: (values["leader-election-namespace"] as string | undefined) ??
      podNamespace,
    leaderElectionId: values["leader-election-id"] as string,
    workers,
    pullDeadlineSeconds: deadline,
    logLevel: values["log-level"] as LogLevel,
    logFormat: values["log-format"] as LogFormat,
  };
}

function parseDurationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]];
  return Math.max(1, Math.round(total));
}

/** Runs the operator until SIGTERM/SIGINT or `signal`. Returns the exit code. */
export async function runOperator(opts: RunOptions, signal?: AbortSignal): Promise<number> {
  const log = new Logger({ level: opts.logLevel, format: opts.logFormat });
  const metrics = new DropMetrics({ processMetrics: true });
  let config;
  try {
    config = await loadKubeConfig({ kubeconfig: opts.kubeconfig, context: opts.context });
  } catch (e) {
    log.error("Cannot load the Kubernetes configuration", { error: (e as Error).message });
    return 1;
  }
  const client = new KubeClient(config, {
    userAgent: "drop-operator",
    hooks: {
      onRequest(verb, resource, code, seconds) {
        metrics.apiRequests.inc({ verb, resource, code: String(code) });
        metrics.apiLatency.observe({ verb, resource }, seconds);
      },
    },
  });
  const identity = `${Deno.hostname()}_${crypto.randomUUID().slice(0, 8)}`;
  const operator = startOperator({
    client,
    podNamespace: opts.podNamespace,
    metrics,
    log,
    workers: opts.workers,
    pullDeadlineSeconds: opts.pullDeadlineSeconds,
    leaderElection: opts.leaderElect
      ? { namespace: opts.leaderElectionNamespace, name: opts.leaderElectionId, identity }
      : undefined,
  });
  const probes = startProbeServers({
    metrics,
    metricsBind: opts.metricsBind,
    probeBind: opts.probeBind,
    healthy: () => true,
    ready: () => operator.ready(),
  });
  log.info("Operator started", {
    podNamespace: opts.podNamespace,
    metrics: probes.metricsAddr
      ? `${probes.metricsAddr.hostname}:${probes.metricsAddr.port}`
      : "off",
    probes: probes.probeAddr ? `${probes.probeAddr.hostname}:${probes.probeAddr.port}` : "off",
    leaderElection: opts.leaderElect,
  });
  let stoppedCleanup = () => {};
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (name: string) => () => resolve(name);
    const term = onSignal("SIGTERM");
    const int = onSignal("SIGINT");
    Deno.addSignalListener("SIGTERM", term);
    Deno.addSignalListener("SIGINT", int);
    signal?.addEventListener("abort", () => resolve("abort"), { once: true });
    stoppedCleanup = () => {
      Deno.removeSignalListener("SIGTERM", term);
      Deno.removeSignalListener("SIGINT", int);
    };
  });
  const lost = operator.done.then(() => "leadership lost", (e) => `failed: ${e}`);
  const why = await Promise.race([stopped, lost]);
  log.info("Shutting down", { reason: why });
  await operator.stop();
  await probes.shutdown();
  client.close();
  stoppedCleanup();
  log.info("Stopped");
  // Losing the lease (or a controller failure) is not a clean stop: exit non-zero so the
  // Deployment restarts the process as a fresh candidate.
  return why === "SIGTERM" || why === "SIGINT" || why === "abort" ? 0 : 1;
}
