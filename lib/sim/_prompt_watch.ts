/**
 * Watches that end at once when their signal aborts.
 *
 * @module
 */
import type { KubeObject, ListWatcher, WatchEvent, WatchOptions } from "../kube/mod.ts";

/**
 * Wraps a list-watcher so that an aborted watch ends at once. Aborting a fetch was seen not to
 * reject a body read already pending, so a quiet watch could outlive its abort until the next
 * bookmark (a minute); the kubelets must stop promptly.
 */
export function promptlyAborted<T extends KubeObject>(source: ListWatcher<T>): ListWatcher<T> {
  return {
    listAll: (opts) => source.listAll(opts),
    watch: (opts?: WatchOptions) => abortable(source.watch(opts), opts?.signal),
  };
}

async function* abortable<T>(
  source: AsyncIterable<WatchEvent<T>>,
  signal: AbortSignal | undefined,
): AsyncGenerator<WatchEvent<T>> {
  const it = source[Symbol.asyncIterator]();
  // Each read gets its own promise, settled by the read or by the abort. Racing every read
  // against one long-lived "aborted" promise would attach a reaction to it per event, and each
  // reaction would keep its event alive until the abort.
  let wake: ((result: IteratorResult<WatchEvent<T>>) => void) | undefined;
  const onAbort = () => wake?.({ done: true, value: undefined });
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) return;
      const next = it.next();
      // A read that fails after we left must not surface as an unhandled rejection.
      next.catch(() => {});
      const result = await new Promise<IteratorResult<WatchEvent<T>>>((resolve, reject) => {
        wake = resolve;
        next.then(resolve, reject);
      });
      wake = undefined;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // The source may still be parked on its read; it ends on its own once data or close comes.
    it.return?.().catch(() => {});
  }
}
