import assert from "node:assert/strict";
import { mergeResults, roundScore } from "./merge.ts";
import { DiscoveryError } from "./errors.ts";
import type { ScoredImage, SourceOutcome } from "./source.ts";

function outcome(index: number, images: ScoredImage[], healthy = true): SourceOutcome {
  const type = index === 0 ? "prometheus" : "registry";
  return {
    name: `${type}[${index}]`,
    index,
    type,
    endpoint: "http://x",
    healthy,
    images,
    warnings: [],
    latencyMs: 1,
    ...(healthy ? {} : { error: new DiscoveryError("Timeout", "Cannot query: timed out") }),
  };
}

Deno.test("keeps the highest score per image across sources, by canonical reference", () => {
  const merged = mergeResults([
    outcome(0, [{ image: "nginx", score: 5 }, { image: "r.example/a:1", score: 10 }]),
    outcome(1, [{ image: "docker.io/library/nginx:latest", score: 7 }, {
      image: "r.example/a:1",
      score: 3,
    }]),
  ], { maxImages: 10 });
  assert.deepEqual(merged.images, [
    { image: "r.example/a:1", score: 10, source: "prometheus[0]" },
    { image: "docker.io/library/nginx:latest", score: 7, source: "registry[1]" },
  ]);
  assert.equal(merged.candidates, 2);
});

Deno.test("a tie keeps the earlier source's reference as reported", () => {
  const merged = mergeResults([
    outcome(1, [{ image: "docker.io/library/nginx:latest", score: 4 }]),
    outcome(0, [{ image: "nginx", score: 4 }]),
  ], { maxImages: 10 });
  assert.deepEqual(merged.images, [{ image: "nginx", score: 4, source: "prometheus[0]" }]);
});

Deno.test("sorts by score then image name, rounds scores and caps at maxImages", () => {
  const merged = mergeResults([
    outcome(0, [
      { image: "r/b:1", score: 2.4 },
      { image: "r/a:1", score: 1.6 },
      { image: "r/c:1", score: 9.5 },
      { image: "r/d:1", score: 0.2 },
    ]),
  ], { maxImages: 3 });
  assert.deepEqual(merged.images.map((i) => [i.image, i.score]), [
    ["r/c:1", 10],
    ["r/a:1", 2],
    ["r/b:1", 2],
  ]);
  assert.equal(merged.candidates, 4);
});

Deno.test("imageFilter keeps only matching references and counts what it removed", () => {
  const merged = mergeResults([
    outcome(0, [
      { image: "registry.example.com/team/a:1", score: 1 },
      { image: "123.dkr.ecr.eu-west-1.amazonaws.com/x:1", score: 9 },
    ]),
  ], { maxImages: 10, imageFilter: "^(?!.*ecr\\..*amazonaws\\.com).*$" });
  assert.deepEqual(merged.images.map((i) => i.image), ["registry.example.com/team/a:1"]);
  assert.equal(merged.filteredOut, 1);
});

Deno.test("an invalid imageFilter is thrown as InvalidSpec, never swallowed", () => {
  assert.throws(
    () =>
      mergeResults([outcome(0, [{ image: "a", score: 1 }])], { maxImages: 1, imageFilter: "(" }),
    (e) => e instanceof DiscoveryError && e.reason === "InvalidSpec",
  );
});

Deno.test("unhealthy outcomes contribute nothing; unparseable references are compared as written", () => {
  const merged = mergeResults([
    outcome(0, [{ image: "", score: 3 }, { image: "@", score: 2 }]),
    outcome(1, [{ image: "r/a:1", score: 100 }], false),
  ], { maxImages: 10 });
  assert.deepEqual(merged.images.map((i) => i.image), ["", "@"]);
});

Deno.test("roundScore rounds and stays within exact JSON integers", () => {
  assert.equal(roundScore(2.5), 3);
  assert.equal(roundScore(-2.4), -2);
  assert.equal(roundScore(1e300), Number.MAX_SAFE_INTEGER);
});
