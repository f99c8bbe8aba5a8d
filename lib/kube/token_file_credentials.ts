import type { CredentialProvider, Credentials } from "./cluster_config.ts";

/** Options of {@linkcode TokenFileCredentials}. */
export interface TokenFileCredentialsOptions {
  /** Re-read the file at most this often; bound service account tokens rotate. Default 60 s. */
  refreshMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/**
 * A bearer token read from a file, re-read at most every `refreshMs` and on the next request
 * after a 401 (client-go's CachedFileTokenSource behaviour).
 */
export class TokenFileCredentials implements CredentialProvider {
  readonly #path: string;
  readonly #refreshMs: number;
  readonly #now: () => number;
  #token?: string;
  #readAt = Number.NEGATIVE_INFINITY;
  #pending?: Promise<Credentials>;

  /** Reads `path` lazily, on the first `get`. */
  constructor(path: string, opts: TokenFileCredentialsOptions = {}) {
    this.#path = path;
    this.#refreshMs = opts.refreshMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** The token, re-read from the file when the cache is older than `refreshMs` or invalidated. */
  get(): Promise<Credentials> {
    if (this.#token !== undefined && this.#now() - this.#readAt < this.#refreshMs) {
      return Promise.resolve({ token: this.#token });
    }
    this.#pending ??= this.#read().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forces a re-read on the next `get` (after a 401). */
  invalidate(): void {
    this.#readAt = Number.NEGATIVE_INFINITY;
  }

  async #read(): Promise<Credentials> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (e) {
      // A transient read failure should not drop a token that still works.
      if (this.#token !== undefined) return { token: this.#token };
      throw new Error(`Cannot read token file "${this.#path}": ${(e as Error).message}`);
    }
    const token = text.trim();
    if (!token) throw new Error(`Cannot use token file "${this.#path}": it is empty`);
    this.#token = token;
    this.#readAt = this.#now();
    return { token };
  }
}
