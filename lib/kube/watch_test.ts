import assert from "node:assert/strict";
import { KubeClient } from "./client.ts";
import { isGone } from "./errors.ts";
import { PODS } from "./resources.ts";
import { serve, waitFor } from "./_test_helpers.ts";
import type { KubeObject, WatchEvent } from "./types.ts";
import { WatchStalledError } from "./watch.ts";

const enc = new TextEncoder();

/** A watch endpoint whose stream the test drives chunk by chunk. */
function streamingServer() {
  const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  const queries: URLSearchParams[] = [];
  let cancelled = 0;
  const server = serve((req) => {
    queries.push(new URL(req.url).searchParams);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        streams.push(c);
      },
      cancel() {
        cancelled++;
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  return {
    server,
    streams,
    queries,
    cancelled: () => cancelled,
  };
}

function event(type: string, name: string, rv: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    type,
    object: { metadata: { name, namespace: "d", resourceVersion: rv }, ...extra },
  }) + "\n";
}

Deno.test("watch decodes events split across chunks and multi-byte characters", async () => {
  const s = streamingServer();
  const client = new KubeClient({ server: s.server.url, namespace: "default", source: "t" });
  try {
    const events: WatchEvent<KubeObject>[] = [];
    const done = (async () => {
      for await (
        const e of client.resource(PODS).watch({ resourceVersion: "10", labelSelector: "a=b" })
      ) {
        events.push(e);
      }
    })();
    await waitFor(() => s.streams.length === 1, "the watch request");
    const bytes = enc.encode(
      event("ADDED", "p1", "11", { data: "☃🚀" }) + event("BOOKMARK", "", "12") +
        event("DELETED", "p1", "13"),
    );
    // Every 5 bytes: cuts through JSON tokens, line ends and UTF-8 sequences.
    for (let i = 0; i < bytes.length; i += 5) s.streams[0].enqueue(bytes.slice(i, i + 5));
    s.streams[0].close();
    await done;
    assert.deepEqual(events.map((e) => `${e.type}:${e.object.metadata?.resourceVersion}`), [
      "ADDED:11",
      "BOOKMARK:12",
      "DELETED:13",
    ]);
    assert.equal((events[0].object as { data?: string }).data, "☃🚀");
    assert.equal(events[0].object.kind, "Pod");
    const q = s.queries[0];
    assert.equal(q.get("watch"), "1");
    assert.equal(q.get("allowWatchBookmarks"), "true");
    assert.equal(q.get("resourceVersion"), "10");
    assert.equal(q.get("labelSelector"), "a=b");
    const timeout = Number(q.get("timeoutSeconds"));
    assert.ok(timeout >= 300 && timeout <= 600, `timeoutSeconds ${timeout}`);
  } finally {
    client.close();
    await s.server.close();
  }
});

Deno.test("watch throws an ERROR event as KubeApiError (410 Expired)", async () => {
  const s = streamingServer();
  const client = new KubeClient({ server: s.server.url, namespace: "default", source: "t" });
  try {
    const run = (async () => {
      for await (const _ of client.resource(PODS).watch({ resourceVersion: "1" })) {
        // no events expected before the error
      }
    })();
    await waitFor(() => s.streams.length === 1, "the watch request");
    s.streams[0].enqueue(enc.encode(
      JSON.stringify({
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          code: 410,
          reason: "Expired",
          message: "too old resource version: 1 (5)",
        },
      }) + "\n",
    ));
    await assert.rejects(() => run, (e) => isGone(e));
    await waitFor(() => s.cancelled() === 1, "the stream to be released");
  } finally {
    client.close();
    await s.server.close();
  }
});

Deno.test("watch aborts a silent stream with WatchStalledError", async () => {
  const s = streamingServer();
  const client = new KubeClient({ server: s.server.url, namespace: "default", source: "t" });
  try {
    const events: string[] = [];
    const run = (async () => {
      for await (const e of client.resource(PODS).watch({ inactivityTimeoutMs: 300 })) {
        events.push(e.type);
      }
    })();
    await waitFor(() => s.streams.length === 1, "the watch request");
    s.streams[0].enqueue(enc.encode(event("ADDED", "p", "2")));
    await assert.rejects(() => run, (e) => e instanceof WatchStalledError);
    assert.deepEqual(events, ["ADDED"]);
    await waitFor(() => s.cancelled() === 1, "the stalled stream to be closed");
  } finally {
    client.close();
    await s.server.close();
  }
});

Deno.test("watch does not count a slow consumer as a silent server", async () => {
  const s = streamingServer();
  const client = new KubeClient({ server: s.server.url, namespace: "default", source: "t" });
  try {
    const events: string[] = [];
    const run = (async () => {
      for await (const e of client.resource(PODS).watch({ inactivityTimeoutMs: 200 })) {
        events.push(e.object.metadata!.name!);
        await new Promise((r) => setTimeout(r, 400));
      }
    })();
    await waitFor(() => s.streams.length === 1, "the watch request");
    s.streams[0].enqueue(enc.encode(event("ADDED", "a", "2") + event("ADDED", "b", "3")));
    s.streams[0].close();
    await run;
    assert.deepEqual(events, ["a", "b"]);
  } finally {
    client.close();
    await s.server.close();
  }
});

Deno.test("watch ends cleanly when the caller aborts or breaks out", async () => {
  const s = streamingServer();
  const client = new KubeClient({ server: s.server.url, namespace: "default", source: "t" });
  try {
    const ac = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const e of client.resource(PODS).watch({ signal: ac.signal })) seen.push(e.type);
    })();
    await waitFor(() => s.streams.length === 1, "the first watch");
    s.streams[0].enqueue(enc.encode(event("ADDED", "p", "2")));
    await waitFor(() => seen.length === 1, "the first event");
    ac.abort();
    await run; // resolves, does not throw
    await waitFor(() => s.cancelled() === 1, "the aborted stream to close");

    const run2 = (async () => {
      for await (const _ of client.resource(PODS).watch()) break;
    })();
    await waitFor(() => s.streams.length === 2, "the second watch");
    s.streams[1].enqueue(enc.encode(event("ADDED", "p", "3")));
    await run2;
    await waitFor(() => s.cancelled() === 2, "the abandoned stream to close");

    const pre = new AbortController();
    pre.abort();
    for await (const _ of client.resource(PODS).watch({ signal: pre.signal })) {
      assert.fail("an aborted watch yields nothing");
    }
  } finally {
    client.close();
    await s.server.close();
  }
});

Deno.test("watch rejects garbage in the stream", async () => {
  const s = streamingServer();
  const client = new KubeClient({ server: s.server.url, namespace: "default", source: "t" });
  try {
    const run = (async () => {
      for await (const _ of client.resource(PODS).watch()) { /* none */ }
    })();
    await waitFor(() => s.streams.length === 1, "the watch request");
    s.streams[0].enqueue(enc.encode("<html>proxy error</html>\n"));
    await assert.rejects(
      () => run,
      /Cannot decode an event of the watch of \/api\/v1\/pods: it is not JSON/,
    );
  } finally {
    client.close();
    await s.server.close();
  }
});
