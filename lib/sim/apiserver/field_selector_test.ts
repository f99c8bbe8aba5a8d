import assert from "node:assert/strict";
import { exactName, matchesFields, parseFieldSelector } from "./field_selector.ts";
import { ApiError } from "./status.ts";

const supported = new Set(["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"]);

Deno.test("field selector terms and operators", () => {
  const sel = parseFieldSelector("spec.nodeName=n1,status.phase!=Succeeded", supported);
  assert.equal(matchesFields(sel, { "spec.nodeName": "n1", "status.phase": "Running" }), true);
  assert.equal(matchesFields(sel, { "spec.nodeName": "n1", "status.phase": "Succeeded" }), false);
  assert.equal(matchesFields(sel, { "spec.nodeName": "n2", "status.phase": "Running" }), false);
  const empty = parseFieldSelector("spec.nodeName==", supported);
  assert.equal(matchesFields(empty, {}), true, "an absent field compares as empty");
});

Deno.test("field selector escapes and exact name", () => {
  const sel = parseFieldSelector("metadata.name=a\\,b", supported);
  assert.equal(matchesFields(sel, { "metadata.name": "a,b" }), true);
  assert.equal(exactName(sel), "a,b");
  assert.equal(exactName(parseFieldSelector("metadata.name!=x", supported)), undefined);
});

Deno.test("unsupported field labels are rejected like kube-apiserver", () => {
  assert.throws(
    () => parseFieldSelector("spec.foo=x", supported),
    (e: unknown) =>
      e instanceof ApiError && e.code === 400 &&
      e.message === "field label not supported: spec.foo",
  );
  assert.throws(
    () => parseFieldSelector("spec.nodeName", supported),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
});
