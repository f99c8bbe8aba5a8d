/**
 * Profiles the operator at scale: sets up the footprint cluster (N nodes × M images, warm or
 * cold), runs the operator with the V8 inspector, takes a heap snapshot and a CPU profile, and
 * prints what holds the memory and where the time goes.
 *
 * ```sh
 * deno run -A bench/profile.ts --nodes=5000 --images=200 --state=warm
 * deno run -A bench/profile.ts --state=warmup --cpu-seconds=30
 * deno run -A bench/profile.ts --state=warmup --alloc-seconds=20   # what allocates, freed or not
 * deno run -A bench/profile.ts --images=20 --state=warmup --after-seconds=600   # late in a warm-up
 * ```
 *
 * `--state`: `warm` (images seeded as cached everywhere, operator idle), `cold` (images exist,
 * their policy allows one pull per hour: the demand of every node is held but nothing runs) or
 * `warmup` (fresh images created after start under the benchmark policy, profiled mid-flight).
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  createImages,
  createPolicy,
  seedWarmImages,
  startBenchCluster,
  startBenchOperator,
  waitQuiescent,
} from "./harness.ts";
import {
  InspectorSession,
  summarizeAllocationProfile,
  summarizeCpuProfile,
  summarizeHeap,
} from "./inspector.ts";
import { heapFigures } from "./measure.ts";
import { freePort } from "../tests/_operator_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    nodes: { type: "string", default: "5000" },
    images: { type: "string", default: "200" },
    state: { type: "string", default: "warm" },
    "time-scale": { type: "string", default: "0.5" },
    "max-concurrent": { type: "string", default: "100" },
    "cpu-seconds": { type: "string", default: "20" },
    "alloc-seconds": { type: "string", default: "0" },
    "after-seconds": { type: "string", default: "0" },
    "keep-snapshot": { type: "string" },
    out: { type: "string" },
  },
});
const nodes = Number(values.nodes);
const images = Number(values.images);
const state = values.state!;
if (!["warm", "cold", "warmup"].includes(state)) {
  console.error(`Invalid --state "${state}": expected warm, cold or warmup`);
  Deno.exit(2);
}
const log = (m: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${m}`);
const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

const cluster = await startBenchCluster({ nodes, timeScale: Number(values["time-scale"]) });
try {
  if (state === "cold") await createPolicy(cluster, 1, 3_600_000);
  else await createPolicy(cluster, Number(values["max-concurrent"]), 0);
  if (state === "warm") await seedWarmImages(cluster, images);
  if (state === "cold") await createImages(cluster, 0, images);
  const inspect = `127.0.0.1:${freePort()}`;
  const op = await startBenchOperator(cluster, { denoFlags: [`--inspect=${inspect}`] });
  try {
    log(`caches synced ${(await op.waitSynced()).toFixed(2)} s after spawn`);
    if (state === "warmup") {
      await createImages(cluster, 0, images);
      const after = Number(values["after-seconds"]);
      if (after > 0) {
        log(`warm-up running; profiling in ${after} s`);
        await new Promise((r) => setTimeout(r, after * 1000));
      }
    } else await waitQuiescent(op, 3000, 300_000);
    const session = await InspectorSession.connect(inspect);
    const allocSeconds = Number(values["alloc-seconds"]);
    if (allocSeconds > 0) {
      log(`allocation sampling for ${allocSeconds} s`);
      const alloc = summarizeAllocationProfile(
        await session.allocationProfile(allocSeconds * 1000),
      );
      console.log(
        `\nAllocated ${alloc.total_mib} MiB in ${allocSeconds} s (sampled, freed included):`,
      );
      for (const f of alloc.by_function) {
        console.log(
          `  ${f.self_mib.toFixed(2).padStart(8)} MiB ${
            f.self_pct.toFixed(1).padStart(5)
          }%  total ${f.total_mib.toFixed(1).padStart(7)} MiB  ${f.function} (${f.location})`,
        );
      }
    }
    log(`CPU profile for ${values["cpu-seconds"]} s`);
    const cpu = summarizeCpuProfile(await session.cpuProfile(Number(values["cpu-seconds"]) * 1000));
    const before = { rss_mib: op.sampler.sample()?.rss_mib, heap: heapFigures(await op.scrape()) };
    log("heap snapshot");
    const exited = op.proc.status.then((st) => {
      throw new Error(
        `The operator exited (${st.code}) during the snapshot:\n${op.proc.logs().slice(-2000)}`,
      );
    });
    const text = await Promise.race([session.heapSnapshot(), exited]);
    session.close();
    if (values["keep-snapshot"]) await Deno.writeTextFile(values["keep-snapshot"], text);
    const heap = summarizeHeap(JSON.parse(text));
    const report = {
      nodes,
      images,
      state,
      before_snapshot: before,
      heap_live_mib: mib(heap.total_bytes),
      heap_by_class: heap.by_class.map((g) => ({
        ...g,
        self_mib: mib(g.self_bytes),
        retained_mib: mib(g.retained_bytes),
      })),
      heap_by_type: heap.by_type.map((g) => ({
        name: g.name,
        count: g.count,
        self_mib: mib(g.self_bytes),
      })),
      cpu,
    };
    if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(report, null, 2) + "\n");
    console.log(
      `RSS ${
        before.rss_mib?.toFixed(1)
      } MiB, V8 heap used ${before.heap.heap_used_mib} MiB, live after GC ${report.heap_live_mib} MiB`,
    );
    console.log("\nRetained by class (MiB):");
    for (const g of report.heap_by_class.slice(0, 20)) {
      console.log(
        `  ${g.retained_mib.toFixed(1).padStart(8)}  ${String(g.count).padStart(8)}  ${g.name}`,
      );
    }
    console.log("\nSelf size by node type (MiB):");
    for (const g of report.heap_by_type.slice(0, 10)) {
      console.log(
        `  ${g.self_mib.toFixed(1).padStart(8)}  ${String(g.count).padStart(8)}  ${g.name}`,
      );
    }
    console.log(`\nCPU: ${cpu.busy_ms} ms busy of ${cpu.duration_ms} ms; self time by function:`);
    for (const f of cpu.by_function.slice(0, 20)) {
      console.log(
        `  ${f.self_ms.toFixed(1).padStart(8)} ms ${f.self_pct.toFixed(1).padStart(5)}%  total ${
          f.total_ms.toFixed(0).padStart(6)
        } ms  ${f.function} (${f.location})`,
      );
    }
  } finally {
    await op.stop();
  }
} finally {
  await cluster.stop();
}
