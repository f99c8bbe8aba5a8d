import assert from "node:assert/strict";
import { KubeApiError } from "./errors.ts";
import { type StatusClient, writeStatus } from "./status_writer.ts";
import type { KubeObject } from "./types.ts";

type Thing = KubeObject & { spec?: { want: number }; status?: { seen?: number; ready?: boolean } };

/** An in-memory object with resourceVersion checks and an injectable number of conflicts. */
class FakeStatusClient implements StatusClient<Thing> {
  obj: Thing;
  gets = 0;
  writes = 0;
  conflictsLeft = 0;

  constructor(obj: Thing) {
    this.obj = obj;
  }

  get(): Promise<Thing> {
    this.gets++;
    return Promise.resolve(structuredClone(this.obj));
  }

  replaceStatus(obj: Thing): Promise<Thing> {
    this.writes++;
    if (this.conflictsLeft > 0) {
      this.conflictsLeft--;
      // Someone else wrote meanwhile: the spec moved on and the resourceVersion changed.
      this.obj.spec = { want: this.obj.spec!.want + 1 };
      this.obj.metadata = {
        ...this.obj.metadata,
        resourceVersion: String(Number(this.obj.metadata!.resourceVersion) + 1),
      };
    }
    if (obj.metadata?.resourceVersion !== this.obj.metadata?.resourceVersion) {
      return Promise.reject(
        new KubeApiError({
          code: 409,
          reason: "Conflict",
          message: "the object has been modified",
        }),
      );
    }
    this.obj = {
      ...this.obj,
      status: obj.status,
      metadata: {
        ...this.obj.metadata,
        resourceVersion: String(Number(this.obj.metadata!.resourceVersion) + 1),
      },
    };
    return Promise.resolve(structuredClone(this.obj));
  }
}

const compute = (t: Thing) => ({ seen: t.spec!.want, ready: true });

Deno.test("writeStatus writes a changed status carrying the resourceVersion", async () => {
  const c = new FakeStatusClient({
    metadata: { name: "t", resourceVersion: "5" },
    spec: { want: 1 },
  });
  const res = await writeStatus(c, "t", compute);
  assert.equal(res.written, true);
  assert.deepEqual(c.obj.status, { seen: 1, ready: true });
  assert.equal(res.object.metadata?.resourceVersion, "6");
});

Deno.test("writeStatus skips the write when nothing changed", async () => {
  const c = new FakeStatusClient({
    metadata: { name: "t", resourceVersion: "5" },
    spec: { want: 1 },
    status: { ready: true, seen: 1 },
  });
  const res = await writeStatus(c, "t", compute);
  assert.equal(res.written, false);
  assert.equal(c.writes, 0);
});

Deno.test("writeStatus re-reads and re-computes after conflicts", async () => {
  const c = new FakeStatusClient({
    metadata: { name: "t", resourceVersion: "5" },
    spec: { want: 1 },
  });
  c.conflictsLeft = 2;
  const res = await writeStatus(c, "t", compute, { current: structuredClone(c.obj) });
  assert.equal(res.written, true);
  assert.equal(c.writes, 3);
  assert.equal(c.gets, 2, "one re-read per conflict, none up front with `current`");
  assert.deepEqual(c.obj.status, { seen: 3, ready: true }, "computed from the latest spec");
});

Deno.test("writeStatus gives up after maxAttempts conflicts and passes other errors through", async () => {
  const c = new FakeStatusClient({
    metadata: { name: "t", resourceVersion: "5" },
    spec: { want: 1 },
  });
  c.conflictsLeft = 10;
  await assert.rejects(
    () => writeStatus(c, "t", compute, { maxAttempts: 3 }),
    (e) => e instanceof KubeApiError && e.code === 409,
  );
  assert.equal(c.writes, 3);
  const failing: StatusClient<Thing> = {
    get: () => Promise.resolve({ metadata: { name: "t" }, spec: { want: 1 } }),
    replaceStatus: () => Promise.reject(new KubeApiError({ code: 422, reason: "Invalid" })),
  };
  await assert.rejects(
    () => writeStatus(failing, "t", compute),
    (e) => (e as KubeApiError).code === 422,
  );
});
