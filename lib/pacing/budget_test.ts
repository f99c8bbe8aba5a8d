import assert from "node:assert/strict";
import { parsePullPolicy } from "../api/mod.ts";
import {
  budgetFromPolicy,
  budgetKey,
  DEFAULT_BUDGET,
  DEFAULT_BUDGET_CONFIG,
  validateBudget,
} from "./budget.ts";

Deno.test("budgetFromPolicy reads maxConcurrentNodes and minDelayBetweenPulls with defaults", () => {
  const bare = parsePullPolicy({ metadata: { name: "p" }, spec: {} });
  assert.deepEqual(budgetFromPolicy(bare.spec), DEFAULT_BUDGET_CONFIG);
  const fast = parsePullPolicy({
    metadata: { name: "p" },
    spec: { maxConcurrentNodes: 3, minDelayBetweenPulls: "1m30s" },
  });
  assert.deepEqual(budgetFromPolicy(fast.spec), { maxConcurrent: 3, minDelayMs: 90_000 });
});

Deno.test("budgetKey uses the policy only when it exists", () => {
  assert.equal(budgetKey("fast", true), "fast");
  assert.equal(budgetKey("fast", false), DEFAULT_BUDGET);
  assert.equal(budgetKey(undefined, false), DEFAULT_BUDGET);
});

Deno.test("validateBudget rejects budgets that cannot pace", () => {
  validateBudget("ok", { maxConcurrent: 1, minDelayMs: 0 });
  assert.throws(() => validateBudget("b", { maxConcurrent: 0, minDelayMs: 0 }), /maxConcurrent/);
  assert.throws(() => validateBudget("b", { maxConcurrent: 1.5, minDelayMs: 0 }), /maxConcurrent/);
  assert.throws(() => validateBudget("b", { maxConcurrent: 1, minDelayMs: -1 }), /minDelayMs/);
});
