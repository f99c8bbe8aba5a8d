import assert from "node:assert/strict";
import { labelIndexer, nodeNameIndexer, ownerUidIndexer } from "./indexers.ts";
import { objectKey, splitKey } from "./object_key.ts";
import { Store } from "./store.ts";
import type { KubeObject } from "./types.ts";

type Obj = KubeObject & { spec?: { nodeName?: string } };

function pod(
  name: string,
  rv: string,
  opts: { node?: string; app?: string; owners?: string[] } = {},
): Obj {
  return {
    metadata: {
      name,
      namespace: "ns",
      resourceVersion: rv,
      labels: opts.app ? { app: opts.app } : {},
      ownerReferences: (opts.owners ?? []).map((uid) => ({
        apiVersion: "v1",
        kind: "X",
        name: uid,
        uid,
      })),
    },
    spec: opts.node ? { nodeName: opts.node } : {},
  };
}

Deno.test("objectKey and splitKey round-trip namespaced and cluster-scoped keys", () => {
  assert.equal(objectKey({ metadata: { name: "a", namespace: "n" } }), "n/a");
  assert.equal(objectKey({ metadata: { name: "node-1" } }), "node-1");
  assert.deepEqual(splitKey("n/a"), { namespace: "n", name: "a" });
  assert.deepEqual(splitKey("node-1"), { name: "node-1" });
});

Deno.test("Store indexes by label, owner UID and node name and follows changes", () => {
  const store = new Store<Obj>({
    app: labelIndexer("app"),
    owner: ownerUidIndexer,
    node: nodeNameIndexer,
  });
  store.upsert(pod("a", "1", { node: "n1", app: "web", owners: ["u1", "u2"] }));
  store.upsert(pod("b", "1", { node: "n1", app: "db", owners: ["u1"] }));
  store.upsert(pod("c", "1", {}));
  const names = (objs: Obj[]) => objs.map((o) => o.metadata!.name).sort();
  assert.deepEqual(names(store.byIndex("node", "n1")), ["a", "b"]);
  assert.deepEqual(names(store.byIndex("owner", "u1")), ["a", "b"]);
  assert.deepEqual(names(store.byIndex("owner", "u2")), ["a"]);
  assert.deepEqual(names(store.byIndex("app", "web")), ["a"]);
  store.upsert(pod("a", "2", { node: "n2", app: "web", owners: ["u2"] }));
  assert.deepEqual(names(store.byIndex("node", "n1")), ["b"], "old index entries removed");
  assert.deepEqual(names(store.byIndex("node", "n2")), ["a"]);
  assert.deepEqual(names(store.byIndex("owner", "u1")), ["b"]);
  store.delete("ns/b");
  assert.deepEqual(store.byIndex("node", "n1"), []);
  assert.deepEqual(store.byIndex("owner", "u1"), []);
  assert.throws(() => store.byIndex("nope", "x"), /no such indexer/);
});

Deno.test("Store.replace reports added, updated (by resourceVersion) and deleted objects", () => {
  const store = new Store<Obj>({ node: nodeNameIndexer });
  store.replace([pod("a", "1"), pod("b", "1", { node: "n" }), pod("c", "1")]);
  const diff = store.replace([pod("a", "1"), pod("b", "2"), pod("d", "1")]);
  assert.deepEqual(diff.added.map((o) => o.metadata!.name), ["d"]);
  assert.deepEqual(
    diff.updated.map((u) =>
      `${u.old.metadata!.resourceVersion}->${u.obj.metadata!.resourceVersion}`
    ),
    ["1->2"],
  );
  assert.deepEqual(diff.deleted.map((o) => o.metadata!.name), ["c"]);
  assert.deepEqual(store.keys().sort(), ["ns/a", "ns/b", "ns/d"]);
  assert.deepEqual(store.byIndex("node", "n"), [], "index follows replace");
});
