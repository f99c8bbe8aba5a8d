/**
 * The answer handling every transport shares: 2xx answers are returned unread, 429 (and 5xx
 * carrying Retry-After) answers are waited out and retried as client-go does, and anything else
 * becomes a {@linkcode KubeApiError}.
 *
 * @module
 */
import { sleep } from "./_abort.ts";
import { errorFromResponse } from "./errors.ts";
import type { RequestHooks, RestRequest } from "./transport.ts";

/** Bounds of {@linkcode sendRetrying}. */
export interface RetryOptions {
  /** Retries of 429 (and 5xx carrying Retry-After) answers. */
  maxRetries: number;
  /** Cap on one Retry-After wait (seconds). */
  maxRetryAfterSeconds: number;
  hooks?: RequestHooks;
  /**
   * Called with a non-2xx status before anything else: return true to send again at once (a
   * client that refreshed its credentials after a 401).
   */
  again?: (status: number) => boolean;
}

/** Sends `req` through `attempt` until a 2xx answer; see the module documentation. */
export async function sendRetrying(
  req: RestRequest,
  attempt: () => Promise<Response>,
  opts: RetryOptions,
): Promise<Response> {
  for (let n = 0;; n++) {
    const res = await attempt();
    if (res.ok) return res;
    const text = await readBodyText(res);
    const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
    if (opts.again?.(res.status)) continue;
    const retriable = res.status === 429 || (res.status >= 500 && retryAfter !== undefined);
    if (retriable && n < opts.maxRetries && !req.signal?.aborted) {
      const seconds = Math.min(retryAfter ?? 1, opts.maxRetryAfterSeconds);
      opts.hooks?.onRetryAfter?.(req.verb, req.resource, seconds);
      await sleep(seconds * 1000, req.signal);
      continue;
    }
    throw errorFromResponse(res.status, text, `${req.method} ${req.path}`, retryAfter);
  }
}

/** Reads an error body whatever its framing (chunked, no content-length, cut short). */
async function readBodyText(res: Response): Promise<string> {
  try {
    return await res.text();
  } catch {
    return "";
  }
}

/** Seconds of a Retry-After header (delta seconds or an HTTP date). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value.trim());
  if (Number.isFinite(n) && n >= 0) return n;
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return undefined;
}
