import assert from "node:assert/strict";
import { compileJsonPath, evaluateJsonPath, JsonPathError } from "./jsonpath.ts";

const obj = {
  metadata: { labels: { "drop.corewire.io/imageset": "set-a" }, name: "x" },
  status: {
    conditions: [{ type: "PullProgress", reason: "Pulling" }, {
      type: "Ready",
      reason: "Cached",
      n: 3,
    }],
  },
  spec: { list: ["a", "b"] },
};

function ev(p: string): unknown[] {
  return evaluateJsonPath(compileJsonPath(p), obj);
}

Deno.test("jsonpath fields, escapes, indexes and filters", () => {
  assert.deepEqual(ev(".metadata.name"), ["x"]);
  assert.deepEqual(ev(".metadata.labels.drop\\.corewire\\.io/imageset"), ["set-a"]);
  assert.deepEqual(ev(`.status.conditions[?(@.type=="Ready")].reason`), ["Cached"]);
  assert.deepEqual(ev(`.status.conditions[?(@.type!="Ready")].reason`), ["Pulling"]);
  assert.deepEqual(ev(`.status.conditions[?(@.n>2)].type`), ["Ready"]);
  assert.deepEqual(ev(".spec.list[1]"), ["b"]);
  assert.deepEqual(ev(".spec.list[-1]"), ["b"]);
  assert.deepEqual(ev(".spec.list[*]"), ["a", "b"]);
  assert.deepEqual(ev("{.metadata['name']}"), ["x"]);
  assert.deepEqual(ev(".spec.missing"), []);
});

Deno.test("jsonpath rejects what it does not support", () => {
  assert.throws(() => compileJsonPath("..name"), JsonPathError);
  assert.throws(() => compileJsonPath(".a[1:2]"), JsonPathError);
});
