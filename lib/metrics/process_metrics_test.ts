import assert from "node:assert/strict";
import { DropMetrics } from "./metrics.ts";
import { PROCESS_METRIC_NAMES } from "./process_metrics.ts";

const LINUX = Deno.build.os === "linux";
const MIB = 2 ** 20;
// sysconf(_SC_CLK_TCK) is 100 on every Linux architecture Deno runs on.
const CLOCK_TICKS = 100;

/** Samples of the text exposition: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function scrape(): Promise<Map<string, number>> {
  return samples(await new DropMetrics({ processMetrics: true }).exposition());
}

/** Fields of /proc/<pid>/stat after the command name, numbered as in proc(5) from 3. */
function procStat(pid: number | "self" = "self"): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return ["", "", "", ...stat.slice(stat.lastIndexOf(")") + 2).trim().split(" ")];
}

/** When a process started (s since the epoch), from its /proc entry. */
function procStartTime(pid: number): number {
  const bootTime = Number(/^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"))![1]);
  return bootTime + Number(procStat(pid)[22]) / CLOCK_TICKS;
}

function busy(ms: number): number {
  let x = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) x += Math.random();
  return x;
}

Deno.test("process_resident_memory_bytes is reported and not 0", async () => {
  const rss = (await scrape()).get("process_resident_memory_bytes");
  assert.ok(rss !== undefined, "process_resident_memory_bytes is absent");
  assert.ok(rss > 0, `process_resident_memory_bytes is ${rss}`);
});

Deno.test({
  name: "process_resident_memory_bytes matches VmRSS of /proc/self/status",
  ignore: !LINUX,
  fn: async () => {
    const rss = (await scrape()).get("process_resident_memory_bytes")!;
    const status = Deno.readTextFileSync("/proc/self/status");
    const vmRss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
    assert.ok(
      Math.abs(rss - vmRss) <= 8 * MIB + 0.1 * vmRss,
      `reported ${rss} bytes, /proc says ${vmRss}`,
    );
  },
});

Deno.test({
  name: "process CPU counters are the process's CPU time since it started",
  ignore: !LINUX,
  fn: async () => {
    busy(300);
    const s = await scrape();
    const f = procStat();
    const user = s.get("process_cpu_user_seconds_total")!;
    const system = s.get("process_cpu_system_seconds_total")!;
    const total = s.get("process_cpu_seconds_total")!;
    const procUser = Number(f[14]) / CLOCK_TICKS;
    const procSystem = Number(f[15]) / CLOCK_TICKS;
    // Read a moment apart, and /proc counts in clock ticks.
    const slack = 0.05;
    assert.ok(user >= 0.3 - slack, `user CPU ${user} s after 300 ms of busy work`);
    assert.ok(Math.abs(user - procUser) <= slack, `user ${user} s, /proc says ${procUser} s`);
    assert.ok(
      Math.abs(system - procSystem) <= slack,
      `system ${system} s, /proc says ${procSystem} s`,
    );
    assert.ok(Math.abs(total - (user + system)) < 1e-9, "total is user + system");
  },
});

Deno.test("process CPU counters keep counting across scrapes of one registry", async () => {
  const m = new DropMetrics({ processMetrics: true });
  const first = samples(await m.exposition()).get("process_cpu_seconds_total")!;
  busy(50);
  const second = samples(await m.exposition()).get("process_cpu_seconds_total")!;
  assert.ok(second > first, `${second} after ${first}`);
});

Deno.test("V8 heap metrics agree with Deno.memoryUsage", async () => {
  const s = await scrape();
  const usage = Deno.memoryUsage();
  const used = s.get("nodejs_heap_size_used_bytes")!;
  const total = s.get("nodejs_heap_size_total_bytes")!;
  assert.ok(used > 0 && used <= total, `used ${used} of ${total}`);
  assert.ok(
    Math.abs(used - usage.heapUsed) <= 0.25 * usage.heapUsed,
    `${used} vs ${usage.heapUsed}`,
  );
  assert.ok(s.get("nodejs_external_memory_bytes")! > 0);
  let spacesUsed = 0;
  for (const [series, v] of s) {
    if (series.startsWith("nodejs_heap_space_size_used_bytes{")) spacesUsed += v;
  }
  assert.ok(s.has('nodejs_heap_space_size_used_bytes{space="old"}'));
  assert.ok(Math.abs(spacesUsed - used) <= 0.1 * used, `spaces ${spacesUsed}, heap ${used}`);
});

Deno.test("process metrics are only those that are true under Deno", async () => {
  const s = await scrape();
  const names = new Set([...s.keys()].map((k) => k.replace(/\{.*$/, "")));
  for (const name of PROCESS_METRIC_NAMES) assert.ok(names.has(name), `${name} is absent`);
  for (const name of names) {
    if (!/^(process|nodejs)_/.test(name)) continue;
    assert.ok(PROCESS_METRIC_NAMES.includes(name), `${name} is not one of ours`);
  }
  for (const [series, v] of s) {
    assert.ok(Number.isFinite(v), `${series} is ${v}`);
    if (series.startsWith("process_")) assert.ok(v > 0, `${series} is ${v}`);
  }
});

Deno.test("without processMetrics no process metrics are registered", async () => {
  const text = await new DropMetrics().exposition();
  assert.doesNotMatch(text, /^(process|nodejs)_/m);
});

// A process of its own: `deno test` starts every test module in a new worker with its own time
// origin, while the operator has one worker, started with the process.
Deno.test("process metrics are true under the operator's permission set", async () => {
  const config = new URL("../../deno.json", import.meta.url);
  const metrics = new URL("./metrics.ts", import.meta.url);
  const script = `
    import { DropMetrics } from "${metrics.href}";
    console.log(await new DropMetrics({ processMetrics: true }).exposition());
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-P=operator", `--config=${config.pathname}`, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The child waits for its script on stdin meanwhile.
  const procStart = LINUX ? procStartTime(child.pid) : undefined;
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  assert.doesNotMatch(stderr, /NotCapable|PermissionDenied/);
  const s = samples(new TextDecoder().decode(out.stdout));
  for (const name of PROCESS_METRIC_NAMES.filter((n) => !n.startsWith("nodejs_heap_space"))) {
    const v = s.get(name);
    assert.ok(v !== undefined && v > 0, `${name} is ${v}`);
  }
  if (procStart !== undefined) {
    // btime has whole seconds, and the runtime starts its clock just after exec.
    const start = s.get("process_start_time_seconds")!;
    assert.ok(Math.abs(start - procStart) <= 2, `reported ${start}, /proc says ${procStart}`);
  }
});
