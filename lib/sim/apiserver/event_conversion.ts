/**
 * Conversion between core/v1 Events (the storage form) and events.k8s.io/v1 Events, which
 * kube-apiserver stores together: an event written through one API is read through the other.
 *
 * @module
 */
import type { JsonObject } from "./json_util.ts";

/** Pairs of (core field, events.k8s.io field) that only change name. */
const RENAMED: [string, string][] = [
  ["involvedObject", "regarding"],
  ["message", "note"],
  ["source", "deprecatedSource"],
  ["firstTimestamp", "deprecatedFirstTimestamp"],
  ["lastTimestamp", "deprecatedLastTimestamp"],
  ["count", "deprecatedCount"],
  ["reportingComponent", "reportingController"],
];

/** Fields with the same name in both. */
const SHARED = [
  "metadata",
  "eventTime",
  "series",
  "reason",
  "type",
  "action",
  "related",
  "reportingInstance",
];

/** core/v1 Event -> events.k8s.io/v1 Event. */
export function coreToEventsV1(core: JsonObject): JsonObject {
  const out: JsonObject = { apiVersion: "events.k8s.io/v1", kind: "Event" };
  for (const k of SHARED) if (core[k] !== undefined) out[k] = core[k];
  for (const [c, e] of RENAMED) if (core[c] !== undefined) out[e] = core[c];
  if (out.deprecatedCount === 0) delete out.deprecatedCount;
  return out;
}

/** events.k8s.io/v1 Event -> core/v1 Event. */
export function eventsV1ToCore(ev: JsonObject): JsonObject {
  const out: JsonObject = { apiVersion: "v1", kind: "Event" };
  for (const k of SHARED) if (ev[k] !== undefined) out[k] = ev[k];
  for (const [c, e] of RENAMED) if (ev[e] !== undefined) out[c] = ev[e];
  return out;
}
