/**
 * Helpers shared by the simulator's integration tests.
 *
 * @module
 */
import type { Event, Pod } from "kubernetes-types/core/v1.d.ts";
import { EVENTS, type KubeClient, PODS } from "../kube/mod.ts";

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A pull pod like the operator's: one container running `true`, never restarted. */
export function pullPod(
  name: string,
  nodeName: string,
  image: string,
  extra: Partial<NonNullable<Pod["spec"]>> & { imagePullPolicy?: string } = {},
): Pod {
  const { imagePullPolicy, ...spec } = extra;
  return {
    metadata: { name, namespace: "default" },
    spec: {
      nodeName,
      restartPolicy: "Never",
      containers: [{
        name: "pull",
        image,
        command: ["true"],
        ...(imagePullPolicy ? { imagePullPolicy } : {}),
      }],
      ...spec,
    },
  };
}

/** Creates a pod in "default". */
export async function createPod(client: KubeClient, pod: Pod): Promise<Pod> {
  return await client.resource<Pod>(PODS, pod.metadata?.namespace ?? "default").create(pod);
}

/** Reads a pod of "default". */
export async function getPod(client: KubeClient, name: string): Promise<Pod> {
  return await client.resource<Pod>(PODS, "default").get(name);
}

/** Waits until the pod's phase is one of `phases`; returns the pod. */
export function waitForPhase(
  client: KubeClient,
  name: string,
  phases: string[],
  timeoutMs = 30_000,
): Promise<Pod> {
  return waitFor(
    async () => {
      const pod = await getPod(client, name);
      return phases.includes(pod.status?.phase ?? "") ? pod : undefined;
    },
    `pod ${name} to be ${phases.join(" or ")}`,
    timeoutMs,
  );
}

/** Waits until the first container of the pod is waiting with `reason`; returns the pod. */
export function waitForWaiting(
  client: KubeClient,
  name: string,
  reason: string,
  timeoutMs = 30_000,
): Promise<Pod> {
  return waitFor(
    async () => {
      const pod = await getPod(client, name);
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return waiting?.reason === reason ? pod : undefined;
    },
    `pod ${name} to wait with ${reason}`,
    timeoutMs,
  );
}

/** Events about a pod of "default", oldest first. */
export async function podEvents(client: KubeClient, name: string): Promise<Event[]> {
  const list = await client.resource<Event>(EVENTS, "default").list({
    fieldSelector: `involvedObject.name=${name}`,
  });
  // Names are "<pod>.<unix nanos in hex>" from one recorder: their order is the recording order.
  return list.items.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}
