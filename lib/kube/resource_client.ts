import type { Status } from "kubernetes-types/meta/v1.d.ts";
import { isGone } from "./errors.ts";
import { apiVersionOf, type ResourceRef } from "./resources.ts";
import type { RestRequest, RestTransport } from "./transport.ts";
import type {
  DeleteOptions,
  KubeObject,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from "./types.ts";
import { watchStream } from "./watch.ts";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** Options of calls that address one object. */
export interface ObjectCallOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
  /**
   * Namespace of the object, for clients not scoped to one (e.g. an all-namespaces client
   * shared by an event recorder). A scoped client rejects a different namespace.
   */
  namespace?: string;
}

/** Page size `listAll` uses when none is given (client-go's pager default). */
const DEFAULT_PAGE_SIZE = 500;

/**
 * Typed REST calls for one resource, optionally scoped to a namespace. Objects returned by
 * list and watch get `apiVersion` and `kind` filled in, which the API server omits for list items.
 */
export class ResourceClient<T extends KubeObject> {
  readonly #transport: RestTransport;
  readonly #ref: ResourceRef;
  readonly #namespace?: string;

  /** Creates a client; usually obtained from {@linkcode KubeClient.resource}. */
  constructor(transport: RestTransport, ref: ResourceRef, namespace?: string) {
    this.#transport = transport;
    this.#ref = ref;
    this.#namespace = namespace;
  }

  /** The resource this client addresses. */
  get ref(): ResourceRef {
    return this.#ref;
  }

  /** The namespace this client is scoped to, if any. */
  get namespace(): string | undefined {
    return this.#namespace;
  }

  /** The same resource scoped to `namespace` (the namespace is ignored for cluster-scoped ones). */
  inNamespace(namespace: string): ResourceClient<T> {
    return new ResourceClient<T>(this.#transport, this.#ref, namespace);
  }

  /** Reads one object. */
  async get(name: string, opts: ObjectCallOptions = {}): Promise<T> {
    return this.#fill(
      await this.#json<T>("GET", "get", this.#objectPath(name, opts.namespace), {
        signal: opts.signal,
      }),
    );
  }

  /** Lists one page of objects. */
  async list(opts: ListOptions & { signal?: AbortSignal } = {}): Promise<ObjectList<T>> {
    const query = new URLSearchParams();
    setIf(query, "labelSelector", opts.labelSelector);
    setIf(query, "fieldSelector", opts.fieldSelector);
    if (opts.limit !== undefined) query.set("limit", String(opts.limit));
    setIf(query, "continue", opts.continue);
    setIf(query, "resourceVersion", opts.resourceVersion);
    setIf(query, "resourceVersionMatch", opts.resourceVersionMatch);
    const list = await this.#json<ObjectList<T>>("GET", "list", this.#collectionPath(), {
      query,
      signal: opts.signal,
    });
    list.items ??= [];
    list.metadata ??= {};
    for (const item of list.items) this.#fill(item);
    return list;
  }

  /**
   * Lists every object, following `continue` tokens page by page. If a continue token expires
   * mid-way (410), it falls back to one unpaged list, as client-go's pager does. `transform`
   * maps each page as it arrives, so only the kept part of earlier pages stays in memory.
   */
  async listAll(
    opts: ListOptions & { signal?: AbortSignal; transform?: (obj: T) => T } = {},
  ): Promise<ObjectList<T>> {
    const limit = opts.limit ?? DEFAULT_PAGE_SIZE;
    const keep = (list: T[]) => opts.transform ? list.map((o) => opts.transform!(o)) : list;
    const items: T[] = [];
    const listOpts = {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      signal: opts.signal,
    };
    let page = await this.list({ ...listOpts, limit });
    for (const item of keep(page.items)) items.push(item);
    while (page.metadata.continue) {
      try {
        page = await this.list({ ...listOpts, limit, continue: page.metadata.continue });
      } catch (e) {
        if (!isGone(e)) throw e;
        const full = await this.list(listOpts);
        return { ...full, items: keep(full.items) };
      }
      for (const item of keep(page.items)) items.push(item);
    }
    return {
      apiVersion: page.apiVersion,
      kind: page.kind,
      metadata: { resourceVersion: page.metadata.resourceVersion },
      items,
    };
  }

  /** Creates an object; for namespaced resources the client's namespace or the object's is used. */
  async create(obj: T, opts: WriteOptions & { signal?: AbortSignal } = {}): Promise<T> {
    const ns = this.#namespaceFor(obj, "create");
    const body = { apiVersion: apiVersionOf(this.#ref), kind: this.#ref.kind, ...obj };
    return this.#fill(
      await this.#json<T>("POST", "create", this.#collectionPath(ns), {
        body: JSON.stringify(body),
        contentType: "application/json",
        query: writeQuery(opts),
        signal: opts.signal,
      }),
    );
  }

  /** Replaces an object (PUT); carries `metadata.resourceVersion` for optimistic concurrency. */
  async replace(obj: T, opts: WriteOptions & { signal?: AbortSignal } = {}): Promise<T> {
    return this.#fill(await this.#put(obj, "", opts));
  }

  /** Patches an object. `apply` patches need a field manager; `force` takes over conflicts. */
  async patch(
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions & ObjectCallOptions = {},
  ): Promise<T> {
    return this.#fill(await this.#patch(name, "", type, body, opts));
  }

  /** Deletes an object; returns what the server answered (the object while finalizers hold it, or a Status). */
  async delete(
    name: string,
    opts: DeleteOptions & ObjectCallOptions = {},
  ): Promise<T | Status> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditions) body.preconditions = opts.preconditions;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.dryRun) body.dryRun = ["All"];
    return await this.#json<T | Status>(
      "DELETE",
      "delete",
      this.#objectPath(name, opts.namespace),
      {
        body: JSON.stringify(body),
        contentType: "application/json",
        signal: opts.signal,
      },
    );
  }

  /** Reads an object through its `/status` subresource. */
  async getStatus(name: string, opts: ObjectCallOptions = {}): Promise<T> {
    return this.#fill(
      await this.#json<T>("GET", "get", this.#objectPath(name, opts.namespace, "status"), {
        signal: opts.signal,
      }),
    );
  }

  /** Replaces the status of an object through `/status`, carrying its resourceVersion. */
  async replaceStatus(obj: T, opts: WriteOptions & { signal?: AbortSignal } = {}): Promise<T> {
    return this.#fill(await this.#put(obj, "status", opts));
  }

  /** Patches the `/status` subresource. */
  async patchStatus(
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions & ObjectCallOptions = {},
  ): Promise<T> {
    return this.#fill(await this.#patch(name, "status", type, body, opts));
  }

  /**
   * Watches for changes as an async iterable. Bookmarks are requested and yielded; `ERROR`
   * events are thrown as `KubeApiError` (410 Expired among them). The iteration ends normally
   * when the server closes the stream or `signal` aborts; a silent stream is aborted by an
   * inactivity watchdog and reported as an error.
   */
  watch(opts: WatchOptions = {}): AsyncIterable<WatchEvent<T>> {
    const query = new URLSearchParams({ watch: "1", allowWatchBookmarks: "true" });
    setIf(query, "resourceVersion", opts.resourceVersion);
    setIf(query, "labelSelector", opts.labelSelector);
    setIf(query, "fieldSelector", opts.fieldSelector);
    const timeoutSeconds = opts.timeoutSeconds ?? 300 + Math.floor(Math.random() * 301);
    query.set("timeoutSeconds", String(timeoutSeconds));
    return watchStream<T>(this.#transport, {
      path: this.#collectionPath(),
      query,
      resource: this.#ref.plural,
      signal: opts.signal,
      inactivityTimeoutMs: opts.inactivityTimeoutMs ?? (timeoutSeconds + 60) * 1000,
      fill: (obj) => this.#fill(obj),
    });
  }

  async #put(obj: T, sub: string, opts: WriteOptions & { signal?: AbortSignal }): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`Cannot update a ${this.#ref.kind}: metadata.name is empty`);
    const ns = this.#namespaceFor(obj, "update");
    const body = { apiVersion: apiVersionOf(this.#ref), kind: this.#ref.kind, ...obj };
    return await this.#json<T>("PUT", "update", this.#objectPath(name, ns, sub, true), {
      body: JSON.stringify(body),
      contentType: "application/json",
      query: writeQuery(opts),
      signal: opts.signal,
    });
  }

  async #patch(
    name: string,
    sub: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions & ObjectCallOptions,
  ): Promise<T> {
    const contentType = PATCH_CONTENT_TYPES[type];
    if (!contentType) {
      throw new Error(`Cannot patch ${this.#ref.plural} "${name}": unknown patch type "${type}"`);
    }
    if (type === "apply" && !opts.fieldManager) {
      throw new Error(`Cannot apply ${this.#ref.plural} "${name}": a field manager is required`);
    }
    const query = writeQuery(opts);
    if (opts.force !== undefined && type === "apply") query.set("force", String(opts.force));
    return await this.#json<T>("PATCH", "patch", this.#objectPath(name, opts.namespace, sub), {
      body: typeof body === "string" ? body : JSON.stringify(body),
      contentType,
      query,
      signal: opts.signal,
    });
  }

  async #json<R>(
    method: RestRequest["method"],
    verb: string,
    path: string,
    extra: Partial<RestRequest>,
  ): Promise<R> {
    const res = await this.#transport.send({
      method,
      path,
      verb,
      resource: this.#ref.plural,
      ...extra,
    });
    const text = await res.text();
    if (!text) return {} as R;
    try {
      return JSON.parse(text) as R;
    } catch {
      throw new Error(`Cannot decode the answer to ${method} ${path}: it is not JSON`);
    }
  }

  #fill<O extends KubeObject>(obj: O): O {
    if (obj && typeof obj === "object") {
      obj.apiVersion ??= apiVersionOf(this.#ref);
      obj.kind ??= this.#ref.kind;
    }
    return obj;
  }

  #namespaceFor(obj: KubeObject, action: string): string | undefined {
    if (!this.#ref.namespaced) return undefined;
    const objNs = obj.metadata?.namespace;
    if (this.#namespace && objNs && objNs !== this.#namespace) {
      throw new Error(
        `Cannot ${action} ${this.#ref.plural} "${obj.metadata?.name}": its namespace "${objNs}" differs from the client's "${this.#namespace}"`,
      );
    }
    const ns = this.#namespace ?? objNs;
    if (!ns) {
      throw new Error(
        `Cannot ${action} ${this.#ref.plural} "${obj.metadata?.name ?? ""}": no namespace given`,
      );
    }
    return ns;
  }

  #collectionPath(namespace = this.#namespace): string {
    const ref = this.#ref;
    const root = ref.group === "" ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
    const ns = ref.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${root}${ns}/${ref.plural}`;
  }

  #objectPath(name: string, namespace?: string, sub = "", resolved = false): string {
    if (!name) throw new Error(`Cannot address a ${this.#ref.kind}: the name is empty`);
    let ns = namespace;
    if (!resolved && this.#ref.namespaced) {
      if (this.#namespace && namespace && namespace !== this.#namespace) {
        throw new Error(
          `Cannot address ${this.#ref.plural} "${name}" in namespace "${namespace}": the client is scoped to "${this.#namespace}"`,
        );
      }
      ns = this.#namespace ?? namespace;
    }
    if (this.#ref.namespaced && !ns) {
      throw new Error(`Cannot address ${this.#ref.plural} "${name}": no namespace given`);
    }
    const path = `${this.#collectionPath(ns)}/${encodeURIComponent(name)}`;
    return sub ? `${path}/${sub}` : path;
  }
}

function setIf(q: URLSearchParams, key: string, value: string | undefined) {
  if (value !== undefined && value !== "") q.set(key, value);
}

function writeQuery(opts: { dryRun?: boolean; fieldManager?: string }): URLSearchParams {
  const q = new URLSearchParams();
  if (opts.dryRun) q.set("dryRun", "All");
  setIf(q, "fieldManager", opts.fieldManager);
  return q;
}
