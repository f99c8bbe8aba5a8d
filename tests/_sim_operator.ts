/**
 * Test harness: a simulated cluster with the operator running in-process, plus helpers to create
 * our objects, wait for end states and record every pull Pod that ever existed.
 *
 * @module
 */
import type { Pod } from "kubernetes-types/core/v1.d.ts";
import {
  CACHED_IMAGE,
  CACHED_IMAGE_SET,
  type CachedImageStatus,
  DISCOVERY_POLICY,
  type KindRef,
  PULL_POLICY,
} from "../lib/api/mod.ts";
import { type Operator, startOperator } from "../lib/controllers/mod.ts";
import { type Informer, type KubeClient, PODS, type ResourceClient } from "../lib/kube/mod.ts";
import { pullActivity } from "../lib/pacing/mod.ts";
import { Logger } from "../lib/log/mod.ts";
import { DropMetrics } from "../lib/metrics/mod.ts";
import { STARTED_AT_ANNOTATION } from "../lib/podbuilder/mod.ts";
import { type SimCluster, type SimClusterOptions, startSimCluster } from "../lib/sim/mod.ts";
import { waitFor } from "./_operator_process.ts";

// deno-lint-ignore no-explicit-any
type Obj = any;

/** One pull Pod as seen over its life. */
export interface PodRecord {
  name: string;
  image: string;
  node: string;
  policy?: string;
  /** When the operator granted the pull (ms, from the Pod's annotation). */
  startedAt: number;
  /** When the watch first showed the Pod reporting an imageID, failure, or its deletion. */
  endedAt?: number;
  reference: string;
}

/**
 * Records every pull Pod from the operator's own Pod informer. Its handlers run synchronously on
 * the informer's event, before any reconcile that event triggers, so a Pod's recorded end is
 * never later than the moment the operator could have acted on it.
 */
export class PodRecorder {
  readonly pods = new Map<string, PodRecord>();
  #detach?: () => void;

  attach(informer: Informer<Pod>): void {
    this.#detach?.();
    const seen = (p: Pod, deleted = false) => {
      const name = p.metadata?.name;
      // Pod names repeat (one per image, node and attempt); uids do not.
      const uid = p.metadata?.uid;
      if (!name || !uid) return;
      let rec = this.pods.get(uid);
      if (!rec) {
        const a = p.metadata?.annotations ?? {};
        rec = {
          name,
          image: a["drop.corewire.io/cachedimage"],
          node: p.spec?.nodeName ?? "",
          policy: a["drop.corewire.io/policy"],
          startedAt: Date.parse(a[STARTED_AT_ANNOTATION]),
          reference: a["drop.corewire.io/image"] ?? "",
        };
        this.pods.set(uid, rec);
      }
      if (rec.endedAt === undefined && (deleted || pullActivity(p) !== "active")) {
        rec.endedAt = Date.now();
      }
    };
    this.#detach = informer.on({
      add: (p) => seen(p),
      update: (_, p) => seen(p),
      delete: (p) => seen(p, true),
    });
  }

  list(): PodRecord[] {
    return [...this.pods.values()].sort((a, b) => a.startedAt - b.startedAt);
  }

  stop(): void {
    this.#detach?.();
  }
}

/** A simulated cluster with the operator. */
export interface SimOperator {
  cluster: SimCluster;
  client: KubeClient;
  operator: Operator;
  metrics: DropMetrics;
  pods: ResourceClient<Pod>;
  recorder: PodRecorder;
  /** Client of one of our kinds. */
  kind(kind: KindRef): ResourceClient<Obj>;
  apply(kind: KindRef, name: string, spec: Record<string, unknown>, extra?: Obj): Promise<Obj>;
  status(name: string): Promise<CachedImageStatus>;
  /** Waits until the CachedImage's status satisfies `check`; returns that status. */
  waitImage(
    name: string,
    check: (s: CachedImageStatus) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<CachedImageStatus>;
  /** Stops the operator (only), for restart tests. */
  stopOperator(): Promise<void>;
  /** Starts a fresh operator process-alike against the same cluster. */
  restartOperator(): Promise<void>;
  stop(): Promise<void>;
}

export const KINDS = { CACHED_IMAGE, CACHED_IMAGE_SET, DISCOVERY_POLICY, PULL_POLICY };

/** Starts a simulated cluster and the operator on it. */
export async function startSimOperator(opts: SimClusterOptions = {}): Promise<SimOperator> {
  const cluster = await startSimCluster({ timeScale: 0.05, ...opts });
  const client = cluster.client;
  const start = () => {
    const metrics = new DropMetrics();
    const operator = startOperator({
      client,
      podNamespace: "drop-system",
      metrics,
      log: new Logger({ level: Deno.env.get("DROP_TEST_LOG") ? "debug" : "error" }),
    });
    return { metrics, operator };
  };
  let current = start();
  await current.operator.synced;
  const pods = client.resource<Pod>(PODS, "drop-system");
  const recorder = new PodRecorder();
  recorder.attach(current.operator.context.pods);
  const kind = (k: KindRef) => client.resource<Obj>(k);
  const self: SimOperator = {
    cluster,
    client,
    get operator() {
      return current.operator;
    },
    get metrics() {
      return current.metrics;
    },
    pods,
    recorder,
    kind,
    async apply(k, name, spec, extra = {}) {
      const body = {
        apiVersion: "drop.corewire.io/v1alpha1",
        kind: k.kind,
        metadata: { name, ...(extra.metadata ?? {}) },
        spec,
      };
      try {
        const existing = await kind(k).get(name);
        return await kind(k).replace({ ...existing, spec });
      } catch {
        return await kind(k).create(body);
      }
    },
    async status(name) {
      return ((await kind(CACHED_IMAGE).get(name)).status ?? {}) as CachedImageStatus;
    },
    async waitImage(name, check, what, timeoutMs = 60_000) {
      let last: CachedImageStatus | undefined;
      try {
        return await waitFor(
          what,
          async () => {
            last = await self.status(name);
            return check(last) ? last : undefined;
          },
          timeoutMs,
          100,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last)}`);
      }
    },
    async stopOperator() {
      await current.operator.stop();
    },
    async restartOperator() {
      current = start();
      recorder.attach(current.operator.context.pods);
      await current.operator.synced;
    },
    async stop() {
      recorder.stop();
      await current.operator.stop();
      await cluster.stop();
    },
  };
  return self;
}

/** Checks the pacing invariants over recorded pull Pods; returns the violations. */
export function pacingViolations(
  records: PodRecord[],
  budgets: Record<string, { maxConcurrent: number; minDelayMs: number }>,
): string[] {
  const out: string[] = [];
  const byBudget = new Map<string, PodRecord[]>();
  for (const r of records) {
    const key = r.policy ?? "(default)";
    byBudget.set(key, [...(byBudget.get(key) ?? []), r]);
  }
  for (const [key, list] of byBudget) {
    const b = budgets[key];
    if (!b) continue;
    for (let i = 1; i < list.length; i++) {
      const gap = list[i].startedAt - list[i - 1].startedAt;
      if (gap < b.minDelayMs) {
        out.push(`${key}: ${list[i].name} started ${gap} ms after ${list[i - 1].name}`);
      }
    }
    for (const r of list) {
      const overlapping = list.filter((o) =>
        o.startedAt <= r.startedAt && (o.endedAt ?? Infinity) > r.startedAt
      );
      if (overlapping.length > b.maxConcurrent) {
        out.push(`${key}: ${overlapping.length} pulls active when ${r.name} started`);
      }
    }
  }
  for (const r of records) {
    const sameNode = records.filter((o) =>
      o !== r && o.node === r.node && o.startedAt <= r.startedAt &&
      (o.endedAt ?? Infinity) > r.startedAt
    );
    if (sameNode.length > 0) out.push(`two pulls on ${r.node} when ${r.name} started`);
  }
  return out;
}
