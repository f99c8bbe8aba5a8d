import assert from "node:assert/strict";
import type { ConfigMap } from "kubernetes-types/core/v1.d.ts";
import { CONFIGMAPS, isNotFound, KubeApiError } from "../kube/mod.ts";
import { startApiServer } from "./apiserver/mod.ts";
import { InProcessTransport } from "./in_process_transport.ts";

async function withTransport(
  fn: (t: InProcessTransport, server: Awaited<ReturnType<typeof startApiServer>>) => Promise<void>,
): Promise<void> {
  const server = await startApiServer({ authTokens: { "t0ken": "sim-user" } });
  try {
    await fn(new InProcessTransport({ handle: (r) => server.handle(r), token: "t0ken" }), server);
  } finally {
    await server.stop();
  }
}

Deno.test("in-process transport: writes, reads and patches as its user", async () => {
  await withTransport(async (t, server) => {
    const cms = t.resource<ConfigMap>(CONFIGMAPS, "default");
    const created = await cms.create({ metadata: { name: "a" }, data: { k: "v" } });
    assert.ok(created.metadata?.resourceVersion);
    const patched = await cms.patch("a", "merge", { data: { k: "w" } });
    assert.equal(patched.data?.k, "w");
    assert.equal((await cms.get("a")).data?.k, "w");
    assert.deepEqual((await cms.list()).items.map((c) => c.metadata?.name), ["a"]);
    assert.equal(server.counters.snapshot().byUser["sim-user"], 4);
  });
});

Deno.test("in-process transport: errors are KubeApiErrors; 429s are waited out", async () => {
  await withTransport(async (t, server) => {
    const cms = t.resource<ConfigMap>(CONFIGMAPS, "default");
    const missing = await cms.get("nope").catch((e) => e);
    assert.ok(missing instanceof KubeApiError && isNotFound(missing), String(missing));
    const bad = new InProcessTransport({ handle: (r) => server.handle(r), token: "wrong" });
    const denied = await bad.resource<ConfigMap>(CONFIGMAPS, "default").get("a").catch((e) => e);
    assert.equal((denied as KubeApiError).code, 401);

    server.faults.tooManyRequestsFraction = 1; // with Retry-After: 1
    const pending = cms.create({ metadata: { name: "b" } });
    await new Promise((r) => setTimeout(r, 50));
    server.faults.tooManyRequestsFraction = 0;
    assert.equal((await pending).metadata?.name, "b");
    assert.ok((server.counters.snapshot().byCode["429"] ?? 0) >= 1, "it was refused first");
  });
});

Deno.test("in-process transport: a watch streams changes and ends with its signal", async () => {
  await withTransport(async (t) => {
    const cms = t.resource<ConfigMap>(CONFIGMAPS, "default");
    const list = await cms.list();
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (
        const ev of cms.watch({
          resourceVersion: list.metadata?.resourceVersion,
          signal: ac.signal,
        })
      ) {
        if (ev.type === "ADDED") seen.push(String(ev.object.metadata?.name));
        if (seen.length === 2) ac.abort();
      }
    })();
    await cms.create({ metadata: { name: "w1" } });
    await cms.create({ metadata: { name: "w2" } });
    await done.catch((e) => {
      if (!ac.signal.aborted) throw e;
    });
    assert.deepEqual(seen, ["w1", "w2"]);
  });
});
