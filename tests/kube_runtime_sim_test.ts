/**
 * lib/kube's leader election, status writer and event recorder against the simulated API
 * server: real Leases, real 409s and real Events.
 */
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.d.ts";
import type { Event } from "kubernetes-types/core/v1.d.ts";
import {
  configFromKubeconfigText,
  EventRecorder,
  EVENTS,
  KubeClient,
  LeaderElector,
  LEASES,
  NAMESPACES,
  writeStatus,
} from "../lib/kube/mod.ts";
import { startApiServer } from "../lib/sim/apiserver/mod.ts";
import { type Widget, WIDGET_CRD, WIDGETS } from "./_kube_widgets.ts";

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("leader election over real Leases: one leader, release hands over at once", async () => {
  const server = await startApiServer();
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  try {
    await client.resource(NAMESPACES).create({ metadata: { name: "drop-system" } });
    const leases = client.resource<Lease>(LEASES, "drop-system");
    const leading = new Map<string, boolean>();
    const start = (identity: string) => {
      const ac = new AbortController();
      const elector = new LeaderElector({
        client: leases,
        name: "drop-operator",
        identity,
        // A long lease: only a release explains a quick takeover.
        leaseDurationMs: 120_000,
        renewDeadlineMs: 1_000,
        retryPeriodMs: 100,
        onStartedLeading: async (signal) => {
          leading.set(identity, true);
          await new Promise<void>((r) => signal.addEventListener("abort", () => r()));
          leading.set(identity, false);
        },
      });
      return { ac, done: elector.run(ac.signal) };
    };
    const a = start("a");
    await waitFor(() => leading.get("a") === true, "a to lead");
    const b = start("b");
    await waitFor(() => server.counters.get("get", "leases.coordination.k8s.io") >= 6, "renewals");
    assert.equal(leading.get("b") ?? false, false, "b follows while a renews");
    const lease = server.store.get("coordination.k8s.io", "leases", "drop-operator", "drop-system");
    assert.equal((lease?.spec as { holderIdentity?: string }).holderIdentity, "a");
    a.ac.abort();
    await a.done;
    await waitFor(() => leading.get("b") === true, "b to take over after the release");
    const after = server.store.get("coordination.k8s.io", "leases", "drop-operator", "drop-system");
    assert.equal((after?.spec as { holderIdentity?: string }).holderIdentity, "b");
    assert.equal((after?.spec as { leaseTransitions?: number }).leaseTransitions, 1);
    b.ac.abort();
    await b.done;
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("writeStatus succeeds through injected 409s and skips unchanged writes", async () => {
  const server = await startApiServer();
  server.registerCrd(WIDGET_CRD);
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  try {
    const widgets = client.resource<Widget>(WIDGETS);
    await widgets.create({ metadata: { name: "w" }, spec: { size: 2 } });
    Object.assign(server.faults, {
      conflictFraction: 0.6,
      scope: { verbs: ["update"], resources: ["widgets.test.example.com/status"] },
    });
    let computed = 0;
    for (let size = 3; size < 13; size++) {
      await widgets.patch("w", "merge", { spec: { size } });
      const res = await writeStatus(widgets, "w", (w) => {
        computed++;
        return { observed: w.spec?.size };
      }, { maxAttempts: 30 });
      assert.equal(res.written, true);
      assert.equal(res.object.status?.observed, size);
    }
    const updates = server.counters.get("update", "widgets.test.example.com/status");
    assert.ok(updates > 10, `conflicts forced retries (${updates} status updates for 10 writes)`);
    assert.equal(computed, updates, "every attempt re-computed from a fresh read");
    server.faults.conflictFraction = 0;
    const again = await writeStatus(widgets, "w", (w) => ({ observed: w.spec?.size }));
    assert.equal(again.written, false);
    assert.equal(server.counters.get("update", "widgets.test.example.com/status"), updates);
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("EventRecorder aggregates repeats into one real Event", async () => {
  const server = await startApiServer();
  server.registerCrd(WIDGET_CRD);
  const client = new KubeClient(configFromKubeconfigText(server.kubeconfig()));
  try {
    const widget = await client.resource<Widget>(WIDGETS).create({ metadata: { name: "w" } });
    const recorder = new EventRecorder({
      client: client.resource<Event>(EVENTS),
      component: "kube-test",
      instance: "test-pod",
    });
    for (let i = 0; i < 4; i++) recorder.event(widget, "Warning", "PullFailed", "image not found");
    recorder.event(widget, "Normal", "Cached", "ready on 1/1 nodes");
    await recorder.flush();
    const events = server.store.list("", "events", "default") as unknown as Event[];
    assert.equal(events.length, 2);
    const failed = events.find((e) => e.reason === "PullFailed")!;
    assert.equal(failed.count, 4);
    assert.equal(failed.involvedObject.kind, "Widget");
    assert.equal(failed.involvedObject.uid, widget.metadata?.uid);
    assert.equal(failed.source?.component, "kube-test");
  } finally {
    client.close();
    await server.stop();
  }
});
