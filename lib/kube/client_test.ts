import assert from "node:assert/strict";
import { KubeClient } from "./client.ts";
import type { ClusterConfig } from "./cluster_config.ts";
import { StaticCredentials } from "./cluster_config.ts";
import { isConflict, isGone, isNotFound, isTooManyRequests, KubeApiError } from "./errors.ts";
import { ExecCredentials } from "./exec_credentials.ts";
import { CRDS, LEASES, NODES, PODS } from "./resources.ts";
import { TokenFileCredentials } from "./token_file_credentials.ts";
import { json, serve, waitFor } from "./_test_helpers.ts";
import type { KubeObject } from "./types.ts";

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  authorization: string | null;
  body: string;
}

function recorder() {
  const seen: Seen[] = [];
  const record = async (req: Request) => {
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType: req.headers.get("content-type"),
      authorization: req.headers.get("authorization"),
      body: await req.text(),
    });
  };
  return { seen, record };
}

function config(url: string, extra: Partial<ClusterConfig> = {}): ClusterConfig {
  return { server: url, namespace: "default", source: "test", ...extra };
}

Deno.test("ResourceClient addresses core, group, namespaced and cluster-scoped resources", async () => {
  const { seen, record } = recorder();
  const server = serve(async (req) => {
    await record(req);
    return json({ metadata: { name: "x", resourceVersion: "5" } });
  });
  const client = new KubeClient(config(server.url));
  try {
    const pod = await client.resource<KubeObject>(PODS, "ns1").get("p1");
    assert.equal(pod.apiVersion, "v1", "apiVersion filled in");
    assert.equal(pod.kind, "Pod");
    await client.resource(NODES, "ignored").get("n1");
    await client.resource(LEASES, "kube-system").getStatus("l1");
    await client.resource(CRDS).get("things.example.com");
    await client.resource(PODS).create({ metadata: { name: "p2", namespace: "ns2" } });
    await client.resource(PODS, "ns1").replace({ metadata: { name: "p1", resourceVersion: "5" } });
    await client.resource(PODS, "ns1").replaceStatus({ metadata: { name: "p1" } });
    await client.resource(PODS).list({ labelSelector: "a=b", fieldSelector: "spec.nodeName=n1" });
    await client.resource(PODS, "ns1").create({ metadata: { name: "p3" } }, {
      dryRun: true,
      fieldManager: "drop",
    });
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), [
      "GET /api/v1/namespaces/ns1/pods/p1",
      "GET /api/v1/nodes/n1",
      "GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l1/status",
      "GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.example.com",
      "POST /api/v1/namespaces/ns2/pods",
      "PUT /api/v1/namespaces/ns1/pods/p1",
      "PUT /api/v1/namespaces/ns1/pods/p1/status",
      "GET /api/v1/pods",
      "POST /api/v1/namespaces/ns1/pods",
    ]);
    const created = JSON.parse(seen[4].body);
    assert.equal(created.apiVersion, "v1");
    assert.equal(created.kind, "Pod");
    assert.equal(JSON.parse(seen[5].body).metadata.resourceVersion, "5");
    assert.deepEqual(seen[7].query, { labelSelector: "a=b", fieldSelector: "spec.nodeName=n1" });
    assert.deepEqual(seen[8].query, { dryRun: "All", fieldManager: "drop" });
    await assert.rejects(
      () => client.resource(PODS).get("p"),
      /Cannot address pods "p": no namespace given/,
    );
    await assert.rejects(
      () => client.resource(PODS, "a").create({ metadata: { name: "p", namespace: "b" } }),
      /namespace "b" differs from the client's "a"/,
    );
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("ResourceClient patch sends each patch type's content type and options", async () => {
  const { seen, record } = recorder();
  const server = serve(async (req) => {
    await record(req);
    return json({ metadata: { name: "n" } });
  });
  const client = new KubeClient(config(server.url));
  try {
    const nodes = client.resource(NODES);
    await nodes.patch("n", "merge", { metadata: { labels: { a: "b" } } });
    await nodes.patch("n", "json", [{ op: "add", path: "/metadata/labels/a", value: "b" }]);
    await nodes.patch("n", "strategic", { spec: { unschedulable: true } });
    await nodes.patch("n", "apply", { apiVersion: "v1", kind: "Node" }, {
      fieldManager: "drop",
      force: true,
    });
    await nodes.patchStatus("n", "merge", { status: { phase: "x" } });
    assert.deepEqual(seen.map((s) => s.contentType), [
      "application/merge-patch+json",
      "application/json-patch+json",
      "application/strategic-merge-patch+json",
      "application/apply-patch+yaml",
      "application/merge-patch+json",
    ]);
    assert.deepEqual(seen[3].query, { fieldManager: "drop", force: "true" });
    assert.equal(seen[4].path, "/api/v1/nodes/n/status");
    assert.deepEqual(JSON.parse(seen[1].body)[0].op, "add");
    await assert.rejects(() => nodes.patch("n", "apply", {}), /a field manager is required/);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("ResourceClient delete sends DeleteOptions", async () => {
  const { seen, record } = recorder();
  const server = serve(async (req) => {
    await record(req);
    return json({ kind: "Status", apiVersion: "v1", status: "Success" });
  });
  const client = new KubeClient(config(server.url));
  try {
    await client.resource(PODS, "ns").delete("p", {
      propagationPolicy: "Foreground",
      preconditions: { uid: "u1", resourceVersion: "9" },
      gracePeriodSeconds: 0,
    });
    assert.equal(seen[0].method, "DELETE");
    assert.deepEqual(JSON.parse(seen[0].body), {
      apiVersion: "v1",
      kind: "DeleteOptions",
      propagationPolicy: "Foreground",
      preconditions: { uid: "u1", resourceVersion: "9" },
      gracePeriodSeconds: 0,
    });
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("listAll follows continue tokens and falls back to a full list on 410", async () => {
  let expireContinue = false;
  const server = serve((req) => {
    const q = new URL(req.url).searchParams;
    const page = q.get("continue");
    const item = (n: string) => ({ metadata: { name: n } });
    if (page === "p2" && expireContinue) {
      return json(
        { kind: "Status", code: 410, reason: "Expired", message: "continue expired" },
        410,
      );
    }
    if (!q.get("limit")) {
      return json({
        kind: "PodList",
        apiVersion: "v1",
        metadata: { resourceVersion: "77" },
        items: [item("a"), item("b"), item("c"), item("d")],
      });
    }
    if (!page) {
      return json({
        kind: "PodList",
        apiVersion: "v1",
        metadata: { resourceVersion: "50", continue: "p2" },
        items: [item("a"), item("b")],
      });
    }
    return json({
      kind: "PodList",
      apiVersion: "v1",
      metadata: { resourceVersion: "50" },
      items: [item("c")],
    });
  });
  const client = new KubeClient(config(server.url));
  try {
    const pods = client.resource(PODS);
    const all = await pods.listAll({ limit: 2 });
    assert.deepEqual(all.items.map((p) => p.metadata?.name), ["a", "b", "c"]);
    assert.equal(all.metadata.resourceVersion, "50");
    assert.equal(all.items[0].kind, "Pod", "list items get their kind");
    const upper = (p: (typeof all.items)[number]) => ({
      ...p,
      metadata: { name: p.metadata?.name?.toUpperCase() },
    });
    const mapped = await pods.listAll({ limit: 2, transform: upper });
    assert.deepEqual(mapped.items.map((p) => p.metadata?.name), ["A", "B", "C"]);
    expireContinue = true;
    const fallback = await pods.listAll({ limit: 2, transform: upper });
    assert.deepEqual(fallback.items.map((p) => p.metadata?.name), ["A", "B", "C", "D"]);
    assert.equal(fallback.metadata.resourceVersion, "77");
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("non-2xx answers become KubeApiError whatever the body framing", async () => {
  const server = serve((req) => {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/missing")) {
      return json({
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        reason: "NotFound",
        message: 'pods "missing" not found',
        code: 404,
      }, 404);
    }
    if (path.endsWith("/conflict")) {
      return json({
        kind: "Status",
        reason: "Conflict",
        message: "the object has been modified",
        code: 409,
      }, 409);
    }
    // A chunked plain-text body without content-length, as proxies send.
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("bad "));
        c.enqueue(new TextEncoder().encode("gateway"));
        c.close();
      },
    });
    return new Response(body, { status: 502, headers: { "content-type": "text/plain" } });
  });
  const client = new KubeClient(config(server.url));
  try {
    const pods = client.resource(PODS, "d");
    await assert.rejects(() => pods.get("missing"), (e) => {
      assert.ok(e instanceof KubeApiError);
      assert.ok(isNotFound(e));
      assert.equal(e.message, 'pods "missing" not found');
      assert.equal(e.status.reason, "NotFound");
      return true;
    });
    await assert.rejects(() => pods.get("conflict"), (e) => isConflict(e));
    await assert.rejects(() => pods.get("other"), (e) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.code, 502);
      assert.equal(
        e.message,
        "GET /api/v1/namespaces/d/pods/other failed with 502 Unknown: bad gateway",
      );
      return true;
    });
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("429 and 5xx with Retry-After are retried after the advised wait", async () => {
  let calls = 0;
  const server = serve((req) => {
    const path = new URL(req.url).pathname;
    calls++;
    if (path.endsWith("/busy") && calls <= 2) {
      return json({ kind: "Status", code: 429, reason: "TooManyRequests" }, 429, {
        "retry-after": calls === 1 ? "1" : "0",
      });
    }
    if (path.endsWith("/down") && calls <= 1) {
      return json({ kind: "Status", code: 503, reason: "ServiceUnavailable" }, 503, {
        "retry-after": "0",
      });
    }
    if (path.endsWith("/always-busy")) {
      return json({ kind: "Status", code: 429, reason: "TooManyRequests" }, 429, {
        "retry-after": "0",
      });
    }
    if (path.endsWith("/broken")) {
      return json({ kind: "Status", code: 500, reason: "InternalError", message: "boom" }, 500);
    }
    return json({ metadata: { name: "ok" } });
  });
  const waits: number[] = [];
  const codes: number[] = [];
  const client = new KubeClient(config(server.url), {
    maxRetries: 3,
    hooks: {
      onRetryAfter: (_v, _r, s) => waits.push(s),
      onRequest: (verb, resource, code) => {
        assert.equal(verb, "get");
        assert.equal(resource, "nodes");
        codes.push(code);
      },
    },
  });
  try {
    const nodes = client.resource(NODES);
    assert.equal((await nodes.get("busy")).metadata?.name, "ok");
    assert.deepEqual(waits, [1, 0]);
    assert.deepEqual(codes, [429, 429, 200]);
    calls = 0;
    assert.equal((await nodes.get("down")).metadata?.name, "ok");
    calls = 0;
    await assert.rejects(() => nodes.get("always-busy"), (e) => isTooManyRequests(e));
    assert.equal(calls, 4, "one try and three retries");
    calls = 0;
    await assert.rejects(() => nodes.get("broken"), /boom/);
    assert.equal(calls, 1, "a 500 without Retry-After is not retried");
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("a 401 re-reads a rotated token file and retries once", async () => {
  const dir = await Deno.makeTempDir();
  const tokens: (string | null)[] = [];
  const server = serve((req) => {
    const auth = req.headers.get("authorization");
    tokens.push(auth);
    if (auth !== "Bearer new") {
      return json({ kind: "Status", code: 401, reason: "Unauthorized" }, 401);
    }
    return json({ metadata: { name: "n" } });
  });
  await Deno.writeTextFile(`${dir}/token`, "old");
  const client = new KubeClient(config(server.url, {
    credentials: new TokenFileCredentials(`${dir}/token`),
  }));
  try {
    await assert.rejects(
      () => client.resource(NODES).get("n"),
      (e) => (e as KubeApiError).code === 401,
    );
    assert.deepEqual(tokens, ["Bearer old", "Bearer old"], "re-read once, still old");
    await Deno.writeTextFile(`${dir}/token`, "new");
    tokens.length = 0;
    await client.resource(NODES).get("n");
    assert.deepEqual(tokens, ["Bearer old", "Bearer new"], "rotated token picked up after the 401");
  } finally {
    client.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an exec credential that expires is fetched again by the plugin", async () => {
  const dir = await Deno.makeTempDir();
  const tokens: (string | null)[] = [];
  const server = serve((req) => {
    tokens.push(req.headers.get("authorization"));
    return json({ metadata: { name: "n" } });
  });
  // The plugin's credential is valid for one second of real time.
  await Deno.writeTextFile(
    `${dir}/plugin.sh`,
    `#!/bin/sh
n=$(cat "${dir}/count" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${dir}/count"
exp=$(date -u -d "+1 second" +%Y-%m-%dT%H:%M:%SZ)
echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"exec-$n\\",\\"expirationTimestamp\\":\\"$exp\\"}}"
`,
  );
  await Deno.chmod(`${dir}/plugin.sh`, 0o755);
  const creds = new ExecCredentials({
    apiVersion: "client.authentication.k8s.io/v1",
    command: `${dir}/plugin.sh`,
  });
  const client = new KubeClient(config(server.url, { credentials: creds }));
  try {
    const nodes = client.resource(NODES);
    await nodes.get("n");
    const started = Date.now();
    // Wait until the credential must have expired (expiry is rounded to whole seconds).
    while (Date.now() - started < 2_100) await new Promise((r) => setTimeout(r, 100));
    await nodes.get("n");
    assert.equal(tokens[0], "Bearer exec-1");
    assert.equal(tokens[1], "Bearer exec-2");
    assert.equal(creds.runs, 2);
  } finally {
    client.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("basic auth and static tokens are sent as Authorization headers", async () => {
  const seen: (string | null)[] = [];
  const server = serve((req) => {
    seen.push(req.headers.get("authorization"));
    return json({});
  });
  const basic = new KubeClient(config(server.url, {
    credentials: new StaticCredentials({ basic: { username: "ädmin", password: "p:w" } }),
  }));
  const bearer = new KubeClient(config(server.url, {
    credentials: new StaticCredentials({ token: "abc" }),
  }));
  try {
    await basic.resource(NODES).get("n");
    await bearer.resource(NODES).get("n");
    const utf8 = String.fromCharCode(...new TextEncoder().encode("ädmin:p:w"));
    assert.deepEqual(seen, [`Basic ${btoa(utf8)}`, "Bearer abc"]);
  } finally {
    basic.close();
    bearer.close();
    await server.close();
  }
});

Deno.test("requests honour the caller's abort signal", async () => {
  const server = serve(async (req) => {
    await new Promise((r) => setTimeout(r, 300));
    return json({}, 200, { "x-path": new URL(req.url).pathname });
  });
  const client = new KubeClient(config(server.url));
  try {
    const ac = new AbortController();
    const p = client.resource(NODES).get("n", { signal: ac.signal });
    ac.abort(new Error("stop now"));
    await assert.rejects(() => p, /stop now/);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("isGone is reported for a 410 answer", async () => {
  const server = serve(() =>
    json({ kind: "Status", code: 410, reason: "Expired", message: "too old resource version" }, 410)
  );
  const client = new KubeClient(config(server.url));
  try {
    await assert.rejects(
      () => client.resource(PODS).list({ resourceVersion: "1" }),
      (e) => isGone(e),
    );
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("unscoped clients address objects through a namespace option or inNamespace", async () => {
  const { seen, record } = recorder();
  const server = serve(async (req) => {
    await record(req);
    return json({ metadata: { name: "x" } });
  });
  const client = new KubeClient(config(server.url));
  try {
    const pods = client.resource(PODS);
    await pods.get("a", { namespace: "ns1" });
    await pods.patch("a", "merge", {}, { namespace: "ns2" });
    await pods.delete("a", { namespace: "ns3" });
    await pods.inNamespace("ns4").getStatus("a");
    assert.deepEqual(seen.map((s) => `${s.method} ${s.path}`), [
      "GET /api/v1/namespaces/ns1/pods/a",
      "PATCH /api/v1/namespaces/ns2/pods/a",
      "DELETE /api/v1/namespaces/ns3/pods/a",
      "GET /api/v1/namespaces/ns4/pods/a/status",
    ]);
    await assert.rejects(
      () => pods.inNamespace("ns4").get("a", { namespace: "other" }),
      /Cannot address pods "a" in namespace "other": the client is scoped to "ns4"/,
    );
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("a fetch hook carries every request with its credentials, errors and retries", async () => {
  const seen: { method: string; url: string; authorization: string | null; body: string }[] = [];
  let throttled = false;
  const hook = async (req: Request) => {
    seen.push({
      method: req.method,
      url: req.url,
      authorization: req.headers.get("authorization"),
      body: await req.text(),
    });
    const path = new URL(req.url).pathname;
    if (path.endsWith("/missing")) {
      return json({ kind: "Status", code: 404, reason: "NotFound", message: "gone" }, 404);
    }
    if (path.endsWith("/busy") && !throttled) {
      throttled = true;
      return json({ kind: "Status", code: 429, reason: "TooManyRequests" }, 429, {
        "retry-after": "0",
      });
    }
    return json({ metadata: { name: "x" } });
  };
  const requests: string[] = [];
  const client = new KubeClient(
    config("https://in-process.invalid:6443/base", {
      credentials: new StaticCredentials({ token: "t0k" }),
    }),
    {
      fetch: hook,
      hooks: { onRequest: (verb, resource, code) => requests.push(`${verb} ${resource} ${code}`) },
    },
  );
  try {
    await client.resource(PODS, "ns1").create({ metadata: { name: "p" } });
    await assert.rejects(() => client.resource(NODES).get("missing"), (e) => isNotFound(e));
    await client.resource(NODES).get("busy");
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
      "POST https://in-process.invalid:6443/base/api/v1/namespaces/ns1/pods",
      "GET https://in-process.invalid:6443/base/api/v1/nodes/missing",
      "GET https://in-process.invalid:6443/base/api/v1/nodes/busy",
      "GET https://in-process.invalid:6443/base/api/v1/nodes/busy",
    ]);
    assert.ok(seen.every((s) => s.authorization === "Bearer t0k"), "every request authenticated");
    assert.equal(JSON.parse(seen[0].body).metadata.name, "p");
    assert.deepEqual(requests, [
      "create pods 200",
      "get nodes 404",
      "get nodes 429",
      "get nodes 200",
    ]);
  } finally {
    client.close();
  }
});

Deno.test("a fetch hook sees aborts and timeouts as fetch would", async () => {
  const signals: AbortSignal[] = [];
  const cancelled: string[] = [];
  const encoder = new TextEncoder();
  let answerLate: (() => void) | undefined;
  const stream = (name: string) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        const obj = { metadata: { name, resourceVersion: "2" } };
        c.enqueue(encoder.encode(JSON.stringify({ type: "ADDED", object: obj }) + "\n"));
      },
      cancel() {
        cancelled.push(name);
      },
    });
  const hook = (req: Request) => {
    signals.push(req.signal);
    const path = new URL(req.url).pathname;
    if (path.endsWith("/slow")) return new Promise<Response>(() => {});
    if (path.endsWith("/endless")) {
      return Promise.resolve(new Response(new ReadableStream<Uint8Array>({ start() {} })));
    }
    if (path.endsWith("/late")) {
      return new Promise<Response>((resolve) =>
        answerLate = () => resolve(new Response(stream("late")))
      );
    }
    return Promise.resolve(new Response(stream(path)));
  };
  const client = new KubeClient(config("https://in-process.invalid"), {
    fetch: hook,
    requestTimeoutMs: 100,
  });
  try {
    // A pending answer is abandoned at the caller's abort, or at the request timeout.
    const ac = new AbortController();
    const pending = client.resource(NODES).get("slow", { signal: ac.signal });
    await waitFor(() => signals.length === 1, "the request to reach the hook");
    ac.abort(new Error("stop now"));
    await assert.rejects(() => pending, /stop now/);
    assert.equal(signals[0].aborted, true);
    await assert.rejects(() => client.resource(NODES).get("slow"), /no answer within 0.1 s/);
    await assert.rejects(() => client.resource(NODES).get("endless"), /no answer within 0.1 s/);

    // An answer that comes after the abort has its stream cancelled, not left open.
    const late = new AbortController();
    const sent = client.send({
      method: "GET",
      path: "/late",
      verb: "watch",
      resource: "nodes",
      signal: late.signal,
      stream: true,
    });
    await waitFor(() => answerLate !== undefined, "the late request to reach the hook");
    late.abort(new Error("gone"));
    await assert.rejects(() => sent, /gone/);
    answerLate!();
    await waitFor(() => cancelled.includes("late"), "the late stream to be cancelled");

    // Aborting a received stream errors a pending read and cancels the hook's stream.
    const open = new AbortController();
    const res = await client.send({
      method: "GET",
      path: "/open",
      verb: "watch",
      resource: "nodes",
      signal: open.signal,
      stream: true,
    });
    const reader = res.body!.getReader();
    assert.equal((await reader.read()).done, false);
    const read = reader.read();
    open.abort(new Error("closed by caller"));
    await assert.rejects(() => read, /closed by caller/);
    await waitFor(() => cancelled.includes("/open"), "the open stream to be cancelled");

    // A watch that ends aborts its Request's signal and cancels the hook's stream.
    const watch = new AbortController();
    const names: string[] = [];
    for await (const ev of client.resource(NODES).watch({ signal: watch.signal })) {
      names.push(ev.object.metadata!.name!);
      watch.abort();
    }
    assert.deepEqual(names, ["/api/v1/nodes"]);
    assert.equal(signals.at(-1)!.aborted, true, "the watch request's signal aborted");
    await waitFor(() => cancelled.includes("/api/v1/nodes"), "the watch stream to be cancelled");
  } finally {
    client.close();
  }
});

Deno.test("KubeClient bounds a request and its body by the timeout, and keeps no timer after", async () => {
  let stalled: ReadableStreamDefaultController<Uint8Array> | undefined;
  const server = serve((req) => {
    if (new URL(req.url).pathname.endsWith("/stalled")) {
      // Headers at once, then half a body and nothing more.
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            stalled = c;
            c.enqueue(new TextEncoder().encode('{"metadata":'));
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    }
    return json({ metadata: { name: "n1", resourceVersion: "1" } });
  });
  const client = new KubeClient(config(server.url), { requestTimeoutMs: 200 });
  try {
    await assert.rejects(() => client.resource(NODES).get("stalled"), /no answer within 0.2 s/);
    // A request that completes leaves nothing running: the test's op sanitizer fails on a timer
    // still pending when the test ends.
    assert.equal((await client.resource(NODES).get("n1")).metadata?.name, "n1");
  } finally {
    try {
      stalled?.close();
    } catch { /* cancelled by the client's abort */ }
    client.close();
    await server.close();
  }
});
