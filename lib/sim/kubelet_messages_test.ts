import assert from "node:assert/strict";
import {
  containerdReference,
  goDuration,
  isValidImageReference,
  messages,
  pullErrorMessage,
  startErrorMessage,
} from "./kubelet_messages.ts";

Deno.test("durations read like Go's time.Duration truncated to milliseconds", () => {
  assert.equal(goDuration(0), "0s");
  assert.equal(goDuration(0.4), "0s");
  assert.equal(goDuration(512.9), "512ms");
  assert.equal(goDuration(1000), "1s");
  assert.equal(goDuration(1500), "1.5s");
  assert.equal(goDuration(2345), "2.345s");
  assert.equal(goDuration(61_050), "1m1.05s");
  assert.equal(goDuration(120_000), "2m0s");
  assert.equal(goDuration(3_600_000), "1h0m0s");
  assert.equal(goDuration(3_723_004), "1h2m3.004s");
});

Deno.test("containerd reports fully qualified references", () => {
  assert.equal(containerdReference("alpine"), "docker.io/library/alpine:latest");
  assert.equal(containerdReference("alpine:3.19"), "docker.io/library/alpine:3.19");
  assert.equal(
    containerdReference("ghcr.io/o/a:1@sha256:" + "a".repeat(64)),
    "ghcr.io/o/a@sha256:" + "a".repeat(64),
  );
});

Deno.test("pull errors carry the kubelet's gRPC wrapping and containerd's text", () => {
  assert.equal(
    pullErrorMessage("registry.invalid.local:9999/does-not-exist", "dns"),
    'rpc error: code = Unknown desc = failed to pull and unpack image "registry.invalid.local:9999/does-not-exist:latest": ' +
      'failed to resolve reference "registry.invalid.local:9999/does-not-exist:latest": failed to do request: ' +
      'Head "https://registry.invalid.local:9999/v2/does-not-exist/manifests/latest": dial tcp: lookup registry.invalid.local: no such host',
  );
  assert.equal(
    pullErrorMessage("nginx:notfound", "not-found"),
    'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:notfound": ' +
      'failed to resolve reference "docker.io/library/nginx:notfound": docker.io/library/nginx:notfound: not found',
  );
  assert.match(
    pullErrorMessage("private.example.com/team/app:1", "unauthorized"),
    /unexpected status from HEAD request to https:\/\/private\.example\.com\/v2\/team\/app\/manifests\/1: 401 Unauthorized$/,
  );
  assert.match(
    pullErrorMessage("alpine:3.19", "unavailable"),
    /HEAD request to https:\/\/registry-1\.docker\.io\/v2\/library\/alpine\/manifests\/3\.19: 503 Service Unavailable$/,
  );
  assert.match(
    pullErrorMessage("example.com:5000/a:1", "connection-refused"),
    /dial tcp 10\.\d+\.\d+\.\d+:5000: connect: connection refused$/,
  );
  assert.match(
    pullErrorMessage("example.com/a:1", "timeout"),
    /dial tcp 10\.\d+\.\d+\.\d+:443: i\/o timeout$/,
  );
});

Deno.test("event messages", () => {
  assert.equal(
    messages.pulled("alpine:3.19", 1234.5, 3000, 3408729),
    'Successfully pulled image "alpine:3.19" in 1.234s (3s including waiting). Image size: 3408729 bytes.',
  );
  assert.equal(messages.backOff("x:1"), 'Back-off pulling image "x:1"');
  assert.equal(messages.alreadyPresent("x:1"), 'Container image "x:1" already present on machine');
  assert.equal(
    messages.neverPull("x:1"),
    'Container image "x:1" is not present with pull policy of Never',
  );
  assert.equal(
    messages.secretsMissing(["a", "b"]),
    "Unable to retrieve some image pull secrets (a, b); attempting to pull the image may not succeed.",
  );
  assert.match(
    startErrorMessage("true"),
    /exec: "true": executable file not found in \$PATH: unknown$/,
  );
});

Deno.test("image references are validated like containerd does", () => {
  for (
    const ok of [
      "alpine",
      "alpine:3.19",
      "docker.io/library/alpine:3.19",
      "registry.invalid.local:9999/does-not-exist",
      "localhost:5000/a/b-c__d.e:v1.0",
      "ghcr.io/o/a@sha256:" + "0".repeat(64),
      "ghcr.io/o/a:tag@sha256:" + "0".repeat(64),
    ]
  ) assert.equal(isValidImageReference(ok), true, ok);
  for (
    const bad of ["", "Alpine", "alpine:", "alpine::1", "a//b", "a:b:c", "a@sha256:12", "-a", "a b"]
  ) assert.equal(isValidImageReference(bad), false, bad);
});
