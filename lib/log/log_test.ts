import assert from "node:assert/strict";
import { Logger } from "./mod.ts";

Deno.test("Logger writes JSON lines with fields, filters levels and masks secrets", () => {
  const lines: string[] = [];
  const log = new Logger({ level: "info", format: "json", write: (l) => lines.push(l) })
    .with({ controller: "cachedimage" });
  log.debug("hidden");
  log.info("reconciled", { key: "alpine", token: "s3cret" });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.msg, "reconciled");
  assert.equal(entry.controller, "cachedimage");
  assert.equal(entry.key, "alpine");
  assert.equal(entry.token, "[redacted]");
  assert.ok(!lines[0].includes("s3cret"));
});

Deno.test("Logger text format is readable", () => {
  const lines: string[] = [];
  new Logger({ write: (l) => lines.push(l) }).warn("slow", { key: "a b", n: 2 });
  assert.match(lines[0], /WARN {2}slow key="a b" n=2$/);
});
