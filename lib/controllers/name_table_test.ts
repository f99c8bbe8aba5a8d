import assert from "node:assert/strict";
import { internStatusNodes, NameTable } from "./name_table.ts";

Deno.test("NameTable keeps one copy per name until the node is gone", () => {
  const t = new NameTable();
  const a = t.add("node-a");
  assert.equal(t.add(["node", "a"].join("-")), a);
  assert.equal(t.size, 1);
  t.delete("node-a");
  assert.equal(t.size, 0);
  assert.equal(t.get("node-b"), "node-b");
});

Deno.test("internStatusNodes rewrites every node list in place and ignores odd shapes", () => {
  const t = new NameTable();
  t.add("n1");
  const obj = {
    metadata: { name: "x" },
    status: {
      cachedNodes: ["n1", "gone", 3],
      repullPending: ["n1"],
      nodeFailures: [{ node: "n1", failures: 1 }, null],
      nodeDigests: [{ node: "n1", digest: "d" }],
    },
  };
  const out = internStatusNodes(obj, t);
  assert.equal(out, obj);
  assert.deepEqual(out.status.cachedNodes, ["n1", "gone", 3]);
  assert.equal(out.status.nodeFailures[0]?.node, "n1");
  assert.deepEqual(internStatusNodes({ metadata: {}, status: "bad" }, t).status, "bad");
  assert.deepEqual(internStatusNodes({ metadata: {} }, t), { metadata: {} });
});
