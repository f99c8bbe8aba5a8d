import assert from "node:assert/strict";
import { mergeTolerations } from "./tolerations.ts";

Deno.test("mergeTolerations concatenates and drops equivalent duplicates", () => {
  const own = [
    { key: "build", operator: "Exists" as const, effect: "NoSchedule" as const },
    { key: "dedicated", value: "ci" },
  ];
  const policy = [
    { key: "build", operator: "Exists" as const, effect: "NoSchedule" as const },
    { key: "dedicated", operator: "Equal" as const, value: "ci", effect: "" as const },
    { key: "gpu", operator: "Exists" as const },
  ];
  assert.deepEqual(mergeTolerations(own, policy), [
    { key: "build", operator: "Exists", effect: "NoSchedule" },
    { key: "dedicated", value: "ci" },
    { key: "gpu", operator: "Exists" },
  ]);
});

Deno.test("mergeTolerations keeps tolerations that differ in tolerationSeconds", () => {
  const a = { key: "k", operator: "Exists" as const, effect: "NoExecute" as const };
  const out = mergeTolerations([a], [{ ...a, tolerationSeconds: 30 }], undefined);
  assert.equal(out.length, 2);
});

Deno.test("mergeTolerations returns copies", () => {
  const input = [{ key: "k", operator: "Exists" as const }];
  const out = mergeTolerations(input);
  out[0].key = "changed";
  assert.equal(input[0].key, "k");
});
