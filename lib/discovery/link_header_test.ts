import assert from "node:assert/strict";
import { nextLink } from "./link_header.ts";

const base = new URL("https://registry.example.com:5000/v2/team/app/tags/list?n=2");

Deno.test("resolves a relative next link against the request URL", () => {
  assert.equal(
    nextLink('</v2/team/app/tags/list?last=b&n=2>; rel="next"', base)?.href,
    "https://registry.example.com:5000/v2/team/app/tags/list?last=b&n=2",
  );
});

Deno.test("accepts absolute links, unquoted rel and several links", () => {
  const header =
    "<https://r.example/v2/a/tags/list?last=x>; rel=prev, <https://r.example/v2/a/tags/list?last=y>; rel=next";
  assert.equal(nextLink(header, base)?.href, "https://r.example/v2/a/tags/list?last=y");
  assert.equal(
    nextLink('<https://r.example/p2>; title="x"; rel="last next"', base)?.href,
    "https://r.example/p2",
  );
});

Deno.test("returns undefined without a next link", () => {
  assert.equal(nextLink(null, base), undefined);
  assert.equal(nextLink('<https://r.example/p1>; rel="prev"', base), undefined);
});
