import assert from "node:assert/strict";
import { ImageStore } from "./image_store.ts";
import type { ImageManifest } from "./registry_catalogue.ts";

function manifest(repository: string, tag: string | undefined, n: number, size: number) {
  const m: ImageManifest = {
    registry: "docker.io",
    repository,
    digest: `sha256:${n.toString(16).padStart(64, "0")}`,
    size,
  };
  if (tag) m.tag = tag;
  return m;
}

Deno.test("find by tag and by digest; image IDs are repo digests", () => {
  const store = new ImageStore();
  const id = store.add(manifest("library/alpine", "3.19", 1, 3_000_000));
  assert.equal(id, `docker.io/library/alpine@sha256:${"0".repeat(63)}1`);
  assert.ok(store.has("alpine:3.19"));
  assert.ok(store.has("docker.io/library/alpine:3.19"));
  assert.ok(store.has(`alpine@sha256:${"0".repeat(63)}1`));
  assert.ok(!store.has("alpine:3.20"));
  assert.ok(!store.has("alpine"), "latest is another tag");
  assert.ok(!store.has(`busybox@sha256:${"0".repeat(63)}1`), "a digest belongs to a repository");
});

Deno.test("a moved tag points at the new image; the old one keeps its repo digest", () => {
  const store = new ImageStore();
  store.add(manifest("team/app", "stable", 1, 100));
  const v = store.version;
  store.add(manifest("team/app", "stable", 2, 120));
  assert.ok(store.version > v);
  assert.equal(store.find("team/app:stable")?.digest, `sha256:${"0".repeat(63)}2`);
  const images = store.nodeStatusImages();
  assert.deepEqual(images, [
    {
      names: [`docker.io/team/app@sha256:${"0".repeat(63)}2`, "docker.io/team/app:stable"],
      sizeBytes: 120,
    },
    { names: [`docker.io/team/app@sha256:${"0".repeat(63)}1`], sizeBytes: 100 },
  ]);
});

Deno.test("status images are largest first and capped at 50", () => {
  const store = new ImageStore();
  for (let i = 1; i <= 60; i++) store.add(manifest(`team/app${i}`, "v1", i, i * 1_000_000));
  const images = store.nodeStatusImages();
  assert.equal(images.length, 50);
  assert.equal(images[0].sizeBytes, 60_000_000);
  assert.equal(images[49].sizeBytes, 11_000_000);
  for (let i = 1; i < images.length; i++) {
    assert.ok(images[i - 1].sizeBytes! >= images[i].sizeBytes!);
  }
  assert.equal(store.nodeStatusImages(3).length, 3);
  assert.equal(store.size, 60);
});

Deno.test("one image pulled under many tags lists at most five names", () => {
  const store = new ImageStore();
  for (const tag of ["a", "b", "c", "d", "e", "f"]) store.add(manifest("team/x", tag, 7, 10));
  const [image] = store.nodeStatusImages();
  assert.equal(image.names!.length, 5);
  assert.equal(image.names![0], `docker.io/team/x@sha256:${"0".repeat(63)}7`);
  assert.equal(store.list()[0].repoTags.length, 6);
});

Deno.test("remove drops the image and its tags", () => {
  const store = new ImageStore();
  store.add(manifest("team/x", "a", 7, 10));
  assert.equal(store.remove(`sha256:${"0".repeat(63)}7`), true);
  assert.equal(store.has("team/x:a"), false);
  assert.equal(store.remove(`sha256:${"0".repeat(63)}7`), false);
});
