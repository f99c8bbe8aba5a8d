/**
 * V8 settings the operator ships with. Memory saver mode makes V8 collect garbage sooner instead
 * of growing the heap: at 5,000 nodes × 200 images the resident set stays near the live data
 * (about a third of what it is otherwise) for roughly half again as much CPU during a warm-up,
 * and no measurable CPU at idle (bench/README.md has the figures).
 *
 * `deno compile` bakes them into the binary (Dockerfile, `deno task compile`); `deno task start`
 * and `dev`, and the tests and benchmarks that start the bundle, pass them to `deno run`. A test
 * checks that all of those places say the same.
 *
 * @module
 */

/** The `--v8-flags` value of the operator. */
export const OPERATOR_V8_FLAGS = "--memory-saver-mode";

/** The `deno` flag that applies them. */
export const OPERATOR_DENO_FLAG = `--v8-flags=${OPERATOR_V8_FLAGS}`;
