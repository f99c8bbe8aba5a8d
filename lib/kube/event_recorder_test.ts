import assert from "node:assert/strict";
import type { Event } from "kubernetes-types/core/v1.d.ts";
import { KubeApiError } from "./errors.ts";
import { type EventClient, EventRecorder } from "./event_recorder.ts";
import type { PatchType } from "./types.ts";

class FakeEvents implements EventClient {
  events = new Map<string, Event>();
  calls: string[] = [];

  create(obj: Event): Promise<Event> {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    this.calls.push(`create ${key}`);
    this.events.set(key, structuredClone(obj));
    return Promise.resolve(obj);
  }

  patch(
    name: string,
    type: PatchType,
    body: unknown,
    opts?: { namespace?: string },
  ): Promise<Event> {
    const key = `${opts?.namespace}/${name}`;
    const found = this.events.get(key);
    const entry = found ? [key, found] as const : undefined;
    this.calls.push(`patch ${name} ${type}`);
    if (!entry) {
      return Promise.reject(new KubeApiError({ code: 404, reason: "NotFound", message: "gone" }));
    }
    const updated = { ...entry[1], ...(body as Partial<Event>) };
    this.events.set(entry[0], updated);
    return Promise.resolve(updated);
  }
}

const image = {
  apiVersion: "drop.corewire.io/v1alpha1",
  kind: "CachedImage",
  metadata: { name: "nginx", uid: "uid-1", resourceVersion: "7" },
};
const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "pull-1", namespace: "drop-system", uid: "uid-2" },
};

Deno.test("EventRecorder writes core/v1 Events on the involved object", async () => {
  const client = new FakeEvents();
  const now = Date.UTC(2024, 4, 1, 12, 0, 0);
  const rec = new EventRecorder({
    client,
    component: "drop-controller",
    instance: "pod-a",
    now: () => now,
  });
  rec.event(image, "Normal", "Pulling", "Pulling nginx:1.25 on 3 nodes");
  rec.event(pod, "Warning", "PullFailed", "image not found");
  await rec.flush();
  const events = [...client.events.values()];
  assert.equal(events.length, 2);
  const [e1, e2] = events;
  assert.equal(
    e1.metadata?.namespace,
    "default",
    "cluster-scoped objects use the default namespace",
  );
  assert.match(e1.metadata!.name!, /^nginx\.[0-9a-f]+$/);
  assert.deepEqual(e1.involvedObject, {
    apiVersion: "drop.corewire.io/v1alpha1",
    kind: "CachedImage",
    name: "nginx",
    uid: "uid-1",
    resourceVersion: "7",
  });
  assert.equal(e1.type, "Normal");
  assert.equal(e1.reason, "Pulling");
  assert.equal(e1.count, 1);
  assert.equal(e1.firstTimestamp, "2024-05-01T12:00:00Z");
  assert.deepEqual(e1.source, { component: "drop-controller", host: "pod-a" });
  assert.equal(e1.reportingComponent, "drop-controller");
  assert.equal(e2.metadata?.namespace, "drop-system");
  assert.equal(e2.involvedObject.namespace, "drop-system");
});

Deno.test("EventRecorder aggregates repeats into count and lastTimestamp", async () => {
  const client = new FakeEvents();
  let now = Date.UTC(2024, 4, 1, 12, 0, 0);
  const rec = new EventRecorder({ client, component: "c", now: () => now });
  rec.event(image, "Warning", "PullFailed", "dns: cannot resolve registry.invalid");
  now += 5_000;
  rec.event(image, "Warning", "PullFailed", "dns: cannot resolve registry.invalid");
  now += 5_000;
  rec.event(image, "Warning", "PullFailed", "dns: cannot resolve registry.invalid");
  rec.event(image, "Warning", "PullFailed", "a different message");
  await rec.flush();
  assert.equal(client.events.size, 2);
  const repeated = [...client.events.values()].find((e) => e.message?.startsWith("dns"))!;
  assert.equal(repeated.count, 3);
  assert.equal(repeated.firstTimestamp, "2024-05-01T12:00:00Z");
  assert.equal(repeated.lastTimestamp, "2024-05-01T12:00:10Z");
  assert.deepEqual(client.calls.map((c) => c.split(" ")[0]), [
    "create",
    "patch",
    "patch",
    "create",
  ]);
  // Outside the aggregation window a new Event starts.
  now += 11 * 60_000;
  rec.event(image, "Warning", "PullFailed", "dns: cannot resolve registry.invalid");
  await rec.flush();
  assert.equal(client.events.size, 3);
});

Deno.test("EventRecorder starts a new Event when the aggregated one has expired", async () => {
  const client = new FakeEvents();
  const rec = new EventRecorder({ client, component: "c" });
  rec.event(image, "Normal", "Cached", "ready on 3/3 nodes");
  await rec.flush();
  client.events.clear(); // the API server's event TTL removed it
  rec.event(image, "Normal", "Cached", "ready on 3/3 nodes");
  await rec.flush();
  assert.equal(client.events.size, 1);
  assert.equal([...client.events.values()][0].count, 1);
});

Deno.test("EventRecorder bounds the rate per object and overall", async () => {
  const client = new FakeEvents();
  let now = 0;
  const dropped: string[] = [];
  const rec = new EventRecorder({
    client,
    component: "c",
    perObjectBurst: 3,
    perObjectRefillMs: 60_000,
    qps: 1,
    burst: 5,
    now: () => now,
    onDropped: (r) => dropped.push(r),
  });
  for (let i = 0; i < 10; i++) rec.event(image, "Normal", "R", `m${i}`);
  await rec.flush();
  assert.equal(client.events.size, 3, "per-object burst");
  assert.equal(dropped.length, 7);
  const other = (n: number) => ({
    ...pod,
    metadata: { ...pod.metadata, name: `p${n}`, uid: `u${n}` },
  });
  for (let i = 0; i < 5; i++) rec.event(other(i), "Normal", "R", "m");
  await rec.flush();
  assert.equal(client.events.size, 5, "global burst of 5 is used up");
  now += 60_000;
  rec.event(image, "Normal", "R", "later");
  await rec.flush();
  assert.equal(client.events.size, 6, "tokens refill over time");
});

Deno.test("EventRecorder reports write failures without throwing", async () => {
  const errors: unknown[] = [];
  const rec = new EventRecorder({
    client: {
      create: () => Promise.reject(new Error("forbidden")),
      patch: () => Promise.reject(new Error("forbidden")),
    },
    component: "c",
    onError: (e) => errors.push(e),
  });
  rec.event(image, "Normal", "R", "m");
  await rec.flush();
  assert.equal(errors.length, 1);
});
