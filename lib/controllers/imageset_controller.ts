/**
 * The CachedImageSet reconciler: keeps one child CachedImage per desired image (static entries
 * plus the DiscoveryPolicy's discovered images), creates, updates and deletes children, and
 * summarises their state. A missing or silent DiscoveryPolicy never deletes children.
 *
 * @module
 */
import {
  CACHED_IMAGE,
  CACHED_IMAGE_SET,
  type CachedImageSet,
  type CachedImageSetStatus,
  type CachedImageStatus,
  type Condition,
  type DiscoveredImage,
  type DiscoveryPolicyStatus,
  parseCachedImageSet,
  setCondition,
  ValidationError,
} from "../api/mod.ts";
import { isAlreadyExists, isInvalid, isNotFound, type ReconcileResult } from "../kube/mod.ts";
import type { OperatorContext, RawObject } from "./context.ts";
import { FreshStatusWriter } from "./fresh_status.ts";
import { childObject, desiredChildren, diffChildren, IMAGESET_LABEL } from "./imageset_plan.ts";

/** Index of the CachedImage informer: children by set name. */
export const CHILDREN_BY_SET = "imageset";

/** What the set knows of its DiscoveryPolicy. */
interface DiscoveryView {
  images: DiscoveredImage[];
  /** Whether the list can be trusted to remove children (the policy answered at least once). */
  authoritative: boolean;
  condition?: Omit<Condition, "lastTransitionTime">;
}

function discoveryView(ctx: OperatorContext, set: CachedImageSet): DiscoveryView {
  const ref = set.spec.discoveryPolicyRef?.name;
  if (!ref) return { images: [], authoritative: true };
  const dp = ctx.discoveryPolicies.get(ref);
  if (!dp) {
    return {
      images: [],
      authoritative: false,
      condition: {
        type: "Discovery",
        status: "False",
        reason: "DiscoveryPolicyNotFound",
        message: `DiscoveryPolicy "${ref}" not found; keeping the discovered images already cached`,
      },
    };
  }
  const status = (dp.status ?? {}) as DiscoveryPolicyStatus;
  const images = status.discoveredImages ?? [];
  const ready = status.conditions?.find((c) => c.type === "Ready");
  if (!status.lastSyncTime && images.length === 0) {
    return {
      images: [],
      authoritative: false,
      condition: {
        type: "Discovery",
        status: "Unknown",
        reason: ready?.status === "False" ? ready.reason : "DiscoveryPending",
        message: ready?.status === "False"
          ? `DiscoveryPolicy "${ref}" has not discovered anything yet: ${ready.message}`
          : `Waiting for DiscoveryPolicy "${ref}" to sync`,
      },
    };
  }
  if (ready?.status === "False") {
    return {
      images,
      authoritative: true,
      condition: {
        type: "Discovery",
        status: "False",
        reason: ready.reason,
        message:
          `DiscoveryPolicy "${ref}" is failing (${ready.message}); using its last ${images.length} discovered images`,
      },
    };
  }
  return {
    images,
    authoritative: true,
    condition: {
      type: "Discovery",
      status: "True",
      reason: "Synced",
      message: `${images.length} images from DiscoveryPolicy "${ref}"`,
    },
  };
}

/** The CachedImageSet reconciler. */
export class ImageSetReconciler {
  readonly #ctx: OperatorContext;
  readonly #status: FreshStatusWriter<CachedImageSetStatus>;

  constructor(ctx: OperatorContext) {
    this.#ctx = ctx;
    this.#status = new FreshStatusWriter(ctx.client, CACHED_IMAGE_SET);
  }

  /** Reconciles one CachedImageSet by name. */
  async reconcile(name: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const ctx = this.#ctx;
    const log = ctx.log.with({ controller: "cachedimageset", cachedimageset: name });
    const cached = ctx.cachedImageSets.get(name);
    if (!cached || cached.metadata?.deletionTimestamp) {
      // Children go with their owner through garbage collection.
      this.#status.forget(name);
      return;
    }
    const raw = this.#status.resolve(name, cached);
    let set: CachedImageSet;
    try {
      set = parseCachedImageSet(raw);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      await this.#status.writeInvalid(raw, e.message, new Date(ctx.now()), signal, "Degraded");
      log.warn("Invalid CachedImageSet", { error: e.message });
      return;
    }

    // 1. Desired images: static plus discovered.
    const discovery = discoveryView(ctx, set);
    const { children: desired, rejected } = desiredChildren(set, discovery.images);
    if (rejected.length > 0) {
      ctx.events.event(
        raw,
        "Warning",
        "InvalidImage",
        `Skipped ${rejected.length} image reference(s) that cannot be cached: ${
          rejected.slice(0, 5).join(", ")
        }`,
      );
    }

    // 2. Children: those labelled for this set and owned by it.
    const uid = set.metadata.uid;
    const existing = ctx.cachedImages.byIndex(CHILDREN_BY_SET, name).filter((o) =>
      o.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller)
    );

    // 3. Create, update, delete.
    const diff = diffChildren(desired, existing, !discovery.authoritative);
    const client = ctx.client.resource<RawObject>(CACHED_IMAGE);
    const rejectedByServer: string[] = [];
    for (const child of diff.create) {
      try {
        await client.create(childObject(set, child), { signal });
        log.info("Created child", { cachedimage: child.name, image: child.reference });
      } catch (e) {
        if (isAlreadyExists(e)) {
          const other = await client.get(child.name, { signal });
          if (!other.metadata?.ownerReferences?.some((r) => r.uid === uid)) {
            ctx.events.event(
              raw,
              "Warning",
              "NameConflict",
              `CachedImage "${child.name}" exists and is not owned by this set; not taking it over`,
            );
          }
          continue;
        }
        if (isInvalid(e)) {
          // One image the API server refuses must not hold up the others.
          rejectedByServer.push(`${child.reference}: ${(e as Error).message}`);
          continue;
        }
        throw e;
      }
    }
    if (rejectedByServer.length > 0) {
      ctx.events.event(
        raw,
        "Warning",
        "InvalidImage",
        `The API server refused ${rejectedByServer.length} child(ren): ${
          rejectedByServer.slice(0, 3).join("; ")
        }`,
      );
    }
    for (const { child, current } of diff.update) {
      // A full replace (not a merge patch) so that keys removed from maps such as nodeSelector
      // are removed from the child too; the resourceVersion guards against concurrent edits.
      const desired = childObject(set, child);
      const keepPriority = (current.spec as { priority?: number } | undefined)?.priority;
      await client.replace({
        ...current,
        metadata: {
          ...current.metadata,
          labels: { ...current.metadata?.labels, ...desired.metadata!.labels },
        },
        spec: keepPriority === undefined ? child.spec : { ...child.spec, priority: keepPriority },
      }, { signal });
      log.info("Updated child", { cachedimage: child.name });
    }
    for (const o of diff.remove) {
      try {
        await client.delete(o.metadata!.name!, {
          propagationPolicy: "Background",
          preconditions: { uid: o.metadata?.uid },
          signal,
        });
        log.info("Deleted child", { cachedimage: o.metadata!.name });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }

    // 4. Status, counting each desired image once.
    const kept = new Set(desired.map((c) => c.name));
    for (const o of existing) if (!diff.remove.includes(o)) kept.add(o.metadata!.name!);
    const phases = [...kept].map((n) =>
      ((ctx.cachedImages.get(n)?.status ?? {}) as CachedImageStatus).phase
    );
    const managed = kept.size;
    const ready = phases.filter((p) => p === "Ready").length;
    const failing = phases.filter((p) => p === "Degraded").length;
    await this.#status.write(
      raw,
      (prev) => {
        const when = new Date(ctx.now());
        const generation = set.metadata.generation;
        let readyCond: Omit<Condition, "lastTransitionTime">;
        let phase: CachedImageSetStatus["phase"];
        if (failing > 0) {
          phase = "Degraded";
          readyCond = {
            type: "Ready",
            status: "False",
            reason: "Degraded",
            message: `${ready}/${managed} images cached, failing: ${failing}`,
          };
        } else if (managed > 0 && ready === managed) {
          phase = "Ready";
          readyCond = {
            type: "Ready",
            status: "True",
            reason: "Ready",
            message: `All ${managed} images are cached`,
          };
        } else {
          phase = "Pending";
          readyCond = {
            type: "Ready",
            status: "False",
            reason: discovery.condition && discovery.condition.status !== "True" && managed === 0
              ? discovery.condition.reason
              : "Progressing",
            message: managed === 0 && discovery.condition?.status !== "True" && discovery.condition
              ? discovery.condition.message
              : `${ready}/${managed} images cached`,
          };
        }
        let conditions = setCondition(prev.conditions, {
          ...readyCond,
          observedGeneration: generation,
        }, when);
        if (discovery.condition) {
          conditions = setCondition(conditions, {
            ...discovery.condition,
            observedGeneration: generation,
          }, when);
        } else {
          conditions = conditions.filter((c) => c.type !== "Discovery");
        }
        return {
          observedGeneration: generation,
          phase,
          imagesManaged: managed,
          imagesReady: ready,
          conditions,
        };
      },
      signal,
      true,
    );
  }
}

/** The set a child CachedImage belongs to. */
export function setOfChild(o: RawObject): string | undefined {
  return o.metadata?.labels?.[IMAGESET_LABEL];
}
