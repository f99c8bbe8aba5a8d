/**
 * `imageTemplate`: how a registry source turns a tag into an image reference. Only the three
 * actions `{{.Registry}}`, `{{.Repository}}` and `{{.Tag}}` exist (spaces inside the braces
 * allowed); the template is parsed, never executed, so nothing else can run.
 *
 * @module
 */
import { DiscoveryError } from "./errors.ts";

/** The template used when `imageTemplate` is unset or empty. */
export const DEFAULT_IMAGE_TEMPLATE = "{{.Registry}}/{{.Repository}}:{{.Tag}}";

/** The values a template can use. */
export interface TemplateValues {
  /** Registry host with port when the URL has one, without scheme, e.g. `registry.example.com:5000`. */
  registry: string;
  /** Repository path, e.g. `team/app`. */
  repository: string;
  /** Tag, e.g. `v1.2.3`. */
  tag: string;
}

/** A parsed template. */
export type ImageTemplate = (values: TemplateValues) => string;

const ACTION = /\{\{\s*\.(Registry|Repository|Tag)\s*\}\}/g;
const FIELD: Record<string, keyof TemplateValues> = {
  Registry: "registry",
  Repository: "repository",
  Tag: "tag",
};

/**
 * Parses `template` (the default when undefined or blank).
 *
 * @throws {DiscoveryError} `InvalidSpec` quoting the first unsupported part
 */
export function compileImageTemplate(template: string | undefined): ImageTemplate {
  const text = template === undefined || template.trim() === "" ? DEFAULT_IMAGE_TEMPLATE : template;
  const parts: { literal: string; field?: keyof TemplateValues }[] = [];
  let last = 0;
  for (const match of text.matchAll(ACTION)) {
    checkLiteral(text, last, match.index);
    parts.push({ literal: text.slice(last, match.index), field: FIELD[match[1]] });
    last = match.index + match[0].length;
  }
  checkLiteral(text, last, text.length);
  parts.push({ literal: text.slice(last) });
  return (values) => parts.map((p) => p.literal + (p.field ? values[p.field] : "")).join("");
}

function checkLiteral(text: string, start: number, end: number): void {
  const literal = text.slice(start, end);
  const brace = literal.search(/[{}]/);
  if (brace < 0) return;
  const from = start + brace;
  const close = text.indexOf("}}", from);
  const snippet = text.slice(from, close >= 0 ? Math.min(close + 2, from + 60) : from + 60);
  throw new DiscoveryError(
    "InvalidSpec",
    `Invalid imageTemplate ${JSON.stringify(text)}: ${
      JSON.stringify(snippet)
    } is not supported, only {{.Registry}}, {{.Repository}} and {{.Tag}} are`,
  );
}
