import assert from "node:assert/strict";
import { isUnresolvableHost, RegistryCatalogue } from "./registry_catalogue.ts";

function manifestOf(catalogue: RegistryCatalogue, ref: string, authenticated = false) {
  const r = catalogue.resolve(ref, { authenticated });
  if (!r.ok) throw new Error(`Expected "${ref}" to resolve, it failed with ${r.failure}`);
  return r.manifest;
}

function failureOf(catalogue: RegistryCatalogue, ref: string, authenticated = false) {
  const r = catalogue.resolve(ref, { authenticated });
  return r.ok ? "ok" : r.failure;
}

Deno.test("digest and size are deterministic and realistic", () => {
  const a = manifestOf(new RegistryCatalogue(), "alpine:3.19");
  const b = manifestOf(new RegistryCatalogue(), "docker.io/library/alpine:3.19");
  assert.equal(a.digest, b.digest);
  assert.equal(a.size, b.size);
  assert.match(a.digest, /^sha256:[a-f0-9]{64}$/);
  assert.equal(a.registry, "docker.io");
  assert.equal(a.repository, "library/alpine");
  assert.equal(a.tag, "3.19");
  const other = manifestOf(new RegistryCatalogue(), "alpine:3.20");
  assert.notEqual(other.digest, a.digest);
  for (const ref of ["alpine", "golang:1.22", "ghcr.io/org/tool:v1", "localhost:5000/x:y"]) {
    const m = manifestOf(new RegistryCatalogue(), ref);
    assert.ok(m.size >= 17_000_000 && m.size <= 690_000_000, `${ref}: ${m.size}`);
  }
});

Deno.test("no tag means latest", () => {
  const c = new RegistryCatalogue();
  assert.equal(manifestOf(c, "nginx").digest, manifestOf(c, "nginx:latest").digest);
});

Deno.test("missing repositories and tags are not found", () => {
  const c = new RegistryCatalogue();
  assert.equal(failureOf(c, "example.com/team/does-not-exist:1"), "not-found");
  assert.equal(failureOf(c, "alpine:notfound"), "not-found");
  assert.equal(failureOf(c, "alpine:3.19"), "ok");
});

Deno.test("unresolvable hosts fail before anything else", () => {
  const c = new RegistryCatalogue();
  assert.equal(failureOf(c, "registry.invalid.local:9999/does-not-exist"), "dns");
  assert.equal(failureOf(c, "nonexistent-registry:5000/app:1"), "dns");
  assert.equal(failureOf(c, "private.nonexistent.io/app:1"), "dns");
  assert.equal(isUnresolvableHost("invalidator.example.com"), false);
  assert.equal(isUnresolvableHost("my-invalid-host"), true);
  assert.equal(isUnresolvableHost("docker.io"), false);
});

Deno.test("private hosts need credentials", () => {
  const c = new RegistryCatalogue();
  assert.equal(failureOf(c, "private.example.com/team/app:1"), "unauthorized");
  assert.equal(failureOf(c, "private.example.com/team/app:1", true), "ok");
  c.setHostAuth("registry.example.com", true);
  assert.equal(failureOf(c, "registry.example.com/ci/builder:v3.1.0"), "unauthorized");
  c.setHostAuth("private.example.com", false);
  assert.equal(failureOf(c, "private.example.com/team/app:1"), "ok");
});

Deno.test("host faults and latency apply to every repository of the host", () => {
  const c = new RegistryCatalogue();
  c.setHostFault("quay.io", "unavailable");
  c.setHostLatency("quay.io", 250);
  const r = c.resolve("quay.io/org/app:1");
  assert.deepEqual(r, { ok: false, failure: "unavailable", latencyMs: 250 });
  c.setHostFault("quay.io", undefined);
  const ok = c.resolve("quay.io/org/app:1");
  assert.equal(ok.ok, true);
  assert.equal(ok.latencyMs, 250);
});

Deno.test("moving a tag yields a new digest; the old digest stays pullable", () => {
  const c = new RegistryCatalogue();
  const before = manifestOf(c, "team/app:stable");
  const moved = c.moveTag("team/app", "stable");
  assert.notEqual(moved.digest, before.digest);
  assert.equal(manifestOf(c, "team/app:stable").digest, moved.digest);
  assert.equal(manifestOf(c, `team/app@${before.digest}`).digest, before.digest);
  const again = c.moveTag("team/app", "stable");
  assert.notEqual(again.digest, moved.digest);
  assert.notEqual(again.digest, before.digest);
});

Deno.test("explicit tags, removal and closed repositories", () => {
  const c = new RegistryCatalogue();
  const digest = `sha256:${"ab".repeat(32)}`;
  c.setTag("example.com/team/app", "v1", { digest, size: 1234 });
  assert.deepEqual(manifestOf(c, "example.com/team/app:v1"), {
    registry: "example.com",
    repository: "team/app",
    tag: "v1",
    digest,
    size: 1234,
  });
  assert.equal(manifestOf(c, `example.com/team/app@${digest}`).size, 1234);
  c.removeTag("example.com/team/app", "v1");
  assert.equal(failureOf(c, "example.com/team/app:v1"), "not-found");
  assert.equal(failureOf(c, "example.com/team/app:v2"), "ok");

  c.addRepository("example.com/team/closed", ["a", "b"]);
  assert.equal(failureOf(c, "example.com/team/closed:a"), "ok");
  assert.equal(failureOf(c, "example.com/team/closed:c"), "not-found");
  assert.deepEqual(c.listTags("example.com/team/closed"), ["a", "b"]);

  c.removeRepository("example.com/team/closed");
  assert.equal(failureOf(c, "example.com/team/closed:a"), "not-found");
  assert.equal(c.listTags("example.com/team/closed"), undefined);
  assert.deepEqual(c.listRepositories("example.com"), ["team/app"]);
  assert.throws(() => c.setTag("x/y", "t", { digest: "md5:1" }), /sha256/);
});

Deno.test("tag lists of open repositories are deterministic and reflect changes", () => {
  const c = new RegistryCatalogue();
  const tags = c.listTags("example.com/team/frontend")!;
  assert.ok(tags.includes("latest"));
  assert.ok(tags.length >= 4);
  assert.deepEqual(tags, [...tags].sort());
  assert.deepEqual(new RegistryCatalogue().listTags("example.com/team/frontend"), tags);
  c.setTag("example.com/team/frontend", "v9.9.9");
  c.removeTag("example.com/team/frontend", "latest");
  const after = c.listTags("example.com/team/frontend")!;
  assert.ok(after.includes("v9.9.9"));
  assert.ok(!after.includes("latest"));
  assert.equal(c.listTags("example.com/team/does-not-exist"), undefined);
});

Deno.test("a closed world knows only what was added", () => {
  const c = new RegistryCatalogue({ openWorld: false });
  assert.equal(failureOf(c, "alpine:3.19"), "not-found");
  assert.equal(c.listTags("alpine"), undefined);
  c.setTag("alpine", "3.19");
  assert.equal(failureOf(c, "alpine:3.19"), "ok");
  assert.equal(failureOf(c, "alpine:3.20"), "not-found");
  c.addRepository("busybox", ["1.36"]);
  assert.equal(failureOf(c, "busybox:1.37"), "not-found");
});
