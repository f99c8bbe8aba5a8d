/**
 * The Prometheus source: an instant query (`/api/v1/query`) when `lookback` is unset, otherwise a
 * range query (`/api/v1/query_range`) over [now - lookback, now] at `step`, whose values are
 * summed per image. Works with any Prometheus-compatible API (Thanos, Mimir, VictoriaMetrics);
 * the endpoint's path is kept, so `https://mimir.example.com/prometheus` queries
 * `/prometheus/api/v1/query`. Queries are sent as POST forms, which have no URL length limit.
 *
 * @module
 */
import { parseDuration, type PrometheusSource } from "../api/mod.ts";
import { displayUrl, type HttpTransport, redirectHint } from "./_http.ts";
import type { SourceCredentials } from "./credentials.ts";
import { DiscoveryError, reasonForStatus } from "./errors.ts";
import { prometheusErrorDetail, scoresFromPrometheus } from "./prometheus_response.ts";
import type { SourceResult } from "./source.ts";

/** What a Prometheus query needs besides the source's settings. */
export interface PrometheusContext {
  transport: HttpTransport;
  credentials: SourceCredentials;
  /** The end of the range, or the time of the instant query. */
  now: Date;
  /** Passed to Prometheus as `timeout`, so it stops evaluating when we stop waiting. */
  timeoutMs: number;
}

/** The request a Prometheus source sends: URL and form parameters. */
export interface PrometheusRequest {
  url: URL;
  params: URLSearchParams;
}

/**
 * Builds the request for `source` at `now`; pure, so the URL and parameters can be checked
 * without a server.
 *
 * @throws {DiscoveryError} `InvalidSpec` when the endpoint or lookback is unusable
 */
export function prometheusRequest(
  source: PrometheusSource,
  now: Date,
  timeoutMs?: number,
): PrometheusRequest {
  let url: URL;
  try {
    url = new URL(source.endpoint);
  } catch (error) {
    throw new DiscoveryError(
      "InvalidSpec",
      `Invalid Prometheus endpoint ${JSON.stringify(source.endpoint)}`,
      { cause: error },
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new DiscoveryError(
      "InvalidSpec",
      `Invalid Prometheus endpoint ${JSON.stringify(source.endpoint)}: expected http or https`,
    );
  }
  // Credentials belong in the Secret; user info in the URL is neither used nor shown.
  url.username = "";
  url.password = "";
  url.hash = "";
  const basePath = url.pathname.replace(/\/+$/, "");
  const params = new URLSearchParams({ query: source.query });
  const end = now.getTime();
  if (source.lookback === undefined) {
    url.pathname = `${basePath}/api/v1/query`;
    params.set("time", seconds(end));
  } else {
    let lookbackMs: number;
    try {
      lookbackMs = parseDuration(source.lookback);
    } catch (error) {
      throw new DiscoveryError(
        "InvalidSpec",
        `Invalid lookback ${JSON.stringify(source.lookback)}`,
        {
          cause: error,
        },
      );
    }
    url.pathname = `${basePath}/api/v1/query_range`;
    params.set("start", seconds(end - lookbackMs));
    params.set("end", seconds(end));
    params.set("step", source.step ?? "5m");
  }
  if (timeoutMs !== undefined) {
    params.set("timeout", `${Math.max(1, Math.floor(timeoutMs / 1000))}s`);
  }
  return { url, params };
}

/** Runs the source's query and scores each image. */
export async function queryPrometheus(
  source: PrometheusSource,
  context: PrometheusContext,
): Promise<SourceResult> {
  const { url, params } = prometheusRequest(source, context.now, context.timeoutMs);
  const what = `Cannot query Prometheus at ${displayUrl(url)}`;
  const headers = new Headers({ accept: "application/json" });
  const creds = context.credentials;
  if (creds.token) headers.set("authorization", `Bearer ${creds.token}`);
  else if (creds.username !== undefined) {
    headers.set("authorization", `Basic ${btoa(`${creds.username}:${creds.password ?? ""}`)}`);
  }
  for (const [name, value] of creds.headers) headers.set(name, value);

  const answer = await context.transport.send(url, { method: "POST", headers, body: params }, what);
  let body: unknown;
  let parseError: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(answer.body));
  } catch (error) {
    parseError = error;
  }
  if (answer.status < 200 || answer.status >= 300) {
    const detail = prometheusErrorDetail(body);
    // 400 and 422 with an error body mean Prometheus understood the request and rejected the query.
    const rejected = detail !== undefined && (answer.status === 400 || answer.status === 422);
    const reason = rejected ? "InvalidResponse" : reasonForStatus(answer.status);
    const why = detail !== undefined
      ? `Prometheus answered ${answer.status} (${detail})`
      : `${displayUrl(url)} returned ${answer.status}${redirectHint(answer)}`;
    throw new DiscoveryError(reason, `${what}: ${why}`, { status: answer.status });
  }
  if (parseError !== undefined) {
    throw new DiscoveryError("InvalidResponse", `${what}: the answer is not JSON`, {
      cause: parseError,
    });
  }
  let parsed;
  try {
    parsed = scoresFromPrometheus(body);
  } catch (error) {
    if (error instanceof DiscoveryError) {
      throw new DiscoveryError(error.reason, `${what}: ${error.message}`);
    }
    throw error;
  }
  const warnings: string[] = [];
  if (parsed.unlabelled > 0) {
    warnings.push(`${parsed.unlabelled} series without an "image" label were skipped`);
  }
  if (parsed.nonFinite > 0) {
    warnings.push(`${parsed.nonFinite} NaN or infinite values were skipped`);
  }
  const images = [...parsed.scores].map(([image, score]) => ({ image, score }));
  return { images, warnings };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
