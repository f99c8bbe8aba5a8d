import assert from "node:assert/strict";
import { prometheusErrorDetail, scoresFromPrometheus } from "./prometheus_response.ts";
import { DiscoveryError } from "./errors.ts";

Deno.test("an instant vector gives each image its value, summed over series sharing the image", () => {
  const parsed = scoresFromPrometheus({
    status: "success",
    data: {
      resultType: "vector",
      result: [
        { metric: { image: "r/a:1", pod: "p1" }, value: [1700000000, "3"] },
        { metric: { image: "r/a:1", pod: "p2" }, value: [1700000000, "2.5"] },
        { metric: { image: "r/b:1" }, value: [1700000000, "1e3"] },
        { metric: { pod: "no-image" }, value: [1700000000, "9"] },
        { metric: { image: "" }, value: [1700000000, "9"] },
        { metric: { image: "r/nan:1" }, value: [1700000000, "NaN"] },
        { metric: { image: "r/inf:1" }, value: [1700000000, "+Inf"] },
      ],
    },
  });
  assert.deepEqual([...parsed.scores], [["r/a:1", 5.5], ["r/b:1", 1000]]);
  assert.equal(parsed.unlabelled, 2);
  assert.equal(parsed.nonFinite, 2);
});

Deno.test("a matrix sums each series' values and the series of one image", () => {
  const parsed = scoresFromPrometheus({
    status: "success",
    data: {
      resultType: "matrix",
      result: [
        { metric: { image: "r/a:1" }, values: [[1, "1"], [2, "2"], [3, "-Inf"]] },
        { metric: { image: "r/a:1" }, values: [[1, "4"]] },
        { metric: { image: "r/b:1" }, values: [[1, "NaN"]] },
      ],
    },
  });
  assert.deepEqual([...parsed.scores], [["r/a:1", 7]]);
});

Deno.test("errors, scalars and broken bodies are InvalidResponse", () => {
  const bodies = [
    { status: "error", errorType: "bad_data", error: "parse error" },
    { status: "success", data: { resultType: "scalar", result: [1, "2"] } },
    { status: "success", data: { resultType: "vector" } },
    { status: "success", data: { resultType: "matrix", result: [{ metric: { image: "a" } }] } },
    null,
    "text",
  ];
  for (const body of bodies) {
    assert.throws(
      () => scoresFromPrometheus(body),
      (e) => e instanceof DiscoveryError && e.reason === "InvalidResponse",
      JSON.stringify(body),
    );
  }
});

Deno.test("prometheusErrorDetail reads error bodies only", () => {
  assert.equal(
    prometheusErrorDetail({ status: "error", errorType: "bad_data", error: "1:5: parse error" }),
    "bad_data: 1:5: parse error",
  );
  assert.equal(prometheusErrorDetail({ status: "success" }), undefined);
  assert.equal(prometheusErrorDetail(undefined), undefined);
});
