// Failure classification of discovery sources against real sockets: every reason comes from a
// structured error (Deno.errors classes, DOMException names, HTTP statuses), so these tests
// build each failure for real: an unresolvable name, a closed port, a server that never answers,
// TLS without the right CA, and HTTP error statuses.
import assert from "node:assert/strict";
import type { DiscoverySource } from "../lib/api/mod.ts";
import { type DiscoveryErrorReason, runSources, type SecretData } from "../lib/discovery/mod.ts";
import { createTestPki, haveOpenssl, type TestPki } from "./fixtures/discovery/certs.ts";

const OPENSSL = await haveOpenssl();
if (!OPENSSL) console.log("skipping discovery TLS classification tests: openssl is not installed");

function sources(url: string): DiscoverySource[] {
  return [
    {
      type: "prometheus",
      prometheus: { endpoint: url, query: "count(up) by (image)", step: "5m" },
      secretRef: { name: "s" },
    },
    { type: "registry", registry: { url, repositories: ["team/app"] }, secretRef: { name: "s" } },
  ];
}

/** Runs both kinds of source against `url` and returns their reasons and messages. */
async function classify(
  url: string,
  secret?: SecretData,
  timeoutMs = 15_000,
): Promise<{ reasons: (DiscoveryErrorReason | undefined)[]; messages: string[] }> {
  const outcomes = await runSources({ sources: sources(url) }, {
    credentialsFor: () => secret,
    timeoutMs,
  });
  return {
    reasons: outcomes.map((o) => o.error?.reason),
    messages: outcomes.map((o) => o.error?.message ?? ""),
  };
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("an unresolvable host is DNSError", async () => {
  const { reasons, messages } = await classify("https://nonexistent-registry.invalid:5000");
  assert.deepEqual(reasons, ["DNSError", "DNSError"]);
  assert.match(
    messages[1],
    /^Cannot list tags of "team\/app": cannot resolve host "nonexistent-registry\.invalid"$/,
  );
  assert.match(
    messages[0],
    /^Cannot query Prometheus at https:\/\/nonexistent-registry\.invalid:5000\/api\/v1\/query: cannot resolve host/,
  );
});

Deno.test("a closed port is ConnectionRefused", async () => {
  const port = closedPort();
  const { reasons, messages } = await classify(`http://127.0.0.1:${port}`);
  assert.deepEqual(reasons, ["ConnectionRefused", "ConnectionRefused"]);
  assert.match(messages[1], new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}$`));
});

Deno.test("a server that accepts but never answers is Timeout", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch {
      // The listener was closed at the end of the test.
    }
  })();
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const { reasons, messages } = await classify(`http://127.0.0.1:${port}`, undefined, 300);
    assert.deepEqual(reasons, ["Timeout", "Timeout"]);
    assert.match(messages[0], /did not answer within 300 ms$/);
  } finally {
    listener.close();
    await accepting;
    for (const conn of held) {
      try {
        conn.close();
      } catch {
        // Already closed by the client's abort.
      }
    }
  }
});

Deno.test("HTTP 401, 403, 404 and 500 keep their meaning for both kinds of source", async () => {
  for (
    const [status, reason] of [
      [401, "Unauthorized"],
      [403, "Forbidden"],
      [404, "NotFound"],
      [500, "HTTPError"],
    ] as const
  ) {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("no", { status }),
    );
    try {
      const { reasons } = await classify(`http://127.0.0.1:${server.addr.port}`);
      assert.deepEqual(reasons, [reason, reason], `status ${status}`);
    } finally {
      await server.shutdown();
    }
  }
});

Deno.test({
  name:
    "TLS: an unknown CA or a plain-HTTP server is TLSError; the Secret's ca.crt fixes the first",
  ignore: !OPENSSL,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "drop-discovery-tls-" });
    const otherDir = await Deno.makeTempDir({ prefix: "drop-discovery-tls-other-" });
    let pki: TestPki;
    let other: TestPki;
    try {
      [pki, other] = await Promise.all([createTestPki(dir), createTestPki(otherDir)]);
    } catch (error) {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(otherDir, { recursive: true });
      throw error;
    }
    const tls = Deno.serve(
      {
        hostname: "127.0.0.1",
        port: 0,
        onListen() {},
        cert: pki.serverCert,
        key: pki.serverKey,
      },
      (request) =>
        new URL(request.url).pathname.endsWith("/tags/list")
          ? Response.json({ name: "team/app", tags: ["1.0"] })
          : Response.json({ status: "success", data: { resultType: "vector", result: [] } }),
    );
    const plain = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("plain"),
    );
    try {
      const url = `https://127.0.0.1:${tls.addr.port}`;
      const unknown = await classify(url);
      assert.deepEqual(unknown.reasons, ["TLSError", "TLSError"]);
      assert.match(unknown.messages[1], /TLS with 127\.0\.0\.1:\d+ failed: /);

      const wrongCa = await classify(url, { "ca.crt": other.caCert });
      assert.deepEqual(wrongCa.reasons, ["TLSError", "TLSError"]);

      const trusted = await classify(url, { "ca.crt": pki.caCert });
      assert.deepEqual(trusted.reasons, [undefined, undefined], trusted.messages.join("; "));
      const byName = await classify(`https://localhost:${tls.addr.port}`, { "ca.crt": pki.caCert });
      assert.deepEqual(byName.reasons, [undefined, undefined], byName.messages.join("; "));

      const notTls = await classify(`https://127.0.0.1:${plain.addr.port}`);
      assert.deepEqual(notTls.reasons, ["TLSError", "TLSError"]);
    } finally {
      await tls.shutdown();
      await plain.shutdown();
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(otherDir, { recursive: true });
    }
  },
});

Deno.test("a malformed client key in the Secret is InvalidSpec, not a network failure", async () => {
  const { reasons } = await classify("https://127.0.0.1:1", {
    "tls.crt": "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n",
    "tls.key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
  });
  assert.deepEqual(reasons, ["InvalidSpec", "InvalidSpec"]);
});
