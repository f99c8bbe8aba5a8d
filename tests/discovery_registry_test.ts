// Discovery against a REAL OCI registry (Debian's `docker-registry`, distribution 2.8) populated
// through the distribution HTTP API: tagFilter, topX in semantic-version order (v1.9 < v1.10),
// imageTemplate, the spec's registry examples, pagination, htpasswd basic auth, and the bearer
// challenge flow with a token server written for the test (JWTs the registry verifies).
import assert from "node:assert/strict";
import type { DiscoverySource, RegistrySource } from "../lib/api/mod.ts";
import {
  discoverOnce,
  runSources,
  type SecretData,
  type SourceOutcome,
  TokenCache,
} from "../lib/discovery/mod.ts";
import { createTestPki, haveOpenssl } from "./fixtures/discovery/certs.ts";
import {
  paginatingProxy,
  pushTags,
  registryMissing,
  type RegistryServer,
  startRegistry,
  writeHtpasswd,
} from "./fixtures/discovery/registry.ts";
import { startTokenServer } from "./fixtures/discovery/token_server.ts";

const missing = await registryMissing();
if (missing !== undefined) {
  if (Deno.env.get("DROP_REQUIRE_DISCOVERY_BACKENDS") === "1") {
    throw new Error(`DROP_REQUIRE_DISCOVERY_BACKENDS=1 but ${missing}`);
  }
  console.log(`skipping real-registry discovery tests: ${missing}`);
}
const OPENSSL = missing === undefined && await haveOpenssl();
const htpasswdMissing = missing === undefined && !(await hasHtpasswd());
if (htpasswdMissing) {
  console.log("skipping the registry basic-auth step: htpasswd is not installed (apache2-utils)");
}
if (missing === undefined && !OPENSSL) {
  console.log("skipping the registry token-auth step: openssl is not installed");
}

async function hasHtpasswd(): Promise<boolean> {
  try {
    const out = await new Deno.Command("htpasswd", {
      args: ["-Bbn", "u", "p"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

const REPOSITORIES: Record<string, string[]> = {
  "team/app": [
    "v1.2.0",
    "v1.9.0",
    "v1.10.0",
    "v1.10.1-rc.1",
    "v2.0.0-beta.1",
    "latest",
    "main-abc123",
  ],
  "gitlab-org/gitlab-runner/gitlab-runner-helper": [
    "v16.9.1",
    "v16.11.0",
    "v17.0.0",
    "v17.1.0",
    "v17.2.0",
    "v17.10.0",
    "x86_64-v17.1.0",
    "alpine-latest",
  ],
  "platform/api": ["v1.0.0", "v1.1.0", "dev"],
  "platform/web": ["v2.0.0", "v2.1.0", "v10.0.0"],
};

function registrySource(url: string, settings: Partial<RegistrySource> = {}): DiscoverySource {
  return {
    type: "registry",
    registry: { url, repositories: ["team/app"], ...settings },
    secretRef: { name: "registry-creds" },
  };
}

async function list(
  src: DiscoverySource,
  secret?: SecretData,
  extra: { tokenCache?: TokenCache; registryPageSize?: number } = {},
): Promise<SourceOutcome> {
  const [outcome] = await runSources({ sources: [src] }, {
    credentialsFor: () => secret,
    timeoutMs: 30_000,
    ...extra,
  });
  return outcome;
}

function tags(outcome: SourceOutcome): [string, number][] {
  assert.equal(outcome.error, undefined, outcome.error?.message);
  return outcome.images.map((i): [string, number] => [i.image.split(":").at(-1)!, i.score]);
}

Deno.test({
  name: "real registry: tagFilter, topX, imageTemplate, pagination, basic and token auth",
  ignore: missing !== undefined,
  async fn(t) {
    const storage = await Deno.makeTempDir({ prefix: "drop-registry-storage-" });
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const open = await startRegistry(storage);
      cleanups.push(open.stop);
      for (const [repository, list] of Object.entries(REPOSITORIES)) {
        await pushTags(open.url, repository, list);
      }
      const host = open.url.slice("http://".length);

      await t.step("topX keeps the newest versions: v1.10.0 beats v1.9.0 and v1.2.0", async () => {
        const outcome = await list(registrySource(open.url, {
          tagFilter: "^v\\d+\\.\\d+\\.\\d+$",
          topX: 2,
        }));
        assert.deepEqual(outcome.images, [
          { image: `${host}/team/app:v1.10.0`, score: 2 },
          { image: `${host}/team/app:v1.9.0`, score: 1 },
        ]);
      });

      await t.step("pre-releases are older than releases, newer than older versions", async () => {
        const outcome = await list(registrySource(open.url, { tagFilter: "^v", topX: 3 }));
        assert.deepEqual(tags(outcome), [["v2.0.0-beta.1", 3], ["v1.10.1-rc.1", 2], [
          "v1.10.0",
          1,
        ]]);
      });

      await t.step("tags that are not all versions keep the registry's order", async () => {
        // Registry 2.8 lists tags in storage order; the last two it lists count as the newest.
        const listed = await fetch(`${open.url}/v2/team/app/tags/list`);
        const order = (await listed.json()).tags as string[];
        assert.equal(order.length, 7);
        const outcome = await list(registrySource(open.url, { topX: 2 }));
        assert.deepEqual(tags(outcome), [[order[6], 2], [order[5], 1]]);
      });

      await t.step("the GitLab runner helper example with its imageTemplate", async () => {
        const outcome = await list({
          type: "registry",
          registry: {
            url: open.url,
            repositories: ["gitlab-org/gitlab-runner/gitlab-runner-helper"],
            tagFilter: "^v\\d+\\.\\d+\\.\\d+$",
            topX: 5,
            imageTemplate: "registry.gitlab.com/{{ .Repository }}:x86_64-{{ .Tag }}",
          },
        });
        const helper = "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper";
        assert.deepEqual(outcome.images.map((i) => i.image), [
          `${helper}:x86_64-v17.10.0`,
          `${helper}:x86_64-v17.2.0`,
          `${helper}:x86_64-v17.1.0`,
          `${helper}:x86_64-v17.0.0`,
          `${helper}:x86_64-v16.11.0`,
        ]);
      });

      await t.step(
        "the platform-apps example: two repositories, imageFilter, ranking",
        async () => {
          const { outcomes, merged } = await discoverOnce({
            maxImages: 20,
            imageFilter: `^${host.replace(/\./g, "\\.")}/platform/.*$`,
            sources: [registrySource(open.url, {
              repositories: ["platform/api", "platform/web"],
              tagFilter: "^v\\d+\\.\\d+\\.\\d+$",
              topX: 10,
            })],
          });
          assert.equal(outcomes[0].healthy, true);
          assert.deepEqual(merged.images.map((i) => [i.image, i.score]), [
            [`${host}/platform/web:v10.0.0`, 3],
            [`${host}/platform/api:v1.1.0`, 2],
            [`${host}/platform/web:v2.1.0`, 2],
            [`${host}/platform/api:v1.0.0`, 1],
            [`${host}/platform/web:v2.0.0`, 1],
          ]);
        },
      );

      await t.step("an unknown repository is NotFound", async () => {
        const outcome = await list(registrySource(open.url, { repositories: ["team/gone"] }));
        assert.equal(outcome.error?.reason, "NotFound");
        assert.match(outcome.error!.message, /NAME_UNKNOWN/);
      });

      await t.step("Link pagination with n=2 returns every tag in order", async () => {
        const proxy = paginatingProxy(open.url);
        try {
          const url = `http://127.0.0.1:${proxy.addr.port}`;
          const paged = await list(registrySource(url), undefined, { registryPageSize: 2 });
          const whole = await list(registrySource(open.url));
          assert.deepEqual(tags(paged), tags(whole));
          assert.equal(tags(paged).length, 7);
          assert.equal(proxy.pages.length, 4);
          assert.equal(proxy.pages[0], "?n=2");
        } finally {
          await proxy.shutdown();
        }
      });

      if (!htpasswdMissing) {
        await t.step("htpasswd basic auth", async () => {
          const dir = await Deno.makeTempDir({ prefix: "drop-registry-htpasswd-" });
          cleanups.push(() => Deno.remove(dir, { recursive: true }));
          await writeHtpasswd(`${dir}/htpasswd`, "robot", "robot-password-1");
          const basic = await startRegistry(storage, { htpasswd: `${dir}/htpasswd` });
          cleanups.push(basic.stop);
          const ok = await list(registrySource(basic.url, { topX: 1 }), {
            username: "robot",
            password: "robot-password-1",
          });
          assert.deepEqual(tags(ok), [["v2.0.0-beta.1", 1]]);
          const wrong = await list(registrySource(basic.url), {
            username: "robot",
            password: "not-the-password",
          });
          assert.equal(wrong.error?.reason, "Unauthorized");
          assert.ok(!wrong.error!.message.includes("not-the-password"));
          const anonymous = await list(registrySource(basic.url));
          assert.equal(anonymous.error?.reason, "Unauthorized");
        });
      }

      if (OPENSSL) {
        await t.step("bearer challenge flow with a token server, tokens reused", async () => {
          const dir = await Deno.makeTempDir({ prefix: "drop-registry-token-" });
          cleanups.push(() => Deno.remove(dir, { recursive: true }));
          const pki = await createTestPki(dir);
          const tokens = await startTokenServer({
            cert: pki.clientCert,
            key: pki.clientKey,
            issuer: "drop-test-issuer",
            service: "drop-test-registry",
            users: { robot: "token-password-1" },
          });
          cleanups.push(tokens.close);
          const secured: RegistryServer = await startRegistry(storage, {
            token: {
              realm: tokens.realm,
              service: "drop-test-registry",
              issuer: "drop-test-issuer",
              rootCertBundle: pki.files.caCert,
            },
          });
          cleanups.push(secured.stop);
          const secret = { username: "robot", password: "token-password-1" };
          const cache = new TokenCache();
          const src = registrySource(secured.url, {
            repositories: ["team/app", "platform/web"],
            tagFilter: "^v\\d+\\.\\d+\\.\\d+$",
            topX: 2,
          });
          const first = await list(src, secret, { tokenCache: cache });
          assert.deepEqual(tags(first).sort(), [
            ["v1.10.0", 2],
            ["v1.9.0", 1],
            ["v10.0.0", 2],
            ["v2.1.0", 1],
          ]);
          assert.deepEqual(tokens.issued.map((i) => [i.scope, i.account]).sort(), [
            [["repository:platform/web:pull"], "robot"],
            [["repository:team/app:pull"], "robot"],
          ]);
          const second = await list(src, secret, { tokenCache: cache });
          assert.deepEqual(tags(second).sort(), tags(first).sort());
          assert.equal(tokens.issued.length, 2, "the second sync reuses both tokens");

          // Pagination and the challenge flow together, through the paginating proxy.
          const proxy = paginatingProxy(secured.url);
          try {
            const paged = await list(
              registrySource(`http://127.0.0.1:${proxy.addr.port}`),
              secret,
              { registryPageSize: 3 },
            );
            assert.equal(tags(paged).length, 7);
            assert.equal(proxy.pages.length, 3);
          } finally {
            await proxy.shutdown();
          }

          const wrong = await list(src, { username: "robot", password: "bad-password-2" });
          assert.equal(wrong.error?.reason, "Unauthorized");
          assert.match(wrong.error!.message, /token server rejected the username and password/);
          assert.ok(!wrong.error!.message.includes("bad-password-2"));
          const anonymous = await list(src);
          assert.equal(anonymous.error?.reason, "Unauthorized");
          assert.match(anonymous.error!.message, /anonymous access is refused/);
        });
      }
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await Deno.remove(storage, { recursive: true });
    }
  },
});
