/**
 * What every reconciler shares: the API client, the informer caches, the pacing engine, metrics,
 * events and the logger.
 *
 * @module
 */
import type { Node, Pod } from "kubernetes-types/core/v1.d.ts";
import type { EventRecorder, Informer, KubeClient, KubeObject } from "../kube/mod.ts";
import type { DropMetrics } from "../metrics/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { PacingEngine } from "../pacing/mod.ts";
import type { TargetCache } from "./targets.ts";

/** An object of one of our kinds as it sits in an informer cache (not yet validated). */
export type RawObject = KubeObject & { spec?: unknown; status?: unknown };

/** Shared state of the controllers of one operator process. */
export interface OperatorContext {
  client: KubeClient;
  /** Namespace of pull Pods and of the Secrets we read. */
  podNamespace: string;
  cachedImages: Informer<RawObject>;
  cachedImageSets: Informer<RawObject>;
  discoveryPolicies: Informer<RawObject>;
  pullPolicies: Informer<RawObject>;
  nodes: Informer<Node>;
  /** Target nodes per set of rules, kept current by the node informer's handlers. */
  targets: TargetCache;
  pods: Informer<Pod>;
  pacer: PacingEngine;
  metrics: DropMetrics;
  events: EventRecorder;
  log: Logger;
  now: () => number;
  /** Seconds a pull Pod may run before the kubelet stops it. */
  pullDeadlineSeconds: number;
}
