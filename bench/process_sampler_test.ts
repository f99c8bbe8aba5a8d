import assert from "node:assert/strict";
import {
  parseProcStat,
  parseProcStatus,
  readProcess,
  summarizeSamples,
} from "./process_sampler.ts";

Deno.test("parses VmRSS and VmHWM of /proc/<pid>/status", () => {
  const text = "Name:\tdeno\nVmPeak:\t 999 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
  assert.deepEqual(parseProcStatus(text), { rssKiB: 102400, hwmKiB: 204800 });
  assert.throws(() => parseProcStatus("Name:\tdeno\n"), /VmRSS/);
});

Deno.test("parses utime and stime after a command name holding spaces and parentheses", () => {
  const fields = ["S", "1", "2", "3", "0", "-1", "4194560", "10", "0", "0", "0", "250", "50", "0"];
  const text = `1234 (deno (x) y) ${fields.join(" ")} 0 20 0 8\n`;
  assert.deepEqual(parseProcStat(text), { userSeconds: 2.5, systemSeconds: 0.5 });
});

Deno.test("reads this process from /proc", () => {
  const r = readProcess(Deno.pid);
  assert.ok(r && r.rss_mib > 1 && r.hwm_mib >= r.rss_mib && r.cpu_s >= 0);
  assert.equal(readProcess(2 ** 22 + 12345), undefined);
});

Deno.test("summarises a window: CPU seconds, cores, RSS median and max", () => {
  const s = summarizeSamples([
    { t_ms: 0, rss_mib: 50, cpu_s: 1 },
    { t_ms: 1000, rss_mib: 70, cpu_s: 1.5 },
    { t_ms: 2000, rss_mib: 60, cpu_s: 2 },
  ], 80);
  assert.equal(s.window_s, 2);
  assert.equal(s.cpu_s, 1);
  assert.equal(s.cpu_cores, 0.5);
  assert.equal(s.rss_mib_median, 60);
  assert.equal(s.rss_mib_max, 70);
  assert.equal(s.rss_mib_hwm, 80);
});
