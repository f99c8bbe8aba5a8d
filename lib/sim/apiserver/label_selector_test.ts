import assert from "node:assert/strict";
import { matchesLabels, parseLabelSelector } from "./label_selector.ts";
import { ApiError } from "./status.ts";

const labels = { app: "web", tier: "front", "example.com/team": "a", n: "5" };

function m(sel: string): boolean {
  return matchesLabels(parseLabelSelector(sel), labels);
}

Deno.test("label selector equality operators", () => {
  assert.equal(m("app=web"), true);
  assert.equal(m("app==web"), true);
  assert.equal(m("app=db"), false);
  assert.equal(m("app!=db"), true);
  assert.equal(m("app!=web"), false);
  assert.equal(m("missing!=x"), true, "!= matches objects without the label");
  assert.equal(m("example.com/team=a,tier=front"), true);
  assert.equal(m("app=web,tier=back"), false);
});

Deno.test("label selector set operators and existence", () => {
  assert.equal(m("app in (web, db)"), true);
  assert.equal(m("app in (db)"), false);
  assert.equal(m("app notin (db)"), true);
  assert.equal(m("missing notin (db)"), true);
  assert.equal(m("app notin (web,db)"), false);
  assert.equal(m("app"), true);
  assert.equal(m("missing"), false);
  assert.equal(m("!missing"), true);
  assert.equal(m("!app"), false);
  assert.equal(m("n>3"), true);
  assert.equal(m("n<3"), false);
  assert.equal(matchesLabels(parseLabelSelector(""), undefined), true);
  assert.equal(matchesLabels(parseLabelSelector("app"), undefined), false);
  assert.equal(matchesLabels(parseLabelSelector("!app"), undefined), true);
});

Deno.test("label selector syntax errors are 400", () => {
  for (const bad of ["app in web", "=x", "app in (a", "app=x=y", "bad key!=x", "a=b c"]) {
    assert.throws(
      () => parseLabelSelector(bad),
      (e: unknown) => e instanceof ApiError && e.code === 400,
      bad,
    );
  }
});
