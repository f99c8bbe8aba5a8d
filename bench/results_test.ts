import assert from "node:assert/strict";
import {
  fmt,
  type Headline,
  headlineRows,
  markdownTable,
  textTable,
  toJson,
  updateLatest,
  writeScenarioFile,
} from "./results.ts";
import { spread } from "./stats.ts";

const meta = {
  date: "2026-01-02T03:04:05.000Z",
  machine: { os: "linux", kernel: "6", cpu_model: "x", cpus: 2, memory_gib: 24, load_avg_1m: 0 },
  versions: {
    drop: "0",
    deno: "2",
    v8: "1",
    typescript: "5",
    git_commit: "abc",
    git_dirty: false,
  },
};

function headline(value: number, met: boolean): Headline {
  return {
    value,
    spread: spread([value]),
    unit: "x",
    target: "<= 1",
    met,
    scenario: "s",
    date: meta.date,
    file: "f",
  };
}

Deno.test("latest.json keeps figures a run did not measure and replaces those it did", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await updateLatest(dir, { requests_per_pull: headline(3, true) }, meta);
    const latest = await updateLatest(dir, { rss_mib_5000_nodes: headline(200, false) }, meta);
    assert.equal(latest.requests_per_pull, 3);
    assert.equal(latest.rss_mib_5000_nodes, 200);
    assert.equal(latest.reconcile_p99_ms, null);
    const onDisk = JSON.parse(await Deno.readTextFile(`${dir}/latest.json`));
    assert.equal(onDisk.details.requests_per_pull.value, 3);
    assert.deepEqual(Object.keys(onDisk).slice(0, 3), [
      "warmup_ratio_to_bound",
      "node_join_first_pod_p99_s",
      "node_join_warm_p99_s",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scenario files are named by date and scenario, NaN written as null", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeScenarioFile(dir, "warmup", { x: Number.NaN }, new Date(meta.date));
    assert.equal(path, `${dir}/2026-01-02-warmup.json`);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), { x: null });
    assert.equal(toJson({ y: Infinity }), '{\n  "y": null\n}\n');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tables render aligned text and Markdown", () => {
  const rows = [["a", "bb"], ["ccc", "d"]];
  assert.equal(textTable(rows), "a    bb\n---  --\nccc  d");
  assert.equal(markdownTable(rows), "| a | bb |\n| --- | --- |\n| ccc | d |");
  assert.equal(fmt(Number.NaN), "n/a");
  assert.equal(fmt(1.23456, 2), "1.23");
  const h = headlineRows({ requests_per_pull: headline(2.5, true) });
  assert.equal(h.length, 9);
  assert.deepEqual(h.find((r) => r[0].startsWith("requests_per_pull"))?.slice(1), [
    "2.5",
    "2.5-2.5, n=1",
    "<= 1",
    "yes",
  ]);
});
