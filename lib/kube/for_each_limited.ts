/**
 * Bounded concurrency for batches of API requests.
 *
 * @module
 */

/**
 * Runs `fn` over `items`, at most `limit` at once, starting them in order. Resolves when all
 * have settled; rejects with the first error (the others still run to their end).
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  let error: unknown;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        if (!failed) {
          failed = true;
          error = e;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failed) throw error;
}
