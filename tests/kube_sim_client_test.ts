/**
 * lib/kube's REST client against the simulated API server: kubeconfig over HTTPS, CRUD,
 * patches, status subresource, paging and the error helpers.
 */
import assert from "node:assert/strict";
import type { ConfigMap, Namespace } from "kubernetes-types/core/v1.d.ts";
import {
  configFromKubeconfigText,
  CONFIGMAPS,
  isAlreadyExists,
  isConflict,
  isNotFound,
  KubeClient,
  NAMESPACES,
} from "../lib/kube/mod.ts";
import { startApiServer } from "../lib/sim/apiserver/mod.ts";
import { type Widget, WIDGET_CRD, WIDGETS } from "./_kube_widgets.ts";

Deno.test("KubeClient works against the simulated API server over HTTPS", async () => {
  const server = await startApiServer({ tls: true });
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig({ namespace: "team" })));
  try {
    assert.equal(client.namespace, "team");
    await client.resource<Namespace>(NAMESPACES).create({ metadata: { name: "team" } });
    const cms = client.resource<ConfigMap>(CONFIGMAPS, client.namespace);
    const created = await cms.create({
      metadata: { name: "a", labels: { app: "x" } },
      data: { k: "v" },
    });
    assert.equal(created.metadata?.namespace, "team");
    await assert.rejects(() => cms.create({ metadata: { name: "a" } }), (e) => isAlreadyExists(e));
    const got = await cms.get("a");
    assert.deepEqual(got.data, { k: "v" });

    const replaced = await cms.replace({ ...got, data: { k: "v2" } });
    assert.notEqual(replaced.metadata?.resourceVersion, got.metadata?.resourceVersion);
    await assert.rejects(() => cms.replace({ ...got, data: { k: "stale" } }), (e) => isConflict(e));

    await cms.patch("a", "merge", { data: { m: "1" } });
    await cms.patch("a", "json", [{ op: "add", path: "/data/j", value: "2" }]);
    await cms.patch("a", "strategic", { data: { s: "3" } });
    const applied = await cms.patch("a", "apply", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a" },
      data: { ap: "4" },
    }, { fieldManager: "kube-test", force: true });
    assert.equal(applied.data?.ap, "4");
    assert.equal(applied.data?.m, "1");
    assert.equal(applied.data?.j, "2");
    assert.equal(applied.data?.s, "3");

    for (let i = 0; i < 7; i++) {
      await cms.create({ metadata: { name: `page-${i}`, labels: { app: "paged" } } });
    }
    const page = await cms.list({ labelSelector: "app=paged", limit: 3 });
    assert.equal(page.items.length, 3);
    assert.ok(page.metadata.continue, "a continue token for more pages");
    const all = await cms.listAll({ labelSelector: "app=paged", limit: 3 });
    assert.deepEqual(
      all.items.map((c) => c.metadata?.name),
      [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`),
    );
    assert.ok(all.metadata.resourceVersion);
    assert.equal(all.items[0].kind, "ConfigMap");

    await cms.delete("a", { preconditions: { uid: created.metadata!.uid } });
    await assert.rejects(() => cms.get("a"), (e) => isNotFound(e));
    await assert.rejects(() => cms.delete("a"), (e) => isNotFound(e));
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("KubeClient status subresource calls against a CRD of the simulated API server", async () => {
  const server = await startApiServer();
  server.registerCrd(WIDGET_CRD);
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  try {
    const widgets = client.resource<Widget>(WIDGETS);
    const w = await widgets.create({
      metadata: { name: "w1" },
      spec: { size: 3 },
      status: { observed: 99 },
    });
    assert.equal(w.status?.observed, undefined, "status is ignored on create");
    const withStatus = await widgets.replaceStatus({ ...w, status: { observed: 3 } });
    assert.equal(withStatus.status?.observed, 3);
    assert.equal(
      withStatus.metadata?.generation,
      w.metadata?.generation,
      "status writes keep generation",
    );
    const patched = await widgets.patchStatus("w1", "merge", { status: { observed: 4 } });
    assert.equal(patched.status?.observed, 4);
    assert.equal((await widgets.getStatus("w1")).status?.observed, 4);
    const specChanged = await widgets.patch("w1", "merge", { spec: { size: 5 } });
    assert.notEqual(specChanged.metadata?.generation, w.metadata?.generation);
  } finally {
    client.close();
    await server.stop();
  }
});
