import assert from "node:assert/strict";
import {
  isValidLabelValue,
  labelValue,
  MAX_LABEL_VALUE_LENGTH,
  MAX_POD_NAME_LENGTH,
  pullPodName,
  shortHash,
} from "./names.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

Deno.test("shortHash is 10 hex characters of SHA-256", () => {
  // sha256("abc") = ba7816bf8f01cfea...
  assert.equal(shortHash("abc"), "ba7816bf8f");
});

Deno.test("pullPodName is deterministic and differs by image, node and attempt", () => {
  const a = pullPodName("alpine-3-20", "worker-1", 0);
  assert.equal(a, pullPodName("alpine-3-20", "worker-1", 0));
  assert.match(a, /^alpine-3-20-worker-1-[0-9a-f]{10}-0$/);
  const others = [
    pullPodName("alpine-3-20", "worker-1", 1),
    pullPodName("alpine-3-20", "worker-2", 0),
    pullPodName("alpine-3-21", "worker-1", 0),
  ];
  assert.equal(new Set([a, ...others]).size, 4);
});

Deno.test("pullPodName keeps ambiguous dash splits apart", () => {
  assert.notEqual(pullPodName("a-b", "c", 0), pullPodName("a", "b-c", 0));
});

Deno.test("pullPodName is a DNS label of at most 63 characters for long and dotted names", () => {
  const longImage = `${"very-long-image-name-".repeat(12)}x`;
  const longNode = "ip-10-0-12-34.eu-west-1.compute.internal";
  const inputs: [string, string, number][] = [
    [longImage, longNode, 0],
    [longImage, longNode, Number.MAX_SAFE_INTEGER],
    ["a", "b", 7],
    ["registry.example.com.team.app", "node.with.dots", 3],
    ["x".repeat(253), "y".repeat(253), 12],
  ];
  for (const [image, node, attempt] of inputs) {
    const name = pullPodName(image, node, attempt);
    assert.ok(name.length <= MAX_POD_NAME_LENGTH, `${name} is ${name.length} characters`);
    assert.match(name, DNS_LABEL);
    assert.ok(name.endsWith(`-${attempt}`));
  }
  // Truncation must not merge two names that share a long prefix.
  assert.notEqual(
    pullPodName(`${longImage}a`, longNode, 0),
    pullPodName(`${longImage}b`, longNode, 0),
  );
});

Deno.test("pullPodName rejects empty names and bad attempts", () => {
  assert.throws(() => pullPodName("", "n", 0), /CachedImage name is empty/);
  assert.throws(() => pullPodName("i", "", 0), /node name is empty/);
  for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
    assert.throws(() => pullPodName("i", "n", bad), /non-negative integer/);
  }
});

Deno.test("labelValue keeps valid values and hashes the rest into valid ones", () => {
  assert.equal(labelValue("worker-1.example.com"), "worker-1.example.com");
  assert.equal(labelValue(""), "");
  const long = `node-${"a".repeat(80)}`;
  const hashed = labelValue(long);
  assert.equal(hashed, labelValue(long));
  assert.ok(hashed.length <= MAX_LABEL_VALUE_LENGTH);
  assert.ok(isValidLabelValue(hashed));
  assert.ok(hashed.endsWith(`-${shortHash(long)}`));
  assert.notEqual(labelValue(`${long}b`), hashed);
  for (const odd of ["-leading", "trailing.", "with space", "ä-umlaut", "!!!"]) {
    const v = labelValue(odd);
    assert.ok(isValidLabelValue(v), `${JSON.stringify(odd)} -> ${JSON.stringify(v)}`);
    assert.notEqual(v, odd);
  }
});

Deno.test("isValidLabelValue follows the Kubernetes rule", () => {
  assert.ok(isValidLabelValue("a"));
  assert.ok(isValidLabelValue("A_b.c-1"));
  assert.ok(isValidLabelValue("x".repeat(63)));
  assert.ok(!isValidLabelValue("x".repeat(64)));
  assert.ok(!isValidLabelValue("-a"));
  assert.ok(!isValidLabelValue("a/b"));
});
