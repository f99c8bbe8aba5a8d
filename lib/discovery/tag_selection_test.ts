import assert from "node:assert/strict";
import { compareVersions, parseVersion, selectTags } from "./tag_selection.ts";

function order(tags: string[]): string[] {
  return [...tags].sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!));
}

Deno.test("parseVersion accepts a leading v and one to three components", () => {
  assert.deepEqual(parseVersion("v1.10"), { core: ["1", "10", "0"], pre: [] });
  assert.deepEqual(parseVersion("2"), { core: ["2", "0", "0"], pre: [] });
  assert.deepEqual(parseVersion("1.2.3-rc.1+build.7"), { core: ["1", "2", "3"], pre: ["rc", "1"] });
  assert.equal(parseVersion("latest"), undefined);
  assert.equal(parseVersion("1.2.3.4"), undefined);
  assert.equal(parseVersion("x86_64-v16.0.0"), undefined);
  assert.equal(parseVersion("main-abc123"), undefined);
});

Deno.test("compareVersions orders numerically, pre-releases before their release", () => {
  assert.deepEqual(order(["v1.10", "v1.9", "v1.2"]), ["v1.2", "v1.9", "v1.10"]);
  assert.deepEqual(
    order(["1.0.0", "1.0.0-rc.1", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.11", "1.0.0-beta.2"]),
    ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"],
  );
  assert.deepEqual(order(["10.0.0", "9.99.99", "100.0"]), ["9.99.99", "10.0.0", "100.0"]);
  assert.deepEqual(order(["20240101999999999", "3"]), ["3", "20240101999999999"]);
});

Deno.test("selectTags keeps the newest semantic versions, newest first with descending scores", () => {
  const tags = ["v1.10.0", "v1.2.0", "v1.9.0", "v2.0.0-rc.1"];
  assert.deepEqual(selectTags(tags, { topX: 2 }), [
    { tag: "v2.0.0-rc.1", score: 2 },
    { tag: "v1.10.0", score: 1 },
  ]);
});

Deno.test("selectTags applies the filter before ordering and topX", () => {
  const tags = ["latest", "v1.10.0", "v1.10.1-rc.1", "v1.2.0", "v1.9.0"];
  const filter = /^v\d+\.\d+\.\d+$/;
  assert.deepEqual(selectTags(tags, { filter, topX: 2 }).map((t) => t.tag), ["v1.10.0", "v1.9.0"]);
  assert.deepEqual(selectTags(tags, { filter }).map((t) => t.score), [3, 2, 1]);
});

Deno.test("selectTags falls back to registry order when one tag is not a version", () => {
  const tags = ["v1.10.0", "v1.2.0", "v1.9.0", "latest"];
  assert.deepEqual(selectTags(tags, { topX: 2 }), [
    { tag: "latest", score: 2 },
    { tag: "v1.9.0", score: 1 },
  ]);
});

Deno.test("selectTags keeps the registry order between equal versions", () => {
  assert.deepEqual(selectTags(["1.2", "v1.2.0", "1.1"]).map((t) => t.tag), [
    "v1.2.0",
    "1.2",
    "1.1",
  ]);
});

Deno.test("selectTags returns nothing for no tags or no match", () => {
  assert.deepEqual(selectTags([], { topX: 3 }), []);
  assert.deepEqual(selectTags(["a", "b"], { filter: /^v/ }), []);
});
