import assert from "node:assert/strict";
import { widgetCrd } from "./_testdata.ts";
import { WatchReader } from "./_watch_reader.ts";
import { type ApiServer, startApiServer } from "./mod.ts";

type Json = Record<string, unknown>;

async function call(
  s: ApiServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(s.url + path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {}, headers: res.headers };
}

function cm(name: string, labels: Record<string, string> = {}): Json {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data: { k: "v" } };
}

async function withServer(
  fn: (s: ApiServer) => Promise<void>,
  opts: Parameters<typeof startApiServer>[0] = {},
): Promise<void> {
  const s = await startApiServer(opts);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

function name(e: { object: Json }): string {
  return String((e.object.metadata as Json)?.name);
}

Deno.test("discovery answers legacy JSON even when aggregated discovery is asked for", async () => {
  await withServer(async (s) => {
    const accept =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    const api = await call(s, "GET", "/api", undefined, { accept });
    assert.equal(api.headers.get("content-type"), "application/json");
    assert.deepEqual(api.json.versions, ["v1"]);
    const v1 = await call(s, "GET", "/api/v1");
    const pods = (v1.json.resources as Json[]).find((r) => r.name === "pods")!;
    assert.deepEqual(pods.shortNames, ["po"]);
    assert.equal(pods.namespaced, true);
    assert.ok((v1.json.resources as Json[]).some((r) => r.name === "pods/status"));
    s.registerCrd(widgetCrd());
    const groups = await call(s, "GET", "/apis");
    const g = (groups.json.groups as Json[]).find((x) => x.name === "example.com")!;
    assert.deepEqual(g.preferredVersion, { groupVersion: "example.com/v1", version: "v1" });
    const gv = await call(s, "GET", "/apis/example.com/v1");
    const widgets = (gv.json.resources as Json[]).find((r) => r.name === "widgets")!;
    assert.deepEqual([widgets.kind, widgets.namespaced, widgets.categories], ["Widget", false, [
      "all-widgets",
    ]]);
    assert.equal((await call(s, "GET", "/apis/nope.io/v1")).status, 404);
    const version = await call(s, "GET", "/version");
    assert.equal(version.json.minor, "32");
    const openapi = await call(s, "GET", "/openapi/v3");
    const path = ((openapi.json.paths as Json)["apis/example.com/v1"] as Json)
      .serverRelativeURL as string;
    const doc = await call(s, "GET", path);
    assert.ok(JSON.stringify(doc.json).includes('"fieldValidation"'));
  });
});

Deno.test("errors are Status bodies with kube's reasons and messages", async () => {
  await withServer(async (s) => {
    const nf = await call(s, "GET", "/api/v1/namespaces/default/pods/x");
    assert.equal(nf.status, 404);
    assert.deepEqual(nf.json, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "x" not found',
      reason: "NotFound",
      details: { name: "x", kind: "pods" },
      code: 404,
    });
    await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("a"));
    const dup = await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("a"));
    assert.deepEqual([dup.status, dup.json.reason, dup.json.message], [
      409,
      "AlreadyExists",
      'configmaps "a" already exists',
    ]);
    const bad = await call(s, "PATCH", "/api/v1/namespaces/default/configmaps/a", "{}", {
      "content-type": "text/plain",
    });
    assert.equal(bad.status, 415);
    const method = await call(s, "POST", "/api/v1/namespaces/default/configmaps/a", cm("a"));
    assert.equal(method.json.reason, "MethodNotAllowed");
    const deleted = await call(s, "DELETE", "/api/v1/namespaces/default/configmaps/a");
    assert.deepEqual([
      deleted.status,
      deleted.json.kind,
      deleted.json.status,
      (deleted.json.details as Json).name,
    ], [200, "Status", "Success", "a"]);
    await call(s, "POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "x" }] },
    });
    const podDeleted = await call(s, "DELETE", "/api/v1/namespaces/default/pods/p");
    assert.deepEqual(
      [podDeleted.status, podDeleted.json.kind],
      [200, "Pod"],
      "pods answer the deleted object",
    );
    const badSel = await call(s, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx");
    assert.deepEqual([badSel.status, badSel.json.message], [
      400,
      "field label not supported: spec.bogus",
    ]);
  });
});

Deno.test("watch: initial state, resume, selector transitions, deletes", async () => {
  await withServer(async (s) => {
    await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("a", { sel: "yes" }));
    const list = await call(
      s,
      "GET",
      "/api/v1/namespaces/default/configmaps?labelSelector=sel%3Dyes",
    );
    const listRv = (list.json.metadata as Json).resourceVersion;
    const fresh = new WatchReader(
      await fetch(
        `${s.url}/api/v1/namespaces/default/configmaps?watch=true&labelSelector=sel%3Dyes`,
      ),
    );
    const resumed = new WatchReader(
      await fetch(
        `${s.url}/api/v1/namespaces/default/configmaps?watch=1&labelSelector=sel%3Dyes&resourceVersion=${listRv}`,
      ),
    );
    try {
      const first = await fresh.next();
      assert.deepEqual([first?.type, first && name(first)], ["ADDED", "a"]);
      await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("b", { sel: "no" }));
      await call(s, "PATCH", "/api/v1/namespaces/default/configmaps/b", {
        metadata: { labels: { sel: "yes" } },
      }, { "content-type": "application/merge-patch+json" });
      await call(s, "PATCH", "/api/v1/namespaces/default/configmaps/a", {
        metadata: { labels: { sel: "no" } },
      }, { "content-type": "application/merge-patch+json" });
      await call(s, "DELETE", "/api/v1/namespaces/default/configmaps/b");
      for (const w of [fresh, resumed]) {
        const seen: string[] = [];
        for (let i = 0; i < 3; i++) {
          const e = await w.next();
          assert.ok(e, "event arrives");
          seen.push(`${e.type} ${name(e)}`);
        }
        assert.deepEqual(seen, ["ADDED b", "DELETED a", "DELETED b"]);
      }
    } finally {
      await fresh.cancel();
      await resumed.cancel();
    }
  });
});

Deno.test("watch from a version older than the window answers 410 Expired", async () => {
  await withServer(async (s) => {
    const start = await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("x0"));
    const rv = (start.json.metadata as Json).resourceVersion;
    for (let i = 1; i <= 5; i++) {
      await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm(`x${i}`));
    }
    const w = new WatchReader(
      await fetch(`${s.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`),
    );
    try {
      const e = await w.next();
      assert.equal(e?.type, "ERROR");
      assert.equal(e?.object.code, 410);
      assert.equal(e?.object.reason, "Expired");
      assert.match(String(e?.object.message), /^too old resource version: \d+ \(\d+\)$/);
      assert.equal(await w.waitEnd(), true, "the stream ends after the error");
    } finally {
      await w.cancel();
    }
  }, { watchWindow: 3 });
});

Deno.test("sendInitialEvents streams the current state, then a marked bookmark", async () => {
  await withServer(async (s) => {
    await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("a"));
    const w = new WatchReader(
      await fetch(
        `${s.url}/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
      ),
    );
    try {
      const first = await w.next();
      assert.deepEqual([first?.type, first && name(first)], ["ADDED", "a"]);
      const end = await w.next();
      assert.equal(end?.type, "BOOKMARK");
      assert.deepEqual((end?.object.metadata as Json).annotations, {
        "k8s.io/initial-events-end": "true",
      });
    } finally {
      await w.cancel();
    }
  });
});

Deno.test("bookmarks: periodic, and at the end of timeoutSeconds", async () => {
  await withServer(async (s) => {
    const w = new WatchReader(
      await fetch(
        `${s.url}/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=1&timeoutSeconds=2`,
      ),
    );
    try {
      const b = await w.until((e) => e.type === "BOOKMARK");
      assert.equal(b.object.kind, "ConfigMap");
      assert.match(String((b.object.metadata as Json).resourceVersion), /^\d+$/);
      const last: string[] = [];
      while (!w.ended) {
        const e = await w.next(10_000);
        if (e) last.push(e.type);
        else break;
      }
      assert.equal(w.ended, true, "timeoutSeconds ends the stream");
      assert.equal(last.at(-1), "BOOKMARK");
    } finally {
      await w.cancel();
    }
  }, { bookmarkIntervalMs: 200 });
});

Deno.test("faults: 429 with Retry-After, 500, 409, scoped by verb", async () => {
  await withServer(async (s) => {
    await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("a"));
    s.faults.tooManyRequestsFraction = 1;
    s.faults.retryAfterSeconds = 3;
    const r429 = await call(s, "GET", "/api/v1/namespaces/default/configmaps/a");
    assert.deepEqual([r429.status, r429.json.reason, r429.headers.get("retry-after")], [
      429,
      "TooManyRequests",
      "3",
    ]);
    s.faults.tooManyRequestsFraction = 0;
    s.faults.internalErrorFraction = 1;
    s.faults.scope = { verbs: ["list"] };
    assert.equal(
      (await call(s, "GET", "/api/v1/namespaces/default/configmaps/a")).status,
      200,
      "out of scope",
    );
    assert.equal((await call(s, "GET", "/api/v1/namespaces/default/configmaps")).status, 500);
    s.faults.internalErrorFraction = 0;
    s.faults.scope = undefined;
    s.faults.conflictFraction = 1;
    const r409 = await call(s, "PATCH", "/api/v1/namespaces/default/configmaps/a", {
      data: { k: "w" },
    }, { "content-type": "application/merge-patch+json" });
    assert.deepEqual([r409.status, r409.json.reason], [409, "Conflict"]);
    const put = await fetch(`${s.url}/sim/faults`, { method: "PUT", body: "{}" });
    assert.deepEqual(await put.json(), {});
    assert.equal(
      (await call(s, "PATCH", "/api/v1/namespaces/default/configmaps/a", { data: { k: "w" } }, {
        "content-type": "application/merge-patch+json",
      })).status,
      200,
    );
  });
});

Deno.test("faults: watches closed after N ms, answered 410, or stalled", async () => {
  await withServer(async (s) => {
    s.faults.closeWatchesAfterMs = 100;
    const closing = new WatchReader(
      await fetch(`${s.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1`),
    );
    assert.equal(await closing.waitEnd(), true);
    await closing.cancel();
    s.faults.closeWatchesAfterMs = undefined;
    s.faults.watchGoneFraction = 1;
    const gone = new WatchReader(
      await fetch(`${s.url}/api/v1/namespaces/default/configmaps?watch=true`),
    );
    const e = await gone.next();
    assert.deepEqual([e?.type, e?.object.code], ["ERROR", 410]);
    await gone.cancel();
    s.faults.watchGoneFraction = 0;
    s.faults.stallWatchesFraction = 1;
    const stalled = new WatchReader(
      await fetch(`${s.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1`),
    );
    s.faults.stallWatchesFraction = 0;
    const healthy = new WatchReader(
      await fetch(`${s.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1`),
    );
    try {
      await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("after"));
      assert.equal((await healthy.next())?.type, "ADDED", "a healthy watch sees the write");
      assert.equal(await stalled.next(300), undefined, "the stalled watch stays silent");
      assert.equal(stalled.ended, false);
      assert.equal(s.counters.snapshot().openWatches >= 1, true);
    } finally {
      await stalled.cancel();
      await healthy.cancel();
    }
  });
});

Deno.test("counters by verb, resource, code and user, in-process and over HTTP", async () => {
  await withServer(async (s) => {
    s.counters.reset();
    await call(s, "POST", "/api/v1/namespaces/default/configmaps", cm("a"));
    await call(s, "GET", "/api/v1/namespaces/default/configmaps/a");
    await call(s, "GET", "/api/v1/namespaces/default/configmaps/zz");
    await call(s, "PATCH", "/api/v1/namespaces/default/configmaps/a", { data: {} }, {
      "content-type": "application/merge-patch+json",
    });
    assert.equal(s.counters.get("create", "configmaps"), 1);
    assert.equal(s.counters.get("get", "configmaps"), 2);
    const snap = await (await fetch(`${s.url}/sim/counters`)).json();
    assert.equal(snap.byVerb.patch.configmaps, 1);
    assert.equal(snap.byCode["404"], 1);
    assert.equal(snap.byUser["system:anonymous"], 4);
    await (await fetch(`${s.url}/sim/counters`, { method: "DELETE" })).body?.cancel();
    assert.equal(s.counters.snapshot().total, 0);
  });
});

Deno.test("Table output uses CRD printer columns", async () => {
  await withServer(async (s) => {
    s.registerCrd(widgetCrd());
    await call(s, "POST", "/apis/example.com/v1/widgets", {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { size: 3 },
    });
    await call(s, "PATCH", "/apis/example.com/v1/widgets/w/status", {
      status: { conditions: [{ type: "Ready", status: "True" }] },
    }, { "content-type": "application/merge-patch+json" });
    const t = await call(s, "GET", "/apis/example.com/v1/widgets", undefined, {
      accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
    });
    assert.equal(t.json.kind, "Table");
    assert.deepEqual((t.json.columnDefinitions as Json[]).map((c) => c.name), [
      "Name",
      "Size",
      "Ready",
      "Age",
    ]);
    const cells = (t.json.rows as Json[])[0].cells as unknown[];
    assert.deepEqual(cells.slice(0, 3), ["w", 3, "True"]);
    assert.match(String(cells[3]), /^\d+s$/);
  });
});

Deno.test("TLS: generated CA, token required, kubeconfig", async () => {
  const s = await startApiServer({ tls: true, authTokens: { "reader-token": "reader" } });
  const client = Deno.createHttpClient({ caCerts: [s.caPem!] });
  try {
    assert.ok(s.url.startsWith("https://127.0.0.1:"));
    const anon = await fetch(`${s.url}/api/v1/namespaces`, { client });
    assert.equal(anon.status, 401);
    assert.equal((await anon.json()).reason, "Unauthorized");
    const ok = await fetch(`${s.url}/api/v1/namespaces`, {
      client,
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).items.length, 4);
    const reader = await fetch(`${s.url}/api/v1/namespaces`, {
      client,
      headers: { authorization: "Bearer reader-token" },
    });
    await reader.body?.cancel();
    assert.equal(s.counters.snapshot().byUser.reader, 1);
    const kc = s.kubeconfig({ namespace: "kube-system" });
    assert.match(kc, /certificate-authority-data: /);
    assert.match(kc, new RegExp(`token: ${s.adminToken}`));
    assert.match(kc, /namespace: kube-system/);
  } finally {
    client.close();
    await s.stop();
  }
});

Deno.test("handle answers in-process as over HTTP; an aborted signal ends its watch", async () => {
  const token = "in-process-token";
  await withServer(async (s) => {
    const base = "http://in-process.invalid";
    const auth = { authorization: `Bearer ${token}` };
    const created = await s.handle(
      new Request(`${base}/api/v1/namespaces/default/configmaps`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(cm("a")),
      }),
    );
    assert.equal(created.status, 201);
    await created.body?.cancel();
    const anonymous = await s.handle(new Request(`${base}/api/v1/namespaces/default/configmaps`));
    assert.equal(anonymous.status, 401, "authentication applies in-process too");
    await anonymous.body?.cancel();
    assert.equal(s.counters.snapshot().byUser["in-process"], 1);

    // The signal stands for the connection: aborting it ends the watch, its body untouched.
    const watchUrl = `${base}/api/v1/namespaces/default/configmaps?watch=true`;
    const ac = new AbortController();
    const res = await s.handle(new Request(watchUrl, { headers: auth, signal: ac.signal }));
    assert.equal(res.status, 200);
    assert.equal(s.counters.snapshot().openWatches, 1);
    ac.abort();
    assert.equal(s.counters.snapshot().openWatches, 0);
    const reader = new WatchReader(res);
    assert.equal((await reader.next())?.type, "ADDED", "what was sent stays readable");
    assert.equal(await reader.next(), undefined);
    assert.equal(reader.ended, true);

    // Events reach an in-process watcher in a later turn, as over a socket: the answer to the
    // write that caused them comes first.
    const live = (await s.handle(new Request(watchUrl, { headers: auth }))).body!.getReader();
    await live.read(); // The initial ADDED
    const order: string[] = [];
    const seen = live.read().then(() => order.push("event"));
    const answer = await s.handle(
      new Request(`${base}/api/v1/namespaces/default/configmaps`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(cm("b")),
      }),
    );
    order.push(`answer ${answer.status}`);
    await answer.body?.cancel();
    await seen;
    assert.deepEqual(order, ["answer 201", "event"]);
    await live.cancel();
    assert.equal(s.counters.snapshot().openWatches, 0);

    // A watch whose client left before it started (here during injected latency) never opens.
    s.faults.latencyMs = 50;
    const early = new AbortController();
    const pending = s.handle(new Request(watchUrl, { headers: auth, signal: early.signal }));
    early.abort();
    await (await pending).body?.cancel();
    s.faults.latencyMs = 0;
    assert.equal(s.counters.snapshot().openWatches, 0);
  }, { authTokens: { [token]: "in-process" }, requireAuth: true });
  const stopped = await startApiServer();
  await stopped.stop();
  await assert.rejects(
    () => stopped.handle(new Request("http://in-process.invalid/version")),
    /the API server is stopped/,
  );
});
