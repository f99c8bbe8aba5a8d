/** Shared fixtures of lib/kube tests: generated certificates and small loopback servers. */

/** A test PKI: a CA, a serving certificate for 127.0.0.1/localhost and a client certificate. */
export interface TestPki {
  dir: string;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

const PKI_SCRIPT = `
set -e
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=kube-test-ca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -out client.csr -subj "/CN=alice/O=system:masters"
printf "basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth\\n" > client.ext
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext
`;

/** Generates a fresh PKI with openssl in a temp directory (remove `dir` when done). */
export async function makePki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "kube-pki-" });
  const out = await new Deno.Command("bash", {
    args: ["-c", PKI_SCRIPT],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`Cannot generate test certificates: ${new TextDecoder().decode(out.stderr)}`);
  }
  const read = (f: string) => Deno.readTextFile(`${dir}/${f}`);
  return {
    dir,
    caPem: await read("ca.crt"),
    serverCertPem: await read("server.crt"),
    serverKeyPem: await read("server.key"),
    clientCertPem: await read("client.crt"),
    clientKeyPem: await read("client.key"),
  };
}

/** A loopback HTTP(S) server for tests. */
export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 with an ephemeral port, optionally over TLS. */
export function serve(
  handler: (req: Request) => Response | Promise<Response>,
  tls?: { cert: string; key: string },
): TestServer {
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: () => {},
    ...(tls ?? {}),
  }, handler);
  const scheme = tls ? "https" : "http";
  return {
    url: `${scheme}://127.0.0.1:${server.addr.port}`,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

/** JSON response helper. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Polls `check` until it returns true, failing after `timeoutMs` (for end states, not timing). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
