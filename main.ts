/**
 * The `drop` command: `run` (the operator, the default), `sim` (a simulated cluster),
 * `demo` (the operator against a simulated cluster, with live progress) and `discover` (a dry run
 * of a DiscoveryPolicy). Usage errors exit with status 2.
 *
 * @module
 */
import { UsageError } from "./lib/cli/flags.ts";
import { runDemo } from "./lib/cli/demo.ts";
import { runDiscover } from "./lib/cli/discover.ts";
import { runSimCommand } from "./lib/sim/mod.ts";
import { runHelp, runOperator, runOptions } from "./lib/cli/run.ts";
import { VERSION } from "./lib/cli/version.ts";

const USAGE = `drop ${VERSION}: pre-pull container images onto Kubernetes nodes, paced.

Usage: drop [command] [flags]

Commands:
  run       Run the operator against a cluster (default)
  demo      Run the operator against an embedded simulated cluster, with live progress
  sim       Run a simulated cluster (API server, kubelets, registry) for kubectl and the operator
  discover  Run a DiscoveryPolicy's sources once and print the ranked images
  version   Print the version

Run "drop <command> --help" for the flags of a command.
`;

async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === "--version" || first === "version") {
    console.log(`drop ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  if (first === "help" || first === "--help" || first === "-h") {
    console.log(USAGE);
    return 0;
  }
  const command = first === undefined || first.startsWith("-") ? "run" : first;
  const commandArgs = command === first ? rest : args;
  try {
    switch (command) {
      case "run": {
        const opts = runOptions(commandArgs);
        if (opts === "help") {
          console.log(runHelp());
          return 0;
        }
        return await runOperator(opts);
      }
      case "demo":
        return await runDemo(commandArgs);
      case "sim":
        return await runSimCommand(commandArgs);
      case "discover":
        return await runDiscover(commandArgs);
      default:
        throw new UsageError(`Unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`drop: ${e.message}\nRun "drop --help" for usage.`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
