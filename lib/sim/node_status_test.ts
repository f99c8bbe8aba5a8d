import assert from "node:assert/strict";
import { type ConditionMemory, nodeConditions, nodeLease, nodeStatus } from "./node_status.ts";

Deno.test("a ready node reports the kubelet's four conditions and node info", () => {
  const memory: ConditionMemory = new Map();
  const t0 = Date.parse("2024-05-01T10:00:00Z");
  const status = nodeStatus(
    { name: "sim-node-1", internalIP: "10.0.0.1", ready: true, images: [], labels: {} },
    t0,
    memory,
  );
  assert.deepEqual(
    status.conditions!.map((c) => [c.type, c.status, c.reason]),
    [
      ["MemoryPressure", "False", "KubeletHasSufficientMemory"],
      ["DiskPressure", "False", "KubeletHasNoDiskPressure"],
      ["PIDPressure", "False", "KubeletHasSufficientPID"],
      ["Ready", "True", "KubeletReady"],
    ],
  );
  assert.deepEqual(status.addresses, [
    { type: "InternalIP", address: "10.0.0.1" },
    { type: "Hostname", address: "sim-node-1" },
  ]);
  assert.equal(status.nodeInfo!.kubeletVersion, "v1.30.0");
  assert.equal(status.nodeInfo!.architecture, "amd64");
  assert.match(status.nodeInfo!.systemUUID, /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  assert.equal(status.capacity!.pods, "110");
  assert.equal(status.conditions![3].lastHeartbeatTime, "2024-05-01T10:00:00Z");
});

Deno.test("heartbeats move lastHeartbeatTime, transitions move lastTransitionTime", () => {
  const memory: ConditionMemory = new Map();
  const t0 = Date.parse("2024-05-01T10:00:00Z");
  nodeConditions(true, t0, memory);
  const later = nodeConditions(true, t0 + 60_000, memory);
  const ready = later.find((c) => c.type === "Ready")!;
  assert.equal(ready.lastHeartbeatTime, "2024-05-01T10:01:00Z");
  assert.equal(ready.lastTransitionTime, "2024-05-01T10:00:00Z");
  const down = nodeConditions(false, t0 + 120_000, memory).find((c) => c.type === "Ready")!;
  assert.equal(down.status, "False");
  assert.equal(down.reason, "KubeletNotReady");
  assert.equal(down.lastTransitionTime, "2024-05-01T10:02:00Z");
});

Deno.test("the lease is owned by the node and renewed with microsecond time", () => {
  const lease = nodeLease(
    { metadata: { name: "n1", uid: "u-1" } },
    Date.parse("2024-05-01T10:00:00.123Z"),
  );
  assert.equal(lease.metadata!.namespace, "kube-node-lease");
  assert.equal(lease.spec!.holderIdentity, "n1");
  assert.equal(lease.spec!.leaseDurationSeconds, 40);
  assert.equal(lease.spec!.renewTime, "2024-05-01T10:00:00.123000Z");
  assert.deepEqual(lease.metadata!.ownerReferences, [
    { apiVersion: "v1", kind: "Node", name: "n1", uid: "u-1" },
  ]);
});
