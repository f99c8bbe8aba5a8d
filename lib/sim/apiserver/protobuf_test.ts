import assert from "node:assert/strict";
import { decodeProtobufObject } from "./protobuf.ts";
import { ApiError } from "./status.ts";

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function field(num: number, bytes: Uint8Array | number[]): number[] {
  const b = [...bytes];
  return [...varint((num << 3) | 2), ...varint(b.length), ...b];
}

function str(num: number, s: string): number[] {
  return field(num, new TextEncoder().encode(s));
}

function envelope(apiVersion: string, kind: string, raw: number[]): Uint8Array {
  const typeMeta = [...str(1, apiVersion), ...str(2, kind)];
  return new Uint8Array([
    0x6b,
    0x38,
    0x73,
    0x00,
    ...field(1, typeMeta),
    ...field(2, raw),
    ...str(3, ""),
    ...str(4, ""),
  ]);
}

Deno.test("protobuf Secret decodes to its JSON form", () => {
  const meta = [
    ...str(1, "s"),
    ...str(2, ""),
    ...str(3, "ns"),
    ...field(8, []),
    ...field(11, [...str(1, "app"), ...str(2, "x")]),
  ];
  const raw = [
    ...field(1, meta),
    ...field(2, [...str(1, "token"), ...field(2, [0xde, 0xad])]),
    ...str(3, "Opaque"),
  ];
  assert.deepEqual(decodeProtobufObject(envelope("v1", "Secret", raw)), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s", namespace: "ns", labels: { app: "x" } },
    data: { token: "3q0=" },
    type: "Opaque",
  });
});

Deno.test("protobuf bodies with unknown fields or kinds are refused with 415", () => {
  const unknownField = [...field(1, str(1, "c")), ...varint((9 << 3) | 0), 1];
  for (
    const body of [
      envelope("v1", "ConfigMap", unknownField),
      envelope("v1", "Pod", []),
      new Uint8Array([1, 2, 3]),
    ]
  ) {
    assert.throws(
      () => decodeProtobufObject(body),
      (e: unknown) => e instanceof ApiError && e.code === 415,
    );
  }
});
