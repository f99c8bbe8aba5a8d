/**
 * `drop discover -f policy.yaml`: runs a DiscoveryPolicy's sources once and prints each source's
 * health and the ranked images, for people writing policies. Nothing in the cluster is changed;
 * with `--kubeconfig` the sources' Secrets are read from the pod namespace.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";
import {
  type DiscoveryPolicy,
  parseDiscoveryPolicy,
  parseDuration,
  ValidationError,
} from "../api/mod.ts";
import { readSecretData } from "../controllers/mod.ts";
import { discoverOnce, DiscoveryError, formatDiscoveryReport } from "../discovery/mod.ts";
import { KubeClient, loadKubeConfig } from "../kube/mod.ts";
import { type FlagSpec, formatFlags, parseFlags, UsageError } from "./flags.ts";

/** Flags of `drop discover`. */
export const DISCOVER_FLAGS: Record<string, FlagSpec> = {
  f: { type: "string", metavar: "FILE", help: "YAML file with the DiscoveryPolicy (- for stdin)" },
  name: {
    type: "string",
    metavar: "NAME",
    help: "Which DiscoveryPolicy of the file, when it holds several",
  },
  kubeconfig: {
    type: "string",
    metavar: "PATH",
    help: "Read the sources' Secrets through this kubeconfig",
  },
  context: { type: "string", metavar: "NAME", help: "Kubeconfig context" },
  "pod-namespace": {
    type: "string",
    default: "drop-system",
    metavar: "NS",
    help: "Namespace of the Secrets",
  },
  timeout: { type: "duration", default: "30s", help: "Limit of each request" },
};

/** Help text of `drop discover`. */
export function discoverHelp(): string {
  return `Run a DiscoveryPolicy's sources once and print the ranked images. Changes nothing.\n\nUsage: drop discover -f policy.yaml [flags]\n\nFlags:\n${
    formatFlags(DISCOVER_FLAGS)
  }\n`;
}

async function readInput(path: string): Promise<string> {
  if (path === "-") return await new Response(Deno.stdin.readable).text();
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`Cannot read "${path}": ${(e as Error).message}`);
  }
}

/** Picks the DiscoveryPolicy out of a YAML text. @throws {UsageError} */
export function policyFromYaml(text: string, name?: string): DiscoveryPolicy {
  const docs = parseAllDocuments(text).map((d) => d.toJS()).filter((d) =>
    d?.kind === "DiscoveryPolicy" && (!name || d?.metadata?.name === name)
  );
  if (docs.length === 0) {
    throw new UsageError(`No DiscoveryPolicy${name ? ` named "${name}"` : ""} in the input`);
  }
  if (docs.length > 1) {
    throw new UsageError(
      `The input holds ${docs.length} DiscoveryPolicies; choose one with --name (${
        docs.map((d) => d.metadata?.name).join(", ")
      })`,
    );
  }
  try {
    return parseDiscoveryPolicy(docs[0]);
  } catch (e) {
    if (e instanceof ValidationError) throw new UsageError(e.message);
    throw e;
  }
}

/** Runs `drop discover`. Returns the exit code: 0 when every source answered, 1 otherwise. */
export async function runDiscover(args: string[]): Promise<number> {
  const { values, help, positional } = parseFlags(args, DISCOVER_FLAGS);
  if (help) {
    console.log(discoverHelp());
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`Unexpected argument "${positional[0]}"`);
  const file = values.f as string | undefined;
  if (!file) throw new UsageError("Missing -f FILE");
  const policy = policyFromYaml(await readInput(file), values.name as string | undefined);
  const namespace = values["pod-namespace"] as string;
  let client: KubeClient | undefined;
  if (values.kubeconfig || values.context) {
    client = new KubeClient(
      await loadKubeConfig({
        kubeconfig: values.kubeconfig as string | undefined,
        context: values.context as string | undefined,
      }),
    );
  }
  const timeoutMs = parseDuration(String(values.timeout));
  try {
    const run = await discoverOnce(policy.spec, {
      timeoutMs,
      credentialsFor: async (_i, source) => {
        const name = source.secretRef?.name;
        if (!name) return undefined;
        if (!client) {
          throw new DiscoveryError(
            "CredentialsError",
            `Source needs Secret "${name}": pass --kubeconfig to read it from "${namespace}"`,
          );
        }
        return await readSecretData(client, namespace, name);
      },
    });
    const width = Deno.stdout.isTerminal() ? Deno.consoleSize().columns : 80;
    console.log(`DiscoveryPolicy "${policy.metadata.name ?? "(unnamed)"}"\n`);
    Deno.stdout.writeSync(
      new TextEncoder().encode(formatDiscoveryReport(run.outcomes, run.merged, { width })),
    );
    return run.outcomes.every((o) => o.healthy) ? 0 : 1;
  } catch (e) {
    if (e instanceof DiscoveryError) throw new UsageError(`${e.reason}: ${e.message}`);
    throw e;
  } finally {
    client?.close();
  }
}
