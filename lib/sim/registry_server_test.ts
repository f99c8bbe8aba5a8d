import assert from "node:assert/strict";
import { RegistryCatalogue } from "./registry_catalogue.ts";
import { startRegistryServer } from "./registry_server.ts";

async function getJson(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const body = await res.json();
  return { res, body };
}

/** Follows `Link: <...>; rel="next"` headers and collects every page. */
async function allPages(base: string, path: string, key: string) {
  const pages: string[][] = [];
  let next: string | undefined = path;
  while (next) {
    const { res, body } = await getJson(new URL(next, base).href);
    assert.equal(res.status, 200);
    pages.push(body[key]);
    const link = res.headers.get("link");
    next = link ? /^<([^>]+)>;\s*rel="next"$/.exec(link)?.[1] : undefined;
  }
  return pages;
}

Deno.test("tags/list pages with n and Link until the end", async () => {
  const catalogue = new RegistryCatalogue();
  const server = await startRegistryServer({ catalogue });
  try {
    const tags = ["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0", "v2.1.0"];
    catalogue.addRepository(`${server.host}/team/app`, tags);
    const pages = await allPages(server.url, "/v2/team/app/tags/list?n=2", "tags");
    assert.deepEqual(pages, [["v1.0.0", "v1.1.0"], ["v1.2.0", "v2.0.0"], ["v2.1.0"]]);

    const { res, body } = await getJson(`${server.url}/v2/team/app/tags/list`);
    assert.equal(res.headers.get("link"), null);
    assert.equal(res.headers.get("docker-distribution-api-version"), "registry/2.0");
    assert.deepEqual(body, { name: "team/app", tags });

    const exact = await allPages(server.url, "/v2/team/app/tags/list?n=5", "tags");
    assert.deepEqual(exact, [tags], "no Link when the page holds the rest");

    const after = await getJson(`${server.url}/v2/team/app/tags/list?last=v1.2.0`);
    assert.deepEqual(after.body.tags, ["v2.0.0", "v2.1.0"]);

    const bad = await getJson(`${server.url}/v2/team/app/tags/list?n=-1`);
    assert.equal(bad.res.status, 400);
    assert.equal(bad.body.errors[0].code, "PAGINATION_NUMBER_INVALID");
  } finally {
    await server.stop();
  }
});

Deno.test("unknown repositories answer NAME_UNKNOWN; the catalogue lists repositories", async () => {
  const catalogue = new RegistryCatalogue();
  const server = await startRegistryServer({ catalogue, host: "registry.example.com" });
  try {
    assert.equal(server.host, "registry.example.com");
    const missing = await getJson(`${server.url}/v2/team/does-not-exist/tags/list`);
    assert.equal(missing.res.status, 404);
    assert.equal(missing.body.errors[0].code, "NAME_UNKNOWN");

    catalogue.addRepository("registry.example.com/a/one", ["1"]);
    catalogue.addRepository("registry.example.com/b/two", ["2"]);
    catalogue.addRepository("other.example.com/c/three", ["3"]);
    const pages = await allPages(server.url, "/v2/_catalog?n=1", "repositories");
    assert.deepEqual(pages, [["a/one"], ["b/two"]]);

    const base = await fetch(`${server.url}/v2/`);
    assert.equal(base.status, 200);
    await base.body?.cancel();
  } finally {
    await server.stop();
  }
});

Deno.test("manifests carry the catalogue's digest; a moved tag answers the new one", async () => {
  const catalogue = new RegistryCatalogue();
  const server = await startRegistryServer({ catalogue });
  try {
    const ref = `${server.host}/team/app:stable`;
    const before = catalogue.resolve(ref);
    assert.ok(before.ok);
    const head = await fetch(`${server.url}/v2/team/app/manifests/stable`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("docker-content-digest"), before.manifest.digest);
    await head.body?.cancel();

    const moved = catalogue.moveTag(`${server.host}/team/app`, "stable");
    const { res, body } = await getJson(`${server.url}/v2/team/app/manifests/stable`);
    assert.equal(res.headers.get("docker-content-digest"), moved.digest);
    const total = body.layers.reduce((n: number, l: { size: number }) => n + l.size, 0);
    assert.equal(total, moved.size);

    const missing = await getJson(`${server.url}/v2/team/app/manifests/notfound`);
    assert.equal(missing.res.status, 404);
    assert.equal(missing.body.errors[0].code, "MANIFEST_UNKNOWN");
  } finally {
    await server.stop();
  }
});

Deno.test("bearer token flow: challenge, token with basic credentials, then access", async () => {
  const catalogue = new RegistryCatalogue();
  const server = await startRegistryServer({
    catalogue,
    auth: { username: "ci", password: "s3cret" },
  });
  try {
    catalogue.addRepository(`${server.host}/team/app`, ["v1"]);
    const first = await getJson(`${server.url}/v2/team/app/tags/list`);
    assert.equal(first.res.status, 401);
    const header = first.res.headers.get("www-authenticate")!;
    const realm = /realm="([^"]+)"/.exec(header)![1];
    assert.equal(realm, `${server.url}/token`);
    assert.match(header, /service="drop-sim-registry"/);
    assert.match(header, /scope="repository:team\/app:pull"/);

    const denied = await fetch(`${realm}?service=drop-sim-registry`, {
      headers: { authorization: `Basic ${btoa("ci:wrong")}` },
    });
    assert.equal(denied.status, 401);
    await denied.body?.cancel();

    const issued = await getJson(
      `${realm}?service=drop-sim-registry&scope=repository:team/app:pull`,
      {
        headers: { authorization: `Basic ${btoa("ci:s3cret")}` },
      },
    );
    assert.equal(issued.res.status, 200);
    const ok = await getJson(`${server.url}/v2/team/app/tags/list`, {
      headers: { authorization: `Bearer ${issued.body.token}` },
    });
    assert.equal(ok.res.status, 200);
    assert.deepEqual(ok.body.tags, ["v1"]);

    const forged = await getJson(`${server.url}/v2/team/app/tags/list`, {
      headers: { authorization: "Bearer forged" },
    });
    assert.equal(forged.res.status, 401);
  } finally {
    await server.stop();
  }
});

Deno.test("basic auth scheme", async () => {
  const catalogue = new RegistryCatalogue();
  const server = await startRegistryServer({
    catalogue,
    auth: { username: "u", password: "p", scheme: "basic" },
  });
  try {
    const anonymous = await getJson(`${server.url}/v2/`);
    assert.equal(anonymous.res.status, 401);
    assert.match(anonymous.res.headers.get("www-authenticate")!, /^Basic realm=/);
    const ok = await getJson(`${server.url}/v2/team/x/tags/list`, {
      headers: { authorization: `Basic ${btoa("u:p")}` },
    });
    assert.equal(ok.res.status, 200);
    assert.ok(ok.body.tags.includes("latest"), "open-world repositories list default tags");
  } finally {
    await server.stop();
  }
});

Deno.test("host faults: unavailable answers 503, unauthorized 401, timeout holds the request", async () => {
  const catalogue = new RegistryCatalogue();
  const server = await startRegistryServer({ catalogue });
  try {
    catalogue.setHostFault(server.host, "unavailable");
    const down = await getJson(`${server.url}/v2/team/app/tags/list`);
    assert.equal(down.res.status, 503);
    assert.equal(down.body.errors[0].code, "UNAVAILABLE");

    catalogue.setHostFault(server.host, "unauthorized");
    const denied = await getJson(`${server.url}/v2/team/app/tags/list`);
    assert.equal(denied.res.status, 401);

    catalogue.setHostFault(server.host, "timeout");
    const gaveUp = new AbortController();
    const held = fetch(`${server.url}/v2/team/app/tags/list`, { signal: gaveUp.signal });
    let answered = false;
    held.then(() => answered = true, () => {});
    while (server.requests.tags !== 3) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(answered, false);
    gaveUp.abort();
    await assert.rejects(held);
    catalogue.setHostFault(server.host, undefined);
  } finally {
    await server.stop();
  }
});

Deno.test("stop releases a request held by a timeout fault", async () => {
  const catalogue = new RegistryCatalogue();
  const server = await startRegistryServer({ catalogue });
  catalogue.setHostFault(server.host, "timeout");
  const pending = fetch(`${server.url}/v2/`).then(async (res) => {
    await res.body?.cancel();
    return res.status;
  });
  while (!server.requests.base) await new Promise((r) => setTimeout(r, 10));
  await server.stop();
  assert.equal(await pending, 503);
});
