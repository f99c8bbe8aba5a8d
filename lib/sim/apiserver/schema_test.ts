import assert from "node:assert/strict";
import { checkSchema, defaultAndPrune, type SchemaNode, validateSchema } from "./schema.ts";

const schema: SchemaNode = {
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: {
      type: "object",
      default: {},
      required: ["image"],
      properties: {
        image: { type: "string", minLength: 1, maxLength: 10, pattern: "^[a-z/]+$" },
        tag: { type: "string" },
        digest: { type: "string" },
        pullPolicy: { type: "string", enum: ["Always", "Never"], default: "Always" },
        replicas: { type: "integer", minimum: 1, maximum: 5, format: "int32" },
        labels: { type: "object", additionalProperties: { type: "string" } },
        items: {
          type: "array",
          maxItems: 2,
          items: { type: "object", properties: { n: { type: "integer", default: 7 } } },
        },
        conditions: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["type"],
          items: { type: "object", properties: { type: { type: "string" } } },
        },
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        backoff: {
          type: "object",
          properties: { initial: { type: "string" }, max: { type: "string" } },
          "x-kubernetes-validations": [{
            rule: "duration(self.initial) <= duration(self.max)",
            message: "initial must not exceed max",
          }],
        },
        endpoint: { type: "string", format: "uri" },
      },
      "x-kubernetes-validations": [{
        rule: "!(has(self.tag) && has(self.digest))",
        message: "tag and digest are mutually exclusive",
      }],
    },
    status: { type: "object", properties: { phase: { type: "string" } } },
  },
};

function prepared(
  obj: Record<string, unknown>,
): { obj: Record<string, unknown>; unknown: string[] } {
  const copy = structuredClone(obj);
  const unknown = defaultAndPrune(schema, copy);
  return { obj: copy, unknown };
}

Deno.test("defaults are applied, nested and inside list items", () => {
  const { obj } = prepared({ spec: { image: "a", items: [{}, { n: 1 }] } });
  assert.deepEqual(obj.spec, { image: "a", items: [{ n: 7 }, { n: 1 }], pullPolicy: "Always" });
  const empty = prepared({});
  assert.deepEqual(empty.obj.spec, { pullPolicy: "Always" });
});

Deno.test("unknown fields are pruned and reported; preserved where the schema says so", () => {
  const { obj, unknown } = prepared({
    metadata: { name: "x", bogus: 1 },
    spec: { image: "a", extra: true, labels: { any: "v" }, free: { anything: { deep: 1 } } },
    top: 1,
  });
  assert.deepEqual(unknown.sort(), ["metadata.bogus", "spec.extra", "top"]);
  assert.deepEqual(obj.spec, {
    image: "a",
    labels: { any: "v" },
    free: { anything: { deep: 1 } },
    pullPolicy: "Always",
  });
  assert.deepEqual(obj.metadata, { name: "x" });
});

Deno.test("validation errors carry kube's reasons, fields and messages", () => {
  const { obj } = prepared({
    spec: {
      image: "UPPER-and-too-long",
      pullPolicy: "Sometimes",
      replicas: 9,
      items: [{}, {}, {}],
      conditions: [{ type: "Ready" }, { type: "Ready" }],
      tag: "1",
      digest: "sha256:x",
      endpoint: "not a uri",
    },
  });
  const causes = validateSchema(schema, obj);
  const byField = new Map(causes.map((c) => [c.field, c]));
  const imageReasons = causes.filter((c) => c.field === "spec.image").map((c) => c.reason);
  assert.deepEqual(imageReasons, ["FieldValueTooLong", "FieldValueInvalid"]);
  assert.equal(
    byField.get("spec.pullPolicy")?.message,
    'Unsupported value: "Sometimes": supported values: "Always", "Never"',
  );
  assert.equal(
    byField.get("spec.replicas")?.message,
    "Invalid value: 9: spec.replicas in body should be less than or equal to 5",
  );
  assert.equal(byField.get("spec.items")?.message, "Too many: 3: must have at most 2 items");
  assert.equal(byField.get("spec.conditions[1]")?.reason, "FieldValueDuplicate");
  assert.equal(byField.get("spec.endpoint")?.reason, "FieldValueInvalid");
  assert.equal(
    byField.get("spec")?.message,
    'Invalid value: "object": tag and digest are mutually exclusive',
  );
  const missing = validateSchema(schema, prepared({ spec: {} }).obj);
  assert.deepEqual(missing, [{
    reason: "FieldValueRequired",
    message: "Required value",
    field: "spec.image",
  }]);
  const pattern = validateSchema(schema, prepared({ spec: { image: "A" } }).obj);
  assert.equal(
    pattern[0].message,
    `Invalid value: "A": spec.image in body should match '^[a-z/]+$'`,
  );
});

Deno.test("type errors block CEL rules, as in kube-apiserver", () => {
  const causes = validateSchema(
    schema,
    prepared({ spec: { image: "a", replicas: "three", tag: "1", digest: "d" } }).obj,
  );
  assert.equal(causes.length, 1);
  assert.equal(causes[0].reason, "FieldValueTypeInvalid");
  assert.equal(
    causes[0].message,
    'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
  );
});

Deno.test("duration CEL rule and a valid object", () => {
  const bad = validateSchema(
    schema,
    prepared({ spec: { image: "a", backoff: { initial: "1h", max: "5m" } } }).obj,
  );
  assert.deepEqual(bad.map((c) => [c.field, c.message]), [[
    "spec.backoff",
    'Invalid value: "object": initial must not exceed max',
  ]]);
  const good = validateSchema(
    schema,
    prepared({
      spec: { image: "a/b", backoff: { initial: "30s", max: "5m" }, endpoint: "https://x.example" },
    }).obj,
  );
  assert.deepEqual(good, []);
});

Deno.test("schema checks reject rules that do not compile", () => {
  const causes = checkSchema({
    type: "object",
    "x-kubernetes-validations": [{ rule: "self.a ==" }],
  }, "spec.versions[0].schema.openAPIV3Schema");
  assert.equal(causes.length, 1);
  assert.equal(
    causes[0].field,
    "spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule",
  );
  assert.deepEqual(checkSchema(schema, "s"), []);
});
