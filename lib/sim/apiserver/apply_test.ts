import assert from "node:assert/strict";
import {
  applyConfiguration,
  fieldPaths,
  fromFieldsV1,
  schemaListKeys,
  toFieldsV1,
} from "./apply.ts";

const opts = { manager: "ci", apiVersion: "example.com/v1", now: "2024-01-01T00:00:00Z" };
const schema = {
  type: "object",
  properties: {
    spec: {
      type: "object",
      properties: {
        ports: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          items: { type: "object" },
        },
        args: { type: "array", items: { type: "string" } },
      },
    },
  },
};

Deno.test("apply merges maps and list-maps, replaces atomic lists, records ownership", () => {
  const live = {
    apiVersion: "example.com/v1",
    kind: "W",
    metadata: { name: "w", labels: { other: "x" } },
    spec: { ports: [{ name: "a", port: 1 }, { name: "b", port: 2 }], args: ["x", "y"], keep: true },
  };
  const out = applyConfiguration(live, {
    apiVersion: "example.com/v1",
    kind: "W",
    metadata: { name: "w", labels: { mine: "y" } },
    spec: { ports: [{ name: "b", port: 3 }], args: ["z"] },
  }, { ...opts, lookup: schemaListKeys(schema) });
  assert.deepEqual(out.spec, {
    ports: [{ name: "a", port: 1 }, { name: "b", port: 3 }],
    args: ["z"],
    keep: true,
  });
  assert.deepEqual((out.metadata as Record<string, unknown>).labels, { other: "x", mine: "y" });
  const mf = (out.metadata as Record<string, unknown>).managedFields as Record<string, unknown>[];
  assert.equal(mf.length, 1);
  assert.equal(mf[0].manager, "ci");
  assert.deepEqual(fromFieldsV1(mf[0].fieldsV1).map((p) => p.join(".")).sort(), [
    "metadata.labels.mine",
    "spec.args",
    "spec.ports",
  ]);
});

Deno.test("fields dropped from a later apply are removed unless another applier owns them", () => {
  const lookup = schemaListKeys(schema);
  const first = applyConfiguration(undefined, { metadata: { name: "w" }, spec: { a: 1, b: 2 } }, {
    ...opts,
    lookup,
  });
  const other = applyConfiguration(first, { metadata: { name: "w" }, spec: { b: 2 } }, {
    ...opts,
    manager: "other",
    lookup,
  });
  const second = applyConfiguration(other, { metadata: { name: "w" }, spec: { c: 3 } }, {
    ...opts,
    lookup,
  });
  assert.deepEqual(second.spec, { b: 2, c: 3 }, "a is removed, b stays (owned by other)");
});

Deno.test("FieldsV1 round trip", () => {
  const paths = fieldPaths({
    apiVersion: "v1",
    kind: "X",
    metadata: { name: "n", labels: { a: "b" } },
    spec: { x: { y: 1 }, z: [1] },
  });
  assert.deepEqual(paths.map((p) => p.join(".")), ["metadata.labels.a", "spec.x.y", "spec.z"]);
  assert.deepEqual(toFieldsV1(paths), {
    "f:metadata": { "f:labels": { "f:a": {} } },
    "f:spec": { "f:x": { "f:y": {} }, "f:z": {} },
  });
  assert.deepEqual(fromFieldsV1(toFieldsV1(paths)), paths);
});
