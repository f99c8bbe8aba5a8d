import assert from "node:assert/strict";
import { formatGoDuration, humanDuration, parseGoDuration } from "./duration.ts";

Deno.test("human durations match apimachinery", () => {
  const s = 1000;
  const cases: [number, string][] = [
    [0, "0s"],
    [59 * s, "59s"],
    [119 * s, "119s"],
    [120 * s, "2m"],
    [150 * s, "2m30s"],
    [10 * 60 * s, "10m"],
    [3 * 3600 * s, "3h"],
    [3 * 3600 * s + 60 * s, "3h1m"],
    [30 * 3600 * s, "30h"],
    [50 * 3600 * s, "2d2h"],
    [10 * 86400 * s, "10d"],
    [800 * 86400 * s, "2y70d"],
    [-5 * s, "<invalid>"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

Deno.test("go durations parse and print", () => {
  assert.equal(parseGoDuration("1h30m"), 5400e9);
  assert.equal(parseGoDuration("1.5s"), 1.5e9);
  assert.equal(parseGoDuration("-2m"), -120e9);
  assert.equal(parseGoDuration("100ms"), 1e8);
  assert.equal(parseGoDuration("0"), 0);
  assert.equal(parseGoDuration("5"), undefined);
  assert.equal(parseGoDuration("1d"), undefined);
  assert.equal(formatGoDuration(5400e9), "1h30m0s");
  assert.equal(formatGoDuration(1.5e9), "1.5s");
});
