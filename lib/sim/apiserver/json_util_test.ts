import assert from "node:assert/strict";
import { jsonEquivalent } from "./json_util.ts";

Deno.test("jsonEquivalent agrees with comparing JSON text, key order aside", () => {
  const cases: [unknown, unknown][] = [
    [{ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }],
    [{ a: 1, gone: undefined }, { a: 1 }],
    [{ a: 1 }, { a: 1, gone: undefined }],
    [{ a: null }, {}],
    [{}, { a: null }],
    [[undefined, 1], [null, 1]],
    [{ a: [1, 2] }, { a: [2, 1] }],
    [{ a: { b: 1 } }, { a: { b: 1, c: 0 } }],
    [{ a: "1" }, { a: 1 }],
    [[], {}],
    [null, undefined],
    [{ a: false }, { a: 0 }],
  ];
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map((x) => sorted(x ?? null))
      : v && typeof v === "object"
      ? Object.fromEntries(
        Object.entries(v).sort(([a], [b]) => a < b ? -1 : 1).map((
          [k, x],
        ) => [k, sorted(x)]),
      )
      : v;
  for (const [a, b] of cases) {
    const expected = JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
    assert.equal(jsonEquivalent(a, b), expected, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
});
