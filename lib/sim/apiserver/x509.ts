/**
 * Generates a throwaway CA and a serving certificate for 127.0.0.1 and localhost with Web
 * Crypto (ECDSA P-256, SHA-256), encoded as PEM. No openssl process is needed.
 *
 * @module
 */
import * as der from "./der.ts";
import type { TlsMaterial } from "./options.ts";

const ECDSA_SHA256 = "1.2.840.10045.4.3.2";
const ALG: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

function pem(label: string, bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  const b64 = btoa(bin);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function name(cn: string, org: string): Uint8Array {
  return der.sequence(
    der.set(der.sequence(der.oid("2.5.4.10"), der.utf8(org))),
    der.set(der.sequence(der.oid("2.5.4.3"), der.utf8(cn))),
  );
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value))
    : der.sequence(der.oid(id), der.octetString(value));
}

/** Key usage bits (bit 0 = digitalSignature) as a DER BIT STRING. */
function keyUsage(bits: number[]): Uint8Array {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> b;
  let unused = 0;
  while (unused < 7 && (byte & (1 << unused)) === 0) unused++;
  return der.bitString(new Uint8Array([byte]), unused);
}

/** Raw r||s from Web Crypto to a DER Ecdsa-Sig-Value. */
function derSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return der.sequence(der.integer(raw.slice(0, half)), der.integer(raw.slice(half)));
}

async function keyId(spki: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-1", spki as BufferSource)).slice(0, 20);
}

interface CertInput {
  subject: Uint8Array;
  issuer: Uint8Array;
  publicKeySpki: Uint8Array;
  signingKey: CryptoKey;
  extensions: Uint8Array[];
}

async function certificate(input: CertInput): Promise<Uint8Array> {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = (serial[0] & 0x7f) | 0x01;
  const now = Date.now();
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)),
    der.integer(serial),
    der.sequence(der.oid(ECDSA_SHA256)),
    input.issuer,
    der.sequence(
      der.utcTime(new Date(now - 3600_000)),
      der.utcTime(new Date(now + 365 * 86400_000)),
    ),
    input.subject,
    input.publicKeySpki,
    der.explicit(3, der.sequence(...input.extensions)),
  );
  const sig = new Uint8Array(
    await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      input.signingKey,
      tbs as BufferSource,
    ),
  );
  return der.sequence(tbs, der.sequence(der.oid(ECDSA_SHA256)), der.bitString(derSignature(sig)));
}

/** A new CA and a serving certificate signed by it, valid for 127.0.0.1, ::1 and localhost. */
export async function generateTlsMaterial(): Promise<TlsMaterial> {
  const caKeys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const leafKeys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const caSpki = new Uint8Array(await crypto.subtle.exportKey("spki", caKeys.publicKey));
  const leafSpki = new Uint8Array(await crypto.subtle.exportKey("spki", leafKeys.publicKey));
  const caName = name("drop-sim-ca", "drop-sim");
  const caKeyId = await keyId(caSpki);
  const ca = await certificate({
    subject: caName,
    issuer: caName,
    publicKeySpki: caSpki,
    signingKey: caKeys.privateKey,
    extensions: [
      extension("2.5.29.19", true, der.sequence(der.boolean(true))),
      extension("2.5.29.15", true, keyUsage([0, 5, 6])),
      extension("2.5.29.14", false, der.octetString(caKeyId)),
    ],
  });
  const san = der.sequence(
    der.implicit(2, new TextEncoder().encode("localhost")),
    der.implicit(7, new Uint8Array([127, 0, 0, 1])),
    der.implicit(7, new Uint8Array([...new Array(15).fill(0), 1])),
  );
  const leaf = await certificate({
    subject: name("drop-sim-apiserver", "drop-sim"),
    issuer: caName,
    publicKeySpki: leafSpki,
    signingKey: caKeys.privateKey,
    extensions: [
      extension("2.5.29.19", true, der.sequence()),
      extension("2.5.29.15", true, keyUsage([0])),
      extension("2.5.29.37", false, der.sequence(der.oid("1.3.6.1.5.5.7.3.1"))),
      extension("2.5.29.17", false, san),
      extension("2.5.29.35", false, der.sequence(der.implicit(0, caKeyId))),
    ],
  });
  const leafKey = new Uint8Array(await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey));
  return {
    caPem: pem("CERTIFICATE", ca),
    cert: pem("CERTIFICATE", leaf),
    key: pem("PRIVATE KEY", leafKey),
  };
}
