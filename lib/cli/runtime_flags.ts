/**
 * V8 settings the operator ships with. Memory saver mode makes V8 collect garbage sooner instead
 * of growing the heap: at 5,000 nodes × 200 images the resident set stays near the live data
 * (about a third of what it is otherwise) for roughly half again as much CPU during a warm-up,
 * and no measurable CPU at idle (bench/README.md has the figures).
 *
 * A semi-space of at most 2 MiB keeps the young generation small: a warm-up allocates tens of MB
 * per second that die young, and with the default semi-space size (new space up to 8 MiB here)
 * the peak rose above 150 MiB.
 * At most 1 MB evacuated per memory-saving mark-compact keeps those collections' pauses short:
 * the default moved more and paused the main thread for up to about 25 ms, which was most of the
 * reconciles over 5 ms. Footprint `--quick`, same commit, one run each: reconcile p99 4.1-4.7 ms
 * (3 runs) instead of 5.5-7.2, peak RSS 133-138 MiB instead of 134-143, warm-up CPU 0.47-0.52
 * instead of 0.52-0.58 cores. Turning memory saver off instead gave p99 2.5-4.5 ms but idle RSS
 * near 128 MiB and peaks of 150-161 MiB. Footprint `--quick`, 3 runs each, same commit, back to back: peak
 * RSS 142 MiB (136-143) instead of 148 MiB (140-156), warm-up median 122 instead of 121 MiB, idle
 * median 98 instead of 97 MiB, warm-up CPU 0.56 instead of 0.58 cores. A 1 MiB semi-space gave
 * 139 MiB (135-142) but fewer pulls in the window (2,127 instead of 2,818) and slower reconciles;
 * larger young generations (`--min-semi-space-size=4..16`) and `--heap-growing-percent=10` raised
 * the peak. Only the young generation is bounded: the old generation grows with the cluster.
 *
 * `deno compile` bakes them into the binary (Dockerfile, `deno task compile`); `deno task start`
 * and `dev`, and the tests and benchmarks that start the bundle, pass them to `deno run`. A test
 * checks that all of those places say the same.
 *
 * Outside V8, glibc's allocator keeps up to eight arenas per core for the runtime's threads, and
 * memory freed into them mostly stays with the process: in a long warm-up (5,000 nodes × 20 images, the
 * first 300 s, one run each) the resident set sat at 146-155 MiB (mean 152) with a V8 heap of only
 * about 23 MiB live. With `MALLOC_ARENA_MAX=2` it sat at 136-143 MiB (mean 140), at the same CPU.
 * The Dockerfile sets it in the image, the tasks and the operator process of the tests and
 * benchmarks in the environment.
 *
 * @module
 */

/** The `--v8-flags` value of the operator. */
export const OPERATOR_V8_FLAGS =
  "--memory-saver-mode,--max-semi-space-size=2,--compaction-max-evacuated-bytes-mb-for-optimize-memory=1";

/** The `deno` flag that applies them. */
export const OPERATOR_DENO_FLAG = `--v8-flags=${OPERATOR_V8_FLAGS}`;

/** Environment of the operator process: glibc's allocator arenas (see the module notes). */
export const OPERATOR_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_ARENA_MAX: "2",
});
