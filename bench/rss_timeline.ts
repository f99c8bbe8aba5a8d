/**
 * Where the operator's peak resident set comes from: runs it on the footprint cluster (N nodes ×
 * M images) and reads /proc every few tens of milliseconds, printing RSS, its high-water mark
 * (VmHWM) and CPU per interval with the phases marked (spawn, caches synced, quiet, images
 * created), so that a rise of the peak can be tied to what the operator was doing.
 *
 * ```sh
 * deno run -A bench/rss_timeline.ts --phase=start        # start-up on a warm cluster
 * deno run -A bench/rss_timeline.ts --phase=warmup --warmup-seconds=30
 * deno run -A bench/rss_timeline.ts --operator-deno-flags="--v8-flags=--max-semi-space-size=2"
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { KubeObject } from "../lib/kube/mod.ts";
import { CACHED_IMAGE } from "../lib/api/mod.ts";
import { imageName } from "./fixtures.ts";
import {
  createImages,
  createPolicy,
  forEachLimited,
  seedWarmImages,
  startBenchCluster,
  startBenchOperator,
  waitQuiescent,
} from "./harness.ts";
import type { BenchOperator } from "./harness.ts";
import { readProcess } from "./process_sampler.ts";
import { bucketSamples, type TimelineSample } from "./rss_timeline_buckets.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    nodes: { type: "string", default: "5000" },
    images: { type: "string", default: "200" },
    phase: { type: "string", default: "both" },
    "warmup-seconds": { type: "string", default: "30" },
    "interval-ms": { type: "string", default: "40" },
    "bucket-ms": { type: "string", default: "1000" },
    "operator-deno-flags": { type: "string", default: "" },
    "heap-every-ms": { type: "string", default: "0" },
  },
});
const nodes = Number(values.nodes);
const images = Number(values.images);
const phase = values.phase!;
if (!["start", "warmup", "both"].includes(phase)) {
  console.error(`Invalid --phase "${phase}": expected start, warmup or both`);
  Deno.exit(2);
}
const denoFlags = values["operator-deno-flags"]!.split(/\s+/).filter(Boolean);
const intervalMs = Number(values["interval-ms"]);
const bucketMs = Number(values["bucket-ms"]);
const log = (m: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${m}`);

/** Samples one process fast, noting marks, until stopped. */
class FastSampler {
  readonly samples: TimelineSample[] = [];
  readonly marks: { t_ms: number; what: string }[] = [];
  readonly #pid: number;
  readonly start = performance.now();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(pid: number) {
    this.#pid = pid;
    log(`operator pid ${pid}`);
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  mark(what: string): void {
    this.#sample();
    const t = performance.now() - this.start;
    this.marks.push({ t_ms: t, what });
    const last = this.samples.at(-1);
    log(
      `${what} at ${(t / 1000).toFixed(2)} s: RSS ${last?.rss_mib.toFixed(0)} MiB, peak ${
        last?.hwm_mib.toFixed(0)
      } MiB, CPU ${last?.cpu_s.toFixed(2)} s`,
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #sample(): void {
    const r = readProcess(this.#pid);
    if (r) this.samples.push({ t_ms: performance.now() - this.start, ...r });
  }
}

/** V8 heap space sizes (MiB) from the operator's /metrics, polled while the phase runs. */
class HeapPoller {
  readonly readings: { t_ms: number; spaces: Record<string, number>; external: number }[] = [];
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(op: BenchOperator, start: number, everyMs: number) {
    this.#done = (async () => {
      while (!this.#stopped && everyMs > 0) {
        const t = performance.now() - start;
        try {
          const spaces: Record<string, number> = {};
          let external = 0;
          for (const m of await op.scrape()) {
            if (m.name === "nodejs_heap_space_size_total_bytes") {
              spaces[m.labels.space] = m.value / 2 ** 20;
            } else if (m.name === "nodejs_external_memory_bytes") external = m.value / 2 ** 20;
          }
          this.readings.push({ t_ms: t, spaces, external });
        } catch { /* not serving yet */ }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

function printHeap(h: HeapPoller): void {
  if (h.readings.length === 0) return;
  const names = Object.keys(h.readings[0].spaces).filter((n) =>
    h.readings.some((r) => r.spaces[n] >= 0.5)
  );
  console.log(`\nV8 heap space sizes (MiB, largest per ${bucketMs} ms), external memory`);
  console.log(`    t s ${names.map((n) => n.slice(0, 9).padStart(9)).join(" ")}  external`);
  let bucket = -1;
  let row: number[] = [];
  let ext = 0;
  const flush = () => {
    if (bucket < 0) return;
    console.log(
      `${(bucket / 1000).toFixed(1).padStart(7)} ${
        row.map((v) => v.toFixed(1).padStart(9)).join(" ")
      } ${ext.toFixed(1).padStart(9)}`,
    );
  };
  for (const r of h.readings) {
    const b = Math.floor(r.t_ms / bucketMs) * bucketMs;
    if (b !== bucket) {
      flush();
      bucket = b;
      row = names.map(() => 0);
      ext = 0;
    }
    names.forEach((n, i) => row[i] = Math.max(row[i], r.spaces[n] ?? 0));
    ext = Math.max(ext, r.external);
  }
  flush();
}

function print(title: string, s: FastSampler): void {
  console.log(`\n${title}: ${s.samples.length} samples every ${intervalMs} ms`);
  console.log("    t s   RSS max   peak   CPU s  marks");
  for (const b of bucketSamples(s.samples, s.marks, bucketMs)) {
    console.log(
      `${(b.t_ms / 1000).toFixed(1).padStart(7)} ${b.rss_mib_max.toFixed(0).padStart(9)} ${
        b.hwm_mib.toFixed(0).padStart(6)
      } ${b.cpu_s.toFixed(2).padStart(7)}  ${b.marks.join(", ")}`,
    );
  }
}

const cluster = await startBenchCluster({ nodes, timeScale: 0.5 });
try {
  await createPolicy(cluster, 100, 0);
  // The first run of a new bundle also parses it for deno's module analysis cache (about 35 MiB
  // more, kept by the allocator); the footprint scenario's measured starts are not first runs.
  const first = await startBenchOperator(cluster, { denoFlags });
  await first.waitSynced();
  await first.stop();
  if (phase !== "warmup") {
    await seedWarmImages(cluster, images);
    log(`${images} warm images seeded`);
    const op = await startBenchOperator(cluster, { denoFlags });
    const s = new FastSampler(op.pid);
    try {
      await op.waitSynced();
      s.mark("synced");
      await waitQuiescent(op, 3000, 300_000);
      s.mark("quiet");
      await new Promise((r) => setTimeout(r, 5000));
      s.mark("end");
    } finally {
      s.stop();
      await op.stop();
    }
    print("start-up on a warm cluster", s);
    const ci = cluster.observer.resource<KubeObject>(CACHED_IMAGE);
    await forEachLimited(Array.from({ length: images }, (_, i) => i), 16, async (i) => {
      await ci.delete(imageName(i));
    });
  }
  if (phase !== "start") {
    const op = await startBenchOperator(cluster, { denoFlags });
    const s = new FastSampler(op.pid);
    const heap = new HeapPoller(op, s.start, Number(values["heap-every-ms"]));
    try {
      await op.waitSynced();
      s.mark("synced");
      await waitQuiescent(op, 2000, 300_000);
      s.mark("quiet");
      await createImages(cluster, images, 2 * images);
      s.mark("images created");
      await new Promise((r) => setTimeout(r, Number(values["warmup-seconds"]) * 1000));
      s.mark("end");
    } finally {
      s.stop();
      await heap.stop();
      await op.stop();
    }
    print("warm-up of fresh images", s);
    printHeap(heap);
    const from = s.marks.find((m) => m.what === "images created")!.t_ms;
    const w = s.samples.filter((x) => x.t_ms >= from);
    const rss = w.map((x) => x.rss_mib).sort((a, b) => a - b);
    console.log(
      `warm-up window: RSS median ${rss[rss.length >> 1].toFixed(0)} MiB, max ${
        rss.at(-1)!.toFixed(0)
      } MiB, peak since spawn ${w.at(-1)!.hwm_mib.toFixed(0)} MiB, CPU ${
        (w.at(-1)!.cpu_s - w[0].cpu_s).toFixed(1)
      } s`,
    );
  }
} finally {
  await cluster.stop();
}
