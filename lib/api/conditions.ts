/**
 * Helpers for `metav1.Condition` lists, following the Kubernetes conventions: a transition time
 * changes only when the status changes.
 *
 * @module
 */

import { rfc3339 } from "./time.ts";

/** A `metav1.Condition`. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The fields a caller decides; the transition time is derived. */
export type ConditionInput = Omit<Condition, "lastTransitionTime">;

/**
 * Returns a new list with `next` set. The previous `lastTransitionTime` is kept unless the status
 * changed, so rewriting an unchanged condition is a no-op.
 */
export function setCondition(
  list: readonly Condition[] | undefined,
  next: ConditionInput,
  now: Date = new Date(),
): Condition[] {
  const out = [...(list ?? [])];
  const index = out.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? out[index] : undefined;
  const lastTransitionTime = previous && previous.status === next.status
    ? previous.lastTransitionTime
    : rfc3339(now);
  const condition: Condition = { ...next, lastTransitionTime };
  if (index >= 0) out[index] = condition;
  else out.push(condition);
  return out;
}

/** Finds a condition by type. */
export function findCondition(
  list: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return list?.find((c) => c.type === type);
}
