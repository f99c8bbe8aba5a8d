/**
 * The `status.sources[]` entry of a DiscoveryPolicy for one source outcome.
 *
 * @module
 */
import type { SourceStatus } from "../api/mod.ts";
import type { SourceOutcome } from "./source.ts";

/**
 * Maps an outcome to its `SourceStatus`. `lastSuccessTime` is `now` for a healthy source and is
 * carried over from `previous` (the entry of the same name in the current status) otherwise.
 */
export function sourceStatus(
  outcome: SourceOutcome,
  now: Date,
  previous?: SourceStatus,
): SourceStatus {
  const status: SourceStatus = {
    name: outcome.name,
    healthy: outcome.healthy,
    latencySeconds: (outcome.latencyMs / 1000).toFixed(3),
  };
  if (outcome.healthy) {
    status.images = outcome.images.length;
    status.lastSuccessTime = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  } else {
    if (outcome.error) {
      status.reason = outcome.error.reason;
      status.message = outcome.error.message;
    }
    if (previous?.name === outcome.name && previous.lastSuccessTime !== undefined) {
      status.lastSuccessTime = previous.lastSuccessTime;
    }
  }
  return status;
}
