// Discovery against a REAL Prometheus (Debian's `prometheus` package): seven days of container
// metrics are backfilled with promtool, then the queries of the spec's examples run through
// runSources/discoverOnce, directly, behind a reverse proxy with a `/prometheus` base path and
// authentication, and over TLS with a custom CA and client certificates.
import assert from "node:assert/strict";
import type { DiscoverySource, PrometheusSource } from "../lib/api/mod.ts";
import {
  discoverOnce,
  runSources,
  type SecretData,
  type SourceOutcome,
} from "../lib/discovery/mod.ts";
import { createTestPki, haveOpenssl } from "./fixtures/discovery/certs.ts";
import {
  type BackfillSeries,
  openMetricsGauge,
  prometheusMissing,
  startPrometheus,
} from "./fixtures/discovery/prometheus.ts";

const missing = await prometheusMissing();
if (missing !== undefined) {
  if (Deno.env.get("DROP_REQUIRE_DISCOVERY_BACKENDS") === "1") {
    throw new Error(`DROP_REQUIRE_DISCOVERY_BACKENDS=1 but ${missing}`);
  }
  console.log(`skipping real-Prometheus discovery tests: ${missing}`);
}

const METRIC = "container_memory_working_set_bytes";
const STEP_S = 300;
const DAY_S = 86_400;
// The end of every query; the newest samples are 30 s older, so instant queries see them.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const NOW_S = NOW.getTime() / 1000;
const FIRST_S = NOW_S - 7 * DAY_S - 3600;
const LAST_S = NOW_S - 30;
const R = "registry.example.com/ci";

// The queries of the spec (discovery.md and the README), as users write them.
const BUILD_STUFF_QUERY = `count(container_memory_working_set_bytes{
  container!="",
  container!="POD",
  namespace="build-stuff"
}) by (image)`;
const BUILD_STUFF_CLUSTER_QUERY = `count(container_memory_working_set_bytes{
  container!="", container!="POD",
  namespace="build-stuff", cluster="mycluster"
}) by (image)`;
const RUNNER_QUERY = `count(
  container_memory_working_set_bytes{
    container!="",container!="POD",
    namespace="gitlab-runner",pod=~"runner-.*"
  }
) by (image)`;

/** `count` series of `labels` (one per pod) with a sample every 5 minutes from `from`. */
function pods(
  count: number,
  labels: Record<string, string>,
  prefix: string,
  from = FIRST_S,
): BackfillSeries[] {
  const samples: [number, number][] = [];
  for (let t = LAST_S; t >= from; t -= STEP_S) samples.unshift([t, 104_857_600]);
  return Array.from({ length: count }, (_, i) => ({
    labels: { ...labels, pod: `${prefix}${i + 1}` },
    samples,
  }));
}

function seed(): string {
  const runner = { namespace: "gitlab-runner", container: "build" };
  return openMetricsGauge(METRIC, [
    ...pods(3, { ...runner, image: `${R}/build:1.0.3` }, "runner-build-"),
    ...pods(2, { ...runner, image: `${R}/test:2.4.1` }, "runner-test-"),
    ...pods(1, { ...runner, image: `${R}/lint:1.8.0` }, "runner-lint-"),
    // Busy now, but only for the last hour: first in an instant query, last over 7 days.
    ...pods(5, { ...runner, image: `${R}/hot:0.1.0` }, "runner-hot-", NOW_S - 3600),
    // Noise the example query's matchers must exclude.
    ...pods(6, { ...runner, container: "POD", image: "registry.k8s.io/pause:3.9" }, "runner-p-"),
    ...pods(4, { ...runner, container: "", image: `${R}/ghost:1` }, "runner-g-"),
    ...pods(7, { ...runner, image: `${R}/deploy:9` }, "deploy-"),
    ...pods(
      8,
      { namespace: "monitoring", container: "prom", image: "quay.io/prom:2" },
      "runner-m-",
    ),
    // A series without an image label: skipped, with a warning.
    ...pods(1, runner, "runner-noimage-"),
    // The namespace of the spec's first example, in two clusters.
    ...pods(4, {
      namespace: "build-stuff",
      container: "a",
      cluster: "mycluster",
      image: `${R}/app-a:1`,
    }, "a-"),
    ...pods(2, {
      namespace: "build-stuff",
      container: "b",
      cluster: "mycluster",
      image: `${R}/app-b:1`,
    }, "b-"),
    ...pods(6, {
      namespace: "build-stuff",
      container: "c",
      cluster: "othercluster",
      image: `${R}/app-c:1`,
    }, "c-"),
  ]);
}

function source(endpoint: string, settings: Partial<PrometheusSource> = {}): DiscoverySource {
  return {
    type: "prometheus",
    prometheus: { endpoint, query: RUNNER_QUERY, step: "5m", ...settings },
    secretRef: { name: "prometheus-creds" },
  };
}

async function query(
  src: DiscoverySource,
  secret?: SecretData,
): Promise<SourceOutcome> {
  const [outcome] = await runSources({ sources: [src] }, {
    now: NOW,
    credentialsFor: () => secret,
    timeoutMs: 30_000,
  });
  return outcome;
}

function ranking(outcome: SourceOutcome): [string, number][] {
  assert.equal(outcome.error, undefined, outcome.error?.message);
  return outcome.images.map((i): [string, number] => [i.image, i.score])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** A reverse proxy that serves Prometheus under `/prometheus` and demands `authorization`. */
function authProxy(upstream: string, authorization: string) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/prometheus/")) {
      return new Response("404 page not found", { status: 404 });
    }
    if (request.headers.get("authorization") !== authorization) {
      return new Response("unauthorized", {
        status: 401,
        headers: { "www-authenticate": "Basic" },
      });
    }
    if (request.headers.get("x-scope-orgid") !== "tenant-a") {
      return new Response("no org id", { status: 403 });
    }
    const target = `${upstream}${url.pathname.slice("/prometheus".length)}${url.search}`;
    const answer = await fetch(target, {
      method: request.method,
      headers: { "content-type": request.headers.get("content-type") ?? "" },
      body: request.method === "POST" ? await request.arrayBuffer() : undefined,
    });
    // fetch already decoded the body, so the upstream's encoding and length no longer apply.
    const headers = new Headers(answer.headers);
    headers.delete("content-encoding");
    headers.delete("content-length");
    return new Response(answer.body, { status: answer.status, headers });
  });
}

Deno.test({
  name: "real Prometheus: spec example queries, lookback sums, base path, auth",
  ignore: missing !== undefined,
  async fn(t) {
    const prom = await startPrometheus({ openMetrics: seed() });
    try {
      await t.step("the build-stuff example ranks images by running containers", async () => {
        assert.deepEqual(ranking(await query(source(prom.url, { query: BUILD_STUFF_QUERY }))), [
          [`${R}/app-c:1`, 6],
          [`${R}/app-a:1`, 4],
          [`${R}/app-b:1`, 2],
        ]);
        const cluster = await query(source(prom.url, { query: BUILD_STUFF_CLUSTER_QUERY }));
        assert.deepEqual(ranking(cluster), [[`${R}/app-a:1`, 4], [`${R}/app-b:1`, 2]]);
      });

      await t.step("the GitLab runner example, instant: what runs now", async () => {
        const outcome = await query(source(prom.url));
        assert.deepEqual(ranking(outcome), [
          [`${R}/hot:0.1.0`, 5],
          [`${R}/build:1.0.3`, 3],
          [`${R}/test:2.4.1`, 2],
          [`${R}/lint:1.8.0`, 1],
        ]);
        assert.deepEqual(outcome.warnings, ['1 series without an "image" label were skipped']);
      });

      await t.step("the GitLab runner example over 168h: values summed per image", async () => {
        const outcome = await query(source(prom.url, { lookback: "168h", step: "5m" }));
        const steps = 7 * DAY_S / STEP_S + 1;
        const scores = Object.fromEntries(ranking(outcome));
        assert.equal(scores[`${R}/build:1.0.3`], 3 * steps);
        assert.equal(scores[`${R}/test:2.4.1`], 2 * steps);
        assert.equal(scores[`${R}/lint:1.8.0`], steps);
        const hot = scores[`${R}/hot:0.1.0`];
        assert.ok(hot >= 5 * 12 && hot <= 5 * 14, `hot scored ${hot} over its last hour`);

        const coarse = await query(source(prom.url, { lookback: "168h", step: "1h" }));
        assert.equal(Object.fromEntries(ranking(coarse))[`${R}/build:1.0.3`], 3 * (7 * 24 + 1));
      });

      await t.step("the README policy end to end: filter, rank and cap", async () => {
        const { merged } = await discoverOnce({
          maxImages: 2,
          imageFilter: "registry.example.com/.*",
          sources: [source(prom.url, { lookback: "168h" })],
        }, { now: NOW });
        assert.deepEqual(merged.images.map((i) => [i.image, i.source]), [
          [`${R}/build:1.0.3`, "prometheus[0]"],
          [`${R}/test:2.4.1`, "prometheus[0]"],
        ]);
        assert.equal(merged.candidates, 4);
      });

      await t.step("a bad query is InvalidResponse with Prometheus' parse error", async () => {
        const outcome = await query(source(prom.url, { query: "count(by (image)" }));
        assert.equal(outcome.error?.reason, "InvalidResponse");
        assert.match(outcome.error!.message, /Prometheus answered 400 \(bad_data: /);
      });

      await t.step(
        "behind a /prometheus base path with a bearer token and a tenant header",
        async () => {
          const proxy = authProxy(prom.url, "Bearer mimir-token-1");
          try {
            const base = `http://127.0.0.1:${proxy.addr.port}/prometheus`;
            const secret = { token: "mimir-token-1", "headers.X-Scope-OrgID": "tenant-a" };
            assert.equal(ranking(await query(source(base), secret)).length, 4);
            const ranged = await query(source(`${base}/`, { lookback: "24h" }), secret);
            assert.equal(ranking(ranged)[0][0], `${R}/build:1.0.3`);

            const anonymous = await query(source(base));
            assert.equal(anonymous.error?.reason, "Unauthorized");
            const noTenant = await query(source(base), { token: "mimir-token-1" });
            assert.equal(noTenant.error?.reason, "Forbidden");
            const noBasePath = await query(source(`http://127.0.0.1:${proxy.addr.port}`), secret);
            assert.equal(noBasePath.error?.reason, "NotFound");
          } finally {
            await proxy.shutdown();
          }
        },
      );

      await t.step("behind a proxy with basic auth", async () => {
        const proxy = authProxy(prom.url, `Basic ${btoa("admin:my-prometheus-password")}`);
        try {
          const base = `http://127.0.0.1:${proxy.addr.port}/prometheus`;
          const ok = await query(source(base), {
            username: "admin",
            password: "my-prometheus-password",
            "headers.X-Scope-OrgID": "tenant-a",
          });
          assert.equal(ranking(ok).length, 4);
          const wrong = await query(source(base), {
            username: "admin",
            password: "wrong-password",
            "headers.X-Scope-OrgID": "tenant-a",
          });
          assert.equal(wrong.error?.reason, "Unauthorized");
          assert.ok(!wrong.error!.message.includes("wrong-password"));
        } finally {
          await proxy.shutdown();
        }
      });
    } finally {
      await prom.stop();
    }
  },
});

const OPENSSL = await haveOpenssl();
if (missing === undefined && !OPENSSL) {
  console.log("skipping the Prometheus TLS test: openssl is not installed");
}

Deno.test({
  name: "real Prometheus over TLS: custom CA and required client certificates",
  ignore: missing !== undefined || !OPENSSL,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "drop-prometheus-pki-" });
    try {
      const pki = await createTestPki(dir);
      const prom = await startPrometheus({
        openMetrics: openMetricsGauge(METRIC, [
          ...pods(
            2,
            { namespace: "gitlab-runner", container: "build", image: `${R}/tls:1` },
            "runner-",
            NOW_S - 1800,
          ),
        ]),
        webConfig: [
          "tls_server_config:",
          `  cert_file: ${pki.files.serverCert}`,
          `  key_file: ${pki.files.serverKey}`,
          "  client_auth_type: RequireAndVerifyClientCert",
          `  client_ca_file: ${pki.files.caCert}`,
          "",
        ].join("\n"),
      });
      try {
        assert.ok(prom.url.startsWith("https://"));
        const full = { "ca.crt": pki.caCert, "tls.crt": pki.clientCert, "tls.key": pki.clientKey };
        assert.deepEqual(ranking(await query(source(prom.url), full)), [[`${R}/tls:1`, 2]]);

        const noClientCert = await query(source(prom.url), { "ca.crt": pki.caCert });
        assert.equal(noClientCert.error?.reason, "TLSError", noClientCert.error?.message);
        const unknownCa = await query(source(prom.url), {
          "tls.crt": pki.clientCert,
          "tls.key": pki.clientKey,
        });
        assert.equal(unknownCa.error?.reason, "TLSError", unknownCa.error?.message);
      } finally {
        await prom.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
