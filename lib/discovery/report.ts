/**
 * The text the dry run (`drop discover -f policy.yaml`) prints: each source's health, then the
 * ranked images with their scores as a horizontal bar chart.
 *
 * @module
 */
import type { MergeResult } from "./merge.ts";
import type { SourceOutcome } from "./source.ts";

/** Layout of the report. */
export interface ReportOptions {
  /** Terminal width in columns. Default 80; at least 40 is used. */
  width?: number;
}

const MIN_BAR = 16;
const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** Renders the outcomes and the merged ranking as plain text ending in a newline. */
export function formatDiscoveryReport(
  outcomes: readonly SourceOutcome[],
  merged: MergeResult,
  options: ReportOptions = {},
): string {
  const width = Math.max(40, Math.floor(options.width ?? 80));
  const lines: string[] = ["Sources"];
  const nameWidth = Math.max(...outcomes.map((o) => o.name.length), 4);
  for (const o of outcomes) {
    const status = o.healthy
      ? `${o.images.length} image${o.images.length === 1 ? "" : "s"}`
      : o.error?.reason ?? "failed";
    const mark = o.healthy ? "✓" : "✗";
    lines.push(
      `  ${mark} ${o.name.padEnd(nameWidth)}  ${status}  ${
        formatLatency(o.latencyMs)
      }  ${o.endpoint}`
        .trimEnd(),
    );
    if (o.error) lines.push(...wrap(o.error.message, width - 6).map((l) => `      ${l}`));
    for (const w of o.warnings) {
      lines.push(...wrap(`warning: ${w}`, width - 6).map((l) => `      ${l}`));
    }
  }
  lines.push("");
  const { images } = merged;
  const capped = merged.candidates > images.length
    ? `, ${merged.candidates - images.length} more cut by maxImages`
    : "";
  const filtered = merged.filteredOut > 0 ? `, ${merged.filteredOut} removed by imageFilter` : "";
  lines.push(`Images (${images.length}${capped}${filtered})`);
  if (images.length === 0) {
    lines.push("  none");
    return lines.join("\n") + "\n";
  }
  const scoreWidth = Math.max(5, ...images.map((i) => String(i.score).length));
  const sourceWidth = Math.max(...images.map((i) => i.source.length));
  // References are what people read, so they get the room; the bar keeps at least MIN_BAR columns.
  const imageWidth = Math.min(
    Math.max(...images.map((i) => i.image.length)),
    Math.max(12, width - scoreWidth - sourceWidth - 8 - MIN_BAR),
  );
  const barWidth = Math.max(MIN_BAR, width - scoreWidth - imageWidth - sourceWidth - 8);
  const top = Math.max(...images.map((i) => i.score));
  lines.push(`  ${"score".padStart(scoreWidth)} │ image`);
  for (const i of images) {
    const bar = renderBar(top > 0 ? Math.max(0, i.score) / top : 0, barWidth);
    lines.push(
      `  ${String(i.score).padStart(scoreWidth)} │ ${fit(i.image, imageWidth)} ${
        bar.padEnd(barWidth)
      } ${i.source}`.trimEnd(),
    );
  }
  return lines.join("\n") + "\n";
}

/** A bar of `fraction` × `width` columns with eighth-column precision; positive means visible. */
export function renderBar(fraction: number, width: number): string {
  const eighths = Math.round(Math.min(1, Math.max(0, fraction)) * width * 8);
  const shown = fraction > 0 ? Math.max(1, eighths) : 0;
  return "█".repeat(Math.floor(shown / 8)) + EIGHTHS[shown % 8];
}

/** Pads or shortens `text` to `width`; long references keep their end, where the tag is. */
function fit(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width);
  return `…${text.slice(text.length - width + 1)}`;
}

function formatLatency(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}
