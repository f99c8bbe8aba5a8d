/**
 * Memory and CPU of another process, read from Linux's /proc the way `ps` and the Prometheus
 * process collector do, so the operator's footprint is measured from outside without trusting
 * its own metrics.
 *
 * @module
 */
import { median } from "./stats.ts";

/**
 * Clock ticks per second of the times in /proc/<pid>/stat. The kernel reports them in USER_HZ,
 * which is 100 on every Linux architecture's user ABI regardless of the kernel's HZ.
 */
export const USER_HZ = 100;

/** Memory figures of /proc/<pid>/status, in KiB. */
export interface ProcMemory {
  /** Resident set size now (`VmRSS`). */
  rssKiB: number;
  /** Peak resident set size since start (`VmHWM`). */
  hwmKiB: number;
}

/** Parses `VmRSS` and `VmHWM` out of /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcMemory {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(text);
    if (!m) throw new Error(`Cannot read ${name} from /proc status: field missing`);
    return Number(m[1]);
  };
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
}

/** CPU time of a process from /proc/<pid>/stat, in seconds. */
export interface ProcCpu {
  userSeconds: number;
  systemSeconds: number;
}

/**
 * Parses utime and stime (fields 14 and 15) of /proc/<pid>/stat. The command name (field 2) is
 * in parentheses and may itself hold spaces and parentheses, so fields are counted from the
 * last `)`.
 */
export function parseProcStat(text: string): ProcCpu {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error("Cannot read /proc stat: no command name");
  // After ")" comes field 3 (state); utime is field 14, i.e. index 11 from there.
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error("Cannot read utime and stime from /proc stat");
  }
  return { userSeconds: utime / USER_HZ, systemSeconds: stime / USER_HZ };
}

/** One reading of a process. */
export interface ProcSample {
  /** Milliseconds since the sampler started. */
  t_ms: number;
  rss_mib: number;
  /** User + system CPU seconds since the process started. */
  cpu_s: number;
}

/** Reads one sample of `pid` now; undefined when the process is gone (or a zombie). */
export function readProcess(
  pid: number,
): { rss_mib: number; hwm_mib: number; cpu_s: number } | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    // An exited process not yet reaped keeps its status file without memory figures.
    if (!/^VmRSS:/m.test(status)) return undefined;
    const mem = parseProcStatus(status);
    const cpu = parseProcStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
    return {
      rss_mib: mem.rssKiB / 1024,
      hwm_mib: mem.hwmKiB / 1024,
      cpu_s: cpu.userSeconds + cpu.systemSeconds,
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** What a window of samples says about a process. */
export interface FootprintSummary {
  samples: number;
  window_s: number;
  rss_mib_median: number;
  rss_mib_max: number;
  /** Peak RSS since the process started (VmHWM) at the end of the window. */
  rss_mib_hwm: number;
  /** CPU seconds spent inside the window. */
  cpu_s: number;
  /** CPU seconds per wall second inside the window (1 = one core busy). */
  cpu_cores: number;
}

/** Summarises samples taken over a window. */
export function summarizeSamples(samples: readonly ProcSample[], hwmMiB: number): FootprintSummary {
  if (samples.length === 0) {
    return {
      samples: 0,
      window_s: 0,
      rss_mib_median: Number.NaN,
      rss_mib_max: Number.NaN,
      rss_mib_hwm: hwmMiB,
      cpu_s: Number.NaN,
      cpu_cores: Number.NaN,
    };
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  const window = (last.t_ms - first.t_ms) / 1000;
  const cpu = last.cpu_s - first.cpu_s;
  return {
    samples: samples.length,
    window_s: window,
    rss_mib_median: median(samples.map((s) => s.rss_mib)),
    rss_mib_max: Math.max(...samples.map((s) => s.rss_mib)),
    rss_mib_hwm: hwmMiB,
    cpu_s: cpu,
    cpu_cores: window > 0 ? cpu / window : Number.NaN,
  };
}

/** Samples a process at a fixed interval until stopped. */
export class ProcessSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly #start = performance.now();
  #samples: ProcSample[] = [];
  #timer?: ReturnType<typeof setInterval>;
  #hwm = Number.NaN;

  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
  }

  /** Takes a sample now and then every interval. */
  start(): this {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
    return this;
  }

  /** Takes one sample now (also useful to mark the edges of a window). */
  sample(): ProcSample | undefined {
    const r = readProcess(this.#pid);
    if (!r) return undefined;
    this.#hwm = r.hwm_mib;
    const s = { t_ms: performance.now() - this.#start, rss_mib: r.rss_mib, cpu_s: r.cpu_s };
    this.#samples.push(s);
    return s;
  }

  /** Samples so far; `sinceMs` keeps only those taken at or after that sampler time. */
  samples(sinceMs = 0): ProcSample[] {
    return this.#samples.filter((s) => s.t_ms >= sinceMs);
  }

  /** Milliseconds since the sampler started (to mark windows). */
  now(): number {
    return performance.now() - this.#start;
  }

  /** Summary of the samples since `sinceMs`. */
  summary(sinceMs = 0): FootprintSummary {
    return summarizeSamples(this.samples(sinceMs), this.#hwm);
  }

  /** Stops sampling, taking a last sample. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
  }
}
