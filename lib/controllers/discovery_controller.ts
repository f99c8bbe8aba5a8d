/**
 * The DiscoveryPolicy reconciler: queries every source on schedule (at once after a spec change,
 * then every `syncInterval` with a stable per-policy jitter), merges the results, and writes the
 * ranking and each source's health to status. A failing source keeps its last known images; a
 * policy whose sources all fail keeps its whole last known list.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  type Condition,
  type DiscoveredImage,
  DISCOVERY_POLICY,
  type DiscoveryPolicy,
  type DiscoveryPolicyStatus,
  parseDiscoveryPolicy,
  parseDuration,
  rfc3339,
  setCondition,
  type SourceStatus,
  ValidationError,
} from "../api/mod.ts";
import {
  checkSpec,
  mergeResults,
  runSources,
  type SecretData,
  type SourceOutcome,
  sourceStatus,
  TokenCache,
} from "../discovery/mod.ts";
import type { ReconcileResult } from "../kube/mod.ts";
import type { OperatorContext } from "./context.ts";
import { FreshStatusWriter } from "./fresh_status.ts";
import { readSecretData } from "./secrets.ts";

/** Longest wait after a sync in which every source failed, before trying again. */
const MAX_FAILURE_RETRY_MS = 5 * 60_000;

/** A stable fraction in [0, 0.1) of the interval, different per policy, so syncs spread out. */
export function syncJitterMs(uid: string, intervalMs: number): number {
  const h = createHash("sha256").update(uid).digest();
  return Math.floor((h.readUInt32BE(0) / 0x1_0000_0000) * 0.1 * intervalMs);
}

/** After `count` syncs in a row where every source failed: 10 s doubling, at most 5 min or the interval. */
function failureRetryMs(intervalMs: number, count: number): number {
  return Math.min(intervalMs, MAX_FAILURE_RETRY_MS, 10_000 * 2 ** (count - 1));
}

/** The DiscoveryPolicy reconciler. */
export class DiscoveryReconciler {
  readonly #ctx: OperatorContext;
  readonly #status: FreshStatusWriter<DiscoveryPolicyStatus>;
  readonly #tokens = new TokenCache();
  /** When each policy's last sync attempt failed completely, and how often in a row. */
  readonly #failures = new Map<string, { at: number; count: number }>();

  constructor(ctx: OperatorContext) {
    this.#ctx = ctx;
    this.#status = new FreshStatusWriter(ctx.client, DISCOVERY_POLICY);
  }

  /** Reconciles one DiscoveryPolicy by name. */
  async reconcile(name: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const ctx = this.#ctx;
    const log = ctx.log.with({ controller: "discoverypolicy", discoverypolicy: name });
    const cached = ctx.discoveryPolicies.get(name);
    if (!cached || cached.metadata?.deletionTimestamp) {
      this.#status.forget(name);
      this.#failures.delete(name);
      ctx.metrics.forgetDiscoveryPolicy(name);
      return;
    }
    const raw = this.#status.resolve(name, cached);
    const prev = (raw.status ?? {}) as DiscoveryPolicyStatus;
    const generation = raw.metadata?.generation;
    const now = ctx.now();
    let dp: DiscoveryPolicy;
    try {
      dp = parseDiscoveryPolicy(raw);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      await this.#status.writeInvalid(raw, e.message, new Date(now), signal);
      return;
    }
    const problems = checkSpec(dp.spec);
    if (problems.length > 0) {
      const message = problems.map((p) => `${p.source ?? "imageFilter"}: ${p.error.message}`).join(
        "; ",
      );
      await this.#status.writeInvalid(raw, message, new Date(now), signal);
      log.warn("Invalid DiscoveryPolicy", { error: message });
      return;
    }

    // 1. Is a sync due? At once after a spec change; otherwise every interval (+ jitter).
    const intervalMs = parseDuration(dp.spec.syncInterval);
    const jitter = syncJitterMs(raw.metadata?.uid ?? name, intervalMs);
    const failure = this.#failures.get(name);
    const specChanged = prev.observedGeneration !== generation;
    const lastSync = prev.lastSyncTime ? Date.parse(prev.lastSyncTime) : undefined;
    let dueAt = lastSync === undefined ? now : lastSync + intervalMs + jitter;
    if (failure) dueAt = failure.at + failureRetryMs(intervalMs, failure.count);
    if (!specChanged && dueAt > now) return { requeueAfter: dueAt - now };

    // 2. Query every source independently.
    const outcomes = await runSources(dp.spec, {
      signal,
      tokenCache: this.#tokens,
      now: new Date(now),
      credentialsFor: (_i, source) => this.#secretData(source.secretRef?.name, signal),
    });
    for (const o of outcomes) {
      ctx.metrics.sourceQueried(name, o.name, o.healthy, o.latencyMs / 1000);
    }

    // 3. Merge: healthy sources answer for themselves; failed ones keep their last images.
    const lastKnown = prev.discoveredImages ?? [];
    const effective = outcomes.map((o): SourceOutcome =>
      o.healthy ? o : {
        ...o,
        healthy: true,
        error: undefined,
        images: lastKnown.filter((d) => d.source === o.name).map((d) => ({
          image: d.image,
          score: d.score,
        })),
      }
    );
    const merged = mergeResults(effective, {
      imageFilter: dp.spec.imageFilter,
      maxImages: dp.spec.maxImages,
    });
    const healthy = outcomes.filter((o) => o.healthy);
    const failed = outcomes.filter((o) => !o.healthy);
    const allFailed = healthy.length === 0;
    const images: DiscoveredImage[] = allFailed ? lastKnown : merged.images;
    if (allFailed) {
      const count = (failure?.count ?? 0) + 1;
      this.#failures.set(name, { at: now, count });
    } else {
      this.#failures.delete(name);
    }
    ctx.metrics.discoveryImagesFound.set({ discoverypolicy: name }, images.length);

    // 4. Status and conditions.
    const when = new Date(now);
    const sources: SourceStatus[] = outcomes.map((o) =>
      sourceStatus(o, when, prev.sources?.find((p) => p.name === o.name))
    );
    const failureList = failed.map((o) => `${o.name}: ${o.error?.reason}: ${o.error?.message}`)
      .join("; ");
    let ready: Omit<Condition, "lastTransitionTime">;
    if (failed.length === 0) {
      ready = {
        type: "Ready",
        status: "True",
        reason: "Synced",
        message: `Discovered ${images.length} images`,
      };
    } else if (!allFailed) {
      ready = {
        type: "Ready",
        status: "True",
        reason: "PartiallyFailed",
        message: `Discovered ${images.length} images, but some sources failed: ${failureList}`,
      };
    } else {
      const reasons = new Set(failed.map((o) => o.error?.reason ?? "SourceError"));
      ready = {
        type: "Ready",
        status: "False",
        reason: reasons.size === 1 ? [...reasons][0] : "SyncFailed",
        message:
          `Every source failed; keeping the last ${images.length} discovered images. ${failureList}`,
      };
    }
    const health: Omit<Condition, "lastTransitionTime"> = failed.length === 0
      ? {
        type: "SourcesHealthy",
        status: "True",
        reason: "AllSourcesHealthy",
        message: "All discovery sources responded successfully",
      }
      : {
        type: "SourcesHealthy",
        status: "False",
        reason: "SourceError",
        message: `One or more sources failed to respond: ${failureList}`,
      };
    const status: DiscoveryPolicyStatus = {
      observedGeneration: generation,
      discoveredImages: images,
      imageCount: images.length,
      sourceCount: dp.spec.sources.length,
      sources,
      conditions: setCondition(
        setCondition(prev.conditions, { ...ready, observedGeneration: generation }, when),
        { ...health, observedGeneration: generation },
        when,
      ),
    };
    const lastSyncTime = allFailed ? prev.lastSyncTime : rfc3339(when);
    if (lastSyncTime) status.lastSyncTime = lastSyncTime;
    await this.#status.write(raw, () => status, signal);
    if (failed.length > 0) ctx.events.event(raw, "Warning", "SourceError", failureList);
    const changed = JSON.stringify(images) !== JSON.stringify(lastKnown);
    if (changed && !allFailed) {
      ctx.events.event(raw, "Normal", "Synced", `Discovered ${images.length} images`);
    }
    log.info("Synced", {
      images: images.length,
      healthy: healthy.length,
      failed: failed.length,
    });

    const next = allFailed
      ? Math.min(
        intervalMs,
        MAX_FAILURE_RETRY_MS,
        10_000 * 2 ** ((this.#failures.get(name)?.count ?? 1) - 1),
      )
      : intervalMs + jitter;
    return { requeueAfter: next };
  }

  async #secretData(
    name: string | undefined,
    signal: AbortSignal,
  ): Promise<SecretData | undefined> {
    if (!name) return undefined;
    return await readSecretData(this.#ctx.client, this.#ctx.podNamespace, name, signal);
  }
}
