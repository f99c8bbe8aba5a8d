/**
 * Benchmark results on disk: one JSON file per scenario run (`<date>-<scenario>.json`, with the
 * machine, versions and date) and `latest.json`, whose top-level keys hold the latest median of
 * each headline figure; a run updates only the figures it measured.
 *
 * @module
 */
import { VERSION } from "../lib/cli/version.ts";
import type { Spread } from "./stats.ts";

/** Where and on what the benchmark ran. */
export interface Machine {
  os: string;
  kernel: string;
  cpu_model: string;
  cpus: number;
  memory_gib: number;
  /** 1-minute load average when the run started: other work on the machine skews figures. */
  load_avg_1m: number;
}

/** Software the figures belong to. */
export interface Versions {
  drop: string;
  deno: string;
  v8: string;
  typescript: string;
  git_commit: string;
  /** Whether the working tree had uncommitted changes. */
  git_dirty: boolean;
}

/** Describes this machine. */
export function machineInfo(): Machine {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const model = /^model name\s*:\s*(.+)$/m.exec(read("/proc/cpuinfo"))?.[1] ?? "unknown";
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(read("/proc/meminfo"))?.[1] ?? Number.NaN);
  return {
    os: `${Deno.build.os}-${Deno.build.arch}`,
    kernel: Deno.osRelease(),
    cpu_model: model.trim(),
    cpus: navigator.hardwareConcurrency,
    memory_gib: Math.round((memKiB / 2 ** 20) * 10) / 10,
    load_avg_1m: Deno.loadavg()[0],
  };
}

/** Versions of the operator, the runtime and the source tree. */
export async function versions(): Promise<Versions> {
  const git = async (args: string[]) => {
    try {
      const out = await new Deno.Command("git", {
        args,
        cwd: new URL("../", import.meta.url),
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
    } catch {
      return "";
    }
  };
  return {
    drop: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    git_commit: (await git(["rev-parse", "HEAD"])) || "unknown",
    git_dirty: (await git(["status", "--porcelain", "--", "lib", "main.ts"])) !== "",
  };
}

/** A headline figure: its latest median, spread, target and where it came from. */
export interface Headline {
  value: number;
  spread: Spread;
  unit: string;
  /** The target, in words. */
  target: string;
  /** Whether the median meets the target; null where the issue sets none. */
  met: boolean | null;
  scenario: string;
  date: string;
  file: string;
}

/** The top-level keys of `latest.json`, in the order. */
export const HEADLINE_KEYS = [
  "warmup_ratio_to_bound",
  "node_join_first_pod_p99_s",
  "node_join_warm_p99_s",
  "steady_state_requests_per_min",
  "requests_per_pull",
  "rss_mib_5000_nodes",
  "startup_synced_s_5000_nodes",
  "reconcile_p99_ms",
] as const;

/** One of the headline keys. */
export type HeadlineKey = typeof HEADLINE_KEYS[number];

/** JSON with NaN and Infinity written as null (JSON has no such numbers). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
    2,
  ) +
    "\n";
}

/** Writes `<dir>/<date>-<scenario>.json`; returns its path. */
export async function writeScenarioFile(
  dir: string,
  scenario: string,
  body: Record<string, unknown>,
  when: Date,
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${when.toISOString().slice(0, 10)}-${scenario}.json`;
  await Deno.writeTextFile(path, toJson(body));
  return path;
}

/**
 * Merges headline figures into `<dir>/latest.json`: each top-level key is the figure's latest
 * median, `details` says how it was obtained; figures this run did not measure stay.
 */
export async function updateLatest(
  dir: string,
  figures: Partial<Record<HeadlineKey, Headline>>,
  meta: { date: string; machine: Machine; versions: Versions },
): Promise<Record<string, unknown>> {
  const path = `${dir}/latest.json`;
  let previous: Record<string, unknown> = {};
  try {
    previous = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const details = { ...(previous.details as Record<string, Headline> | undefined) };
  for (const [k, h] of Object.entries(figures)) if (h) details[k] = h;
  const latest: Record<string, unknown> = {};
  for (const k of HEADLINE_KEYS) latest[k] = details[k]?.value ?? previous[k] ?? null;
  latest.date = meta.date;
  latest.machine = meta.machine;
  latest.versions = meta.versions;
  latest.details = details;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, toJson(latest));
  return latest;
}

/** Renders rows as an aligned text table (first row: header). */
export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (cell ?? "").padEnd(widths[c])).join("  ").trimEnd();
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)]
    .join("\n");
}

/** Renders rows as a Markdown table (first row: header), for the README. */
export function markdownTable(rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(" | ")} |`;
  return [line(rows[0]), line(rows[0].map(() => "---")), ...rows.slice(1).map(line)].join("\n");
}

/** Formats a number for a table: up to `digits` decimals, "n/a" when not finite. */
export function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  return Number(v.toFixed(digits)).toString();
}

/** The rows of the headline table from `latest.json` details. */
export function headlineRows(details: Partial<Record<HeadlineKey, Headline>>): string[][] {
  const rows = [["Figure", "Median", "Spread (min-max, runs)", "Target", "Met"]];
  for (const k of HEADLINE_KEYS) {
    const h = details[k];
    if (!h) {
      rows.push([k, "not measured", "", "", ""]);
      continue;
    }
    rows.push([
      `${k} (${h.unit})`,
      fmt(h.value, 3),
      `${fmt(h.spread.min, 3)}-${fmt(h.spread.max, 3)}, n=${h.spread.n}`,
      h.target,
      h.met === null ? "-" : h.met ? "yes" : "no",
    ]);
  }
  return rows;
}
