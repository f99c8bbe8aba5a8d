import assert from "node:assert/strict";
import {
  canonicalReference,
  digestOfImageId,
  parseImageReference,
  pullReference,
} from "./image_ref.ts";

const DIGEST = "sha256:" + "a".repeat(64);

Deno.test("parseImageReference splits registry, repository, tag and digest", () => {
  assert.deepEqual(parseImageReference("nginx"), {
    registry: "docker.io",
    repository: "library/nginx",
  });
  assert.deepEqual(parseImageReference("localhost:5000/team/app:v1"), {
    registry: "localhost:5000",
    repository: "team/app",
    tag: "v1",
  });
  assert.deepEqual(parseImageReference(`ghcr.io/org/tool@${DIGEST}`), {
    registry: "ghcr.io",
    repository: "org/tool",
    digest: DIGEST,
  });
  assert.equal(parseImageReference("team/app").registry, "docker.io");
  assert.throws(() => parseImageReference(""), /empty/);
});

Deno.test("canonicalReference makes equivalent references equal", () => {
  const forms = ["nginx", "nginx:latest", "docker.io/nginx", "docker.io/library/nginx:latest"];
  for (const f of forms) assert.equal(canonicalReference(f), "docker.io/library/nginx:latest");
  assert.notEqual(canonicalReference("quay.io/nginx"), canonicalReference("nginx"));
  assert.equal(canonicalReference(`alpine@${DIGEST}`), `docker.io/library/alpine@${DIGEST}`);
});

Deno.test("pullReference prefers digest, then tag, then the image as written", () => {
  assert.equal(pullReference({ image: "a/b", tag: "1" }), "a/b:1");
  assert.equal(pullReference({ image: "a/b", digest: DIGEST }), `a/b@${DIGEST}`);
  assert.equal(pullReference({ image: "a/b" }), "a/b");
});

Deno.test("digestOfImageId reads the digest of a kubelet imageID", () => {
  assert.equal(digestOfImageId(`docker.io/library/alpine@${DIGEST}`), DIGEST);
  assert.equal(digestOfImageId("docker.io/library/alpine:3.20"), undefined);
});
