import assert from "node:assert/strict";
import { compilePattern } from "./regex.ts";
import { DiscoveryError } from "./errors.ts";

Deno.test("compiles JavaScript patterns, lookaheads included", () => {
  const filter = compilePattern("^(?!.*ecr\\..*amazonaws\\.com).*$", "imageFilter");
  assert.equal(filter.test("registry.example.com/a:1"), true);
  assert.equal(filter.test("1234.dkr.ecr.eu-west-1.amazonaws.com/a:1"), false);
});

Deno.test("turns a leading Go flag group into JavaScript flags", () => {
  const filter = compilePattern("(?i)^REGISTRY\\.example", "imageFilter");
  assert.equal(filter.flags, "i");
  assert.equal(filter.test("registry.example.com/a"), true);
});

Deno.test("an invalid pattern is an InvalidSpec error naming the field and the pattern", () => {
  assert.throws(
    () => compilePattern("^v[0-9", "tagFilter"),
    (e) =>
      e instanceof DiscoveryError && e.reason === "InvalidSpec" &&
      e.message.startsWith('Invalid tagFilter "^v[0-9": '),
  );
});
