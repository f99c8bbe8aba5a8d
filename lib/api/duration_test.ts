import assert from "node:assert/strict";
import { formatDuration, isDuration, parseDuration } from "./duration.ts";

Deno.test("parseDuration reads Go-style duration strings", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("168h"), 168 * 3_600_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1h0m0s"), 3_600_000);
  assert.equal(parseDuration("0"), 0);
});

Deno.test("parseDuration rejects malformed text with a clear message", () => {
  for (const bad of ["", "5", "5 m", "1d", "-1s", "m5", "1h 30m", "abc"]) {
    assert.throws(() => parseDuration(bad), /Cannot parse duration/, bad);
    assert.equal(isDuration(bad), false, bad);
  }
  assert.throws(() => parseDuration("1d"), /unexpected "1d"/);
});

Deno.test("formatDuration is compact and round-trips", () => {
  assert.equal(formatDuration(5_400_000), "1h30m");
  assert.equal(formatDuration(45_000), "45s");
  assert.equal(formatDuration(250), "250ms");
  assert.equal(formatDuration(0), "0s");
  for (const ms of [1000, 61_000, 3_600_000, 90_061_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
