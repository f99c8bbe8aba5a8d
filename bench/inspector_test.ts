import assert from "node:assert/strict";
import {
  type AllocationNode,
  type CpuProfile,
  type HeapSnapshot,
  summarizeAllocationProfile,
  summarizeCpuProfile,
  summarizeHeap,
} from "./inspector.ts";

/**
 * A tiny heap: root -> A (Holder, 10) -> B (Item, 100) and C (Item, 50); root -> D (Item, 7);
 * D -> C too, so C is dominated by the root, not by A; a weak edge A -> D is ignored.
 */
function snapshot(): HeapSnapshot {
  const strings = ["", "Holder", "Item"];
  // Fields: type, name, id, self_size, edge_count; type 3 = object.
  const nodes = [
    9,
    0,
    1,
    0,
    2, // 0 root (synthetic)
    3,
    1,
    2,
    10,
    3, // 1 A: Holder
    3,
    2,
    3,
    100,
    0, // 2 B: Item
    3,
    2,
    4,
    50,
    0, // 3 C: Item
    3,
    2,
    5,
    7,
    1, // 4 D: Item
  ];
  const F = 5;
  // Fields: type, name_or_index, to_node; type 0 = element, 1 = weak.
  const edges = [
    0,
    0,
    1 * F,
    0,
    1,
    4 * F, // root -> A, root -> D
    0,
    0,
    2 * F,
    0,
    1,
    3 * F,
    1,
    2,
    4 * F, // A -> B, A -> C, A -weak-> D
    0,
    0,
    3 * F, // D -> C
  ];
  return {
    snapshot: {
      meta: {
        node_fields: ["type", "name", "id", "self_size", "edge_count"],
        node_types: [[
          "hidden",
          "array",
          "string",
          "object",
          "code",
          "closure",
          "regexp",
          "number",
          "native",
          "synthetic",
        ]],
        edge_fields: ["type", "name_or_index", "to_node"],
        edge_types: [["element", "weak"]],
      },
      node_count: 5,
      edge_count: 6,
    },
    nodes,
    edges,
    strings,
  };
}

Deno.test("heap summary: retained sizes follow dominators and skip weak edges", () => {
  const s = summarizeHeap(snapshot());
  assert.equal(s.total_bytes, 167);
  const holder = s.by_class.find((g) => g.name === "Holder")!;
  // A keeps B alive alone; C is also reachable through D.
  assert.equal(holder.retained_bytes, 110);
  const item = s.by_class.find((g) => g.name === "Item")!;
  assert.equal(item.count, 3);
  // D dominates C: D's retained size (57) already covers C, and B counts on its own.
  assert.equal(item.retained_bytes, 157);
  assert.equal(s.by_type[0].name, "object");
});

Deno.test("CPU summary: self and total time per function", () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: [2, 4] },
      {
        id: 2,
        callFrame: { functionName: "reconcile", url: "file:///x/drop.js", lineNumber: 9 },
        children: [3],
      },
      { id: 3, callFrame: { functionName: "parse", url: "file:///x/drop.js", lineNumber: 99 } },
      { id: 4, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
    ],
    samples: [3, 3, 2, 4],
    timeDeltas: [1000, 1000, 1000, 1000],
    startTime: 0,
    endTime: 4000,
  };
  const s = summarizeCpuProfile(profile);
  assert.equal(s.duration_ms, 4);
  assert.equal(s.busy_ms, 3);
  const parse = s.by_function.find((f) => f.function === "parse")!;
  assert.equal(parse.self_ms, 2);
  assert.equal(parse.location, "drop.js:100");
  const reconcile = s.by_function.find((f) => f.function === "reconcile")!;
  assert.equal(reconcile.self_ms, 1);
  assert.equal(reconcile.total_ms, 3);
});

Deno.test("allocation summary: own and total bytes per function, recursion counted once", () => {
  const MiB = 2 ** 20;
  const node = (
    functionName: string,
    selfSize: number,
    children: AllocationNode[] = [],
  ): AllocationNode => ({
    callFrame: { functionName, url: "file:///x/drop.js", lineNumber: 0 },
    selfSize,
    children,
  });
  const s = summarizeAllocationProfile({
    head: node("(root)", 0, [
      node("reconcile", MiB, [node("parse", 2 * MiB, [node("parse", MiB)])]),
      node("watch", 4 * MiB),
    ]),
  });
  assert.equal(s.total_mib, 8);
  assert.deepEqual(s.by_function.map((f) => [f.function, f.self_mib, f.total_mib]), [
    ["watch", 4, 4],
    ["parse", 3, 3],
    ["reconcile", 1, 4],
    ["(root)", 0, 8],
  ]);
  assert.equal(s.by_function[0].self_pct, 50);
});
