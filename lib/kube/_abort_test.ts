import assert from "node:assert/strict";
import { withTimeout } from "./_abort.ts";

Deno.test("withTimeout: aborts a slow operation with a TimeoutError", async () => {
  const error = await withTimeout(
    20,
    (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), { once: true })
      ),
    "too slow",
  ).catch((e) => e);
  assert.ok(error instanceof DOMException);
  assert.equal(error.name, "TimeoutError");
  assert.equal(error.message, "too slow");
});

Deno.test("withTimeout: a finished operation leaves no timer behind", async () => {
  // Deno's test sanitizer fails this test if the 60 s timer outlives the call.
  let seen: AbortSignal | undefined;
  const value = await withTimeout(60_000, (signal) => {
    seen = signal;
    return Promise.resolve(42);
  });
  assert.equal(value, 42);
  assert.equal(seen?.aborted, false);
});
