import assert from "node:assert/strict";
import { applyStrategicMergePatch } from "./strategic_merge.ts";

Deno.test("strategic merge merges lists by their merge key", () => {
  const pod = {
    spec: {
      containers: [{ name: "a", image: "a:1" }, { name: "b", image: "b:1" }],
      tolerations: [{ key: "x" }],
    },
    status: {
      conditions: [{ type: "Ready", status: "False" }, { type: "PodScheduled", status: "True" }],
    },
  };
  const out = applyStrategicMergePatch(pod, {
    spec: {
      containers: [{ name: "b", image: "b:2" }, { name: "c", image: "c:1" }],
      tolerations: [{ key: "y" }],
    },
    status: {
      "$setElementOrder/conditions": [{ type: "PodScheduled" }, { type: "Ready" }],
      conditions: [{ type: "Ready", status: "True" }],
    },
  });
  assert.deepEqual(out.spec, {
    containers: [{ name: "a", image: "a:1" }, { name: "b", image: "b:2" }, {
      name: "c",
      image: "c:1",
    }],
    tolerations: [{ key: "y" }],
  });
  assert.deepEqual(out.status, {
    conditions: [{ type: "PodScheduled", status: "True" }, { type: "Ready", status: "True" }],
  });
});

Deno.test("strategic merge directives", () => {
  const obj = {
    metadata: { finalizers: ["a", "b"], labels: { x: "1", y: "2" } },
    spec: { volumes: [{ name: "v" }, { name: "w" }] },
  };
  const out = applyStrategicMergePatch(obj, {
    metadata: {
      finalizers: ["c"],
      "$deleteFromPrimitiveList/finalizers": ["a"],
      labels: { $patch: "replace", z: "3" },
    },
    spec: { volumes: [{ name: "v", $patch: "delete" }] },
  });
  assert.deepEqual(out, {
    metadata: { finalizers: ["b", "c"], labels: { z: "3" } },
    spec: { volumes: [{ name: "w" }] },
  });
  const replaced = applyStrategicMergePatch(obj, {
    spec: { volumes: [{ $patch: "replace" }, { name: "n" }] },
  });
  assert.deepEqual(replaced.spec, { volumes: [{ name: "n" }] });
});
