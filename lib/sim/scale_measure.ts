/**
 * Measures the simulator at scale (a script, not a test: figures are reported, never asserted).
 *
 *   deno run -A lib/sim/scale_measure.ts [--nodes 5000] [--idle-seconds 60] [--pods 1000]
 *     [--time-scale 0.01]
 *
 * 1. Starts a cluster with N nodes and measures start-up time.
 * 2. Idle phase: CPU of this process (API server + kubelets + registry, all in-process), request
 *    rate and memory while the nodes only heartbeat at real-time intervals.
 * 3. Pod phase: creates P pull pods spread over the nodes and measures how long until all ended,
 *    CPU, and the API writes per pod.
 *
 * @module
 */
import process from "node:process";
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import { PODS } from "../kube/mod.ts";
import { Limiter } from "./_limiter.ts";
import { startSimCluster } from "./cluster.ts";

interface Args {
  nodes: number;
  idleSeconds: number;
  pods: number;
  timeScale: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { nodes: 5000, idleSeconds: 60, pods: 1000, timeScale: 0.01 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (!Number.isFinite(value)) throw new Error(`Cannot parse ${argv[i]}: it needs a number`);
    switch (argv[i]) {
      case "--nodes":
        args.nodes = value;
        break;
      case "--idle-seconds":
        args.idleSeconds = value;
        break;
      case "--pods":
        args.pods = value;
        break;
      case "--time-scale":
        args.timeScale = value;
        break;
      default:
        throw new Error(`Cannot parse "${argv[i]}": unknown flag`);
    }
  }
  return args;
}

/** CPU seconds (user + system) of this process since `from`, and wall seconds. */
function cpuSince(from: { cpu: NodeJS.CpuUsage; wall: number }) {
  const cpu = process.cpuUsage(from.cpu);
  const wall = (performance.now() - from.wall) / 1000;
  const seconds = (cpu.user + cpu.system) / 1e6;
  return { cpuSeconds: seconds, wallSeconds: wall, cores: seconds / wall };
}

function mark() {
  return { cpu: process.cpuUsage(), wall: performance.now() };
}

function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const results: Record<string, unknown> = { ...args };

  const startMark = mark();
  const cluster = await startSimCluster({ nodes: args.nodes, timeScale: args.timeScale });
  results.startup = { ...cpuSince(startMark) };
  console.error(
    `started ${args.nodes} nodes in ${
      (results.startup as { wallSeconds: number }).wallSeconds.toFixed(1)
    } s`,
  );
  try {
    // Idle: let start-up writes drain, then measure a steady window.
    await new Promise((r) => setTimeout(r, 3000));
    cluster.counters.reset();
    const before = cluster.kubelets.stats();
    const idleMark = mark();
    await new Promise((r) => setTimeout(r, args.idleSeconds * 1000));
    const idle = cpuSince(idleMark);
    const after = cluster.kubelets.stats();
    const snap = cluster.counters.snapshot();
    results.idle = {
      ...idle,
      requestsPerSecond: snap.total / idle.wallSeconds,
      leaseRenewalsPerSecond: (after.leaseRenewals - before.leaseRenewals) / idle.wallSeconds,
      nodeStatusWritesPerSecond: (after.nodeStatusWrites - before.nodeStatusWrites) /
        idle.wallSeconds,
      rssMiB: mib(Deno.memoryUsage().rss),
      heapUsedMiB: mib(Deno.memoryUsage().heapUsed),
    };
    console.error(`idle: ${JSON.stringify(results.idle)}`);

    // Pods: P pull pods over the nodes, created 32 at a time.
    cluster.counters.reset();
    const podMark = mark();
    const pods = cluster.client.resource<Pod>(PODS, "default");
    const limiter = new Limiter(32);
    const names = cluster.nodes.names().sort();
    await Promise.all(Array.from({ length: args.pods }, (_, i) =>
      limiter.run(() =>
        pods.create({
          metadata: { name: `bench-${i}` },
          spec: {
            nodeName: names[i % names.length],
            restartPolicy: "Never",
            containers: [{
              name: "pull",
              image: `bench/image-${i % 50}:v${i % 7}`,
              command: ["true"],
            }],
          },
        })
      )));
    const created = cpuSince(podMark);
    let done = 0;
    while (done < args.pods) {
      await new Promise((r) => setTimeout(r, 200));
      done = cluster.apiServer.store.list("", "pods", "default").filter((p) => {
        const phase = (p.status as { phase?: string } | undefined)?.phase;
        return phase === "Succeeded" || phase === "Failed";
      }).length;
    }
    const ran = cpuSince(podMark);
    // Event writes trail the last status write; let them land before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const counts = cluster.counters.snapshot();
    results.pods = {
      creationSeconds: created.wallSeconds,
      creationsPerSecond: args.pods / created.wallSeconds,
      allEndedSeconds: ran.wallSeconds,
      cpuSeconds: ran.cpuSeconds,
      cores: ran.cores,
      statusPatchesPerPod: (counts.byVerb.patch?.["pods/status"] ?? 0) / args.pods,
      eventWritesPerPod:
        ((counts.byVerb.create?.events ?? 0) + (counts.byVerb.patch?.events ?? 0)) /
        args.pods,
      requestsTotal: counts.total,
    };
    console.error(`pods: ${JSON.stringify(results.pods)}`);
  } finally {
    const stopMark = mark();
    await cluster.stop();
    results.stopSeconds = cpuSince(stopMark).wallSeconds;
  }
  console.log(JSON.stringify(results, null, 2));
}

if (import.meta.main) await main();
