/**
 * `drop sim`: runs a simulated cluster until interrupted, for kubectl and the operator.
 *
 * @module
 */
import { type SimCluster, startSimCluster } from "./cluster.ts";

/** Usage text of `drop sim`. */
export const SIM_USAGE =
  `Usage: drop sim [--nodes N] [--port P] [--kubeconfig PATH] [--time-scale X] [--tls]

Runs a simulated Kubernetes cluster on 127.0.0.1: an API server with the Drop CRDs, N Ready
nodes run by simulated kubelets, and a simulated OCI registry. The kubeconfig is written once
the server serves and every node is Ready, and removed on exit.

  --nodes N          nodes sim-node-1..N (default 3)
  --port P           API server port (default: a free one)
  --kubeconfig PATH  where to write the kubeconfig (default ./drop-sim.kubeconfig)
  --time-scale X     wall time per simulated second for pulls, backoffs and deadlines
                     (default 1; 0.1 runs them ten times faster)
  --tls              serve HTTPS with a generated CA (default HTTP)
`;

/** Parsed `drop sim` flags. */
export interface SimArgs {
  nodes: number;
  port: number;
  kubeconfig: string;
  timeScale: number;
  tls: boolean;
  help: boolean;
}

/** Parses `drop sim` flags (`--flag value` or `--flag=value`); throws on invalid input. */
export function parseSimArgs(args: string[]): SimArgs {
  const out: SimArgs = {
    nodes: 3,
    port: 0,
    kubeconfig: "drop-sim.kubeconfig",
    timeScale: 1,
    tls: false,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq >= 0) return arg.slice(eq + 1);
      const next = args[++i];
      if (next === undefined) throw new Error(`Cannot parse ${flag}: it needs a value`);
      return next;
    };
    switch (flag) {
      case "--nodes":
        out.nodes = integer(flag, value(), 0, 100_000);
        break;
      case "--port":
        out.port = integer(flag, value(), 0, 65_535);
        break;
      case "--kubeconfig":
        out.kubeconfig = value();
        if (!out.kubeconfig) throw new Error("Cannot parse --kubeconfig: the path is empty");
        break;
      case "--time-scale": {
        const raw = value();
        const n = Number(raw);
        if (!Number.isFinite(n) || n <= 0) {
          throw new Error(`Cannot parse --time-scale "${raw}": it must be a number above 0`);
        }
        out.timeScale = n;
        break;
      }
      case "--tls":
        out.tls = true;
        break;
      case "-h":
      case "--help":
        out.help = true;
        break;
      default:
        throw new Error(`Cannot parse "${arg}": unknown flag`);
    }
  }
  return out;
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`Cannot parse ${flag} "${raw}": it must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** Options of {@linkcode runSimCommand}, for tests and embedding. */
export interface RunSimOptions {
  /** Stops the cluster when aborted (in addition to SIGINT and SIGTERM). */
  signal?: AbortSignal;
  /** Where messages go (default stdout). */
  print?: (line: string) => void;
  /** Where errors go (default stderr). */
  printError?: (line: string) => void;
}

/**
 * Runs `drop sim` with `args` until SIGINT, SIGTERM or `opts.signal`. Returns the exit code:
 * 0 after a clean stop, 2 for invalid flags, 1 when the cluster cannot start.
 */
export async function runSimCommand(args: string[], opts: RunSimOptions = {}): Promise<number> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const printError = opts.printError ?? ((line: string) => console.error(line));
  let parsed: SimArgs;
  try {
    parsed = parseSimArgs(args);
  } catch (e) {
    printError((e as Error).message);
    printError(SIM_USAGE);
    return 2;
  }
  if (parsed.help) {
    print(SIM_USAGE);
    return 0;
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  opts.signal?.addEventListener("abort", onSignal, { once: true });
  if (opts.signal?.aborted) stop.abort();

  let cluster: SimCluster | undefined;
  try {
    try {
      cluster = await startSimCluster({
        nodes: parsed.nodes,
        port: parsed.port,
        timeScale: parsed.timeScale,
        tls: parsed.tls,
      });
      await cluster.writeKubeconfig(parsed.kubeconfig);
    } catch (e) {
      printError(`Cannot start the simulated cluster: ${(e as Error).message}`);
      return 1;
    }
    print(
      `drop sim: API server ${cluster.url} with ${parsed.nodes} Ready node(s), time scale ${parsed.timeScale}`,
    );
    if (cluster.registry.url) {
      print(`Registry: ${cluster.registry.url} (OCI distribution, /v2/<repository>/tags/list)`);
    }
    print(`Kubeconfig: ${parsed.kubeconfig}`);
    print("");
    print(`  export KUBECONFIG=${parsed.kubeconfig}`);
    print("  kubectl get nodes");
    print("  kubectl get cachedimages");
    print("");
    print("Press Ctrl-C to stop.");
    if (!stop.signal.aborted) {
      await new Promise<void>((resolve) =>
        stop.signal.addEventListener("abort", () => resolve(), { once: true })
      );
    }
    print("drop sim: stopping");
    return 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    opts.signal?.removeEventListener("abort", onSignal);
    if (cluster) {
      await cluster.stop();
      await Deno.remove(parsed.kubeconfig).catch(() => {});
    }
  }
}
