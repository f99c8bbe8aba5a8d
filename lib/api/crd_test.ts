import assert from "node:assert/strict";
import { parse } from "yaml";
import { crdFileName, crdFor, openApiSchema } from "./crd.ts";
import { KINDS } from "./kinds.ts";
import { renderCrds } from "./gen_crds.ts";
import { z } from "zod";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  "x-kubernetes-validations"?: { rule: string; message: string }[];
  [key: string]: unknown;
};

function versionOf(crd: Record<string, unknown>) {
  // deno-lint-ignore no-explicit-any
  return (crd as any).spec.versions[0];
}

/** Every field path of a zod object schema, walking nested objects and arrays. */
function zodPaths(schema: z.ZodType, prefix = ""): string[] {
  const json = z.toJSONSchema(schema, { io: "input" }) as Schema;
  return jsonPaths(json, prefix);
}

function jsonPaths(s: Schema, prefix: string): string[] {
  const out: string[] = [];
  for (const [name, child] of Object.entries(s.properties ?? {})) {
    out.push(`${prefix}.${name}`, ...jsonPaths(child, `${prefix}.${name}`));
  }
  if (s.items) out.push(...jsonPaths(s.items, `${prefix}[]`));
  if (s.additionalProperties) out.push(...jsonPaths(s.additionalProperties, `${prefix}.*`));
  return out;
}

Deno.test("the generated CRDs hold every schema field (schema -> CRD -> schema)", () => {
  for (const kind of KINDS) {
    const crd = parse(renderCrds()[crdFileName(kind)]);
    const root = versionOf(crd).schema.openAPIV3Schema as Schema;
    const crdSpecPaths = new Set(jsonPaths(root.properties!.spec, ""));
    for (const path of zodPaths(kind.spec)) {
      assert.ok(crdSpecPaths.has(path), `${kind.kind} CRD lacks spec${path}`);
    }
    if (kind.status) {
      const crdStatusPaths = new Set(jsonPaths(root.properties!.status, ""));
      for (const path of zodPaths(kind.status)) {
        assert.ok(crdStatusPaths.has(path), `${kind.kind} CRD lacks status${path}`);
      }
    }
  }
});

Deno.test("CRDs are structural: every node has a type and no combinators", () => {
  function walk(s: Schema, path: string): void {
    assert.ok(s.type || s["x-kubernetes-preserve-unknown-fields"], `no type at ${path}`);
    for (const k of ["anyOf", "oneOf", "allOf", "$ref", "$schema"]) {
      assert.ok(!(k in s), `${k} at ${path}`);
    }
    if (s.properties && s.additionalProperties) assert.fail(`both at ${path}`);
    for (const [n, c] of Object.entries(s.properties ?? {})) walk(c, `${path}.${n}`);
    if (s.items) walk(s.items, `${path}[]`);
    if (s.additionalProperties) walk(s.additionalProperties, `${path}.*`);
  }
  for (const kind of KINDS) walk(versionOf(crdFor(kind)).schema.openAPIV3Schema, kind.kind);
});

Deno.test("CRDs carry names, scope, status subresource and printer columns", () => {
  const byKind = Object.fromEntries(KINDS.map((k) => [k.kind, crdFor(k)]));
  const shortNames = Object.fromEntries(
    // deno-lint-ignore no-explicit-any
    KINDS.map((k) => [k.kind, (byKind[k.kind] as any).spec.names.shortNames]),
  );
  assert.deepEqual(shortNames, {
    CachedImage: ["ci"],
    CachedImageSet: ["cis"],
    DiscoveryPolicy: ["dp"],
    PullPolicy: ["pp"],
  });
  for (const kind of KINDS) {
    // deno-lint-ignore no-explicit-any
    const crd = byKind[kind.kind] as any;
    assert.equal(crd.spec.scope, "Cluster");
    assert.deepEqual(crd.spec.names.categories, ["drop"]);
    assert.equal(crd.metadata.name, `${kind.plural}.drop.corewire.io`);
    const v = versionOf(crd);
    assert.equal(v.subresources?.status !== undefined, kind.kind !== "PullPolicy");
  }
  const cols = (kind: string) =>
    versionOf(byKind[kind]).additionalPrinterColumns.map((c: { name: string; priority?: number }) =>
      `${c.name}${c.priority ? "*" : ""}`
    );
  assert.deepEqual(cols("CachedImage"), [
    "Image",
    "Tag",
    "Status",
    "Ready",
    "Age",
    "Digest*",
    "Set*",
    "Message*",
    "Policy*",
  ]);
  assert.deepEqual(cols("CachedImageSet"), [
    "Status",
    "Ready",
    "Managed",
    "Source",
    "Message*",
    "Age",
  ]);
  assert.deepEqual(cols("DiscoveryPolicy"), [
    "Status",
    "Sources",
    "Images",
    "LastSync",
    "Message*",
    "Age",
  ]);
  assert.deepEqual(cols("PullPolicy"), ["MaxNodes", "MinDelay", "RepullInterval", "Age"]);
});

Deno.test("CRDs carry defaults, enums, patterns, formats and CEL rules", () => {
  const get = (kind: string) =>
    // deno-lint-ignore no-explicit-any
    (versionOf(crdFor(KINDS.find((k) => k.kind === kind)!)) as any).schema.openAPIV3Schema
      .properties.spec;
  const ci = get("CachedImage");
  assert.equal(ci.properties.imagePullPolicy.default, "Always");
  assert.deepEqual(ci.properties.imagePullPolicy.enum, ["Always", "IfNotPresent", "Never"]);
  assert.equal(ci.properties.digest.pattern, "^sha256:[a-f0-9]{64}$");
  assert.equal(ci.properties.priority.format, "int32");
  assert.deepEqual(ci.required, ["image"]);
  assert.match(ci["x-kubernetes-validations"][0].rule, /has\(self.tag\) && has\(self.digest\)/);
  assert.ok(ci.properties.tolerations.items.properties.tolerationSeconds);
  assert.ok(ci.properties.tolerations.items.properties.effect.description);
  const pp = get("PullPolicy");
  assert.equal(pp.properties.maxConcurrentNodes.default, 1);
  assert.equal(pp.properties.maxConcurrentNodes.minimum, 1);
  assert.equal(pp.properties.minDelayBetweenPulls.default, "10s");
  assert.deepEqual(pp.default, {});
  assert.match(
    pp.properties.failureBackoff["x-kubernetes-validations"][0].rule,
    /duration\(self.initial\) <= duration\(self.max\)/,
  );
  const dp = get("DiscoveryPolicy");
  assert.equal(dp.properties.syncInterval.default, "30m");
  assert.equal(dp.properties.maxImages.default, 50);
  assert.deepEqual(dp.properties.sources.items.properties.type.enum, ["prometheus", "registry"]);
  assert.match(dp.properties.sources.items["x-kubernetes-validations"][0].rule, /self.type/);
  assert.equal(dp.properties.sources.items.properties.prometheus.properties.step.default, "5m");
});

Deno.test("openApiSchema refuses schemas that cannot be structural", () => {
  assert.throws(() => openApiSchema(z.union([z.string(), z.number()])), /anyOf/);
});

Deno.test("crds/ is up to date with the schemas", async () => {
  for (const [name, text] of Object.entries(renderCrds())) {
    const path = new URL(`../../crds/${name}`, import.meta.url);
    assert.equal(await Deno.readTextFile(path), text, `crds/${name} is stale: run deno task gen`);
  }
});
