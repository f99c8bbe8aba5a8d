/**
 * The HTTP face of the server: authentication, routing, counting, fault injection, content
 * negotiation (JSON objects, Tables, PartialObjectMetadata) and the mapping of each verb to
 * the API logic, with `Status` bodies for every failure.
 *
 * @module
 */
import {
  type ApiCore,
  decodeBody,
  type DeleteOptions,
  type PatchType,
  type WriteOptions,
} from "./api_core.ts";
import type { RequestCounters } from "./counters.ts";
import { apiGroup, apiGroupList, apiVersions, resourceList } from "./discovery.ts";
import type { Rec } from "./event_log.ts";
import { decideFaults } from "./faults.ts";
import { isObject, type JsonObject } from "./json_util.ts";
import type { OpenApiCache } from "./openapi.ts";
import type { FaultOptions } from "./options.ts";
import { apiVersionOf, type ResourceDef, resourceLabel } from "./resource_def.ts";
import { decodeProtobufObject, PROTOBUF } from "./protobuf.ts";
import { parseRoute } from "./route.ts";
import {
  ApiError,
  badRequest,
  internalError,
  methodNotAllowed,
  pathNotFound,
  success,
  unauthorized,
  unsupportedMediaType,
} from "./status.ts";
import { type IncludeObject, renderTable } from "./table.ts";
import type { WatchFormat, WatchManager } from "./watch.ts";

/** Everything the handler needs from the server. */
export interface HandlerDeps {
  core: ApiCore;
  watches: WatchManager;
  counters: RequestCounters;
  openapi: OpenApiCache;
  faults: FaultOptions;
  tokens: Map<string, string>;
  requireAuth: boolean;
  serverAddress(): string;
}

/** What the handler knows of a request beyond the `Request` itself. */
export interface RequestContext {
  /**
   * Aborts when the client goes away, which ends a watch. In-process callers pass their
   * request's signal; `Deno.serve` cancels the response body instead.
   */
  signal?: AbortSignal;
  /** The client runs on this event loop: watch events reach it in a later turn, as over a socket. */
  inProcess?: boolean;
}

/**
 * What the handler reads of a request. A `Request` is one; in-process callers can pass a lighter
 * object (`url` is then only parsed here).
 */
export interface ApiRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Answers one request. */
export type Handler = (req: ApiRequest, ctx?: RequestContext) => Promise<Response>;

type OutputKind = "object" | "table" | "partial";

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-cache, private" };

function jsonText(text: string, status = 200, extra?: Headers): Response {
  const headers = new Headers(JSON_HEADERS);
  if (extra) { for (const [k, v] of extra) headers.append(k, v); }
  return new Response(text, { status, headers });
}

function errorResponse(e: ApiError): Response {
  const headers = new Headers(JSON_HEADERS);
  for (const [k, v] of Object.entries(e.headers)) headers.set(k, v);
  return new Response(JSON.stringify(e.status), { status: e.status.code, headers });
}

/** The representation the client asked for in `Accept`. */
export function negotiate(accept: string | null): OutputKind {
  if (!accept) return "object";
  for (const part of accept.split(",")) {
    const params = part.split(";").map((s) => s.trim());
    const as = params.find((p) => p.startsWith("as="))?.slice(3);
    if (as === "Table") return "table";
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return "partial";
    if (
      !as && (params[0] === "application/json" || params[0] === "*/*" || params[0].includes("yaml"))
    ) {
      return "object";
    }
  }
  return "object";
}

function flag(v: string | null): boolean {
  return v === "true" || v === "1";
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid ${name} parameter: ${JSON.stringify(v)}`);
  return Number(v);
}

function dryRun(q: URLSearchParams): boolean {
  const v = q.getAll("dryRun");
  for (const d of v) if (d !== "All") throw badRequest(`Invalid dry run value: ${d}`);
  return v.includes("All");
}

function patchType(contentType: string): PatchType {
  const ct = contentType.split(";")[0].trim();
  switch (ct) {
    case "application/json-patch+json":
      return "json";
    case "application/merge-patch+json":
      return "merge";
    case "application/strategic-merge-patch+json":
      return "strategic";
    case "application/apply-patch+yaml":
      return "apply";
  }
  throw unsupportedMediaType(
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
  );
}

function bodyContentType(req: ApiRequest): string {
  const ct = req.headers.get("content-type") ?? "application/json";
  if (ct.includes("cbor") || (ct.includes("protobuf") && !ct.startsWith(PROTOBUF))) {
    throw unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${PROTOBUF}`,
    );
  }
  return ct;
}

/** Decodes a create or update body: JSON, YAML, or Kubernetes protobuf for a few core kinds. */
async function readObject(req: ApiRequest): Promise<unknown> {
  const ct = bodyContentType(req);
  if (ct.startsWith(PROTOBUF)) return decodeProtobufObject(new Uint8Array(await req.arrayBuffer()));
  return decodeBody(await req.text(), ct);
}

function viewJson(def: ResourceDef, rec: { obj: JsonObject; json: string }): string {
  return def.toView ? JSON.stringify(def.toView(rec.obj)) : rec.json;
}

function partial(def: ResourceDef, obj: JsonObject): JsonObject {
  const view = def.toView ? def.toView(obj) : obj;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: view.metadata };
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get("includeObject");
  return v === "None" || v === "Object" ? v : "Metadata";
}

function warningHeaders(warnings: string[]): Headers | undefined {
  if (warnings.length === 0) return undefined;
  const h = new Headers();
  for (const w of warnings) h.append("warning", `299 - ${JSON.stringify(w)}`);
  return h;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Builds the request handler. */
export function createHandler(deps: HandlerDeps): Handler {
  const { core, counters } = deps;

  function authenticate(req: ApiRequest): string {
    const header = req.headers.get("authorization");
    if (!header) {
      if (deps.requireAuth) throw unauthorized();
      return "system:anonymous";
    }
    const m = header.match(/^Bearer\s+(.+)$/i);
    const user = m ? deps.tokens.get(m[1].trim()) : undefined;
    if (!user) throw unauthorized();
    return user;
  }

  function single(
    def: ResourceDef,
    rec: { obj: JsonObject; json: string },
    out: OutputKind,
    q: URLSearchParams,
    status = 200,
    warnings: string[] = [],
  ): Response {
    if (out === "table") {
      const t = renderTable(def, [rec.obj], {
        includeObject: includeObject(q),
        includeColumns: true,
        resourceVersion: String((rec.obj.metadata as JsonObject)?.resourceVersion ?? ""),
      });
      return jsonText(JSON.stringify(t), status, warningHeaders(warnings));
    }
    if (out === "partial") {
      return jsonText(JSON.stringify(partial(def, rec.obj)), status, warningHeaders(warnings));
    }
    return jsonText(viewJson(def, rec), status, warningHeaders(warnings));
  }

  function listResponse(
    def: ResourceDef,
    items: Rec[],
    meta: JsonObject,
    out: OutputKind,
    q: URLSearchParams,
  ): Response {
    if (out === "table") {
      const t = renderTable(def, items.map((r) => r.obj), {
        includeObject: includeObject(q),
        includeColumns: q.get("noHeaders") !== "true",
        resourceVersion: meta.resourceVersion as string,
        continue: meta.continue as string | undefined,
        remainingItemCount: meta.remainingItemCount as number | undefined,
      });
      return jsonText(JSON.stringify(t));
    }
    if (out === "partial") {
      const body = {
        kind: "PartialObjectMetadataList",
        apiVersion: "meta.k8s.io/v1",
        metadata: meta,
        items: items.map((r) => partial(def, r.obj)),
      };
      return jsonText(JSON.stringify(body));
    }
    const head = `{"kind":"${def.listKind}","apiVersion":"${apiVersionOf(def)}","metadata":${
      JSON.stringify(meta)
    },"items":[`;
    const parts: string[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) parts[i] = viewJson(def, items[i]);
    return jsonText(head + parts.join(",") + "]}");
  }

  function writeOptions(q: URLSearchParams): WriteOptions {
    return {
      dryRun: dryRun(q),
      fieldValidation: q.get("fieldValidation"),
      fieldManager: q.get("fieldManager"),
      force: flag(q.get("force")),
    };
  }

  async function deleteOptions(req: ApiRequest, q: URLSearchParams): Promise<DeleteOptions> {
    const ct = bodyContentType(req);
    // Typed clients may send DeleteOptions as protobuf; their options also come as query params.
    const text = ct.startsWith(PROTOBUF) ? "" : await req.text();
    const opts: DeleteOptions = {};
    if (text.trim() !== "") {
      const body = decodeBody(text, ct);
      if (isObject(body)) {
        if (typeof body.propagationPolicy === "string") {
          opts.propagationPolicy = body.propagationPolicy;
        }
        if (typeof body.gracePeriodSeconds === "number") {
          opts.gracePeriodSeconds = body.gracePeriodSeconds;
        }
        if (body.orphanDependents === true) opts.propagationPolicy ??= "Orphan";
        if (isObject(body.preconditions)) {
          opts.preconditions = body.preconditions as DeleteOptions["preconditions"];
        }
        if (Array.isArray(body.dryRun) && body.dryRun.includes("All")) opts.dryRun = true;
      }
    }
    if (q.get("propagationPolicy")) opts.propagationPolicy = q.get("propagationPolicy");
    if (q.get("orphanDependents") === "true") opts.propagationPolicy ??= "Orphan";
    const grace = intParam(q, "gracePeriodSeconds");
    if (grace !== undefined) opts.gracePeriodSeconds = grace;
    if (dryRun(q)) opts.dryRun = true;
    return opts;
  }

  async function handleResource(
    req: ApiRequest,
    url: URL,
    user: string,
    ctx: RequestContext | undefined,
  ): Promise<Response> {
    const route = parseRoute(url.pathname, core.registry);
    if (route.t === "api") return jsonText(JSON.stringify(apiVersions(deps.serverAddress())));
    if (route.t === "apis") return jsonText(JSON.stringify(apiGroupList(core.registry)));
    if (route.t === "group") {
      const doc = apiGroup(core.registry, route.group);
      if (!doc) throw pathNotFound();
      return jsonText(JSON.stringify(doc));
    }
    if (route.t === "groupVersion") {
      const doc = resourceList(core.registry, route.group, route.version);
      if (!doc) throw pathNotFound();
      return jsonText(JSON.stringify(doc));
    }
    const { def, namespace, name, subresource } = route;
    const q = url.searchParams;
    if (def.namespaced && name !== undefined && namespace === "") throw pathNotFound();
    const watch = route.legacyWatch || flag(q.get("watch"));
    let verb: string;
    switch (req.method) {
      case "GET":
        verb = watch ? "watch" : name === undefined ? "list" : "get";
        break;
      case "POST":
        verb = "create";
        break;
      case "PUT":
        verb = "update";
        break;
      case "PATCH":
        verb = "patch";
        break;
      case "DELETE":
        verb = name === undefined ? "deletecollection" : "delete";
        break;
      default:
        verb = req.method.toLowerCase();
    }
    const label = resourceLabel(def, subresource);
    counters.count(verb, label, user);
    const decision = decideFaults(deps.faults, verb, label, {
      group: def.group,
      plural: def.plural,
      name: name ?? "",
    });
    if (decision.latencyMs > 0) await sleep(decision.latencyMs);
    if (decision.error) throw decision.error;
    const out = negotiate(req.headers.get("accept"));
    const allowed = (v: string) => def.verbs.includes(v);

    if (verb === "watch") {
      if (subresource) throw methodNotAllowed();
      let fieldSelector = q.get("fieldSelector");
      if (name !== undefined) {
        fieldSelector = fieldSelector
          ? `${fieldSelector},metadata.name=${name}`
          : `metadata.name=${name}`;
      }
      const format: WatchFormat = out === "table"
        ? {
          kind: "table",
          render: (objs, cols) =>
            renderTable(def, objs, { includeObject: includeObject(q), includeColumns: cols }),
        }
        : out === "partial"
        ? { kind: "partial" }
        : { kind: "object" };
      const body = deps.watches.start({
        def,
        namespace,
        labelSelector: q.get("labelSelector"),
        fieldSelector,
        resourceVersion: q.get("resourceVersion"),
        allowBookmarks: flag(q.get("allowWatchBookmarks")),
        sendInitialEvents: flag(q.get("sendInitialEvents")),
        timeoutSeconds: intParam(q, "timeoutSeconds"),
        format,
        gone: decision.watchGone,
        stall: decision.watchStall,
        closeAfterMs: decision.closeWatchAfterMs,
        signal: ctx?.signal,
        deliverLater: ctx?.inProcess,
      });
      return new Response(body, { status: 200, headers: JSON_HEADERS });
    }
    switch (verb) {
      case "get": {
        const rec = core.get(def, namespace, name!);
        return single(def, rec, out, q);
      }
      case "list": {
        if (!allowed("list")) throw methodNotAllowed();
        const page = core.list(def, namespace, {
          labelSelector: q.get("labelSelector"),
          fieldSelector: q.get("fieldSelector"),
          limit: intParam(q, "limit"),
          continue: q.get("continue"),
          resourceVersion: q.get("resourceVersion"),
          resourceVersionMatch: q.get("resourceVersionMatch"),
        });
        const meta: JsonObject = { resourceVersion: String(page.resourceVersion) };
        if (page.continue) meta.continue = page.continue;
        if (page.remainingItemCount !== undefined) {
          meta.remainingItemCount = page.remainingItemCount;
        }
        return listResponse(def, page.items, meta, out, q);
      }
      case "create": {
        if (name !== undefined || subresource) throw methodNotAllowed();
        if (def.namespaced && namespace === "") throw methodNotAllowed();
        const body = await readObject(req);
        const r = core.create(def, namespace, body, writeOptions(q));
        return single(def, r, out, q, 201, r.warnings);
      }
      case "update": {
        if (name === undefined) throw methodNotAllowed();
        const body = await readObject(req);
        const r = core.update(def, namespace, name, body, writeOptions(q), subresource);
        return single(def, r, out, q, r.created ? 201 : 200, r.warnings);
      }
      case "patch": {
        if (name === undefined) throw methodNotAllowed();
        const type = patchType(req.headers.get("content-type") ?? "");
        const r = core.patch(
          def,
          namespace,
          name,
          type,
          await req.text(),
          writeOptions(q),
          subresource,
        );
        return single(def, r, out, q, r.created ? 201 : 200, r.warnings);
      }
      case "delete": {
        if (subresource) throw methodNotAllowed();
        const r = core.delete(def, namespace, name!, await deleteOptions(req, q));
        if (r.deleted && !def.returnDeletedObject) {
          const uid = String((r.obj.metadata as JsonObject)?.uid ?? "");
          return jsonText(
            JSON.stringify(success({ group: def.group, plural: def.plural }, name!, uid)),
          );
        }
        return single(def, r, out, q);
      }
      case "deletecollection": {
        if (!allowed("deletecollection") || subresource) throw methodNotAllowed();
        const opts = await deleteOptions(req, q);
        const items = core.deleteCollection(def, namespace, {
          labelSelector: q.get("labelSelector"),
          fieldSelector: q.get("fieldSelector"),
        }, opts);
        return listResponse(def, items, { resourceVersion: String(core.store.rv) }, out, q);
      }
    }
    throw methodNotAllowed();
  }

  async function simEndpoint(req: ApiRequest, path: string): Promise<Response> {
    if (path === "/sim/counters") {
      if (req.method === "DELETE") counters.reset();
      return jsonText(JSON.stringify(counters.snapshot()));
    }
    if (path === "/sim/faults") {
      if (req.method === "PUT") {
        const body = decodeBody(await req.text(), "application/json");
        if (!isObject(body)) throw badRequest("faults must be a JSON object");
        for (const k of Object.keys(deps.faults)) delete (deps.faults as JsonObject)[k];
        Object.assign(deps.faults, body);
      }
      return jsonText(JSON.stringify(deps.faults));
    }
    throw pathNotFound();
  }

  return async (req: ApiRequest, ctx?: RequestContext): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    try {
      let response: Response;
      if (path === "/healthz" || path === "/livez" || path === "/readyz") {
        response = new Response("ok", { headers: { "content-type": "text/plain; charset=utf-8" } });
      } else {
        const user = authenticate(req);
        if (path === "/version") {
          response = jsonText(JSON.stringify({
            major: "1",
            minor: "32",
            gitVersion: "v1.32.0-drop-sim",
            gitCommit: "0000000000000000000000000000000000000000",
            gitTreeState: "clean",
            buildDate: "2025-01-01T00:00:00Z",
            goVersion: "go1.23.0",
            compiler: "gc",
            platform: "linux/amd64",
          }));
        } else if (path === "/openapi/v3") {
          response = jsonText(deps.openapi.root());
        } else if (path.startsWith("/openapi/v3/")) {
          const doc = deps.openapi.document(path.slice("/openapi/v3/".length));
          if (!doc) throw pathNotFound();
          response = jsonText(doc);
        } else if (path.startsWith("/sim/")) {
          response = await simEndpoint(req, path);
        } else if (
          path.startsWith("/api/") || path === "/api" || path.startsWith("/apis/") ||
          path === "/apis"
        ) {
          response = await handleResource(req, url, user, ctx);
        } else {
          throw pathNotFound();
        }
      }
      counters.code(response.status);
      return response;
    } catch (e) {
      const err = e instanceof ApiError
        ? e
        : internalError(e instanceof Error ? e.message : String(e));
      if (!(e instanceof ApiError)) {
        console.error("Simulated API server failed to handle a request:", e);
      }
      counters.code(err.code);
      return errorResponse(err);
    }
  };
}
