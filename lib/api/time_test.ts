import assert from "node:assert/strict";
import { parseTime, rfc3339 } from "./time.ts";

Deno.test("parseTime reads what Date.parse reads", () => {
  const cases = [
    "2026-03-01T11:59:20Z",
    "2026-03-01T11:59:20.5Z",
    "2026-03-01T11:59:20.123Z",
    "2026-03-01T11:59:20.123456Z",
    "2026-03-01T11:59:20.123456789Z",
    "1970-01-01T00:00:00Z",
    "2024-02-29T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "2026-12-31T23:59:59.999Z",
    "2026-03-01T11:59:20+02:00",
    "2026-03-01T11:59:20.Z",
    "2026-13-01T00:00:00Z",
    "2026-03-01T24:00:00Z",
    "2026-03-01T11:60:00Z",
    "2026-03-01 11:59:20Z",
    "2026-03-01",
    "not a time at all, Z",
    "",
  ];
  for (const text of cases) {
    assert.deepEqual(parseTime(text), Date.parse(text), text);
  }
});

Deno.test("parseTime reads back toISOString and rfc3339 over several days", () => {
  const start = Date.UTC(2026, 0, 28, 0, 0, 0, 0);
  for (let t = start; t < start + 4 * 86_400_000; t += 7_919) {
    const d = new Date(t);
    assert.equal(parseTime(d.toISOString()), t);
    assert.equal(parseTime(rfc3339(d)), Math.floor(t / 1000) * 1000);
  }
});
