/**
 * `drop demo`: the operator against an embedded simulated cluster, with live progress. It applies
 * a PullPolicy, a CachedImageSet of several images (one distroless, one from a registry that does
 * not resolve) and a discovery-backed set fed by the simulated registry, runs the operator, and
 * ends with a summary. `--keep` leaves the cluster running for kubectl.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  CACHED_IMAGE_SET,
  type CachedImageStatus,
  DISCOVERY_POLICY,
  PULL_POLICY,
} from "../api/mod.ts";
import { startOperator } from "../controllers/mod.ts";
import type { KubeObject } from "../kube/mod.ts";
import { Logger } from "../log/mod.ts";
import { DropMetrics } from "../metrics/mod.ts";
import { pullActivity } from "../pacing/mod.ts";
import { startSimCluster } from "../sim/mod.ts";
import {
  type DemoSnapshot,
  type ImageRow,
  renderChanges,
  renderScreen,
  shortReference,
} from "./demo_view.ts";
import { type FlagSpec, formatFlags, parseFlags, UsageError } from "./flags.ts";

/** Flags of `drop demo`. */
export const DEMO_FLAGS: Record<string, FlagSpec> = {
  nodes: { type: "number", default: 5, metavar: "N", help: "Simulated nodes" },
  "time-scale": {
    type: "number",
    default: 0.2,
    metavar: "X",
    help: "Simulated pull time factor (1 = real time)",
  },
  keep: {
    type: "boolean",
    default: false,
    help: "Keep the cluster running afterwards, for kubectl",
  },
  kubeconfig: {
    type: "string",
    default: "drop-demo.kubeconfig",
    metavar: "PATH",
    help: "Where --keep writes the kubeconfig",
  },
  timeout: { type: "number", default: 90, metavar: "SECONDS", help: "Give up after this long" },
  plain: { type: "boolean", default: false, help: "Plain progress lines even on a terminal" },
};

/** Help text of `drop demo`. */
export function demoHelp(): string {
  return `Run the operator against an embedded simulated cluster and show its progress.\n\nUsage: drop demo [flags]\n\nFlags:\n${
    formatFlags(DEMO_FLAGS)
  }\n`;
}

type Obj = KubeObject & { spec?: unknown; status?: Record<string, unknown> };
const API = "drop.corewire.io/v1alpha1";
const BROKEN = "registry.invalid.local:9999/does-not-exist";

/** Runs the demo; returns the exit code. */
export async function runDemo(args: string[]): Promise<number> {
  const { values, help, positional } = parseFlags(args, DEMO_FLAGS);
  if (help) {
    console.log(demoHelp());
    return 0;
  }
  if (positional.length > 0) throw new UsageError(`Unexpected argument "${positional[0]}"`);
  const nodes = values.nodes as number;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 200) {
    throw new UsageError(`Invalid value "${nodes}" for --nodes: expected 1 to 200`);
  }
  const tty = Deno.stdout.isTerminal() && !values.plain;
  const out = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text));
  const started = Date.now();

  out(`Starting a simulated cluster with ${nodes} nodes...\n`);
  const cluster = await startSimCluster({ nodes, timeScale: values["time-scale"] as number });
  const logLines: string[] = [];
  const metrics = new DropMetrics();
  const operator = startOperator({
    client: cluster.client,
    podNamespace: "drop-system",
    metrics,
    log: new Logger({
      level: Deno.env.get("DROP_DEMO_DEBUG") ? "debug" : "warn",
      write: (l) => logLines.push(l),
    }),
  });
  const client = cluster.client;
  try {
    await operator.synced;
    // The registry the discovery policy lists: three releases of a team's app.
    const registryHost = cluster.registry.host!;
    cluster.registry.catalogue.addRepository(`${registryHost}/team/app`, [
      "v1.8.0",
      "v1.9.0",
      "v1.10.0",
      "latest",
    ]);
    await applyDemoObjects(client, cluster.registry.url!);
    out(`Applied a PullPolicy, 2 CachedImageSets and a DiscoveryPolicy. Pulling...\n\n`);

    const seenPulls = new Set<string>();
    const failedOn = new Map<string, Set<string>>();
    operator.context.pods.on({
      add: (p) => seenPulls.add(p.metadata?.uid ?? ""),
      update: (_, p) => {
        const image = p.metadata?.annotations?.["drop.corewire.io/cachedimage"];
        const waiting = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (image && waiting && /ErrImage|BackOff/.test(waiting)) {
          if (!failedOn.has(image)) failedOn.set(image, new Set());
          failedOn.get(image)!.add(p.spec?.nodeName ?? "");
        }
      },
    });
    const previous = new Map<string, string>();
    let warmAt: number | undefined;
    const deadline = started + (values.timeout as number) * 1000;
    let snap = snapshot(operator.context, started, failedOn, cluster.counters.snapshot().total);
    while (Date.now() < deadline) {
      snap = snapshot(operator.context, started, failedOn, cluster.counters.snapshot().total);
      if (tty) out(`\x1b[H\x1b[2J${renderScreen(snap, Deno.consoleSize().columns)}`);
      else for (const line of renderChanges(snap, previous)) out(line + "\n");
      const healthy = snap.images.filter((i) => !i.reference.startsWith(BROKEN));
      const broken = snap.images.filter((i) => i.reference.startsWith(BROKEN));
      const discovered = snap.images.some((i) => i.name.startsWith("discovered-apps-"));
      if (
        warmAt === undefined && discovered && healthy.length > 0 &&
        healthy.every((i) => i.phase === "Ready")
      ) warmAt = Date.now();
      if (warmAt !== undefined && broken.every((i) => i.phase === "Degraded")) break;
      await new Promise((r) => setTimeout(r, tty ? 250 : 200));
    }
    const done = warmAt !== undefined;
    out("\n" + summary(snap, warmAt ?? Date.now(), started, seenPulls.size, done) + "\n");
    if (!done) {
      for (const line of logLines.slice(-20)) out(line + "\n");
    }
    const debugFile = Deno.env.get("DROP_DEMO_DEBUG");
    if (debugFile) await Deno.writeTextFile(debugFile, logLines.join("\n") + "\n");
    if (values.keep) {
      const path = values.kubeconfig as string;
      await cluster.writeKubeconfig(path);
      out(
        `\nThe cluster keeps running (Ctrl-C to stop). Explore it with kubectl:\n\n` +
          `  export KUBECONFIG=${path}\n` +
          `  kubectl get cachedimagesets,cachedimages,discoverypolicies,pullpolicies\n` +
          `  kubectl get ci -o wide\n` +
          `  kubectl describe ci ${
            snap.images.find((i) => i.reference.startsWith(BROKEN))?.name ?? ""
          }\n` +
          `  kubectl get dp demo-registry -o yaml\n` +
          `  kubectl get nodes\n`,
      );
      await new Promise<void>((resolve) => {
        Deno.addSignalListener("SIGINT", () => resolve());
        Deno.addSignalListener("SIGTERM", () => resolve());
      });
      try {
        await Deno.remove(path);
      } catch {
        // Already gone.
      }
    }
    return done ? 0 : 1;
  } finally {
    await operator.stop();
    await cluster.stop();
  }
}

async function applyDemoObjects(
  client: Awaited<ReturnType<typeof startSimCluster>>["client"],
  registryUrl: string,
): Promise<void> {
  await client.resource(PULL_POLICY).create({
    apiVersion: API,
    kind: "PullPolicy",
    metadata: { name: "demo-pacing" },
    spec: {
      maxConcurrentNodes: 3,
      minDelayBetweenPulls: "300ms",
      failureBackoff: { initial: "2s", max: "10s" },
    },
  } as Obj);
  await client.resource(CACHED_IMAGE_SET).create({
    apiVersion: API,
    kind: "CachedImageSet",
    metadata: { name: "ci-tools" },
    spec: {
      policyRef: { name: "demo-pacing" },
      imagePullPolicy: "IfNotPresent",
      images: [
        { image: "docker.io/library/golang", tag: "1.22-bookworm" },
        { image: "docker.io/library/node", tag: "20-alpine" },
        { image: "docker.io/library/alpine", tag: "3.19" },
        { image: "gcr.io/distroless/static-debian12", tag: "nonroot" },
        { image: BROKEN, tag: "nope" },
      ],
    },
  } as Obj);
  await client.resource(DISCOVERY_POLICY).create({
    apiVersion: API,
    kind: "DiscoveryPolicy",
    metadata: { name: "demo-registry" },
    spec: {
      syncInterval: "1m",
      maxImages: 5,
      sources: [{
        type: "registry",
        registry: { url: registryUrl, repositories: ["team/app"], tagFilter: "^v", topX: 2 },
      }],
    },
  } as Obj);
  await client.resource(CACHED_IMAGE_SET).create({
    apiVersion: API,
    kind: "CachedImageSet",
    metadata: { name: "discovered-apps" },
    spec: { policyRef: { name: "demo-pacing" }, discoveryPolicyRef: { name: "demo-registry" } },
  } as Obj);
}

function snapshot(
  ctx: ReturnType<typeof startOperator>["context"],
  started: number,
  failedOn: Map<string, Set<string>>,
  apiRequests: number,
): DemoSnapshot {
  const pullingOn = new Map<string, Set<string>>();
  for (const p of ctx.pods.list() as Pod[]) {
    const image = p.metadata?.annotations?.["drop.corewire.io/cachedimage"];
    if (!image || pullActivity(p) !== "active") continue;
    if (!pullingOn.has(image)) pullingOn.set(image, new Set());
    pullingOn.get(image)!.add(p.spec?.nodeName ?? "");
  }
  const images: ImageRow[] = ctx.cachedImages.list().map((o) => {
    const s = (o.status ?? {}) as CachedImageStatus;
    const spec = o.spec as { image: string; tag?: string; digest?: string };
    const ready = s.conditions?.find((c) => c.type === "Ready");
    return {
      name: o.metadata!.name!,
      reference: spec.digest
        ? `${spec.image}@${spec.digest}`
        : `${spec.image}:${spec.tag ?? "latest"}`,
      phase: s.phase ?? "Pending",
      ready: s.nodesReady ?? 0,
      targeted: s.nodesTargeted ?? 0,
      pulling: s.nodesPulling ?? 0,
      reason: ready?.reason ?? "",
      message: ready?.message ?? "",
      cachedNodes: s.cachedNodes ?? [],
    };
  }).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    elapsedMs: Date.now() - started,
    nodes: ctx.nodes.list().map((n) => n.metadata!.name!).sort(),
    images,
    pullingOn,
    failedOn,
    apiRequests,
  };
}

function summary(
  s: DemoSnapshot,
  warmAt: number,
  started: number,
  pulls: number,
  done: boolean,
): string {
  const lines = [done ? "Summary" : "Summary (timed out before everything settled)"];
  const ready = s.images.filter((i) => i.phase === "Ready");
  lines.push(
    `  warm after     ${
      ((warmAt - started) / 1000).toFixed(1)
    }s (${ready.length}/${s.images.length} images Ready on ${s.nodes.length} nodes)`,
    `  pull pods      ${pulls}`,
    `  API requests   ${s.apiRequests}`,
  );
  const failing = s.images.filter((i) => i.phase !== "Ready");
  if (failing.length > 0) {
    lines.push("  not cached:");
    for (const i of failing) {
      lines.push(`    ${shortReference(i.reference)}: ${i.message || i.phase}`);
    }
  }
  return lines.join("\n");
}
