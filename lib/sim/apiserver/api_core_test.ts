import assert from "node:assert/strict";
import { pod, widgetCrd } from "./_testdata.ts";
import { ApiCore } from "./api_core.ts";
import type { StoredRec } from "./event_log.ts";
import type { JsonObject } from "./json_util.ts";
import type { ResourceDef } from "./resource_def.ts";
import { ApiError } from "./status.ts";

function newCore(gracefulPodDeletion = false): ApiCore {
  return new ApiCore({ watchWindow: 1000, gracefulPodDeletion });
}

function defOf(core: ApiCore, group: string, version: string, plural: string): ResourceDef {
  const d = core.def(group, version, plural);
  assert.ok(d, `${group}/${version}/${plural} is served`);
  return d;
}

function meta(obj: JsonObject): JsonObject {
  return obj.metadata as JsonObject;
}

function rejects(fn: () => unknown, code: number, reason: string, message?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected an ApiError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.status.reason, reason);
    if (typeof message === "string") assert.equal(e.status.message, message);
    else if (message) assert.match(e.status.message ?? "", message);
    return true;
  });
}

Deno.test("system namespaces exist and namespaced creates need a namespace", () => {
  const core = newCore();
  const ns = defOf(core, "", "v1", "namespaces");
  assert.deepEqual(core.list(ns, "", {}).items.map((r) => r.key), [
    "default",
    "kube-node-lease",
    "kube-public",
    "kube-system",
  ]);
  const pods = defOf(core, "", "v1", "pods");
  rejects(
    () => core.create(pods, "nope", pod("a"), {}),
    404,
    "NotFound",
    'namespaces "nope" not found',
  );
  const sa = defOf(core, "", "v1", "serviceaccounts");
  assert.ok(core.get(sa, "default", "default"), "the default ServiceAccount exists");
});

Deno.test("create sets server fields; generateName; AlreadyExists; Invalid", () => {
  const core = newCore();
  const pods = defOf(core, "", "v1", "pods");
  const a = core.create(pods, "default", pod("a"), {}).obj;
  assert.match(String(meta(a).uid), /^[0-9a-f-]{36}$/);
  assert.equal(meta(a).generation, 1);
  assert.ok(meta(a).creationTimestamp);
  assert.equal((a.status as JsonObject).phase, "Pending");
  const g =
    core.create(pods, "default", { ...pod(""), metadata: { generateName: "pull-" } }, {}).obj;
  assert.match(String(meta(g).name), /^pull-[a-z0-9]{5}$/);
  rejects(
    () => core.create(pods, "default", pod("a"), {}),
    409,
    "AlreadyExists",
    'pods "a" already exists',
  );
  rejects(
    () => core.create(pods, "default", { metadata: { name: "b" }, spec: { containers: [] } }, {}),
    422,
    "Invalid",
    'Pod "b" is invalid: spec.containers: Required value',
  );
  rejects(
    () => core.create(pods, "default", pod("Bad_Name"), {}),
    422,
    "Invalid",
    /metadata.name: Invalid value: "Bad_Name"/,
  );
  const dry = core.create(pods, "default", pod("dry"), { dryRun: true });
  assert.equal(meta(dry.obj).name, "dry");
  rejects(() => core.get(pods, "default", "dry"), 404, "NotFound", 'pods "dry" not found');
});

Deno.test("updates: stale resourceVersion conflicts, generation moves only with spec", () => {
  const core = newCore();
  core.registerCrd(widgetCrd());
  const w = defOf(core, "example.com", "v1", "widgets");
  const created = core.create(w, "", {
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w" },
    spec: { size: 1 },
  }, {}).obj;
  assert.equal((created.spec as JsonObject).color, "red", "schema default applied");
  const rv = meta(created).resourceVersion;
  const labelled =
    core.patch(w, "", "w", "merge", JSON.stringify({ metadata: { labels: { a: "b" } } }), {}).obj;
  assert.equal(meta(labelled).generation, 1, "metadata changes do not bump generation");
  rejects(
    () => core.update(w, "", "w", { ...created, spec: { size: 2 } }, {}),
    409,
    "Conflict",
    'Operation cannot be fulfilled on widgets.example.com "w": the object has been modified; please apply your changes to the latest version and try again',
  );
  rejects(
    () => core.update(w, "", "w", { ...created, metadata: { name: "w" }, spec: { size: 2 } }, {}),
    422,
    "Invalid",
    /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/,
  );
  const bumped = core.patch(w, "", "w", "merge", JSON.stringify({ spec: { size: 3 } }), {}).obj;
  assert.equal(meta(bumped).generation, 2);
  assert.notEqual(meta(bumped).resourceVersion, rv);
  const status = core.patch(
    w,
    "",
    "w",
    "merge",
    JSON.stringify({ status: { phase: "Ready" }, spec: { size: 9 } }),
    {},
    "status",
  ).obj;
  assert.equal(meta(status).generation, 2, "status writes do not bump generation");
  assert.equal((status.spec as JsonObject).size, 3, "spec is ignored on /status");
  assert.equal((status.status as JsonObject).phase, "Ready");
  const main =
    core.patch(w, "", "w", "merge", JSON.stringify({ status: { phase: "Lost" } }), {}).obj;
  assert.equal(
    (main.status as JsonObject).phase,
    "Ready",
    "status is ignored on the main resource",
  );
  const noop = core.patch(w, "", "w", "merge", JSON.stringify({ spec: { size: 3 } }), {});
  assert.equal(
    meta(noop.obj).resourceVersion,
    meta(main).resourceVersion,
    "a no-op write is not stored",
  );
});

Deno.test("custom resources are validated by schema and CEL", () => {
  const core = newCore();
  core.registerCrd(widgetCrd());
  const w = defOf(core, "example.com", "v1", "widgets");
  rejects(
    () =>
      core.create(w, "", {
        metadata: { name: "x" },
        spec: { size: 0, color: "green", tag: "a", digest: "b" },
      }, {}),
    422,
    "Invalid",
    'Widget.example.com "x" is invalid: [spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1, spec.color: Unsupported value: "green": supported values: "red", "blue", spec: Invalid value: "object": tag and digest are mutually exclusive]',
  );
  rejects(
    () => core.create(w, "", { metadata: { name: "x" }, spec: {} }, {}),
    422,
    "Invalid",
    'Widget.example.com "x" is invalid: spec.size: Required value',
  );
  rejects(
    () =>
      core.create(w, "", { metadata: { name: "x" }, spec: { size: 1, bogus: 1 } }, {
        fieldValidation: "Strict",
      }),
    400,
    "BadRequest",
    'strict decoding error: unknown field "spec.bogus"',
  );
  const warned = core.create(w, "", { metadata: { name: "x" }, spec: { size: 1, bogus: 1 } }, {});
  assert.deepEqual(warned.warnings, ['unknown field "spec.bogus"']);
  assert.equal((warned.obj.spec as JsonObject).bogus, undefined, "unknown fields are pruned");
});

Deno.test("patch types: json, merge, strategic (built-ins only), apply", () => {
  const core = newCore();
  core.registerCrd(widgetCrd());
  const w = defOf(core, "example.com", "v1", "widgets");
  core.create(w, "", { metadata: { name: "w" }, spec: { size: 1 } }, {});
  const j = core.patch(
    w,
    "",
    "w",
    "json",
    JSON.stringify([{ op: "replace", path: "/spec/size", value: 4 }]),
    {},
  ).obj;
  assert.equal((j.spec as JsonObject).size, 4);
  rejects(
    () =>
      core.patch(
        w,
        "",
        "w",
        "json",
        JSON.stringify([{ op: "test", path: "/spec/size", value: 5 }]),
        {},
      ),
    422,
    "Invalid",
    "testing value /spec/size failed: test failed",
  );
  rejects(() => core.patch(w, "", "w", "strategic", "{}", {}), 415, "UnsupportedMediaType");
  rejects(() => core.patch(w, "", "w", "merge", "{not json", {}), 400, "BadRequest");
  const applied = core.patch(
    w,
    "",
    "a",
    "apply",
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: a\nspec:\n  size: 2\n  tag: x\n",
    { fieldManager: "me" },
  );
  assert.equal(applied.created, true);
  const again = core.patch(
    w,
    "",
    "a",
    "apply",
    JSON.stringify({
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "a" },
      spec: { size: 3 },
    }),
    { fieldManager: "me" },
  ).obj;
  assert.deepEqual(
    again.spec,
    { size: 3, color: "red" },
    "a field the manager stopped applying is removed",
  );
  rejects(() => core.patch(w, "", "a", "apply", "{}", {}), 400, "BadRequest", /fieldManager/);
  const pods = defOf(core, "", "v1", "pods");
  core.create(pods, "default", pod("p", { metadata: { finalizers: ["a/x"] } }), {});
  const smp = core.patch(
    pods,
    "default",
    "p",
    "strategic",
    JSON.stringify({
      metadata: { finalizers: ["b/y"] },
      spec: { containers: [{ name: "c", image: "busybox:2" }] },
    }),
    {},
  ).obj;
  assert.deepEqual(meta(smp).finalizers, ["a/x", "b/y"]);
  assert.equal(((smp.spec as JsonObject).containers as JsonObject[])[0].image, "busybox:2");
  const fetched = structuredClone(core.get(pods, "default", "p").obj);
  delete (fetched.spec as JsonObject).enableServiceLinks;
  ((fetched.spec as JsonObject).containers as JsonObject[])[0].image = "busybox:3";
  const put = core.update(pods, "default", "p", fetched, {}).obj;
  assert.equal((put.spec as JsonObject).enableServiceLinks, true, "defaults are applied on update");
  rejects(
    () =>
      core.patch(pods, "default", "p", "merge", JSON.stringify({ spec: { nodeName: "n" } }), {}),
    422,
    "Invalid",
    /spec: Forbidden: pod updates may not change fields/,
  );
});

Deno.test("finalizers hold deletion; removing the last one deletes", () => {
  const core = newCore();
  const cms = defOf(core, "", "v1", "configmaps");
  core.create(cms, "default", { metadata: { name: "c", finalizers: ["example.com/hold"] } }, {});
  const r = core.delete(cms, "default", "c", {});
  assert.equal(r.deleted, false);
  assert.ok(meta(r.obj).deletionTimestamp);
  rejects(
    () =>
      core.patch(
        cms,
        "default",
        "c",
        "merge",
        JSON.stringify({ metadata: { finalizers: ["example.com/hold", "example.com/new"] } }),
        {},
      ),
    422,
    "Invalid",
    /no new finalizers can be added if the object is being deleted/,
  );
  core.patch(cms, "default", "c", "merge", JSON.stringify({ metadata: { finalizers: null } }), {});
  rejects(() => core.get(cms, "default", "c"), 404, "NotFound");
});

Deno.test("garbage collection: background, foreground, orphan, cluster-scoped owner", () => {
  const core = newCore();
  core.registerCrd(widgetCrd());
  const w = defOf(core, "example.com", "v1", "widgets");
  const pods = defOf(core, "", "v1", "pods");
  const owner = (name: string) => {
    const o = core.create(w, "", { metadata: { name }, spec: { size: 1 } }, {}).obj;
    return {
      apiVersion: "example.com/v1",
      kind: "Widget",
      name,
      uid: meta(o).uid,
      blockOwnerDeletion: true,
    };
  };
  const refA = owner("a");
  core.create(pods, "default", pod("a-1", { metadata: { ownerReferences: [refA] } }), {});
  core.create(pods, "default", pod("a-2", { metadata: { ownerReferences: [refA] } }), {});
  core.delete(w, "", "a", {});
  assert.deepEqual(
    core.list(pods, "default", {}).items.map((r) => r.key),
    [],
    "background deletes dependents",
  );

  const refB = owner("b");
  core.create(
    pods,
    "default",
    pod("b-1", { metadata: { ownerReferences: [refB], finalizers: ["example.com/hold"] } }),
    {},
  );
  const fg = core.delete(w, "", "b", { propagationPolicy: "Foreground" });
  assert.deepEqual(meta(fg.obj).finalizers, ["foregroundDeletion"]);
  assert.ok(core.get(w, "", "b"), "owner waits for blocking dependents");
  assert.ok(
    meta(core.get(pods, "default", "b-1").obj).deletionTimestamp,
    "dependent is being deleted",
  );
  core.patch(
    pods,
    "default",
    "b-1",
    "merge",
    JSON.stringify({ metadata: { finalizers: null } }),
    {},
  );
  rejects(() => core.get(w, "", "b"), 404, "NotFound");

  const refC = owner("c");
  core.create(pods, "default", pod("c-1", { metadata: { ownerReferences: [refC] } }), {});
  core.delete(w, "", "c", { propagationPolicy: "Orphan" });
  assert.equal(
    meta(core.get(pods, "default", "c-1").obj).ownerReferences,
    undefined,
    "orphaned dependent keeps living",
  );

  const refD = owner("d");
  const refE = owner("e");
  core.create(pods, "default", pod("de", { metadata: { ownerReferences: [refD, refE] } }), {});
  core.delete(w, "", "d", {});
  const survivor = core.get(pods, "default", "de").obj;
  assert.deepEqual(
    (meta(survivor).ownerReferences as JsonObject[]).map((r) => r.name),
    ["e"],
    "a dependent with another owner stays",
  );

  core.create(
    pods,
    "default",
    pod("dangling", { metadata: { ownerReferences: [{ ...refA, name: "a" }] } }),
    {},
  );
  rejects(
    () => core.get(pods, "default", "dangling"),
    404,
    "NotFound",
    'pods "dangling" not found',
  );
});

Deno.test("namespace deletion removes its contents, then the namespace", () => {
  const core = newCore();
  const ns = defOf(core, "", "v1", "namespaces");
  const cms = defOf(core, "", "v1", "configmaps");
  core.create(ns, "", { metadata: { name: "team" } }, {});
  core.create(cms, "team", { metadata: { name: "held", finalizers: ["example.com/hold"] } }, {});
  core.create(cms, "team", { metadata: { name: "free" } }, {});
  core.delete(ns, "", "team", {});
  const terminating = core.get(ns, "", "team").obj;
  assert.equal((terminating.status as JsonObject).phase, "Terminating");
  rejects(
    () => core.create(cms, "team", { metadata: { name: "new" } }, {}),
    403,
    "Forbidden",
    "unable to create new content in namespace team because it is being terminated",
  );
  assert.deepEqual(core.list(cms, "team", {}).items.map((r) => r.key), ["team/held"]);
  core.patch(cms, "team", "held", "merge", JSON.stringify({ metadata: { finalizers: null } }), {});
  rejects(() => core.get(ns, "", "team"), 404, "NotFound");
});

Deno.test("graceful pod deletion waits for the kubelet unless the pod is not running", () => {
  const core = newCore(true);
  const pods = defOf(core, "", "v1", "pods");
  core.create(pods, "default", pod("bound", { spec: { nodeName: "n1" } }), {});
  core.create(pods, "default", pod("unbound"), {});
  const r = core.delete(pods, "default", "bound", {});
  assert.equal(meta(r.obj).deletionGracePeriodSeconds, 30);
  assert.ok(core.get(pods, "default", "bound"));
  core.delete(pods, "default", "bound", { gracePeriodSeconds: 0 });
  rejects(() => core.get(pods, "default", "bound"), 404, "NotFound");
  core.delete(pods, "default", "unbound", {});
  rejects(() => core.get(pods, "default", "unbound"), 404, "NotFound");
});

Deno.test("paging with continue is consistent; an expired token is 410", () => {
  const core = new ApiCore({ watchWindow: 5, gracefulPodDeletion: false });
  const cms = defOf(core, "", "v1", "configmaps");
  for (let i = 0; i < 5; i++) {
    core.create(cms, "default", { metadata: { name: `c${i}`, labels: { i: String(i % 2) } } }, {});
  }
  const first = core.list(cms, "default", { limit: 2 });
  assert.deepEqual(first.items.map((r) => r.key), ["default/c0", "default/c1"]);
  assert.equal(first.remainingItemCount, 3);
  core.create(cms, "default", { metadata: { name: "c10" } }, {});
  core.delete(cms, "default", "c3", {});
  const second = core.list(cms, "default", { limit: 2, continue: first.continue });
  assert.deepEqual(
    second.items.map((r) => r.key),
    ["default/c2", "default/c3"],
    "the page shows the list as it was",
  );
  assert.equal(second.resourceVersion, first.resourceVersion);
  const filtered = core.list(cms, "default", { labelSelector: "i=1" });
  assert.deepEqual(filtered.items.map((r) => r.key), ["default/c1"]);
  for (let i = 0; i < 6; i++) core.create(cms, "default", { metadata: { name: `d${i}` } }, {});
  rejects(
    () => core.list(cms, "default", { limit: 2, continue: second.continue }),
    410,
    "Expired",
    /continue parameter is too old/,
  );
  rejects(() => core.list(cms, "default", { continue: "garbage" }), 400, "BadRequest");
});

Deno.test("CRDs: names validated, Established, deletion removes instances and stops serving", () => {
  const core = newCore();
  const crds = defOf(core, "apiextensions.k8s.io", "v1", "customresourcedefinitions");
  const bad = widgetCrd();
  meta(bad).name = "wrong.example.com";
  rejects(
    () => core.create(crds, "", bad, {}),
    422,
    "Invalid",
    /metadata.name: Invalid value: "wrong.example.com"/,
  );
  const crd = core.registerCrd(widgetCrd()).obj;
  const conds = (crd.status as JsonObject).conditions as JsonObject[];
  assert.deepEqual(conds.map((c) => [c.type, c.status]), [["NamesAccepted", "True"], [
    "Established",
    "True",
  ]]);
  const w = defOf(core, "example.com", "v1", "widgets");
  core.create(w, "", {
    metadata: { name: "x", finalizers: ["example.com/hold"] },
    spec: { size: 1 },
  }, {});
  core.delete(crds, "", "widgets.example.com", {});
  assert.ok(core.def("example.com", "v1", "widgets"), "served while instances remain");
  core.patch(w, "", "x", "merge", JSON.stringify({ metadata: { finalizers: null } }), {});
  assert.equal(core.def("example.com", "v1", "widgets"), undefined, "no longer served");
  rejects(() => core.get(crds, "", "widgets.example.com"), 404, "NotFound");
});

Deno.test("secrets: stringData becomes data; dockerconfigjson is checked", () => {
  const core = newCore();
  const secrets = defOf(core, "", "v1", "secrets");
  const s =
    core.create(secrets, "default", { metadata: { name: "s" }, stringData: { token: "héllo" } }, {})
      .obj;
  assert.equal(s.type, "Opaque");
  assert.equal(s.stringData, undefined);
  assert.equal(
    new TextDecoder().decode(
      Uint8Array.from(atob(String((s.data as JsonObject).token)), (c) => c.charCodeAt(0)),
    ),
    "héllo",
  );
  rejects(
    () =>
      core.create(secrets, "default", {
        metadata: { name: "d" },
        type: "kubernetes.io/dockerconfigjson",
        data: {},
      }, {}),
    422,
    "Invalid",
    /data\[.dockerconfigjson\]: Required value/,
  );
});

Deno.test("events written through events.k8s.io are read through core/v1 and back", () => {
  const core = newCore();
  const v1 = defOf(core, "events.k8s.io", "v1", "events");
  const coreEvents = defOf(core, "", "v1", "events");
  const now = new Date().toISOString();
  core.create(v1, "default", {
    metadata: { name: "e1" },
    eventTime: now,
    reportingController: "drop",
    reportingInstance: "drop-1",
    action: "Pull",
    reason: "Pulled",
    type: "Normal",
    note: "done",
    regarding: { kind: "Pod", name: "p", namespace: "default" },
  }, {});
  const seen =
    core.list(coreEvents, "default", { fieldSelector: "involvedObject.name=p,reason=Pulled" })
      .items;
  assert.equal(seen.length, 1);
  assert.equal(seen[0].obj.message, "done");
  rejects(
    () => core.create(v1, "default", { metadata: { name: "e2" }, reason: "x" }, {}),
    422,
    "Invalid",
    /eventTime: Required value/,
  );
});

Deno.test("namespaced custom resources and served versions with conversion None", () => {
  const core = newCore();
  const crd = widgetCrd("Namespaced");
  const versions = (crd.spec as JsonObject).versions as JsonObject[];
  versions.push({ ...structuredClone(versions[0]), name: "v2", storage: false });
  core.registerCrd(crd);
  const v1 = defOf(core, "example.com", "v1", "widgets");
  const v2 = defOf(core, "example.com", "v2", "widgets");
  assert.equal(v1.namespaced, true);
  rejects(
    () => core.create(v2, "missing", { metadata: { name: "w" }, spec: { size: 1 } }, {}),
    404,
    "NotFound",
    'namespaces "missing" not found',
  );
  const made = core.create(v2, "default", {
    apiVersion: "example.com/v2",
    kind: "Widget",
    metadata: { name: "w" },
    spec: { size: 1 },
  }, {});
  assert.equal(made.obj.apiVersion, "example.com/v1", "stored in the storage version");
  const viaV1 = core.get(v1, "default", "w").obj;
  assert.equal((viaV1.spec as JsonObject).size, 1);
  assert.equal(v2.toView?.(viaV1).apiVersion, "example.com/v2", "served as v2 through v2");
  assert.deepEqual(core.list(v1, "", {}).items.map((r) => r.key), ["default/w"]);
});

Deno.test("Events go a TTL after their last write, and the least recent beyond maxEvents", () => {
  let now = 1_000_000;
  const core = new ApiCore({
    watchWindow: 1000,
    gracefulPodDeletion: false,
    maxEvents: 3,
    now: () => now,
  });
  const events = defOf(core, "", "v1", "events");
  const event = (name: string) => ({
    metadata: { name },
    involvedObject: { kind: "Pod", name: "p", namespace: "default" },
    reason: "Pulled",
    message: name,
  });
  const names = () => core.list(events, "default", {}).items.map((r) => meta(r.obj).name);
  for (const name of ["a", "b", "c"]) {
    core.create(events, "default", event(name), {});
    now += 1000;
  }
  core.patch(events, "default", "a", "merge", '{"count":2}', {});
  now += 1000;
  core.create(events, "default", event("d"), {});
  assert.deepEqual(names(), ["a", "c", "d"], "b, written longest ago, made room for d");
  // a was written at +3 s, c at +2 s, d at +4 s.
  core.expireEvents(60, 1_000_000 + 62_500);
  assert.deepEqual(names(), ["a", "d"], "c is over the TTL; a's update renewed it");
  core.expireEvents(60, 1_000_000 + 65_000);
  assert.deepEqual(names(), []);
  core.create(events, "default", event("e"), {});
  assert.deepEqual(names(), ["e"], "removed Events no longer count");
});

Deno.test("the watch window drops history past its age; a continue token from then is 410", () => {
  let now = 0;
  const core = new ApiCore({
    watchWindow: 1000,
    watchWindowMs: 75_000,
    gracefulPodDeletion: false,
    now: () => now,
  });
  const cms = defOf(core, "", "v1", "configmaps");
  for (let i = 0; i < 150; i++) {
    core.create(cms, "default", { metadata: { name: `c${i}` } }, {});
  }
  const first = core.list(cms, "default", { limit: 10 });
  now = 60_000;
  core.create(cms, "default", { metadata: { name: "later" } }, {});
  assert.equal(core.list(cms, "default", { limit: 10, continue: first.continue }).items.length, 10);
  // 100 newer events stay whatever their age; beyond them, "later" (60 s) is past 75 s too.
  now = 140_000;
  for (let i = 0; i < 100; i++) core.delete(cms, "default", `c${i}`, {});
  rejects(
    () => core.list(cms, "default", { limit: 10, continue: first.continue }),
    410,
    "Expired",
    /continue parameter is too old/,
  );
});

Deno.test("replaced and deleted versions keep their JSON only; current ones keep the object", () => {
  const core = newCore();
  const cms = defOf(core, "", "v1", "configmaps");
  const bucket = core.store.bucket("/configmaps");
  core.create(cms, "default", { metadata: { name: "a" }, data: { v: "1" } }, {});
  const v1 = bucket.objects.get("default/a")!;
  core.patch(cms, "default", "a", "merge", '{"data":{"v":"2"}}', {});
  const v2 = bucket.objects.get("default/a")!;
  core.delete(cms, "default", "a", {});
  core.create(cms, "default", { metadata: { name: "b" } }, {});
  const [added, modified, deleted] = bucket.log.since(v1.rv - 1)!;
  assert.equal(added.cur, v1);
  assert.equal(modified.cur, v2);
  for (const rec of [v1, v2, deleted.cur]) {
    assert.equal((rec as StoredRec).compacted, true);
  }
  assert.equal((bucket.objects.get("default/b") as StoredRec).compacted, false);
  assert.deepEqual((deleted.cur.obj.data as JsonObject).v, "2", "history still reads whole");
  assert.equal(added.line, undefined, "no encoded copy stays in the window");
});

Deno.test("Events are held as JSON alone once written, and still read, patch and list whole", () => {
  const core = newCore();
  const events = defOf(core, "", "v1", "events");
  const bucket = core.store.bucket("/events");
  const body = {
    metadata: { name: "e1" },
    involvedObject: { kind: "Pod", namespace: "default", name: "p" },
    reason: "Pulled",
    message: "pulled",
    count: 1,
  };
  core.create(events, "default", body, {});
  // Compaction happens at the next write (the writer's follow-ups still read the object).
  core.create(events, "default", { ...body, metadata: { name: "e2" } }, {});
  const e1 = bucket.objects.get("default/e1") as StoredRec;
  assert.equal(e1.compacted, true);
  core.patch(events, "default", "e1", "merge", '{"count":2}', {});
  assert.equal(core.get(events, "default", "e1").obj.count, 2);
  assert.deepEqual(
    core.list(events, "default", {}).items.map((r) => r.obj.reason),
    ["Pulled", "Pulled"],
  );
});
