/**
 * Maps request paths to what they address: discovery documents or a resource (with namespace,
 * name and subresource), including the legacy `/watch/` prefix.
 *
 * @module
 */
import type { ResourceDef } from "./resource_def.ts";
import type { ResourceRegistry } from "./resource_registry.ts";
import { pathNotFound } from "./status.ts";

/** What a path addresses. */
export type Route =
  | { t: "api" }
  | { t: "apis" }
  | { t: "group"; group: string }
  | { t: "groupVersion"; group: string; version: string }
  | {
    t: "resource";
    def: ResourceDef;
    namespace: string;
    name?: string;
    subresource?: string;
    legacyWatch: boolean;
  };

/** Parses an `/api/...` or `/apis/...` path; throws 404 for paths naming nothing served. */
export function parseRoute(pathname: string, registry: ResourceRegistry): Route {
  const segs = pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (segs[0] === "api") {
    if (segs.length === 1) return { t: "api" };
    group = "";
    rest = segs.slice(1);
  } else if (segs[0] === "apis") {
    if (segs.length === 1) return { t: "apis" };
    group = segs[1];
    if (segs.length === 2) return { t: "group", group };
    rest = segs.slice(2);
  } else {
    throw pathNotFound();
  }
  const version = rest[0];
  rest = rest.slice(1);
  if (rest.length === 0) return { t: "groupVersion", group, version };
  let legacyWatch = false;
  if (rest[0] === "watch") {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace = "";
  let plural: string;
  let name: string | undefined;
  let subresource: string | undefined;
  if (
    rest[0] === "namespaces" && rest.length >= 3 &&
    registry.get(group, version, rest[2])?.namespaced
  ) {
    namespace = rest[1];
    [plural, name, subresource] = [rest[2], rest[3], rest[4]];
    if (rest.length > 5) throw pathNotFound();
  } else {
    [plural, name, subresource] = [rest[0], rest[1], rest[2]];
    if (rest.length > 3) throw pathNotFound();
  }
  const def = registry.get(group, version, plural);
  if (!def) throw pathNotFound();
  if (subresource !== undefined && !def.subresources.includes(subresource)) throw pathNotFound();
  if (name === "") throw pathNotFound();
  return { t: "resource", def, namespace, name, subresource, legacyWatch };
}
