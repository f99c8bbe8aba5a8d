import assert from "node:assert/strict";
import {
  parseCachedImage,
  parseCachedImageSet,
  parseDiscoveryPolicy,
  parseObject,
  parsePullPolicy,
  ValidationError,
} from "./objects.ts";
import { KINDS } from "./kinds.ts";
import { loadSpecExamples } from "./testdata.ts";

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);

function rejects(fn: () => unknown, path: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
    const issue = e.issues.find((i) => i.path === path);
    assert.ok(issue, `expected an issue at ${path}, got ${JSON.stringify(e.issues)}`);
    if (message) assert.match(issue.message, message);
    assert.ok(e.message.includes(path), e.message);
    return;
  }
  assert.fail(`expected a validation error at ${path}`);
}

Deno.test("every example manifest of the reference docs parses", async () => {
  const docs = await loadSpecExamples();
  let ours = 0;
  for (const doc of docs) {
    if (doc.apiVersion !== "drop.corewire.io/v1alpha1") continue;
    const kind = KINDS.find((k) => k.kind === doc.kind);
    assert.ok(kind, `unknown kind ${doc.kind}`);
    parseObject(kind, doc);
    ours++;
  }
  assert.ok(ours >= 20, `expected the examples to hold at least 20 of our objects, got ${ours}`);
});

Deno.test("defaults are applied as the API server applies CRD defaults", () => {
  const ci = parseCachedImage({ spec: { image: "docker.io/library/alpine", tag: "3.20" } });
  assert.equal(ci.spec.imagePullPolicy, "Always");
  assert.equal(ci.spec.priority, undefined);
  const pp = parsePullPolicy({ metadata: { name: "p" } });
  assert.equal(pp.spec.maxConcurrentNodes, 1);
  assert.equal(pp.spec.minDelayBetweenPulls, "10s");
  assert.equal(pp.spec.failureBackoff, undefined);
  const pp2 = parsePullPolicy({ spec: { failureBackoff: { initial: "1m" } } });
  assert.deepEqual(pp2.spec.failureBackoff, { initial: "1m", max: "5m" });
  const dp = parseDiscoveryPolicy({
    spec: {
      sources: [{ type: "prometheus", prometheus: { endpoint: "http://p:9090", query: "up" } }],
    },
  });
  assert.equal(dp.spec.syncInterval, "30m");
  assert.equal(dp.spec.maxImages, 50);
  assert.equal(dp.spec.sources[0].prometheus?.step, "5m");
  const set = parseCachedImageSet({ metadata: { name: "s" } });
  assert.equal(set.spec.imagePullPolicy, "Always");
});

Deno.test("tag and digest are mutually exclusive", () => {
  rejects(
    () => parseCachedImage({ spec: { image: "a/b", tag: "1", digest: DIGEST } }),
    "spec",
    /mutually exclusive/,
  );
  rejects(
    () => parseCachedImageSet({ spec: { images: [{ image: "a/b", tag: "1", digest: DIGEST }] } }),
    "spec.images[0]",
    /mutually exclusive/,
  );
});

Deno.test("a digest must be sha256 with 64 hex characters", () => {
  parseCachedImage({ spec: { image: "a/b", digest: DIGEST } });
  rejects(() => parseCachedImage({ spec: { image: "a/b", digest: "sha256:abc" } }), "spec.digest");
  rejects(
    () => parseCachedImage({ spec: { image: "a/b", digest: DIGEST.toUpperCase() } }),
    "spec.digest",
  );
});

Deno.test("required fields, enums and bounds are enforced with field paths", () => {
  rejects(() => parseCachedImage({ spec: {} }), "spec.image");
  rejects(() => parseCachedImage({}), "spec");
  rejects(
    () => parseCachedImage({ spec: { image: "a", imagePullPolicy: "Sometimes" } }),
    "spec.imagePullPolicy",
  );
  rejects(() => parseCachedImage({ spec: { image: "a", tag: "bad tag" } }), "spec.tag");
  rejects(() => parsePullPolicy({ spec: { maxConcurrentNodes: 0 } }), "spec.maxConcurrentNodes");
  rejects(() => parseDiscoveryPolicy({ spec: { sources: [] } }), "spec.sources");
  rejects(
    () =>
      parseCachedImage({
        spec: { image: "a", tolerations: [{ key: "k", operator: "Maybe" }] },
      }),
    "spec.tolerations[0].operator",
  );
});

Deno.test("durations are validated", () => {
  rejects(
    () => parsePullPolicy({ spec: { minDelayBetweenPulls: "10 seconds" } }),
    "spec.minDelayBetweenPulls",
    /Invalid duration/,
  );
  rejects(() => parsePullPolicy({ spec: { repullInterval: "1d" } }), "spec.repullInterval");
  parsePullPolicy({ spec: { repullInterval: "24h", minDelayBetweenPulls: "1m30s" } });
});

Deno.test("failureBackoff.initial must not exceed max", () => {
  rejects(
    () => parsePullPolicy({ spec: { failureBackoff: { initial: "10m", max: "5m" } } }),
    "spec.failureBackoff.initial",
    /initial must not be longer than max/,
  );
  rejects(
    () => parsePullPolicy({ spec: { failureBackoff: { initial: "10m" } } }),
    "spec.failureBackoff.initial",
  );
  parsePullPolicy({ spec: { failureBackoff: { initial: "1m", max: "10m" } } });
});

Deno.test("a discovery source has exactly the block its type names", () => {
  const prom = { endpoint: "http://p:9090", query: "up" };
  const reg = { url: "https://r.example.com", repositories: ["a/b"] };
  rejects(
    () => parseDiscoveryPolicy({ spec: { sources: [{ type: "prometheus", registry: reg }] } }),
    "spec.sources[0]",
    /exactly the block/,
  );
  rejects(
    () =>
      parseDiscoveryPolicy({
        spec: { sources: [{ type: "registry", registry: reg, prometheus: prom }] },
      }),
    "spec.sources[0]",
  );
  rejects(
    () => parseDiscoveryPolicy({ spec: { sources: [{ type: "graphite" }] } }),
    "spec.sources[0].type",
  );
  parseDiscoveryPolicy({ spec: { sources: [{ type: "registry", registry: reg }] } });
});

Deno.test("imageTemplate allows only Registry, Repository and Tag", () => {
  const source = (imageTemplate: string) => ({
    spec: {
      sources: [{
        type: "registry",
        registry: { url: "https://r.example.com", repositories: ["a"], imageTemplate },
      }],
    },
  });
  parseDiscoveryPolicy(source("{{.Registry}}/{{ .Repository }}:x86_64-{{.Tag}}"));
  for (const bad of ["{{.Env}}", "{{ .Tag | printf }}", '{{ call "x" }}', "{{.Tag}"]) {
    rejects(
      () => parseDiscoveryPolicy(source(bad)),
      "spec.sources[0].registry.imageTemplate",
      /only/,
    );
  }
});

Deno.test("endpoints must be http(s) URLs", () => {
  rejects(
    () =>
      parseDiscoveryPolicy({
        spec: {
          sources: [{ type: "prometheus", prometheus: { endpoint: "mimir:9090", query: "up" } }],
        },
      }),
    "spec.sources[0].prometheus.endpoint",
  );
});

Deno.test("apiVersion and kind must match", () => {
  rejects(
    () => parseCachedImage({ apiVersion: "drop.corewire.io/v1", spec: { image: "a" } }),
    "apiVersion",
  );
  rejects(() => parseCachedImage({ kind: "PullPolicy", spec: { image: "a" } }), "kind");
});

Deno.test("an invalid status is dropped, a valid one kept", () => {
  const ok = parseCachedImage({ spec: { image: "a" }, status: { phase: "Ready", nodesReady: 2 } });
  assert.equal(ok.status?.phase, "Ready");
  const bad = parseCachedImage({ spec: { image: "a" }, status: { phase: "Sleeping" } });
  assert.equal(bad.status, undefined);
});
