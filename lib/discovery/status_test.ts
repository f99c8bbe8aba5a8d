import assert from "node:assert/strict";
import { DiscoveryError } from "./errors.ts";
import type { SourceOutcome } from "./source.ts";
import { sourceStatus } from "./status.ts";

const base: SourceOutcome = {
  name: "registry[1]",
  index: 1,
  type: "registry",
  endpoint: "https://r.example",
  healthy: true,
  images: [{ image: "a", score: 1 }, { image: "b", score: 2 }],
  warnings: [],
  latencyMs: 1234.5,
};
const now = new Date("2026-03-01T12:00:00.789Z");

Deno.test("a healthy source reports its image count, latency and success time", () => {
  assert.deepEqual(sourceStatus(base, now), {
    name: "registry[1]",
    healthy: true,
    latencySeconds: "1.234",
    images: 2,
    lastSuccessTime: "2026-03-01T12:00:00Z",
  });
});

Deno.test("a failed source reports reason and message and keeps the last success time", () => {
  const failed: SourceOutcome = {
    ...base,
    healthy: false,
    images: [],
    error: new DiscoveryError("Timeout", "Cannot list tags: timed out"),
  };
  const previous = { name: "registry[1]", healthy: true, lastSuccessTime: "2026-02-28T00:00:00Z" };
  assert.deepEqual(sourceStatus(failed, now, previous), {
    name: "registry[1]",
    healthy: false,
    latencySeconds: "1.234",
    reason: "Timeout",
    message: "Cannot list tags: timed out",
    lastSuccessTime: "2026-02-28T00:00:00Z",
  });
  assert.equal(
    sourceStatus(failed, now, { ...previous, name: "registry[0]" }).lastSuccessTime,
    undefined,
  );
});
