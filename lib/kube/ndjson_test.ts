import assert from "node:assert/strict";
import { LineSplitter } from "./ndjson.ts";

const enc = new TextEncoder();

Deno.test("LineSplitter joins a line split across chunks", () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(enc.encode('{"type":"ADD')), []);
  assert.deepEqual(s.push(enc.encode('ED"}\n{"a"')), ['{"type":"ADDED"}']);
  assert.deepEqual(s.push(enc.encode(":1}\n")), ['{"a":1}']);
  assert.deepEqual(s.flush(), []);
});

Deno.test("LineSplitter decodes a multi-byte character split between chunks", () => {
  const bytes = enc.encode('{"m":"héllo ☃ 🚀"}\n');
  // Cut inside every multi-byte sequence: each byte is its own chunk.
  const s = new LineSplitter();
  const lines: string[] = [];
  for (const b of bytes) lines.push(...s.push(new Uint8Array([b])));
  assert.deepEqual(lines, ['{"m":"héllo ☃ 🚀"}']);
});

Deno.test("LineSplitter returns several lines of one chunk and skips blank ones", () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(enc.encode("a\n\n\r\nb\r\nc")), ["a", "b"]);
  assert.deepEqual(s.flush(), ["c"]);
});

Deno.test("LineSplitter flush completes a trailing character without a newline", () => {
  const s = new LineSplitter();
  const bytes = enc.encode("x🚀");
  assert.deepEqual(s.push(bytes.subarray(0, 3)), []);
  assert.deepEqual(s.push(bytes.subarray(3)), []);
  assert.deepEqual(s.flush(), ["x🚀"]);
});
