/**
 * What `drop demo` shows: per-image progress bars and a node x image grid on a terminal, plain
 * lines otherwise. Pure functions of a snapshot of the cluster, so they can be tested.
 *
 * @module
 */

/** One CachedImage as the demo shows it. */
export interface ImageRow {
  name: string;
  reference: string;
  phase: string;
  ready: number;
  targeted: number;
  pulling: number;
  /** Ready condition reason and message. */
  reason: string;
  message: string;
  cachedNodes: string[];
}

/** A snapshot of the demo cluster. */
export interface DemoSnapshot {
  elapsedMs: number;
  nodes: string[];
  images: ImageRow[];
  /** Nodes pulling, per image name. */
  pullingOn: Map<string, Set<string>>;
  /** Nodes whose last pull failed, per image name. */
  failedOn: Map<string, Set<string>>;
  apiRequests: number;
}

const RESET = "\x1b[0m";
const COLORS = {
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  red: "\x1b[31m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
};

function paint(text: string, color: keyof typeof COLORS, enabled: boolean): string {
  return enabled ? `${COLORS[color]}${text}${RESET}` : text;
}

/** A progress bar of `width` cells. */
export function bar(done: number, total: number, width: number): string {
  if (total <= 0) return "░".repeat(width);
  const filled = Math.round((done / total) * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function phaseColor(phase: string): keyof typeof COLORS {
  if (phase === "Ready") return "green";
  if (phase === "Degraded") return "red";
  if (phase === "Pulling") return "yellow";
  return "dim";
}

/** A reference without the implicit Docker Hub prefix, for display. */
export function shortReference(ref: string): string {
  return ref.replace(/^docker\.io\/(library\/)?/, "");
}

function fit(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(1, width - 1)) + "…" : text;
}

/** The full-screen view for a terminal of `columns` width. */
export function renderScreen(s: DemoSnapshot, columns: number, color = true): string {
  const labels = s.images.map((img, i) =>
    `${String(i + 1).padStart(2)} ${shortReference(img.reference)}`
  );
  const nameWidth = Math.min(44, Math.max(12, ...labels.map((l) => l.length)));
  const barWidth = Math.max(10, Math.min(24, columns - nameWidth - 30));
  const lines: string[] = [];
  lines.push(
    paint(
      `drop demo  ${
        seconds(s.elapsedMs)
      }  ${s.nodes.length} nodes  ${s.images.length} images  ${s.apiRequests} API requests`,
      "bold",
      color,
    ),
    "",
  );
  s.images.forEach((img, i) => {
    const status = paint(img.phase.padEnd(8), phaseColor(img.phase), color);
    const head = `${fit(labels[i], nameWidth).padEnd(nameWidth)} ${
      bar(img.ready, img.targeted, barWidth)
    } ${`${img.ready}/${img.targeted}`.padStart(5)} `;
    const room = columns - head.length - 9;
    const detail = img.phase === "Degraded" && room > 10
      ? ` ${paint(fit(img.message, room), "red", color)}`
      : "";
    lines.push(`${head}${status}${detail}`);
  });
  // The grid: one row per node, one column per image (numbered as above).
  if (s.images.length > 0 && s.images.length * 2 + 14 <= columns) {
    const nodeWidth = Math.max(...s.nodes.map((n) => n.length), 4);
    const header = s.images.map((_, i) => String((i + 1) % 10)).join(" ");
    lines.push(
      "",
      paint(
        `${"".padEnd(nodeWidth)}  ${header}   █ cached  ▒ pulling  ✗ failed  · waiting`,
        "dim",
        color,
      ),
    );
    for (const node of s.nodes) {
      const cells = s.images.map((img) => {
        if (img.cachedNodes.includes(node)) return paint("█", "green", color);
        if (s.pullingOn.get(img.name)?.has(node)) return paint("▒", "yellow", color);
        if (s.failedOn.get(img.name)?.has(node)) return paint("✗", "red", color);
        return paint("·", "dim", color);
      });
      lines.push(`${node.padEnd(nodeWidth)}  ${cells.join(" ")}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Plain progress lines: one per image whose state changed since `previous`. */
export function renderChanges(
  s: DemoSnapshot,
  previous: Map<string, string>,
): string[] {
  const out: string[] = [];
  for (const img of s.images) {
    const state = `${img.phase} ${img.ready}/${img.targeted} ${img.reason}`;
    if (previous.get(img.name) === state) continue;
    previous.set(img.name, state);
    const extra = img.phase === "Degraded" ? `: ${img.message}` : "";
    out.push(
      `[${seconds(s.elapsedMs).padStart(6)}] ${
        shortReference(img.reference)
      }: ${img.phase} ${img.ready}/${img.targeted}${extra}`,
    );
  }
  return out;
}
