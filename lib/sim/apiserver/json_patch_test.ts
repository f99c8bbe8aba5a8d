import assert from "node:assert/strict";
import { applyJsonPatch, JsonPatchError } from "./json_patch.ts";

Deno.test("json patch operations", () => {
  const doc = { a: { b: [1, 2] }, "c/d": 1, "e~f": 2 };
  const out = applyJsonPatch(doc, [
    { op: "add", path: "/a/b/1", value: 9 },
    { op: "add", path: "/a/b/-", value: 3 },
    { op: "replace", path: "/c~1d", value: 5 },
    { op: "remove", path: "/e~0f" },
    { op: "copy", from: "/a/b", path: "/copied" },
    { op: "move", from: "/c~1d", path: "/moved" },
    { op: "test", path: "/moved", value: 5 },
  ]);
  assert.deepEqual(out, { a: { b: [1, 9, 2, 3] }, copied: [1, 9, 2, 3], moved: 5 });
  assert.deepEqual(doc, { a: { b: [1, 2] }, "c/d": 1, "e~f": 2 }, "input is not modified");
});

Deno.test("json patch failures say why", () => {
  assert.throws(
    () => applyJsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]),
    (e: unknown) =>
      e instanceof JsonPatchError && !e.malformed &&
      e.message === "testing value /a failed: test failed",
  );
  assert.throws(
    () => applyJsonPatch({ a: 1 }, [{ op: "replace", path: "/b", value: 2 }]),
    (e: unknown) => e instanceof JsonPatchError && e.message.includes("missing"),
  );
  assert.throws(() => applyJsonPatch({}, [{ op: "add", path: "/x/y", value: 1 }]), JsonPatchError);
  assert.throws(
    () => applyJsonPatch({}, { op: "add" }),
    (e: unknown) => e instanceof JsonPatchError && e.malformed,
  );
  assert.throws(() => applyJsonPatch({ a: [] }, [{ op: "remove", path: "/a/0" }]), JsonPatchError);
});
