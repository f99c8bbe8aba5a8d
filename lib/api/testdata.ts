/**
 * Access to the reference documentation's example manifests, for tests across the project.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";

/** Path of `shared/spec/examples.yaml`, which sits beside the repository. */
export const EXAMPLES_PATH = new URL("../../../shared/spec/examples.yaml", import.meta.url);

/** Every document of the examples file, in order. */
export async function loadSpecExamples(): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(EXAMPLES_PATH);
  return parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d !== null);
}
