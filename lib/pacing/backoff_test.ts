import assert from "node:assert/strict";
import { parsePullPolicy } from "../api/mod.ts";
import { backoffDelay, backoffFromPolicy, DEFAULT_BACKOFF } from "./backoff.ts";

const BOUNDS = { initialMs: 30_000, maxMs: 300_000 };
const MIDDLE = () => 0.5; // no jitter

Deno.test("backoffDelay doubles from initial and stops at max", () => {
  const delays = [1, 2, 3, 4, 5, 6, 7, 50, 10_000].map((f) => backoffDelay(f, BOUNDS, MIDDLE));
  assert.deepEqual(delays, [
    30_000,
    60_000,
    120_000,
    240_000,
    300_000,
    300_000,
    300_000,
    300_000,
    300_000,
  ]);
});

Deno.test("backoffDelay is 0 without failures", () => {
  assert.equal(backoffDelay(0, BOUNDS, MIDDLE), 0);
  assert.equal(backoffDelay(-3, BOUNDS, MIDDLE), 0);
  assert.equal(backoffDelay(Number.NaN, BOUNDS, MIDDLE), 0);
});

Deno.test("backoffDelay jitters within plus or minus 20 % and never exceeds max", () => {
  for (let failures = 1; failures <= 8; failures++) {
    const base = Math.min(30_000 * 2 ** (failures - 1), 300_000);
    const low = backoffDelay(failures, BOUNDS, () => 0);
    const high = backoffDelay(failures, BOUNDS, () => 0.999999);
    assert.equal(low, Math.round(base * 0.8));
    assert.equal(high, Math.min(Math.round(base * 1.2), 300_000));
    let seed = failures;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(failures, BOUNDS, random);
      assert.ok(d >= base * 0.8 && d <= Math.min(base * 1.2, 300_000), `${failures}: ${d}`);
      seen.add(d);
    }
    assert.ok(seen.size > 10, "jitter spreads the delays");
  }
});

Deno.test("backoffFromPolicy reads failureBackoff or falls back to 30s..5m", () => {
  assert.deepEqual(backoffFromPolicy(undefined), DEFAULT_BACKOFF);
  const bare = parsePullPolicy({ metadata: { name: "p" }, spec: {} });
  assert.deepEqual(backoffFromPolicy(bare.spec), { initialMs: 30_000, maxMs: 300_000 });
  const custom = parsePullPolicy({
    metadata: { name: "p" },
    spec: { failureBackoff: { initial: "1m", max: "10m" } },
  });
  assert.deepEqual(backoffFromPolicy(custom.spec), { initialMs: 60_000, maxMs: 600_000 });
});
