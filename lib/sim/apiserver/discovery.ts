/**
 * Legacy (unaggregated) discovery documents: `/api`, `/api/v1`, `/apis`, `/apis/<g>` and
 * `/apis/<g>/<v>`. kubectl asks for aggregated discovery first and falls back to these when the
 * answer is plain `application/json`.
 *
 * @module
 */
import type { JsonObject } from "./json_util.ts";
import type { ResourceDef } from "./resource_def.ts";
import type { ResourceRegistry } from "./resource_registry.ts";

const SUBRESOURCE_VERBS: Record<string, string[]> = {
  status: ["get", "patch", "update"],
  finalize: ["update"],
};

/** A short stable hash of a string (FNV-1a, base64), as storageVersionHash and OpenAPI hashes. */
export function shortHash(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setUint32(0, h1);
  new DataView(bytes.buffer).setUint32(4, h2);
  return btoa(String.fromCharCode(...bytes));
}

function resourceEntries(def: ResourceDef): JsonObject[] {
  const main: JsonObject = {
    name: def.plural,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.verbs,
  };
  if (def.shortNames.length) main.shortNames = def.shortNames;
  if (def.categories.length) main.categories = def.categories;
  main.storageVersionHash = shortHash(def.storageKey);
  const subs = def.subresources.map((s) => ({
    name: `${def.plural}/${s}`,
    singularName: "",
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: SUBRESOURCE_VERBS[s] ?? ["get"],
  }));
  return [main, ...subs];
}

/** `/api`. */
export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** `/api/v1` or `/apis/<g>/<v>`; undefined when nothing is served there. */
export function resourceList(
  registry: ResourceRegistry,
  group: string,
  version: string,
): JsonObject | undefined {
  const defs = registry.inGroupVersion(group, version);
  if (defs.length === 0) return undefined;
  const doc: JsonObject = { kind: "APIResourceList" };
  if (group) doc.apiVersion = "v1";
  doc.groupVersion = group ? `${group}/${version}` : version;
  doc.resources = defs.flatMap(resourceEntries);
  return doc;
}

function groupEntry(registry: ResourceRegistry, group: string): JsonObject {
  const versions = registry.versions(group).map((v) => ({
    groupVersion: `${group}/${v}`,
    version: v,
  }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** `/apis`. */
export function apiGroupList(registry: ResourceRegistry): JsonObject {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: registry.groups().filter((g) => g !== "").map((g) => groupEntry(registry, g)),
  };
}

/** `/apis/<g>`; undefined for an unknown group. */
export function apiGroup(registry: ResourceRegistry, group: string): JsonObject | undefined {
  if (group === "" || !registry.groups().includes(group)) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...groupEntry(registry, group) };
}
