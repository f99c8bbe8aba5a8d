import assert from "node:assert/strict";
import { parseCachedImageSet } from "../api/mod.ts";
import type { RawObject } from "./context.ts";
import {
  childName,
  childObject,
  desiredChildren,
  diffChildren,
  IMAGESET_LABEL,
  ORIGIN_LABEL,
  splitReference,
} from "./imageset_plan.ts";

const DIGEST = "sha256:" + "c".repeat(64);

function set(spec: Record<string, unknown>) {
  return parseCachedImageSet({
    metadata: { name: "ci-tools", uid: "set-uid", generation: 1 },
    spec,
  });
}

Deno.test("splitReference keeps the reference as written", () => {
  assert.deepEqual(splitReference("registry.example.com/ci/build:1.0.3"), {
    image: "registry.example.com/ci/build",
    tag: "1.0.3",
  });
  assert.deepEqual(splitReference("localhost:5000/app"), { image: "localhost:5000/app" });
  assert.deepEqual(splitReference(`ghcr.io/a/b:v1@${DIGEST}`), {
    image: "ghcr.io/a/b",
    digest: DIGEST,
  });
});

Deno.test("child names are deterministic, bounded, valid and collision-safe", () => {
  const a = childName("ci-tools", "docker.io/library/golang:1.22-bookworm");
  assert.equal(a, childName("ci-tools", "docker.io/library/golang:1.22-bookworm"));
  assert.match(a, /^ci-tools-golang-1-22-bookworm-[0-9a-f]{8}$/);
  const b = childName("ci-tools", "quay.io/library/golang:1.22-bookworm");
  assert.notEqual(a, b, "same short name from two registries");
  const long = childName(
    "x".repeat(80),
    `registry.example.com/${"y".repeat(200)}:${"z".repeat(100)}`,
  );
  assert.ok(long.length <= 63, long);
  assert.match(long, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
});

Deno.test("static and discovered images merge, deduplicated by canonical reference", () => {
  const s = set({
    images: [{ image: "docker.io/library/alpine", tag: "3.19" }, { image: "node", tag: "20" }],
    imagePullPolicy: "IfNotPresent",
    policyRef: { name: "p" },
  });
  const { children, rejected } = desiredChildren(s, [
    { image: "alpine:3.19", score: 10, source: "prometheus[0]" },
    { image: "registry.example.com/ci/build:1.0.3", score: 5, source: "prometheus[0]" },
    { image: "bad ref with spaces", score: 1, source: "prometheus[0]" },
    { image: "ghcr.io/a/b@sha256:ABC", score: 1, source: "prometheus[0]" },
  ]);
  assert.deepEqual(children.map((c) => [c.reference, c.origin]), [
    ["docker.io/library/alpine:3.19", "static"],
    ["docker.io/library/node:20", "static"],
    ["registry.example.com/ci/build:1.0.3", "discovered"],
  ]);
  assert.deepEqual(rejected, ["bad ref with spaces", "ghcr.io/a/b@sha256:ABC"]);
  const built = children[2].spec;
  assert.deepEqual(built, {
    image: "registry.example.com/ci/build",
    tag: "1.0.3",
    imagePullPolicy: "IfNotPresent",
    policyRef: { name: "p" },
  });
  const obj = childObject(s, children[0]);
  assert.equal(obj.metadata!.labels![IMAGESET_LABEL], "ci-tools");
  assert.deepEqual(obj.metadata!.ownerReferences![0], {
    apiVersion: "drop.corewire.io/v1alpha1",
    kind: "CachedImageSet",
    name: "ci-tools",
    uid: "set-uid",
    controller: true,
    blockOwnerDeletion: true,
  });
});

Deno.test("diffChildren creates, updates propagated changes and removes extras", () => {
  const s = set({ images: [{ image: "alpine", tag: "3.19" }, { image: "busybox", tag: "1.36" }] });
  const { children } = desiredChildren(s, []);
  const existing: RawObject[] = [
    // alpine exists with an old pull policy: update.
    { ...childObject(s, children[0]), spec: { ...children[0].spec, imagePullPolicy: "Never" } },
    // an old discovered child: removed, unless discovery is unavailable.
    {
      metadata: { name: "ci-tools-old", labels: { [ORIGIN_LABEL]: "discovered" } },
      spec: { image: "old" },
    },
  ];
  const diff = diffChildren(children, existing, false);
  assert.deepEqual(diff.create.map((c) => c.name), [children[1].name]);
  assert.deepEqual(diff.update.map((u) => u.child.name), [children[0].name]);
  assert.deepEqual(diff.remove.map((o) => o.metadata!.name), ["ci-tools-old"]);
  const keep = diffChildren(children, existing, true);
  assert.deepEqual(keep.remove, [], "last known good discovered children stay");
});

Deno.test("an unchanged child is left alone (API defaults count as equal)", () => {
  const s = set({ images: [{ image: "alpine", tag: "3.19" }] });
  const { children } = desiredChildren(s, []);
  const current = childObject(s, children[0]);
  assert.deepEqual(diffChildren(children, [current], false), {
    create: [],
    update: [],
    remove: [],
  });
});
