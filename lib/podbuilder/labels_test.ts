import assert from "node:assert/strict";
import { cachedImageSelector, PULL_POD_SELECTOR } from "./labels.ts";
import { labelValue } from "./names.ts";

Deno.test("cachedImageSelector selects one CachedImage's pull pods by its label value", () => {
  assert.equal(PULL_POD_SELECTOR, "app.kubernetes.io/managed-by=drop");
  assert.equal(
    cachedImageSelector("nginx"),
    "app.kubernetes.io/managed-by=drop,drop.corewire.io/cachedimage=nginx",
  );
  const long = "n".repeat(100);
  assert.ok(cachedImageSelector(long).endsWith(`=${labelValue(long)}`));
});
