import assert from "node:assert/strict";
import type { DiscoverySource, PrometheusSource } from "../api/mod.ts";
import { startServer, type TestServer } from "./_testing.ts";
import type { SecretData } from "./credentials.ts";
import { prometheusRequest } from "./prometheus.ts";
import { runSources } from "./run.ts";
import type { SourceOutcome } from "./source.ts";

const NOW = new Date("2026-03-01T12:00:00.000Z");

function source(endpoint: string, settings: Partial<PrometheusSource> = {}): DiscoverySource {
  return {
    type: "prometheus",
    prometheus: { endpoint, query: "count(up) by (image)", step: "5m", ...settings },
    secretRef: { name: "creds" },
  };
}

function vector(result: { image?: string; value: string }[]) {
  return {
    status: "success",
    data: {
      resultType: "vector",
      result: result.map((r) => ({
        metric: r.image === undefined ? {} : { image: r.image },
        value: [NOW.getTime() / 1000, r.value],
      })),
    },
  };
}

async function run(
  src: DiscoverySource,
  secret?: SecretData,
  maxResponseBytes?: number,
): Promise<SourceOutcome> {
  const [outcome] = await runSources({ sources: [src] }, {
    credentialsFor: () => secret,
    now: NOW,
    timeoutMs: 10_000,
    ...(maxResponseBytes ? { maxResponseBytes } : {}),
  });
  return outcome;
}

async function withServer(
  handler: Parameters<typeof startServer>[0],
  fn: (server: TestServer) => Promise<void>,
): Promise<void> {
  const server = startServer(handler);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

Deno.test("prometheusRequest keeps the base path and builds instant and range parameters", () => {
  const instant = prometheusRequest(
    source("https://u:p@mimir.example.com/prometheus/?tenant=a").prometheus!,
    NOW,
  );
  assert.equal(instant.url.href, "https://mimir.example.com/prometheus/api/v1/query?tenant=a");
  assert.deepEqual(Object.fromEntries(instant.params), {
    query: "count(up) by (image)",
    time: "1772366400.000",
  });
  const range = prometheusRequest(
    source("http://prom:9090", { lookback: "168h", step: "15m" }).prometheus!,
    NOW,
    30_000,
  );
  assert.equal(range.url.href, "http://prom:9090/api/v1/query_range");
  assert.deepEqual(Object.fromEntries(range.params), {
    query: "count(up) by (image)",
    start: "1771761600.000",
    end: "1772366400.000",
    step: "15m",
    timeout: "30s",
  });
});

Deno.test("an instant query is POSTed as a form and scores images", async () => {
  await withServer(
    () =>
      Response.json(vector([
        { image: "r/a:1", value: "4200" },
        { image: "r/b:1", value: "2500.4" },
        { value: "7" },
      ])),
    async (server) => {
      const outcome = await run(source(`${server.url}/prometheus`));
      assert.deepEqual(outcome.images, [{ image: "r/a:1", score: 4200 }, {
        image: "r/b:1",
        score: 2500.4,
      }]);
      assert.deepEqual(outcome.warnings, ['1 series without an "image" label were skipped']);
      const [request] = server.requests;
      assert.equal(request.method, "POST");
      assert.equal(request.url.pathname, "/prometheus/api/v1/query");
      assert.equal(
        request.headers.get("content-type"),
        "application/x-www-form-urlencoded;charset=UTF-8",
      );
      assert.equal(new URLSearchParams(request.body).get("query"), "count(up) by (image)");
      assert.equal(request.headers.get("authorization"), null);
    },
  );
});

Deno.test("bearer token, basic credentials and extra headers reach Prometheus", async () => {
  await withServer(() => Response.json(vector([])), async (server) => {
    await run(source(server.url), { token: "tok-1", "headers.X-Scope-OrgID": "tenant-a" });
    await run(source(server.url), { username: "admin", password: "pw" });
    const [bearer, basic] = server.requests;
    assert.equal(bearer.headers.get("authorization"), "Bearer tok-1");
    assert.equal(bearer.headers.get("x-scope-orgid"), "tenant-a");
    assert.equal(basic.headers.get("authorization"), `Basic ${btoa("admin:pw")}`);
  });
});

Deno.test("a rejected query is InvalidResponse with Prometheus' explanation", async () => {
  await withServer(
    () =>
      Response.json({ status: "error", errorType: "bad_data", error: "1:7: parse error" }, {
        status: 400,
      }),
    async (server) => {
      const outcome = await run(source(server.url));
      assert.equal(outcome.error?.reason, "InvalidResponse");
      assert.equal(
        outcome.error?.message,
        `Cannot query Prometheus at ${server.url}/api/v1/query: Prometheus answered 400 (bad_data: 1:7: parse error)`,
      );
    },
  );
});

Deno.test("HTTP statuses map to reasons and error bodies never leak credentials", async () => {
  for (
    const [status, reason] of [[401, "Unauthorized"], [403, "Forbidden"], [404, "NotFound"], [
      502,
      "HTTPError",
    ]] as const
  ) {
    await withServer(
      (request) =>
        Response.json({
          status: "error",
          errorType: "auth",
          error: `rejected ${request.headers.get("authorization")}`,
        }, { status }),
      async (server) => {
        const outcome = await run(source(server.url), { token: "very-secret-token" });
        assert.equal(outcome.error?.reason, reason);
        assert.equal(outcome.error?.status, status);
        assert.ok(!outcome.error!.message.includes("very-secret-token"), outcome.error!.message);
        assert.match(outcome.error!.message, /<redacted>/);
      },
    );
  }
});

Deno.test("oversized and non-JSON answers are InvalidResponse", async () => {
  const big = vector(Array.from({ length: 2000 }, (_, i) => ({ image: `r/i:${i}`, value: "1" })));
  await withServer(() => Response.json(big), async (server) => {
    const outcome = await run(source(server.url), undefined, 10_000);
    assert.equal(outcome.error?.reason, "InvalidResponse");
    assert.match(outcome.error!.message, /exceeds 10 KiB/);
  });
  await withServer(
    () =>
      new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(JSON.stringify(big)));
            c.close();
          },
        }),
      ),
    async (server) => {
      const outcome = await run(source(server.url), undefined, 10_000);
      assert.equal(outcome.error?.reason, "InvalidResponse", "streamed bodies are capped too");
    },
  );
  await withServer(() => new Response("<html>login</html>"), async (server) => {
    const outcome = await run(source(server.url));
    assert.equal(outcome.error?.reason, "InvalidResponse");
    assert.match(outcome.error!.message, /not JSON/);
  });
});

Deno.test("redirects are reported with their target, never followed", async () => {
  await withServer(
    () =>
      new Response(null, {
        status: 302,
        headers: { location: "https://sso.example.com/login?x=1" },
      }),
    async (server) => {
      const outcome = await run(source(server.url), { token: "tok-abcdef" });
      assert.equal(outcome.error?.reason, "HTTPError");
      assert.match(
        outcome.error!.message,
        /returned 302 \(a redirect to https:\/\/sso\.example\.com\/login\)$/,
      );
      assert.equal(server.requests.length, 1);
    },
  );
});
