/**
 * Decides, per request, which of the configured faults strike it.
 *
 * @module
 */
import type { FaultOptions } from "./options.ts";
import { type ApiError, conflict, internalError, tooManyRequests } from "./status.ts";

/** The faults that strike one request. */
export interface FaultDecision {
  latencyMs: number;
  /** An error to answer instead of handling the request. */
  error?: ApiError;
  watchGone: boolean;
  watchStall: boolean;
  closeWatchAfterMs?: number;
}

const WRITE_VERBS = new Set(["update", "patch"]);

function strikes(fraction: number | undefined, random: () => number): boolean {
  return fraction !== undefined && fraction > 0 && random() < fraction;
}

/** Applies the fault settings to a request of `verb` on `resource` (as counted). */
export function decideFaults(
  faults: FaultOptions,
  verb: string,
  resource: string,
  target: { group: string; plural: string; name: string },
  random: () => number = Math.random,
): FaultDecision {
  const decision: FaultDecision = { latencyMs: 0, watchGone: false, watchStall: false };
  const scope = faults.scope;
  if (scope?.verbs?.length && !scope.verbs.includes(verb)) return decision;
  if (scope?.resources?.length && !scope.resources.includes(resource)) return decision;
  decision.latencyMs = Math.max(0, faults.latencyMs ?? 0);
  if (strikes(faults.tooManyRequestsFraction, random)) {
    decision.error = tooManyRequests(faults.retryAfterSeconds ?? 1);
  } else if (strikes(faults.internalErrorFraction, random)) {
    decision.error = internalError("injected fault");
  } else if (WRITE_VERBS.has(verb) && strikes(faults.conflictFraction, random)) {
    decision.error = conflict({ group: target.group, plural: target.plural }, target.name);
  }
  if (verb === "watch") {
    decision.watchGone = strikes(faults.watchGoneFraction, random);
    decision.watchStall = strikes(faults.stallWatchesFraction, random);
    if (faults.closeWatchesAfterMs !== undefined && faults.closeWatchesAfterMs > 0) {
      decision.closeWatchAfterMs = faults.closeWatchesAfterMs;
    }
  }
  return decision;
}
