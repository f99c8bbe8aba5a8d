/**
 * Process and V8 heap metrics that are true under Deno with the operator's permission set.
 *
 * prom-client's `collectDefaultMetrics` reads `/proc/self/*` for memory and file descriptors.
 * Deno allows that only with `--allow-all` (a `read` permission does not cover `/proc/self`), and
 * prom-client swallows the error, so the operator reported a resident memory of 0. Its event-loop
 * histogram and handle counts come from Node APIs Deno stubs out (NaN, int64 max, always 0), and
 * its CPU counters only count from the moment they were registered. Every value here comes from
 * an API that needs no permission and reports the whole process since it started.
 *
 * The names are prom-client's (and so Prometheus' `process_*` convention), so dashboards and the
 * benchmark keep working.
 *
 * @module
 */
import process from "node:process";
import { getHeapSpaceStatistics } from "node:v8";
import client from "prom-client";

/** Names of the metrics {@linkcode registerProcessMetrics} registers. */
export const PROCESS_METRIC_NAMES: readonly string[] = [
  "process_cpu_user_seconds_total",
  "process_cpu_system_seconds_total",
  "process_cpu_seconds_total",
  "process_start_time_seconds",
  "process_resident_memory_bytes",
  "nodejs_heap_size_total_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_external_memory_bytes",
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
];

/** Registers the process metrics in `registry`; their values are read at scrape time. */
export function registerProcessMetrics(registry: client.Registry): void {
  const registers = [registry];

  // getrusage(RUSAGE_SELF) underneath: all threads, since the process started.
  new client.Counter({
    name: "process_cpu_user_seconds_total",
    help: "Total user CPU time spent in seconds.",
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      setCounter(this, user / 1e6);
      setCounter(cpuSystem, system / 1e6);
      setCounter(cpuTotal, (user + system) / 1e6);
    },
  });
  const cpuSystem = new client.Counter({
    name: "process_cpu_system_seconds_total",
    help: "Total system CPU time spent in seconds.",
    registers,
  });
  const cpuTotal = new client.Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers,
  });

  // The time origin of the main worker, which Deno starts with the process, before any module
  // loads (a Worker has its own; the operator runs in the main worker only).
  const startTime = performance.timeOrigin / 1000;
  new client.Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers,
    collect() {
      this.set(startTime);
    },
  });

  new client.Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect() {
      const usage = Deno.memoryUsage();
      this.set(usage.rss);
      heapTotal.set(usage.heapTotal);
      heapUsed.set(usage.heapUsed);
      external.set(usage.external);
    },
  });
  const heapTotal = new client.Gauge({
    name: "nodejs_heap_size_total_bytes",
    help: "V8 heap size in bytes.",
    registers,
  });
  const heapUsed = new client.Gauge({
    name: "nodejs_heap_size_used_bytes",
    help: "V8 heap size used in bytes.",
    registers,
  });
  const external = new client.Gauge({
    name: "nodejs_external_memory_bytes",
    help: "Memory of C++ objects bound to JavaScript objects managed by V8, in bytes.",
    registers,
  });

  new client.Gauge({
    name: "nodejs_heap_space_size_total_bytes",
    help: "V8 heap space size in bytes.",
    labelNames: ["space"],
    registers,
    collect() {
      for (const s of getHeapSpaceStatistics()) {
        const space = s.space_name.replace(/_space$/, "");
        this.set({ space }, s.space_size);
        spaceUsed.set({ space }, s.space_used_size);
        spaceAvailable.set({ space }, s.space_available_size);
      }
    },
  });
  const spaceUsed = new client.Gauge({
    name: "nodejs_heap_space_size_used_bytes",
    help: "V8 heap space size used in bytes.",
    labelNames: ["space"],
    registers,
  });
  const spaceAvailable = new client.Gauge({
    name: "nodejs_heap_space_size_available_bytes",
    help: "V8 heap space size available in bytes.",
    labelNames: ["space"],
    registers,
  });
}

/** Sets a counter to an absolute total read from the system (counters have no `set`). */
function setCounter(counter: client.Counter, value: number): void {
  counter.reset();
  counter.inc(Math.max(0, value));
}
