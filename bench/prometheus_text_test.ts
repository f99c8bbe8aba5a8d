import assert from "node:assert/strict";
import {
  histogramDelta,
  histogramQuantile,
  histogramsBy,
  parsePrometheusText,
  sumBy,
  valueOf,
} from "./prometheus_text.ts";

const TEXT = `# HELP rest_client_requests_total Requests.
# TYPE rest_client_requests_total counter
rest_client_requests_total{verb="create",resource="pods",code="201"} 10
rest_client_requests_total{verb="create",resource="pods",code="409"} 2
rest_client_requests_total{verb="watch",resource="pods",code="200"} 1
process_resident_memory_bytes 52428800
controller_runtime_reconcile_time_seconds_bucket{le="0.001",controller="cachedimage"} 50
controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="cachedimage"} 90
controller_runtime_reconcile_time_seconds_bucket{le="0.01",controller="cachedimage"} 100
controller_runtime_reconcile_time_seconds_bucket{le="+Inf",controller="cachedimage"} 100
controller_runtime_reconcile_time_seconds_sum{controller="cachedimage"} 0.2
controller_runtime_reconcile_time_seconds_count{controller="cachedimage"} 100
weird{msg="a \\"quoted\\" value, with comma"} 1
`;

Deno.test("parses samples, labels with escapes and special values", () => {
  const s = parsePrometheusText(TEXT + 'x{le="+Inf"} +Inf\n');
  assert.equal(valueOf(s, "process_resident_memory_bytes"), 52428800);
  assert.equal(valueOf(s, "weird")!, 1);
  assert.equal(s.find((x) => x.name === "weird")!.labels.msg, 'a "quoted" value, with comma');
  assert.equal(valueOf(s, "x"), Infinity);
});

Deno.test("sums counters by labels", () => {
  const s = parsePrometheusText(TEXT);
  const m = sumBy(s, "rest_client_requests_total", ["verb", "resource"]);
  assert.equal(m.get("create/pods"), 12);
  assert.equal(m.get("watch/pods"), 1);
});

Deno.test("histogram quantiles interpolate within buckets like histogram_quantile", () => {
  const h = histogramsBy(
    parsePrometheusText(TEXT),
    "controller_runtime_reconcile_time_seconds",
    "controller",
  )
    .get("cachedimage")!;
  assert.equal(h.count, 100);
  assert.equal(histogramQuantile(h, 0.5), 0.001);
  // Rank 70 lies halfway through the (0.001, 0.005] bucket, which holds ranks 50-90.
  assert.ok(Math.abs(histogramQuantile(h, 0.7) - 0.003) < 1e-12);
  assert.ok(Math.abs(histogramQuantile(h, 0.99) - 0.0095) < 1e-12);
  assert.ok(Number.isNaN(histogramQuantile({ buckets: [], count: 0, sum: 0 }, 0.5)));
});

Deno.test("a quantile in the +Inf bucket is the largest finite bound", () => {
  const h = {
    buckets: [{ le: 1, count: 1 }, { le: 5, count: 1 }, { le: Infinity, count: 4 }],
    count: 4,
    sum: 30,
  };
  assert.equal(histogramQuantile(h, 0.99), 5);
});

Deno.test("histogram delta covers only observations between two scrapes", () => {
  const before = {
    buckets: [{ le: 0.01, count: 5 }, { le: Infinity, count: 6 }],
    count: 6,
    sum: 1,
  };
  const after = {
    buckets: [{ le: 0.01, count: 15 }, { le: Infinity, count: 16 }],
    count: 16,
    sum: 2,
  };
  const d = histogramDelta(after, before);
  assert.deepEqual(d.buckets, [{ le: 0.01, count: 10 }, { le: Infinity, count: 10 }]);
  assert.equal(d.count, 10);
  assert.equal(d.sum, 1);
});
