import assert from "node:assert/strict";
import type { DiscoverySource, RegistrySource } from "../api/mod.ts";
import { type FakeAuth, fakeRegistry, type FakeRegistryOptions } from "./_testing.ts";
import type { SecretData } from "./credentials.ts";
import { runSources } from "./run.ts";
import type { SourceOutcome } from "./source.ts";
import { TokenCache } from "./token_cache.ts";

function registrySource(url: string, settings: Partial<RegistrySource> = {}): DiscoverySource {
  return {
    type: "registry",
    registry: { url, repositories: ["team/app"], ...settings },
    secretRef: { name: "creds" },
  };
}

async function withRegistry(
  options: FakeRegistryOptions,
  fn: (registry: ReturnType<typeof fakeRegistry>) => Promise<void>,
): Promise<void> {
  const registry = fakeRegistry(options);
  try {
    await fn(registry);
  } finally {
    await registry.close();
  }
}

async function run(
  source: DiscoverySource,
  secret?: SecretData,
  extra: { tokenCache?: TokenCache; registryPageSize?: number } = {},
): Promise<SourceOutcome> {
  const [outcome] = await runSources({ sources: [source] }, {
    credentialsFor: () => secret,
    timeoutMs: 10_000,
    ...extra,
  });
  return outcome;
}

function images(outcome: SourceOutcome): [string, number][] {
  assert.equal(outcome.error, undefined, outcome.error?.message);
  return outcome.images.map((i) => [i.image, i.score]);
}

const TAGS = ["latest", "v1.10.0", "v1.2.0", "v1.9.0", "v2.0.0-rc.1"];

Deno.test("follows relative Link pages with the requested page size", async () => {
  await withRegistry({ repositories: { "team/app": TAGS } }, async (registry) => {
    const outcome = await run(registrySource(registry.url), undefined, { registryPageSize: 2 });
    assert.deepEqual(images(outcome).map(([i]) => i), [
      `127.0.0.1:${registry.port}/team/app:v2.0.0-rc.1`,
      `127.0.0.1:${registry.port}/team/app:v1.9.0`,
      `127.0.0.1:${registry.port}/team/app:v1.2.0`,
      `127.0.0.1:${registry.port}/team/app:v1.10.0`,
      `127.0.0.1:${registry.port}/team/app:latest`,
    ]);
    const pages = registry.requests.map((r) => r.url.search);
    assert.deepEqual(pages, ["?n=2", "?n=2&last=v1.10.0", "?n=2&last=v1.9.0"]);
  });
});

Deno.test("follows absolute Link pages the registry chooses itself", async () => {
  await withRegistry(
    { repositories: { "team/app": TAGS }, defaultPageSize: 3, absoluteLinks: true },
    async (registry) => {
      const outcome = await run(
        registrySource(registry.url, { tagFilter: "^v\\d+\\.\\d+\\.\\d+$" }),
      );
      assert.deepEqual(images(outcome).map(([i]) => i.split(":").at(-1)), [
        "v1.10.0",
        "v1.9.0",
        "v1.2.0",
      ]);
      assert.equal(registry.requests.length, 2);
    },
  );
});

Deno.test("a next link to another host is refused as InvalidResponse", async () => {
  await withRegistry({
    repositories: { "team/app": TAGS },
    defaultPageSize: 2,
    linkOverride: "http://127.0.0.2:1/v2/team/app/tags/list?last=x",
  }, async (registry) => {
    const outcome = await run(registrySource(registry.url));
    assert.equal(outcome.error?.reason, "InvalidResponse");
    assert.match(
      outcome.error!.message,
      /points to http:\/\/127\.0\.0\.2:1, away from the registry/,
    );
  });
});

Deno.test("topX keeps the newest versions (v1.9 < v1.10) and imageTemplate builds references", async () => {
  await withRegistry({ repositories: { "team/app": TAGS } }, async (registry) => {
    const outcome = await run(registrySource(registry.url, {
      tagFilter: "^v\\d+\\.\\d+\\.\\d+$",
      topX: 2,
      imageTemplate: "mirror.example.com/{{ .Repository }}:x86_64-{{.Tag}} ({{.Registry}})",
    }));
    assert.deepEqual(images(outcome), [
      [`mirror.example.com/team/app:x86_64-v1.10.0 (127.0.0.1:${registry.port})`, 2],
      [`mirror.example.com/team/app:x86_64-v1.9.0 (127.0.0.1:${registry.port})`, 1],
    ]);
  });
});

Deno.test("bearer challenge: token from the realm with Secret credentials, reused per scope", async () => {
  const auth: FakeAuth = { kind: "bearer", username: "robot", password: "pw-123456" };
  await withRegistry({
    repositories: { "team/app": TAGS, "team/worker": ["1.0", "1.1"] },
    auth,
    defaultPageSize: 2,
  }, async (registry) => {
    const cache = new TokenCache();
    const source = registrySource(registry.url, { repositories: ["team/app", "team/worker"] });
    const secret = { username: "robot", password: "pw-123456" };
    const first = await run(source, secret, { tokenCache: cache });
    assert.equal(images(first).length, 7);
    assert.deepEqual(registry.issued.map((t) => [t.scope, t.account]).sort(), [
      ["repository:team/app:pull", "robot"],
      ["repository:team/worker:pull", "robot"],
    ]);
    // Pages after the first carry the token without another challenge.
    const anonymous = registry.requests.filter((r) =>
      r.url.pathname.startsWith("/v2/") && !r.headers.has("authorization")
    );
    assert.ok(anonymous.length <= 2, `${anonymous.length} unauthenticated tag requests`);

    const second = await run(source, secret, { tokenCache: cache });
    assert.equal(images(second).length, 7);
    assert.equal(registry.issued.length, 2, "the second run reuses the cached tokens");
  });
});

Deno.test("bearer challenge: expired tokens are fetched again", async () => {
  await withRegistry({
    repositories: { "team/app": TAGS },
    auth: { kind: "bearer", expiresIn: 1, accessTokenField: true },
  }, async (registry) => {
    const cache = new TokenCache();
    const source = registrySource(registry.url);
    assert.equal(images(await run(source, undefined, { tokenCache: cache })).length, 5);
    assert.equal(images(await run(source, undefined, { tokenCache: cache })).length, 5);
    assert.equal(registry.issued.length, 2);
    assert.equal(registry.issued[0].account, null, "anonymous tokens name no account");
  });
});

Deno.test("bearer challenge: rejected credentials are Unauthorized without the password", async () => {
  await withRegistry({
    repositories: { "team/app": TAGS },
    auth: { kind: "bearer", username: "robot", password: "right-password" },
  }, async (registry) => {
    const outcome = await run(registrySource(registry.url), {
      username: "robot",
      password: "wrong-password",
    });
    assert.equal(outcome.healthy, false);
    assert.equal(outcome.error?.reason, "Unauthorized");
    assert.match(outcome.error!.message, /token server rejected the username and password/);
    assert.ok(!outcome.error!.message.includes("wrong-password"));
  });
});

Deno.test("basic challenge: the Secret's username and password are sent", async () => {
  await withRegistry({
    repositories: { "team/app": TAGS },
    auth: { kind: "basic", username: "u", password: "p-secret" },
    defaultPageSize: 2,
  }, async (registry) => {
    const ok = await run(registrySource(registry.url), { username: "u", password: "p-secret" });
    assert.equal(images(ok).length, 5);
    // One anonymous attempt, then Basic on every page.
    assert.equal(registry.requests.length, 4);

    const bad = await run(registrySource(registry.url), { username: "u", password: "nope-nope" });
    assert.equal(bad.error?.reason, "Unauthorized");
    const none = await run(registrySource(registry.url));
    assert.equal(none.error?.reason, "Unauthorized");
    assert.match(none.error!.message, /returned 401.*set credentials in the source's Secret/);
  });
});

Deno.test("a static token and headers.<Name> are sent as given", async () => {
  await withRegistry({
    repositories: { "team/app": TAGS },
    auth: { kind: "static", token: "static-token-1" },
  }, async (registry) => {
    assert.equal(
      images(await run(registrySource(registry.url), { token: "static-token-1" })).length,
      5,
    );
    const bad = await run(registrySource(registry.url), { token: "other-token-2" });
    assert.equal(bad.error?.reason, "Unauthorized");
    assert.ok(!bad.error!.message.includes("other-token-2"));
  });
  await withRegistry({
    repositories: { "team/app": TAGS },
    auth: { kind: "header", name: "X-Api-Key", value: "key-abcdef" },
  }, async (registry) => {
    const ok = await run(registrySource(registry.url), { "headers.X-Api-Key": "key-abcdef" });
    assert.equal(images(ok).length, 5);
    const denied = await run(registrySource(registry.url));
    assert.equal(denied.error?.reason, "Forbidden");
  });
});

Deno.test("an unknown repository is NotFound with the registry's error code", async () => {
  await withRegistry({ repositories: { "team/app": TAGS } }, async (registry) => {
    const outcome = await run(
      registrySource(registry.url, { repositories: ["team/app", "team/gone"] }),
    );
    assert.equal(outcome.healthy, false);
    assert.equal(outcome.error?.reason, "NotFound");
    assert.equal(outcome.error?.status, 404);
    assert.equal(
      outcome.error?.message,
      `Cannot list tags of "team/gone": ${registry.url}/v2/team/gone/tags/list returned 404 (NAME_UNKNOWN: repository name not known to registry)`,
    );
  });
});

Deno.test("invalid tagFilter, template and repository are InvalidSpec before any request", async () => {
  await withRegistry({ repositories: { "team/app": TAGS } }, async (registry) => {
    for (
      const settings of [
        { tagFilter: "^v(" },
        { imageTemplate: "{{.Registry}}/{{.Image}}" },
        { repositories: ["../admin"] },
      ]
    ) {
      const outcome = await run(registrySource(registry.url, settings));
      assert.equal(outcome.error?.reason, "InvalidSpec", JSON.stringify(settings));
    }
    assert.equal(registry.requests.length, 0);
  });
});

Deno.test("a repository without tags yields no images and a warning", async () => {
  await withRegistry({ repositories: { "team/app": [] } }, async (registry) => {
    const outcome = await run(registrySource(registry.url));
    assert.equal(outcome.healthy, true);
    assert.deepEqual(outcome.images, []);
    assert.deepEqual(outcome.warnings, ["team/app: the repository has no tags"]);
  });
});
