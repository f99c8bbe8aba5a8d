/**
 * Querying the sources of a DiscoveryPolicy: every source independently and at the same time,
 * each with its own credentials, HTTP client and measured latency, so one failing source never
 * hides another's results.
 *
 * @module
 */
import type { DiscoveryPolicySpec, DiscoverySource } from "../api/mod.ts";
import { displayUrl, HttpTransport } from "./_http.ts";
import {
  parseCredentials,
  redact,
  type SecretData,
  secretValues,
  type SourceCredentials,
} from "./credentials.ts";
import { DiscoveryError } from "./errors.ts";
import { type MergeResult, mergeResults } from "./merge.ts";
import { prometheusRequest, queryPrometheus } from "./prometheus.ts";
import { compilePattern } from "./regex.ts";
import { prepareRegistry, queryRegistry } from "./registry.ts";
import type { SourceOutcome, SourceResult } from "./source.ts";
import { TokenCache } from "./token_cache.ts";

/** Default limit of one HTTP request. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default limit of one response body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Options of {@linkcode runSources}. */
export interface RunOptions {
  /**
   * The decoded `data` of the Secret named by `sources[index].secretRef`, or undefined when the
   * source has none. Called only for sources with a `secretRef`. A rejection fails that source
   * alone with reason `CredentialsError` (or the reason of a thrown {@linkcode DiscoveryError}).
   */
  credentialsFor?: (
    index: number,
    source: DiscoverySource,
  ) => SecretData | undefined | Promise<SecretData | undefined>;
  /** End of range queries and time of instant queries. Default: the current time. */
  now?: Date;
  /** Aborting it rejects the run with the signal's reason. */
  signal?: AbortSignal;
  /** Limit of each HTTP request, body included. Default 30 s. */
  timeoutMs?: number;
  /** Limit of each response body. Default 32 MiB. */
  maxResponseBytes?: number;
  /** Registry tokens; pass one long-lived cache to reuse tokens across runs. */
  tokenCache?: TokenCache;
  /** Page size (`n`) asked of registries; unset lets each registry choose. */
  registryPageSize?: number;
}

/** Queries every source of `spec` concurrently; one outcome per source, in spec order. */
export async function runSources(
  spec: Pick<DiscoveryPolicySpec, "sources">,
  options: RunOptions = {},
): Promise<SourceOutcome[]> {
  const tokenCache = options.tokenCache ?? new TokenCache();
  const now = options.now ?? new Date();
  const outcomes = await Promise.all(
    spec.sources.map((source, index) => runSource(source, index, now, tokenCache, options)),
  );
  options.signal?.throwIfAborted();
  return outcomes;
}

/** The stable name of a source, used in `discoveredImages[].source` and source health. */
export function sourceName(source: Pick<DiscoverySource, "type">, index: number): string {
  return `${source.type}[${index}]`;
}

/** A problem found in a spec without querying anything. */
export interface SpecProblem {
  /** The source's name, or undefined for policy-wide fields (`imageFilter`). */
  source?: string;
  error: DiscoveryError;
}

/**
 * Checks what can be checked without the network: `imageFilter`, each source's block, URL,
 * `tagFilter`, `imageTemplate` and repositories. An empty list means the spec can run.
 */
export function checkSpec(
  spec: Pick<DiscoveryPolicySpec, "sources" | "imageFilter">,
): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const record = (source: string | undefined, check: () => unknown) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof DiscoveryError)) throw error;
      problems.push({ ...(source === undefined ? {} : { source }), error });
    }
  };
  if (spec.imageFilter) record(undefined, () => compilePattern(spec.imageFilter!, "imageFilter"));
  spec.sources.forEach((source, index) => {
    record(sourceName(source, index), () => {
      const block = settingsOf(source);
      if (block.type === "prometheus") prometheusRequest(block.settings, new Date(0));
      else prepareRegistry(block.settings);
    });
  });
  return problems;
}

/** The outcome of {@linkcode discoverOnce}. */
export interface DiscoveryRun {
  outcomes: SourceOutcome[];
  merged: MergeResult;
}

/**
 * One complete discovery, as the dry-run CLI does it: checks `imageFilter`, queries all sources,
 * merges, filters and caps.
 *
 * @throws {DiscoveryError} `InvalidSpec` when `imageFilter` is invalid (before any query)
 */
export async function discoverOnce(
  spec: Pick<DiscoveryPolicySpec, "sources" | "imageFilter" | "maxImages">,
  options: RunOptions = {},
): Promise<DiscoveryRun> {
  if (spec.imageFilter) compilePattern(spec.imageFilter, "imageFilter");
  const outcomes = await runSources(spec, options);
  const merged = mergeResults(outcomes, {
    imageFilter: spec.imageFilter,
    maxImages: spec.maxImages ?? 50,
  });
  return { outcomes, merged };
}

type SourceBlock =
  | { type: "prometheus"; settings: NonNullable<DiscoverySource["prometheus"]> }
  | { type: "registry"; settings: NonNullable<DiscoverySource["registry"]> };

function settingsOf(source: DiscoverySource): SourceBlock {
  if (source.type === "prometheus" && source.prometheus && !source.registry) {
    return { type: "prometheus", settings: source.prometheus };
  }
  if (source.type === "registry" && source.registry && !source.prometheus) {
    return { type: "registry", settings: source.registry };
  }
  throw new DiscoveryError(
    "InvalidSpec",
    `Invalid source of type ${JSON.stringify(source.type)}: set exactly the ${
      JSON.stringify(source.type)
    } block`,
  );
}

function endpointOf(source: DiscoverySource): string {
  const raw = source.type === "prometheus" ? source.prometheus?.endpoint : source.registry?.url;
  if (raw === undefined) return "";
  try {
    return displayUrl(new URL(raw)).replace(/\/$/, "");
  } catch {
    return "";
  }
}

async function runSource(
  source: DiscoverySource,
  index: number,
  now: Date,
  tokenCache: TokenCache,
  options: RunOptions,
): Promise<SourceOutcome> {
  const name = sourceName(source, index);
  const base = { name, index, type: source.type, endpoint: endpointOf(source) };
  let secrets: string[] = [];
  let start = performance.now();
  try {
    const block = settingsOf(source);
    const credentials = await loadCredentials(source, index, options);
    secrets = secretValues(credentials);
    start = performance.now();
    const result = await query(block, credentials, now, tokenCache, options);
    return {
      ...base,
      healthy: true,
      images: result.images,
      warnings: result.warnings.map((w) => redact(w, secrets)),
      latencyMs: performance.now() - start,
    };
  } catch (error) {
    const latencyMs = performance.now() - start;
    if (options.signal?.aborted) throw options.signal.reason;
    return {
      ...base,
      healthy: false,
      images: [],
      error: asDiscoveryError(error, name, secrets),
      warnings: [],
      latencyMs,
    };
  }
}

async function query(
  block: SourceBlock,
  credentials: SourceCredentials,
  now: Date,
  tokenCache: TokenCache,
  options: RunOptions,
): Promise<SourceResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const transport = new HttpTransport({
    tls: credentials,
    timeoutMs,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    signal: options.signal,
  });
  try {
    if (block.type === "prometheus") {
      return await queryPrometheus(block.settings, { transport, credentials, now, timeoutMs });
    }
    return await queryRegistry(block.settings, {
      transport,
      credentials,
      tokenCache,
      pageSize: options.registryPageSize,
    });
  } finally {
    transport.close();
  }
}

async function loadCredentials(
  source: DiscoverySource,
  index: number,
  options: RunOptions,
): Promise<SourceCredentials> {
  if (source.secretRef === undefined || options.credentialsFor === undefined) {
    return parseCredentials(undefined);
  }
  let data: SecretData | undefined;
  try {
    data = await options.credentialsFor(index, source);
  } catch (error) {
    if (error instanceof DiscoveryError) throw error;
    throw new DiscoveryError(
      "CredentialsError",
      `Cannot read Secret ${JSON.stringify(source.secretRef.name)}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  return parseCredentials(data);
}

/** A credential-free DiscoveryError for anything a source threw. */
function asDiscoveryError(error: unknown, name: string, secrets: string[]): DiscoveryError {
  if (error instanceof DiscoveryError) {
    const message = redact(error.message, secrets);
    return message === error.message ? error : new DiscoveryError(error.reason, message, {
      status: error.status,
    });
  }
  // Not a failure of the backend but of this code; reported rather than hiding the other sources.
  const message = error instanceof Error ? error.message : String(error);
  return new DiscoveryError("InternalError", redact(`Cannot query ${name}: ${message}`, secrets), {
    cause: error,
  });
}
