import assert from "node:assert/strict";
import { indexNames, NodeMarks } from "./node_marks.ts";

const NAMES = ["n3", "n1", "n2"];

Deno.test("NodeMarks holds targets by position and other names apart", () => {
  const marks = new NodeMarks(NAMES, indexNames(NAMES));
  assert.equal(marks.size, 0);
  marks.add("n2");
  marks.add("n2");
  marks.add("gone");
  assert.equal(marks.addTarget("n3"), true);
  assert.equal(marks.addTarget("elsewhere"), false);
  assert.equal(marks.size, 3);
  assert.equal(marks.has("n2"), true);
  assert.equal(marks.has("n1"), false);
  assert.equal(marks.has("gone"), true);
  assert.equal(marks.has("elsewhere"), false);
  assert.equal(marks.hasAt(0), true);
  assert.equal(marks.hasAt(1), false);
  assert.deepEqual([...marks.others()], ["gone"]);
  assert.deepEqual([...marks], ["n3", "n2", "gone"]);
});

Deno.test("indexNames keeps the first position of a repeated name", () => {
  assert.deepEqual([...indexNames(["a", "b", "a"])], [["a", 0], ["b", 1]]);
});
