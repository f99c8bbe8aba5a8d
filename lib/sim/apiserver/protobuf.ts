/**
 * Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for
 * the kinds kubectl's typed clients create: Namespace, ConfigMap, Secret and ServiceAccount
 * (`kubectl create namespace|configmap|secret|serviceaccount`). Bodies are the `k8s\0` magic
 * and a `runtime.Unknown` envelope around the object's message. A field this decoder does not
 * know is refused (415) rather than dropped silently.
 *
 * @module
 */
import type { JsonObject } from "./json_util.ts";
import { unsupportedMediaType } from "./status.ts";

/** The content type of Kubernetes protobuf. */
export const PROTOBUF = "application/vnd.kubernetes.protobuf";

type Scalar = "string" | "bytes" | "int" | "bool";

interface Field {
  name: string;
  type: Scalar | "time" | "message" | "map";
  repeated?: boolean;
  /** Pointer fields keep zero values; others follow `omitempty`. */
  ptr?: boolean;
  message?: Message;
  /** Value type of a map<string, V>. */
  value?: "string" | "bytes";
}

type Message = Record<number, Field>;

const OWNER_REFERENCE: Message = {
  1: { name: "kind", type: "string" },
  3: { name: "name", type: "string" },
  4: { name: "uid", type: "string" },
  5: { name: "apiVersion", type: "string" },
  6: { name: "controller", type: "bool", ptr: true },
  7: { name: "blockOwnerDeletion", type: "bool", ptr: true },
};

const OBJECT_META: Message = {
  1: { name: "name", type: "string" },
  2: { name: "generateName", type: "string" },
  3: { name: "namespace", type: "string" },
  4: { name: "selfLink", type: "string" },
  5: { name: "uid", type: "string" },
  6: { name: "resourceVersion", type: "string" },
  7: { name: "generation", type: "int" },
  8: { name: "creationTimestamp", type: "time" },
  9: { name: "deletionTimestamp", type: "time" },
  10: { name: "deletionGracePeriodSeconds", type: "int", ptr: true },
  11: { name: "labels", type: "map", value: "string" },
  12: { name: "annotations", type: "map", value: "string" },
  13: { name: "ownerReferences", type: "message", repeated: true, message: OWNER_REFERENCE },
  14: { name: "finalizers", type: "string", repeated: true },
};

const NAMESPACE: Message = {
  1: { name: "metadata", type: "message", message: OBJECT_META },
  2: {
    name: "spec",
    type: "message",
    message: { 1: { name: "finalizers", type: "string", repeated: true } },
  },
  3: { name: "status", type: "message", message: { 1: { name: "phase", type: "string" } } },
};

const CONFIG_MAP: Message = {
  1: { name: "metadata", type: "message", message: OBJECT_META },
  2: { name: "data", type: "map", value: "string" },
  3: { name: "binaryData", type: "map", value: "bytes" },
  4: { name: "immutable", type: "bool", ptr: true },
};

const SECRET: Message = {
  1: { name: "metadata", type: "message", message: OBJECT_META },
  2: { name: "data", type: "map", value: "bytes" },
  3: { name: "type", type: "string" },
  4: { name: "stringData", type: "map", value: "string" },
  5: { name: "immutable", type: "bool", ptr: true },
};

const OBJECT_REFERENCE: Message = {
  1: { name: "kind", type: "string" },
  2: { name: "namespace", type: "string" },
  3: { name: "name", type: "string" },
  4: { name: "uid", type: "string" },
  5: { name: "apiVersion", type: "string" },
  6: { name: "resourceVersion", type: "string" },
  7: { name: "fieldPath", type: "string" },
};

const SERVICE_ACCOUNT: Message = {
  1: { name: "metadata", type: "message", message: OBJECT_META },
  2: { name: "secrets", type: "message", repeated: true, message: OBJECT_REFERENCE },
  3: {
    name: "imagePullSecrets",
    type: "message",
    repeated: true,
    message: { 1: { name: "name", type: "string" } },
  },
  4: { name: "automountServiceAccountToken", type: "bool", ptr: true },
};

const KINDS: Record<string, Message> = {
  "v1/Namespace": NAMESPACE,
  "v1/ConfigMap": CONFIG_MAP,
  "v1/Secret": SECRET,
  "v1/ServiceAccount": SERVICE_ACCOUNT,
};

/** Reads protobuf wire format. */
class Reader {
  #buf: Uint8Array;
  pos = 0;
  readonly end: number;
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.pos = start;
    this.end = end;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.#buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error("varint too long");
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw new Error("truncated length-delimited field");
    const out = this.#buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const decoder = new TextDecoder();

function toBase64(b: Uint8Array): string {
  let bin = "";
  for (const x of b) bin += String.fromCharCode(x);
  return btoa(bin);
}

function int64(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

function decodeTime(b: Uint8Array): string | undefined {
  const r = new Reader(b);
  let seconds = 0;
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    if (tag >>> 3 === 1 && (tag & 7) === 0) seconds = int64(r.varint());
    else r.skip(tag & 7);
  }
  if (seconds === 0) return undefined;
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function decodeMapEntry(b: Uint8Array, value: "string" | "bytes"): [string, string] {
  const r = new Reader(b);
  let k = "";
  let v = "";
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    if ((tag & 7) !== 2) {
      r.skip(tag & 7);
      continue;
    }
    const raw = r.bytes();
    if (field === 1) k = decoder.decode(raw);
    else if (field === 2) v = value === "bytes" ? toBase64(raw) : decoder.decode(raw);
  }
  return [k, v];
}

function decodeMessage(b: Uint8Array, spec: Message, path: string): JsonObject {
  const out: JsonObject = {};
  const r = new Reader(b);
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    const num = tag >>> 3;
    const wire = tag & 7;
    const f = spec[num];
    if (!f) {
      throw unsupportedMediaType(
        `the protobuf body has field ${num} of ${
          path || "the object"
        }, which this server cannot decode; send JSON instead`,
      );
    }
    let value: unknown;
    switch (f.type) {
      case "string":
        value = decoder.decode(r.bytes());
        if (!f.repeated && !f.ptr && value === "") continue;
        break;
      case "bytes":
        value = toBase64(r.bytes());
        break;
      case "int":
        value = int64(r.varint());
        if (!f.ptr && value === 0) continue;
        break;
      case "bool":
        value = r.varint() !== 0n;
        if (!f.ptr && value === false) continue;
        break;
      case "time":
        value = decodeTime(r.bytes());
        if (value === undefined) continue;
        break;
      case "message":
        value = decodeMessage(r.bytes(), f.message!, path ? `${path}.${f.name}` : f.name);
        break;
      case "map": {
        const [k, v] = decodeMapEntry(r.bytes(), f.value ?? "string");
        const m = (out[f.name] ??= {}) as JsonObject;
        m[k] = v;
        continue;
      }
    }
    if (wire !== 2 && (f.type === "message" || f.type === "string")) {
      throw new Error(`bad wire type for ${f.name}`);
    }
    if (f.repeated) ((out[f.name] ??= []) as unknown[]).push(value);
    else out[f.name] = value;
  }
  return out;
}

/** Decodes a Kubernetes protobuf body to the JSON form of the object. */
export function decodeProtobufObject(body: Uint8Array): JsonObject {
  if (
    body.length < 4 || body[0] !== 0x6b || body[1] !== 0x38 || body[2] !== 0x73 || body[3] !== 0
  ) {
    throw unsupportedMediaType("the protobuf body lacks the Kubernetes magic prefix");
  }
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array | undefined;
  try {
    const r = new Reader(body, 4);
    while (r.pos < r.end) {
      const tag = Number(r.varint());
      const num = tag >>> 3;
      if ((tag & 7) !== 2) {
        r.skip(tag & 7);
        continue;
      }
      const bytes = r.bytes();
      if (num === 1) {
        const tm = new Reader(bytes);
        while (tm.pos < tm.end) {
          const t = Number(tm.varint());
          const v = decoder.decode(tm.bytes());
          if (t >>> 3 === 1) apiVersion = v;
          else if (t >>> 3 === 2) kind = v;
        }
      } else if (num === 2) {
        raw = bytes;
      }
    }
  } catch (e) {
    throw unsupportedMediaType(`the protobuf body is malformed: ${(e as Error).message}`);
  }
  const spec = KINDS[`${apiVersion}/${kind}`];
  if (!spec || !raw) {
    throw unsupportedMediaType(
      `protobuf bodies of ${
        kind || "unknown kinds"
      } (${apiVersion}) are not supported by this server; send JSON instead`,
    );
  }
  try {
    return { apiVersion, kind, ...decodeMessage(raw, spec, "") };
  } catch (e) {
    if (e instanceof Error && e.name === "ApiError") throw e;
    throw unsupportedMediaType(`the protobuf body is malformed: ${(e as Error).message}`);
  }
}
