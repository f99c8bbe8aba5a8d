import assert from "node:assert/strict";
import type { DiscoverySource } from "../api/mod.ts";
import { fakeRegistry, startServer } from "./_testing.ts";
import { DiscoveryError } from "./errors.ts";
import { checkSpec, discoverOnce, runSources } from "./run.ts";

function prometheus(endpoint: string, secret?: string): DiscoverySource {
  return {
    type: "prometheus",
    prometheus: { endpoint, query: "q", step: "5m" },
    ...(secret ? { secretRef: { name: secret } } : {}),
  };
}

function registry(url: string, repositories = ["team/app"]): DiscoverySource {
  return { type: "registry", registry: { url, repositories } };
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("sources are independent: one failing source does not hide another's images", async () => {
  const prom = startServer(() =>
    Response.json({
      status: "success",
      data: { resultType: "vector", result: [{ metric: { image: "r/a:1" }, value: [0, "3"] }] },
    })
  );
  const reg = fakeRegistry({ repositories: { "team/app": ["1.0", "1.1"] } });
  try {
    const down = `http://127.0.0.1:${closedPort()}`;
    const outcomes = await runSources({
      sources: [prometheus(prom.url), prometheus(down), registry(reg.url)],
    }, { timeoutMs: 10_000 });
    assert.deepEqual(outcomes.map((o) => [o.name, o.healthy, o.error?.reason]), [
      ["prometheus[0]", true, undefined],
      ["prometheus[1]", false, "ConnectionRefused"],
      ["registry[2]", true, undefined],
    ]);
    assert.deepEqual(outcomes[0].images, [{ image: "r/a:1", score: 3 }]);
    assert.equal(outcomes[2].images.length, 2);
    assert.equal(outcomes[1].endpoint, down);
    for (const o of outcomes) assert.ok(o.latencyMs >= 0);
  } finally {
    await prom.close();
    await reg.close();
  }
});

Deno.test("credentials are asked for sources with a secretRef only; failures stay per source", async () => {
  const prom = startServer(() =>
    Response.json({ status: "success", data: { resultType: "vector", result: [] } })
  );
  try {
    const asked: number[] = [];
    const outcomes = await runSources({
      sources: [prometheus(prom.url), prometheus(prom.url, "missing"), prometheus(prom.url, "bad")],
    }, {
      credentialsFor(index, source) {
        asked.push(index);
        if (source.secretRef?.name === "missing") throw new Error('secrets "missing" not found');
        throw new DiscoveryError("InvalidSpec", 'Cannot use the Secret: key "tls.crt" alone');
      },
    });
    assert.deepEqual(asked, [1, 2]);
    assert.deepEqual(outcomes.map((o) => o.error?.reason), [
      undefined,
      "CredentialsError",
      "InvalidSpec",
    ]);
    assert.equal(
      outcomes[1].error?.message,
      'Cannot read Secret "missing": secrets "missing" not found',
    );
    assert.equal(prom.requests.length, 1);
  } finally {
    await prom.close();
  }
});

Deno.test("a source whose type names a missing block is InvalidSpec", async () => {
  const [outcome] = await runSources({
    sources: [{ type: "registry", prometheus: { endpoint: "http://x", query: "q", step: "5m" } }],
  });
  assert.equal(outcome.error?.reason, "InvalidSpec");
});

Deno.test("aborting the run rejects with the signal's reason", async () => {
  const hang = Promise.withResolvers<void>();
  const server = startServer(async () => {
    await hang.promise;
    return new Response("late");
  });
  try {
    const controller = new AbortController();
    const run = runSources({ sources: [prometheus(server.url)] }, { signal: controller.signal });
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error("shutting down"));
    await assert.rejects(run, /shutting down/);
  } finally {
    hang.resolve();
    await server.close();
  }
});

Deno.test("checkSpec reports every problem it can find without the network", () => {
  const problems = checkSpec({
    imageFilter: "[",
    sources: [
      prometheus("http://ok:9090"),
      { type: "registry", registry: { url: "http://r", repositories: ["a"], tagFilter: "(" } },
      {
        type: "registry",
        registry: { url: "http://r", repositories: ["a"], imageTemplate: "{{.Foo}}" },
      },
      { type: "prometheus", prometheus: { endpoint: "ftp://x", query: "q", step: "5m" } },
    ],
  });
  assert.deepEqual(problems.map((p) => [p.source, p.error.reason]), [
    [undefined, "InvalidSpec"],
    ["registry[1]", "InvalidSpec"],
    ["registry[2]", "InvalidSpec"],
    ["prometheus[3]", "InvalidSpec"],
  ]);
  assert.deepEqual(checkSpec({ sources: [prometheus("http://ok:9090")] }), []);
});

Deno.test("discoverOnce merges, filters and caps; an invalid imageFilter stops it before any query", async () => {
  const reg = fakeRegistry({
    repositories: { "team/app": ["v1.0.0", "v1.1.0", "v1.2.0"], "other/x": ["1"] },
  });
  try {
    const spec = {
      sources: [registry(reg.url, ["team/app", "other/x"])],
      imageFilter: "/team/",
      maxImages: 2,
    };
    const { outcomes, merged } = await discoverOnce(spec);
    assert.equal(outcomes[0].healthy, true);
    const host = `127.0.0.1:${reg.port}`;
    assert.deepEqual(merged.images, [
      { image: `${host}/team/app:v1.2.0`, score: 3, source: "registry[0]" },
      { image: `${host}/team/app:v1.1.0`, score: 2, source: "registry[0]" },
    ]);
    assert.equal(merged.candidates, 3);
    assert.equal(merged.filteredOut, 1);

    const before = reg.requests.length;
    await assert.rejects(
      discoverOnce({ ...spec, imageFilter: "(" }),
      (e) => e instanceof DiscoveryError && e.reason === "InvalidSpec",
    );
    assert.equal(reg.requests.length, before);
  } finally {
    await reg.close();
  }
});
