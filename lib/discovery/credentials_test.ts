import assert from "node:assert/strict";
import { parseCredentials, redact, secretValues } from "./credentials.ts";
import { DiscoveryError } from "./errors.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("reads every supported key from bytes or strings", () => {
  const creds = parseCredentials({
    token: bytes("tok-123\n"),
    username: "admin",
    password: bytes("s3cret\r\n"),
    "ca.crt": "CA PEM",
    "tls.crt": "CERT PEM",
    "tls.key": bytes("KEY PEM"),
    "headers.X-Scope-OrgID": "tenant-1",
    "headers.X-Other": bytes("v"),
    unrelated: "ignored",
  });
  assert.deepEqual(creds, {
    token: "tok-123",
    username: "admin",
    password: "s3cret",
    caCert: "CA PEM",
    clientCert: "CERT PEM",
    clientKey: "KEY PEM",
    headers: [["X-Other", "v"], ["X-Scope-OrgID", "tenant-1"]],
  });
});

Deno.test("no Secret means no credentials; a username alone has an empty password", () => {
  assert.deepEqual(parseCredentials(undefined), { headers: [] });
  assert.deepEqual(parseCredentials({ username: "u" }), {
    username: "u",
    password: "",
    headers: [],
  });
});

Deno.test("unusable keys are InvalidSpec errors that name the key but not the value", () => {
  const cases: Record<string, Uint8Array | string>[] = [
    { "tls.crt": "CERT" },
    { password: "hunter22" },
    { "headers.Bad Name": "hunter22" },
    { "headers.X-A": "hunter22\nX-B: injected" },
    { token: new Uint8Array([0xff, 0xfe]) },
  ];
  for (const data of cases) {
    assert.throws(
      () => parseCredentials(data),
      (e) =>
        e instanceof DiscoveryError && e.reason === "InvalidSpec" &&
        !e.message.includes("hunter22"),
      JSON.stringify(Object.keys(data)),
    );
  }
});

Deno.test("redact removes tokens, passwords, header values and the Basic encoding", () => {
  const creds = parseCredentials({
    token: "tok-abcdef",
    username: "admin",
    password: "p4ssw0rd",
    "headers.X-Key": "hdr-value",
  });
  const basic = btoa("admin:p4ssw0rd");
  const text = `tok-abcdef p4ssw0rd hdr-value ${basic} admin`;
  assert.equal(
    redact(text, secretValues(creds)),
    "<redacted> <redacted> <redacted> <redacted> admin",
  );
});
