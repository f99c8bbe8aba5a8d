/**
 * The registry source: lists the tags of each repository through the OCI distribution API
 * (`GET /v2/<repository>/tags/list`, following `Link: <...>; rel="next"` pages), keeps the tags
 * `tagFilter` and `topX` select, and builds image references with `imageTemplate`.
 *
 * @module
 */
import type { RegistrySource } from "../api/mod.ts";
import { displayUrl, type HttpAnswer, type HttpTransport, redirectHint } from "./_http.ts";
import { RegistryAuth } from "./_registry_auth.ts";
import type { SourceCredentials } from "./credentials.ts";
import { DiscoveryError, reasonForStatus } from "./errors.ts";
import { compileImageTemplate, type ImageTemplate } from "./image_template.ts";
import { nextLink } from "./link_header.ts";
import { compilePattern } from "./regex.ts";
import type { ScoredImage, SourceResult } from "./source.ts";
import { selectTags } from "./tag_selection.ts";
import type { TokenCache } from "./token_cache.ts";

/** What a registry query needs besides the source's settings. */
export interface RegistryContext {
  transport: HttpTransport;
  credentials: SourceCredentials;
  tokenCache: TokenCache;
  /** Sent as `n` on the first page request; unset lets the registry choose. */
  pageSize?: number;
  /** Repositories listed at the same time. */
  concurrency?: number;
}

// A registry that keeps answering with new pages is broken; stop rather than loop for ever.
const MAX_PAGES = 10_000;
const DEFAULT_CONCURRENCY = 4;
// The repository name grammar of the OCI distribution specification.
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** The parts of a registry source that do not need the network, checked before any request. */
export interface PreparedRegistry {
  base: URL;
  registryHost: string;
  filter?: RegExp;
  template: ImageTemplate;
}

/**
 * Compiles `tagFilter` and `imageTemplate` and parses the URL.
 *
 * @throws {DiscoveryError} `InvalidSpec`
 */
export function prepareRegistry(source: RegistrySource): PreparedRegistry {
  let base: URL;
  try {
    base = new URL(source.url);
  } catch (error) {
    throw new DiscoveryError("InvalidSpec", `Invalid registry url ${JSON.stringify(source.url)}`, {
      cause: error,
    });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new DiscoveryError(
      "InvalidSpec",
      `Invalid registry url ${JSON.stringify(source.url)}: expected http or https`,
    );
  }
  for (const repository of source.repositories) {
    if (!REPOSITORY.test(repository)) {
      throw new DiscoveryError(
        "InvalidSpec",
        `Invalid repository ${
          JSON.stringify(repository)
        }: expected a lower-case path such as "team/app"`,
      );
    }
  }
  // Credentials belong in the Secret; user info in the URL is neither used nor shown.
  base.username = "";
  base.password = "";
  base.search = "";
  base.hash = "";
  return {
    base,
    registryHost: base.host,
    filter: source.tagFilter === undefined || source.tagFilter === ""
      ? undefined
      : compilePattern(source.tagFilter, "tagFilter"),
    template: compileImageTemplate(source.imageTemplate),
  };
}

/** Lists, selects and templates the tags of every repository of the source. */
export async function queryRegistry(
  source: RegistrySource,
  context: RegistryContext,
): Promise<SourceResult> {
  const prepared = prepareRegistry(source);
  const auth = new RegistryAuth(context.credentials, context.tokenCache, context.transport);
  const best = new Map<string, number>();
  const warnings: string[] = [];
  await forEachLimited(
    source.repositories,
    context.concurrency ?? DEFAULT_CONCURRENCY,
    async (repository) => {
      const tags = await listTags(prepared.base, repository, auth, context);
      const ranked = selectTags(tags, { filter: prepared.filter, topX: source.topX });
      if (ranked.length === 0) {
        warnings.push(
          tags.length === 0
            ? `${repository}: the repository has no tags`
            : `${repository}: none of its ${tags.length} tags matches tagFilter`,
        );
      }
      for (const { tag, score } of ranked) {
        const image = prepared.template({ registry: prepared.registryHost, repository, tag });
        best.set(image, Math.max(score, best.get(image) ?? -Infinity));
      }
    },
  );
  const images: ScoredImage[] = [...best].map(([image, score]) => ({ image, score }));
  return { images, warnings };
}

/** Every tag of `repository`, in the order the registry lists them, across all pages. */
export async function listTags(
  base: URL,
  repository: string,
  auth: RegistryAuth,
  context: RegistryContext,
): Promise<string[]> {
  const what = `Cannot list tags of ${JSON.stringify(repository)}`;
  const basePath = base.pathname.replace(/\/+$/, "");
  let url: URL | undefined = new URL(`${basePath}/v2/${repository}/tags/list`, base);
  if (context.pageSize !== undefined) url.searchParams.set("n", String(context.pageSize));
  const tags: string[] = [];
  const seen = new Set<string>();
  for (let page = 0; url !== undefined; page++) {
    if (page >= MAX_PAGES || seen.has(url.href)) {
      throw new DiscoveryError(
        "InvalidResponse",
        `${what}: the registry keeps sending more pages (${page} so far)`,
      );
    }
    seen.add(url.href);
    const answer = await getAuthorized(url, repository, auth, context, what);
    tags.push(...parseTagList(answer, what));
    const next = nextLink(answer.headers.get("link"), url);
    if (next !== undefined && next.origin !== base.origin) {
      throw new DiscoveryError(
        "InvalidResponse",
        `${what}: the next page link points to ${next.origin}, away from the registry`,
      );
    }
    url = next;
  }
  return tags;
}

async function getAuthorized(
  url: URL,
  repository: string,
  auth: RegistryAuth,
  context: RegistryContext,
  what: string,
): Promise<HttpAnswer> {
  const send = (authorization: string | undefined) => {
    const headers = new Headers({ accept: "application/json" });
    for (const [name, value] of context.credentials.headers) headers.set(name, value);
    if (authorization !== undefined) headers.set("authorization", authorization);
    return context.transport.send(url, { headers }, what);
  };
  let sent = await auth.headerFor(repository);
  let answer = await send(sent);
  if (answer.status === 401) {
    const retry = await auth.answer401(answer.headers, repository, sent);
    if (retry !== undefined) {
      sent = retry;
      answer = await send(retry);
    }
  }
  if (answer.status >= 200 && answer.status < 300) return answer;
  throw registryFailure(answer, what, sent !== undefined);
}

function registryFailure(answer: HttpAnswer, what: string, authenticated: boolean): DiscoveryError {
  const detail = registryErrorDetail(answer.body);
  let message = `${what}: ${displayUrl(answer.url)} returned ${answer.status}`;
  const redirect = redirectHint(answer);
  if (redirect) {
    message += redirect;
  } else if (detail) {
    message += ` (${detail})`;
  }
  if (answer.status === 401 && !authenticated) {
    message += "; set credentials in the source's Secret";
  }
  return new DiscoveryError(reasonForStatus(answer.status), message, { status: answer.status });
}

/** The first error of a distribution error body, e.g. `NAME_UNKNOWN: repository name not known`. */
function registryErrorDetail(body: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(body)) as {
      errors?: { code?: unknown; message?: unknown }[];
    };
    const first = parsed.errors?.[0];
    if (first === undefined) return undefined;
    const parts = [first.code, first.message].filter((p) => typeof p === "string" && p !== "");
    return parts.length > 0 ? parts.join(": ").slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

function parseTagList(answer: HttpAnswer, what: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(answer.body));
  } catch (error) {
    throw new DiscoveryError("InvalidResponse", `${what}: the tag list is not JSON`, {
      cause: error,
    });
  }
  const tags = (body as { tags?: unknown } | null)?.tags;
  // Registries answer `"tags": null` for a repository without tags.
  if (tags === null || tags === undefined) return [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) {
    throw new DiscoveryError("InvalidResponse", `${what}: "tags" is not a list of strings`);
  }
  return tags;
}

/** Runs `task` for every item, at most `limit` at once; the first failure stops new starts. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
