import assert from "node:assert/strict";
import { DiscoveryError } from "./errors.ts";
import { formatDiscoveryReport, renderBar } from "./report.ts";
import type { SourceOutcome } from "./source.ts";

const outcomes: SourceOutcome[] = [{
  name: "prometheus[0]",
  index: 0,
  type: "prometheus",
  endpoint: "https://mimir.example.com/prometheus",
  healthy: true,
  images: [{ image: "a", score: 1 }, { image: "b", score: 2 }, { image: "c", score: 3 }],
  warnings: ['2 series without an "image" label were skipped'],
  latencyMs: 120.4,
}, {
  name: "registry[1]",
  index: 1,
  type: "registry",
  endpoint: "https://registry.invalid",
  healthy: false,
  images: [],
  error: new DiscoveryError(
    "DNSError",
    'Cannot list tags of "team/app": cannot resolve host "registry.invalid"',
  ),
  warnings: [],
  latencyMs: 1500,
}];

Deno.test("the report shows source health and a bar chart scaled to the top score", () => {
  const text = formatDiscoveryReport(outcomes, {
    images: [
      { image: "registry.example.com/ci/build:1.0.3", score: 4200, source: "prometheus[0]" },
      { image: "registry.example.com/ci/test:2.4.1", score: 2500, source: "prometheus[0]" },
      { image: "registry.example.com/ci/lint:1.8.0", score: 900, source: "prometheus[0]" },
    ],
    candidates: 4,
    filteredOut: 1,
  }, { width: 100 });
  const lines = text.split("\n");
  assert.equal(
    lines[1],
    "  ✓ prometheus[0]  3 images  120 ms  https://mimir.example.com/prometheus",
  );
  assert.equal(lines[2], '      warning: 2 series without an "image" label were skipped');
  assert.equal(lines[3], "  ✗ registry[1]    DNSError  1.5 s  https://registry.invalid");
  assert.equal(
    lines[4],
    '      Cannot list tags of "team/app": cannot resolve host "registry.invalid"',
  );
  assert.equal(lines[6], "Images (3, 1 more cut by maxImages, 1 removed by imageFilter)");
  const rows = lines.slice(8, 11);
  const bars = rows.map((r) => (r.match(/[█▏▎▍▌▋▊▉]+/) ?? [""])[0].length);
  assert.ok(bars[0] > bars[1] && bars[1] > bars[2] && bars[2] > 0, JSON.stringify(rows));
  assert.ok(rows[0].startsWith("   4200 │ registry.example.com/ci/build:1.0.3 █"), rows[0]);
  assert.ok(rows.every((r) => r.endsWith(" prometheus[0]")));
  assert.ok(lines.every((l) => [...l].length <= 100), "fits the width");
  assert.ok(text.endsWith("\n"));
});

Deno.test("long references are shortened from the left and an empty ranking says so", () => {
  const long = `registry.example.com/${"very-long-group/".repeat(6)}app:v1.2.3`;
  const text = formatDiscoveryReport([], {
    images: [{ image: long, score: 1, source: "registry[0]" }],
    candidates: 1,
    filteredOut: 0,
  }, { width: 60 });
  const row = text.split("\n").find((l) => l.includes("│") && l.includes("v1.2.3"))!;
  assert.match(row, /│ ….*app:v1\.2\.3 /);
  assert.ok([...row].length <= 60, row);
  assert.ok(
    formatDiscoveryReport([], { images: [], candidates: 0, filteredOut: 0 })
      .endsWith("Images (0)\n  none\n"),
  );
});

Deno.test("renderBar has eighth-column precision and shows any positive score", () => {
  assert.equal(renderBar(1, 4), "████");
  assert.equal(renderBar(0.5, 3), "█▌");
  assert.equal(renderBar(0.0001, 10), "▏");
  assert.equal(renderBar(0, 10), "");
});
