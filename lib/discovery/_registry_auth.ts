/**
 * Authentication against an OCI registry, as the docker client does it: first try without
 * credentials (or with the Secret's static `token`), and answer a 401 challenge:
 * - `Bearer realm=...,service=...,scope=...`: get a token from the realm, with the Secret's
 *   username and password as Basic credentials when present (anonymous tokens otherwise, which
 *   public registries require), cache it per scope and retry;
 * - `Basic`: retry with the Secret's username and password, and send them with every later request.
 * Once a Bearer realm is known, tokens for further repositories are fetched before the first
 * request, saving the anonymous round trip.
 *
 * @module
 */
import type { HttpTransport } from "./_http.ts";
import type { SourceCredentials } from "./credentials.ts";
import { DiscoveryError, reasonForStatus } from "./errors.ts";
import type { TokenCache, TokenKey } from "./token_cache.ts";
import { parseChallenges } from "./www_authenticate.ts";

/** The authentication state of one registry source during one run. */
export class RegistryAuth {
  #creds: SourceCredentials;
  #cache: TokenCache;
  #transport: HttpTransport;
  #identity: Promise<string>;
  #basicChallenged = false;
  #bearer?: { realm: string; service: string };

  constructor(creds: SourceCredentials, cache: TokenCache, transport: HttpTransport) {
    this.#creds = creds;
    this.#cache = cache;
    this.#transport = transport;
    this.#identity = identityOf(creds);
  }

  /** The `Authorization` value to send with the first request for `repository`, if any. */
  async headerFor(repository: string): Promise<string | undefined> {
    if (this.#creds.token) return `Bearer ${this.#creds.token}`;
    if (this.#basicChallenged) return this.#basic();
    if (this.#bearer) {
      const token = await this.#token(
        this.#bearer.realm,
        this.#bearer.service,
        pullScope(repository),
      );
      return `Bearer ${token}`;
    }
    return undefined;
  }

  /**
   * Answers a 401. Returns the `Authorization` value to retry with, or undefined when there is
   * nothing new to try (the caller then reports the 401).
   */
  async answer401(
    headers: Headers,
    repository: string,
    sent: string | undefined,
  ): Promise<string | undefined> {
    const challenges = parseChallenges(headers.get("www-authenticate") ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer" && c.params.realm);
    if (bearer) {
      // A static token the registry rejects is final unless there are credentials to trade.
      if (this.#creds.token && this.#creds.username === undefined) return undefined;
      const realm = bearer.params.realm;
      const service = bearer.params.service ?? "";
      this.#bearer = { realm, service };
      const scope = bearer.params.scope || pullScope(repository);
      const token = await this.#token(realm, service, scope, sent);
      const header = `Bearer ${token}`;
      return header === sent ? undefined : header;
    }
    if (challenges.some((c) => c.scheme === "basic") && this.#creds.username !== undefined) {
      this.#basicChallenged = true;
      const header = this.#basic();
      return header === sent ? undefined : header;
    }
    return undefined;
  }

  #basic(): string | undefined {
    if (this.#creds.username === undefined) return undefined;
    return `Basic ${btoa(`${this.#creds.username}:${this.#creds.password ?? ""}`)}`;
  }

  /** A token for the scope, from the cache unless it is the one just rejected (`rejected`). */
  async #token(realm: string, service: string, scope: string, rejected?: string): Promise<string> {
    const key: TokenKey = { realm, service, scope, identity: await this.#identity };
    const cached = this.#cache.get(key);
    if (cached !== undefined && `Bearer ${cached}` !== rejected) return cached;

    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      url = new URL("invalid:");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new DiscoveryError(
        "InvalidResponse",
        `Cannot get a registry token: the challenge names realm ${
          JSON.stringify(realm)
        }, which is not an http(s) URL`,
      );
    }
    if (service) url.searchParams.set("service", service);
    for (const s of scope.split(" ").filter((s) => s.length > 0)) {
      url.searchParams.append("scope", s);
    }
    const headers = new Headers({ accept: "application/json" });
    const basic = this.#basic();
    if (basic !== undefined) {
      url.searchParams.set("account", this.#creds.username!);
      headers.set("authorization", basic);
    }
    const context = `Cannot get a registry token from ${url.origin}${url.pathname}`;
    const answer = await this.#transport.send(url, { headers }, context);
    if (answer.status < 200 || answer.status >= 300) {
      const why = answer.status === 401
        ? basic === undefined
          ? "anonymous access is refused, set username and password in the Secret"
          : "the token server rejected the username and password"
        : `the token server returned ${answer.status}`;
      throw new DiscoveryError(reasonForStatus(answer.status), `${context}: ${why}`, {
        status: answer.status,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(answer.body));
    } catch (error) {
      throw new DiscoveryError("InvalidResponse", `${context}: the answer is not JSON`, {
        cause: error,
      });
    }
    const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const token = typeof b.token === "string" && b.token
      ? b.token
      : typeof b.access_token === "string" && b.access_token
      ? b.access_token
      : undefined;
    if (token === undefined) {
      throw new DiscoveryError(
        "InvalidResponse",
        `${context}: the answer has neither "token" nor "access_token"`,
      );
    }
    const expiresIn = typeof b.expires_in === "number" ? b.expires_in : undefined;
    this.#cache.set(key, token, expiresIn);
    return token;
  }
}

/** The scope that allows listing the tags of `repository`. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** A digest of the credentials, so tokens are never shared between different identities. */
async function identityOf(creds: SourceCredentials): Promise<string> {
  if (creds.username === undefined) return "";
  const data = new TextEncoder().encode(`${creds.username}\0${creds.password ?? ""}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
