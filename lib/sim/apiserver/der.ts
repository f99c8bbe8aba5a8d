/**
 * A minimal DER (ASN.1) encoder: the few types an X.509 certificate needs.
 *
 * @module
 */

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A TLV with the given tag byte. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concat([new Uint8Array([tag, ...lengthBytes(content.length)]), content]);
}

/** SEQUENCE. */
export function sequence(...items: Uint8Array[]): Uint8Array {
  return tlv(0x30, concat(items));
}

/** SET. */
export function set(...items: Uint8Array[]): Uint8Array {
  return tlv(0x31, concat(items));
}

/** INTEGER from unsigned big-endian bytes (a leading zero is added when the top bit is set). */
export function integer(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && (bytes[i + 1] & 0x80) === 0) i++;
  let b: Uint8Array = bytes.slice(i);
  if (b[0] & 0x80) b = concat([new Uint8Array([0]), b]);
  return tlv(0x02, b);
}

/** INTEGER from a small number. */
export function smallInteger(n: number): Uint8Array {
  return integer(new Uint8Array([n]));
}

/** OBJECT IDENTIFIER from dotted notation. */
export function oid(dotted: string): Uint8Array {
  const parts = dotted.split(".").map(Number);
  const out = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      stack.unshift(0x80 | (v & 0x7f));
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  }
  return tlv(0x06, new Uint8Array(out));
}

/** UTF8String. */
export function utf8(s: string): Uint8Array {
  return tlv(0x0c, new TextEncoder().encode(s));
}

/** BOOLEAN. */
export function boolean(v: boolean): Uint8Array {
  return tlv(0x01, new Uint8Array([v ? 0xff : 0]));
}

/** OCTET STRING. */
export function octetString(b: Uint8Array): Uint8Array {
  return tlv(0x04, b);
}

/** BIT STRING of whole bytes, or of named bits given as a byte with its unused trailing bits. */
export function bitString(b: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(0x03, concat([new Uint8Array([unusedBits]), b]));
}

/** UTCTime (years 1950-2049). */
export function utcTime(d: Date): Uint8Array {
  const p = (n: number) => String(n).padStart(2, "0");
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${
    p(d.getUTCHours())
  }${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, new TextEncoder().encode(s));
}

/** Context-specific constructed tag [n] EXPLICIT. */
export function explicit(n: number, content: Uint8Array): Uint8Array {
  return tlv(0xa0 | n, content);
}

/** Context-specific primitive tag [n] IMPLICIT. */
export function implicit(n: number, content: Uint8Array): Uint8Array {
  return tlv(0x80 | n, content);
}

/** Concatenation of encodings. */
export { concat };
