/**
 * Where a pull slot's time goes between two pulls: from the operator's grant to the Pod reaching
 * the API server, from there to the kubelet starting the pull, from the pull's end to the result
 * reaching a watcher, and from a slot freeing to the next grant. Pure: fed with what the
 * benchmark's Pod watcher and the simulated kubelets recorded (all epoch ms on one clock).
 *
 * @module
 */
import { percentile, round } from "./stats.ts";

/** One pull Pod as the benchmark's watcher saw it. */
export interface PodTimes {
  node: string;
  /** Image reference of the Pod's container. */
  ref: string;
  /** The operator's grant time (the Pod's started-at annotation). */
  grantAt: number;
  /** When the watcher first saw the Pod. */
  seenAt: number;
  /** When the watcher first saw the pull as ended (imageID, or the Pod ended). */
  doneSeenAt?: number;
}

/** One pull as the kubelet recorded it. */
export interface KubeletPull {
  node: string;
  ref: string;
  startedAt: number;
  finishedAt: number;
}

/** p50 / p99 / mean of one step, in ms. */
export interface StepFigures {
  p50: number;
  p99: number;
  mean: number;
}

/** Where the time of a pull slot went (see the module documentation). */
export interface PullCycle {
  /** Pulls matched between the watcher and the kubelets. */
  pulls: number;
  /** Grant -> the Pod seen at the API server (the operator's create). */
  create_ms: StepFigures;
  /** The Pod seen -> the kubelet starts pulling. */
  pickup_ms: StepFigures;
  /** The pull ended -> the result seen through the watch (the kubelet's status write). */
  report_ms: StepFigures;
  /**
   * A slot freed (a result seen) -> the next grant, pairing the i-th result with the grant
   * `maxConcurrent` after the i-th (only meaningful when concurrency binds).
   */
  regrant_ms: StepFigures;
}

function figures(values: number[]): StepFigures {
  const finite = values.filter(Number.isFinite);
  const mean = finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN;
  return {
    p50: round(percentile(finite, 50), 1),
    p99: round(percentile(finite, 99), 1),
    mean: round(mean, 1),
  };
}

/** Breaks the slot cycle down from the watcher's Pod times and the kubelets' pull records. */
export function pullCycle(
  pods: readonly PodTimes[],
  pulls: readonly KubeletPull[],
  maxConcurrent: number,
): PullCycle {
  const byKey = new Map<string, KubeletPull>();
  for (const p of pulls) byKey.set(`${p.node}\u0000${p.ref}`, p);
  const create: number[] = [];
  const pickup: number[] = [];
  const report: number[] = [];
  let matched = 0;
  for (const pod of pods) {
    create.push(pod.seenAt - pod.grantAt);
    const pull = byKey.get(`${pod.node}\u0000${pod.ref}`);
    if (!pull) continue;
    matched++;
    pickup.push(pull.startedAt - pod.seenAt);
    if (pod.doneSeenAt !== undefined) report.push(pod.doneSeenAt - pull.finishedAt);
  }
  const grants = pods.map((p) => p.grantAt).sort((a, b) => a - b);
  const dones = pods.flatMap((p) => p.doneSeenAt === undefined ? [] : [p.doneSeenAt])
    .sort((a, b) => a - b);
  const regrant: number[] = [];
  for (let i = 0; i + maxConcurrent < grants.length && i < dones.length; i++) {
    regrant.push(grants[i + maxConcurrent] - dones[i]);
  }
  return {
    pulls: matched,
    create_ms: figures(create),
    pickup_ms: figures(pickup),
    report_ms: figures(report),
    regrant_ms: figures(regrant),
  };
}
