/**
 * Merging the tolerations of a CachedImage and its PullPolicy.
 *
 * @module
 */
import type { Toleration } from "kubernetes-types/core/v1.d.ts";

/**
 * Concatenates toleration lists, keeping the first of any that mean the same thing (an absent
 * operator is `Equal`, an absent effect is `""`), and returns copies so the Pod never shares
 * objects with the cached CachedImage or PullPolicy.
 */
export function mergeTolerations(...lists: (readonly Toleration[] | undefined)[]): Toleration[] {
  const seen = new Set<string>();
  const out: Toleration[] = [];
  for (const list of lists) {
    for (const t of list ?? []) {
      const key = JSON.stringify([
        t.key ?? "",
        t.operator ?? "Equal",
        t.value ?? "",
        t.effect ?? "",
        t.tolerationSeconds ?? null,
      ]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(copyToleration(t));
    }
  }
  return out;
}

function copyToleration(t: Toleration): Toleration {
  const copy: Toleration = {};
  if (t.key !== undefined) copy.key = t.key;
  if (t.operator !== undefined) copy.operator = t.operator;
  if (t.value !== undefined) copy.value = t.value;
  if (t.effect !== undefined) copy.effect = t.effect;
  if (t.tolerationSeconds !== undefined) copy.tolerationSeconds = t.tolerationSeconds;
  return copy;
}
