import assert from "node:assert/strict";
import { TokenCache } from "./token_cache.ts";

const key = {
  realm: "https://auth/token",
  service: "reg",
  scope: "repository:a:pull",
  identity: "",
};

Deno.test("a token is reused until shortly before it expires", () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  cache.set(key, "t1", 300);
  assert.equal(cache.get(key), "t1");
  now += 294_000;
  assert.equal(cache.get(key), "t1");
  now += 2_000;
  assert.equal(cache.get(key), undefined);
});

Deno.test("tokens are separate per scope and identity; no expires_in means 60 s", () => {
  let now = 0;
  const cache = new TokenCache(() => now);
  cache.set(key, "anon", undefined);
  assert.equal(cache.get({ ...key, identity: "abc" }), undefined);
  assert.equal(cache.get({ ...key, scope: "repository:b:pull" }), undefined);
  now = 54_000;
  assert.equal(cache.get(key), "anon");
  now = 56_000;
  assert.equal(cache.get(key), undefined);
});

Deno.test("a token that expires within the safety margin is not cached", () => {
  const cache = new TokenCache(() => 0);
  cache.set(key, "short", 1);
  assert.equal(cache.get(key), undefined);
  assert.equal(cache.size, 0);
});
