import assert from "node:assert/strict";
import { deepEqual } from "./deep_equal.ts";

Deno.test("deepEqual ignores key order and undefined members", () => {
  assert.ok(deepEqual({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }));
  assert.ok(deepEqual({ a: 1, gone: undefined }, { a: 1 }));
  assert.ok(deepEqual(undefined, undefined));
  assert.ok(deepEqual(NaN, NaN));
});

Deno.test("deepEqual sees differences in values, lengths, types and null", () => {
  assert.ok(!deepEqual({ a: 1 }, { a: 2 }));
  assert.ok(!deepEqual([1, 2], [1, 2, 3]));
  assert.ok(!deepEqual([1], { 0: 1 }));
  assert.ok(!deepEqual({ a: null }, { a: {} }));
  assert.ok(!deepEqual({ a: "1" }, { a: 1 }));
  assert.ok(!deepEqual(undefined, {}));
});
