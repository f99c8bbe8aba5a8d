import assert from "node:assert/strict";
import { bucketSamples } from "./rss_timeline_buckets.ts";

const s = (t_ms: number, rss_mib: number, hwm_mib: number, cpu_s: number) => ({
  t_ms,
  rss_mib,
  hwm_mib,
  cpu_s,
});

Deno.test("bucketSamples keeps the largest RSS, the last peak and the CPU spent per bucket", () => {
  const buckets = bucketSamples(
    [s(0, 50, 50, 1), s(400, 80, 80, 1.5), s(900, 60, 80, 2), s(2100, 90, 95, 2.25)],
    [{ t_ms: 500, what: "synced" }, { t_ms: 9000, what: "end" }],
    1000,
  );
  assert.deepEqual(buckets, [
    { t_ms: 0, rss_mib_max: 80, hwm_mib: 80, cpu_s: 1, marks: ["synced"] },
    { t_ms: 2000, rss_mib_max: 90, hwm_mib: 95, cpu_s: 0.25, marks: ["end"] },
  ]);
});

Deno.test("bucketSamples rejects a bucket length that is not positive", () => {
  assert.throws(() => bucketSamples([], [], 0), /Invalid bucket length 0/);
});

Deno.test("bucketSamples of no samples is empty", () => {
  assert.deepEqual(bucketSamples([], [{ t_ms: 0, what: "x" }], 100), []);
});
