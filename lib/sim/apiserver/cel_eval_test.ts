import assert from "node:assert/strict";
import { CelDuration, CelEvalError, evaluateCel } from "./cel_eval.ts";
import { CelSyntaxError, parseCel, referencesIdent } from "./cel_parser.ts";

function ev(expr: string, vars: Record<string, unknown> = {}): unknown {
  return evaluateCel(parseCel(expr), vars);
}

Deno.test("CEL rules of our CRDs", () => {
  const exclusive = "!(has(self.tag) && has(self.digest))";
  assert.equal(ev(exclusive, { self: { image: "a", tag: "1" } }), true);
  assert.equal(ev(exclusive, { self: { image: "a", tag: "1", digest: "sha256:x" } }), false);
  const source =
    "self.type == 'prometheus' ? (has(self.prometheus) && !has(self.registry)) : (has(self.registry) && !has(self.prometheus))";
  assert.equal(ev(source, { self: { type: "prometheus", prometheus: {} } }), true);
  assert.equal(ev(source, { self: { type: "prometheus", registry: {} } }), false);
  assert.equal(ev(source, { self: { type: "registry", registry: {} } }), true);
  assert.equal(ev(source, { self: { type: "registry", registry: {}, prometheus: {} } }), false);
  const backoff = "duration(self.initial) <= duration(self.max)";
  assert.equal(ev(backoff, { self: { initial: "30s", max: "5m" } }), true);
  assert.equal(ev(backoff, { self: { initial: "1h", max: "5m" } }), false);
});

Deno.test("CEL operators, literals and functions", () => {
  assert.equal(ev("1 + 2 * 3 - 4 / 2"), 5);
  assert.equal(ev("7 % 3 == 1 && -1 < 0"), true);
  assert.equal(ev("'a' + \"b\" == 'ab'"), true);
  assert.equal(ev("size('héllo') == 5 && size([1,2]) == 2 && size({'a': 1}) == 1"), true);
  assert.equal(ev("'abc'.startsWith('a') && 'abc'.endsWith('c') && 'abc'.contains('b')"), true);
  assert.equal(ev("'v1.2.3'.matches('^v[0-9]+')"), true);
  assert.equal(ev("2 in [1, 2] && 'k' in {'k': 1} && !(3 in [1])"), true);
  assert.equal(
    ev("self.all(x, x > 0) && self.exists(x, x == 2) && self.exists_one(x, x == 3)", {
      self: [1, 2, 3],
    }),
    true,
  );
  assert.deepEqual(ev("self.map(x, x * 2)", { self: [1, 2] }), [2, 4]);
  assert.deepEqual(ev("self.filter(x, x > 1)", { self: [1, 2, 3] }), [2, 3]);
  assert.equal(ev("int('42') + 1"), 43);
  assert.equal(ev("string(12) == '12'"), true);
  assert.equal(ev("duration('1m') + duration('30s') == duration('90s')"), true);
  assert.ok(ev("duration('2h')") instanceof CelDuration);
  assert.equal(ev("timestamp('2024-01-02T00:00:00Z') > timestamp('2024-01-01T00:00:00Z')"), true);
  assert.equal(
    ev("[1, 2, 3].max() == 3 && [3, 1].min() == 1 && [1, 2].sum() == 3 && [1, 2].isSorted()"),
    true,
  );
  assert.equal(ev("'a,b'.split(',').join('-') == 'a-b' && 'Ab'.lowerAscii() == 'ab'"), true);
  assert.equal(ev("self.x[0].y", { self: { x: [{ y: true }] } }), true);
  assert.equal(ev("true ? 1 : 2"), 1);
});

Deno.test("CEL errors: missing keys, commutative logic, bad syntax", () => {
  assert.throws(
    () => ev("self.missing == 1", { self: {} }),
    (e: unknown) => e instanceof CelEvalError && e.message === "no such key: missing",
  );
  assert.equal(ev("false && self.missing == 1", { self: {} }), false);
  assert.equal(ev("self.missing == 1 || true", { self: {} }), true);
  assert.throws(() => ev("1 + 'a'"), CelEvalError);
  assert.throws(() => ev("duration('5 minutes')"), CelEvalError);
  assert.throws(() => parseCel("has(self)"), CelSyntaxError);
  assert.throws(() => parseCel("self.a ==="), CelSyntaxError);
  assert.throws(() => parseCel("(1 + 2"), CelSyntaxError);
  assert.equal(referencesIdent(parseCel("self.a == oldSelf.a"), "oldSelf"), true);
  assert.equal(referencesIdent(parseCel("self.a == 1"), "oldSelf"), false);
});
