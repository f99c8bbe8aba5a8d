import assert from "node:assert/strict";
import { parseChallenges } from "./www_authenticate.ts";

Deno.test("parses a registry bearer challenge with a comma inside a quoted scope", () => {
  assert.deepEqual(
    parseChallenges(
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push"',
    ),
    [{
      scheme: "bearer",
      params: {
        realm: "https://auth.example.com/token",
        service: "registry.example.com",
        scope: "repository:team/app:pull,push",
      },
    }],
  );
});

Deno.test("parses several challenges, unquoted values, escapes and odd spacing", () => {
  assert.deepEqual(
    parseChallenges('Basic realm="Re\\"gistry" , Bearer realm=https://a/t, Negotiate'),
    [
      { scheme: "basic", params: { realm: 'Re"gistry' } },
      { scheme: "bearer", params: { realm: "https://a/t" } },
      { scheme: "negotiate", params: {} },
    ],
  );
});

Deno.test("tolerates empty and malformed headers", () => {
  assert.deepEqual(parseChallenges(""), []);
  assert.deepEqual(parseChallenges('Bearer realm="unterminated'), [{
    scheme: "bearer",
    params: {},
  }]);
});
