/**
 * Registry bearer tokens, kept until shortly before they expire so that the pages of a tag list,
 * the repositories of a source and successive syncs reuse one token per scope. Keep one cache for
 * the life of the operator and pass it to every run; tokens live only in memory.
 *
 * @module
 */

/** What identifies a token: where it came from, for what, and for whom. */
export interface TokenKey {
  realm: string;
  service: string;
  scope: string;
  /** Who asked: a digest of the credentials, or "" for anonymous tokens. */
  identity: string;
}

// Token servers default to 60 s when they omit expires_in (distribution token specification).
const DEFAULT_LIFETIME_S = 60;
// A token is dropped this long before it expires, so it cannot expire while a request is in flight.
const MARGIN_MS = 5_000;
// Bounds memory when many policies and repositories share a cache.
const MAX_ENTRIES = 1_000;

/** An in-memory cache of registry tokens. */
export class TokenCache {
  #entries = new Map<string, { token: string; expiresAt: number }>();
  #now: () => number;

  /** @param now clock in milliseconds since the epoch; tests pass their own */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The cached token for `key`, if it is still valid. */
  get(key: TokenKey): string | undefined {
    const id = keyString(key);
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.token;
  }

  /** Stores a token that the server said lives `expiresInSeconds` (60 when unknown). */
  set(key: TokenKey, token: string, expiresInSeconds: number | undefined): void {
    const lifetime = expiresInSeconds !== undefined && expiresInSeconds > 0
      ? expiresInSeconds
      : DEFAULT_LIFETIME_S;
    const expiresAt = this.#now() + lifetime * 1000 - MARGIN_MS;
    if (expiresAt <= this.#now()) return;
    const id = keyString(key);
    this.#entries.delete(id);
    if (this.#entries.size >= MAX_ENTRIES) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(id, { token, expiresAt });
  }

  /** Number of tokens held, expired ones included until they are next looked up. */
  get size(): number {
    return this.#entries.size;
  }
}

function keyString(key: TokenKey): string {
  return JSON.stringify([key.realm, key.service, key.scope, key.identity]);
}
