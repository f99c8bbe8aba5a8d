import assert from "node:assert/strict";
import { DropMetrics } from "./metrics.ts";
import { parseBindAddress, startProbeServers } from "./server.ts";

const SPEC_METRICS = [
  "drop_images_cached_total",
  "drop_pull_duration_seconds",
  "drop_pull_errors_total",
  "drop_discovery_images_found",
  "drop_active_pulls",
  "drop_reconcile_total",
  "drop_discovery_source_health",
  "drop_discovery_source_latency_seconds",
  "drop_nodes_targeted",
  "drop_nodes_cached",
  "drop_consecutive_failures",
];

Deno.test("every metric the reference names is registered with its type", async () => {
  const m = new DropMetrics();
  const text = await m.exposition();
  for (const name of SPEC_METRICS) assert.match(text, new RegExp(`# TYPE ${name} `), name);
  assert.match(text, /# TYPE drop_pull_duration_seconds histogram/);
  assert.match(text, /# TYPE drop_images_cached_total counter/);
  assert.match(text, /# TYPE drop_nodes_cached gauge/);
});

Deno.test("series of a deleted object are removed", async () => {
  const m = new DropMetrics();
  m.imagesCached.inc({ cachedimage: "a" });
  m.nodesCached.set({ cachedimage: "a" }, 3);
  m.pullFailed("a", "ErrImagePull");
  m.pullFailed("a", "NotFound");
  m.pullFailed("b", "ErrImagePull");
  m.sourceQueried("p", "prometheus[0]", true, 0.2);
  m.discoveryImagesFound.set({ discoverypolicy: "p" }, 4);
  m.forgetCachedImage("a");
  m.forgetDiscoveryPolicy("p");
  const text = await m.exposition();
  assert.doesNotMatch(text, /cachedimage="a"/);
  assert.doesNotMatch(text, /discoverypolicy="p"/);
  assert.match(text, /drop_pull_errors_total\{cachedimage="b",reason="ErrImagePull"\} 1/);
});

Deno.test("drop_active_pulls is read from its source at scrape time", async () => {
  const m = new DropMetrics();
  let active = new Map([["default", 1]]);
  m.setActivePullsSource(() => active);
  assert.match(await m.exposition(), /drop_active_pulls\{policy="default"\} 1/);
  active = new Map([["fast", 2]]);
  const text = await m.exposition();
  assert.match(text, /drop_active_pulls\{policy="fast"\} 2/);
  assert.doesNotMatch(text, /policy="default"/);
});

Deno.test("parseBindAddress reads controller-runtime style addresses", () => {
  assert.deepEqual(parseBindAddress(":8081"), { hostname: "0.0.0.0", port: 8081 });
  assert.deepEqual(parseBindAddress("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseBindAddress("[::1]:9"), { hostname: "::1", port: 9 });
  assert.equal(parseBindAddress("0"), undefined);
  assert.throws(() => parseBindAddress("8080"), /Invalid bind address "8080"/);
  assert.throws(() => parseBindAddress(":99999"), /Invalid bind address/);
});

Deno.test("probe and metrics servers answer", async () => {
  const m = new DropMetrics();
  let ready = false;
  const s = startProbeServers({
    metrics: m,
    metricsBind: { hostname: "127.0.0.1", port: 0 },
    probeBind: { hostname: "127.0.0.1", port: 0 },
    healthy: () => true,
    ready: () => ready,
  });
  try {
    const get = async (addr: Deno.NetAddr | undefined, path: string) => {
      const res = await fetch(`http://127.0.0.1:${addr!.port}${path}`);
      return [res.status, await res.text()] as const;
    };
    assert.equal((await get(s.probeAddr, "/healthz"))[0], 200);
    assert.equal((await get(s.probeAddr, "/readyz"))[0], 503);
    ready = true;
    assert.equal((await get(s.probeAddr, "/readyz"))[0], 200);
    const [code, body] = await get(s.metricsAddr, "/metrics");
    assert.equal(code, 200);
    assert.match(body, /drop_reconcile_total/);
  } finally {
    await s.shutdown();
  }
});

Deno.test("latency histograms resolve milliseconds", async () => {
  const m = new DropMetrics();
  m.apiLatency.observe({ verb: "get", resource: "leases" }, 0.0008);
  m.apiLatency.observe({ verb: "get", resource: "leases" }, 0.004);
  m.sourceQueried("p", "prometheus[0]", true, 0.002);
  m.reconcileTime.observe({ controller: "c" }, 0.0003);
  m.reconcileTime.observe({ controller: "c" }, 0.004);
  m.queueLatency.observe({ name: "c" }, 0.0003);
  const text = await m.exposition();
  const bucket = (metric: string, le: string, labels: string) =>
    Number(new RegExp(`^${metric}_bucket\\{le="${le}",${labels}\\} (\\S+)$`, "m").exec(text)?.[1]);
  const api = 'verb="get",resource="leases"';
  assert.equal(bucket("rest_client_request_duration_seconds", "0.001", api), 1);
  assert.equal(bucket("rest_client_request_duration_seconds", "0.0025", api), 1);
  assert.equal(bucket("rest_client_request_duration_seconds", "0.005", api), 2);
  const source = 'discoverypolicy="p",source="prometheus\\[0\\]"';
  assert.equal(bucket("drop_discovery_source_latency_seconds", "0.001", source), 0);
  assert.equal(bucket("drop_discovery_source_latency_seconds", "0.0025", source), 1);
  const controller = 'controller="c"';
  assert.equal(bucket("controller_runtime_reconcile_time_seconds", "0.0005", controller), 1);
  assert.equal(bucket("controller_runtime_reconcile_time_seconds", "0.001", controller), 1);
  assert.equal(bucket("controller_runtime_reconcile_time_seconds", "0.0025", controller), 1);
  assert.equal(bucket("controller_runtime_reconcile_time_seconds", "0.005", controller), 2);
  assert.equal(bucket("workqueue_queue_duration_seconds", "0.0005", 'name="c"'), 1);
});
