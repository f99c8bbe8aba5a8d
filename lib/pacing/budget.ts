/**
 * Pacing budgets: the limits shared by every image that references one PullPolicy.
 *
 * @module
 */
import { parseDuration, type PullPolicySpec } from "../api/mod.ts";

/** The limits of one budget. */
export interface BudgetConfig {
  /** Pull Pods that may be active at once under the budget (`maxConcurrentNodes`). */
  maxConcurrent: number;
  /** Least time between two pull starts under the budget (`minDelayBetweenPulls`), in ms. */
  minDelayMs: number;
}

/**
 * Key of the budget shared by images without a PullPolicy and by images whose PullPolicy does not
 * exist. Parentheses cannot appear in an object name, so no PullPolicy can take this key.
 */
export const DEFAULT_BUDGET = "(default)";

/** The built-in limits of the default budget: one node at a time, 10 s apart. */
export const DEFAULT_BUDGET_CONFIG: Readonly<BudgetConfig> = Object.freeze({
  maxConcurrent: 1,
  minDelayMs: 10_000,
});

/** The budget limits a PullPolicy spec (defaults applied) describes. */
export function budgetFromPolicy(
  spec: Pick<PullPolicySpec, "maxConcurrentNodes" | "minDelayBetweenPulls">,
): BudgetConfig {
  return {
    maxConcurrent: spec.maxConcurrentNodes,
    minDelayMs: parseDuration(spec.minDelayBetweenPulls),
  };
}

/**
 * The budget key of an image: its PullPolicy's name when that policy exists, otherwise the shared
 * default budget (the controller reports the missing policy in a condition).
 */
export function budgetKey(policyName: string | undefined, policyExists: boolean): string {
  return policyName && policyExists ? policyName : DEFAULT_BUDGET;
}

/** Throws when `config` cannot pace anything. */
export function validateBudget(key: string, config: BudgetConfig): void {
  if (!Number.isSafeInteger(config.maxConcurrent) || config.maxConcurrent < 1) {
    throw new RangeError(
      `Invalid budget "${key}": maxConcurrent must be a positive integer, got ${config.maxConcurrent}`,
    );
  }
  if (!Number.isFinite(config.minDelayMs) || config.minDelayMs < 0) {
    throw new RangeError(
      `Invalid budget "${key}": minDelayMs must be a finite non-negative number, got ${config.minDelayMs}`,
    );
  }
}
