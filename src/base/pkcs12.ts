// The certificates of a PKCS#12 file (RFC 7292), for a PKCS12 trust store (Kafka's
// ssl.truststore.type=PKCS12): node:tls reads PKCS#12 only as a key store (its `pfx` option wants a
// private key), so a trust store of certificates alone is read here. The file is DER: a PFX whose
// authenticated safe holds safe contents, plain or encrypted, whose certificate bags hold X.509
// certificates in DER. Encryption is PBES2 (PBKDF2 with HMAC-SHA1/256/384/512, then AES-CBC or
// 3DES: OpenSSL 3's and current Java's default) or PKCS#12's own password-based schemes with
// 3DES (OpenSSL's -legacy and older Java; RC2 is refused by name, OpenSSL 3 no longer ships it by
// default). With a password, the file's MAC is checked first, so a wrong password is told apart
// from a damaged file; without one (Kafka: integrity checking disabled) only unencrypted
// certificates can be read. Key bags and other bags are skipped.
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual, X509Certificate } from 'node:crypto';

/** A PKCS#12 file that cannot be read: damaged, a wrong password, or an algorithm not supported. */
export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1TwoKeyTripleDes: '1.2.840.113549.1.12.1.4',
  pbeSha1Rc2128: '1.2.840.113549.1.12.1.5',
  pbeSha1Rc240: '1.2.840.113549.1.12.1.6',
} as const;

/** Digest OIDs (MACs and PBKDF2's PRF) to node:crypto's hash names and block sizes. */
const HASHES: Readonly<Record<string, { name: string; blockBytes: number }>> = {
  '1.3.14.3.2.26': { name: 'sha1', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', blockBytes: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', blockBytes: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', blockBytes: 128 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', blockBytes: 64 },
};
const HMAC_PRFS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const CIPHERS: Readonly<Record<string, { name: string; keyBytes: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyBytes: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyBytes: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyBytes: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyBytes: 24 },
};

const TAG = { integer: 0x02, octetString: 0x04, oid: 0x06, sequence: 0x30, set: 0x31, context0: 0xa0, context0Primitive: 0x80 } as const;

/** One DER element: its tag and its content. */
interface Element {
  readonly tag: number;
  readonly content: Buffer;
}

/** Reads consecutive DER elements out of `bytes`. */
class DerReader {
  #offset = 0;

  constructor(private readonly bytes: Buffer) {}

  get done(): boolean {
    return this.#offset >= this.bytes.length;
  }

  next(expected?: number): Element {
    const bytes = this.bytes;
    if (this.#offset + 2 > bytes.length) throw new Pkcs12Error('the file is damaged (an element runs past its end)');
    const tag = bytes[this.#offset]!;
    if ((tag & 0x1f) === 0x1f) throw new Pkcs12Error('the file is damaged (a multi-byte tag)');
    let length = bytes[this.#offset + 1]!;
    let at = this.#offset + 2;
    if (length === 0x80) throw new Pkcs12Error('the file uses indefinite lengths (BER); re-export it as DER');
    if (length > 0x80) {
      const count = length & 0x7f;
      if (count > 4 || at + count > bytes.length) throw new Pkcs12Error('the file is damaged (a length field)');
      length = 0;
      for (let index = 0; index < count; index++) length = length * 256 + bytes[at + index]!;
      at += count;
    }
    if (at + length > bytes.length) throw new Pkcs12Error('the file is damaged (an element runs past its end)');
    if (expected !== undefined && tag !== expected) throw new Pkcs12Error(`the file is damaged (tag 0x${tag.toString(16)} where 0x${expected.toString(16)} belongs)`);
    this.#offset = at + length;
    return { tag, content: bytes.subarray(at, at + length) };
  }

  /** The next element if it has `tag`, else undefined (for OPTIONAL and DEFAULT fields). */
  optional(tag: number): Element | undefined {
    return !this.done && this.bytes[this.#offset] === tag ? this.next(tag) : undefined;
  }
}

const sequence = (element: Element) => new DerReader(element.content);

function oidOf(element: Element): string {
  const bytes = element.content;
  if (bytes.length === 0) throw new Pkcs12Error('the file is damaged (an empty object identifier)');
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let value = 0;
  for (let index = 1; index < bytes.length; index++) {
    value = value * 128 + (bytes[index]! & 0x7f);
    if ((bytes[index]! & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** Iteration counts a real file uses: at least 1, and not so many that reading it would hang the start. */
const MAX_ITERATIONS = 10_000_000;

function iterationsOf(element: Element): number {
  const iterations = integerOf(element);
  if (iterations < 1 || iterations > MAX_ITERATIONS) throw new Pkcs12Error(`the file is damaged (an iteration count of ${iterations})`);
  return iterations;
}

function integerOf(element: Element): number {
  if (element.content.length > 6) throw new Pkcs12Error('the file is damaged (an integer too large)');
  let value = 0;
  for (const byte of element.content) value = value * 256 + byte;
  return value;
}

/** PKCS#12's password encoding: UTF-16BE with a two-byte terminator (RFC 7292 B.1); none for no password. */
function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  const bytes = Buffer.alloc((password.length + 1) * 2);
  for (let index = 0; index < password.length; index++) bytes.writeUInt16BE(password.charCodeAt(index), index * 2);
  return bytes;
}

/** RFC 7292 B.2: PKCS#12's key derivation (id 1: key, 2: IV, 3: MAC key). */
function pkcs12Kdf(hash: { name: string; blockBytes: number }, password: Buffer, salt: Buffer, iterations: number, id: number, length: number): Buffer {
  const v = hash.blockBytes;
  const fill = (source: Buffer) => {
    if (source.length === 0) return Buffer.alloc(0);
    const filled = Buffer.alloc(v * Math.ceil(source.length / v));
    for (let index = 0; index < filled.length; index++) filled[index] = source[index % source.length]!;
    return filled;
  };
  const diversifier = Buffer.alloc(v, id);
  const input = Buffer.concat([fill(salt), fill(password)]);
  const output: Buffer[] = [];
  let produced = 0;
  while (produced < length) {
    let block = createHash(hash.name).update(diversifier).update(input).digest();
    for (let round = 1; round < iterations; round++) block = createHash(hash.name).update(block).digest();
    output.push(block);
    produced += block.length;
    if (produced >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v), B the block repeated to v bytes.
    const b = Buffer.alloc(v);
    for (let index = 0; index < v; index++) b[index] = block[index % block.length]!;
    for (let offset = 0; offset < input.length; offset += v) {
      let carry = 1;
      for (let index = v - 1; index >= 0; index--) {
        const sum = input[offset + index]! + b[index]! + carry;
        input[offset + index] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(output).subarray(0, length);
}

/** Decrypts one EncryptedContentInfo's content with `password`. */
function decrypt(algorithm: Element, encrypted: Buffer, password: string | null): Buffer {
  const fields = sequence(algorithm);
  const oid = oidOf(fields.next(TAG.oid));
  if (password === null) throw new Pkcs12Error('its certificates are encrypted: set the trust store password (ssl.truststore.password)');
  let cipher: string;
  let key: Buffer;
  let iv: Buffer;
  if (oid === OID.pbes2) {
    const params = sequence(fields.next(TAG.sequence));
    const kdf = sequence(params.next(TAG.sequence));
    if (oidOf(kdf.next(TAG.oid)) !== OID.pbkdf2) throw new Pkcs12Error('its key derivation is not PBKDF2');
    const kdfParams = sequence(kdf.next(TAG.sequence));
    const salt = kdfParams.next(TAG.octetString).content;
    const iterations = iterationsOf(kdfParams.next(TAG.integer));
    kdfParams.optional(TAG.integer); // keyLength: the cipher's own
    const prfElement = kdfParams.optional(TAG.sequence);
    const prfOid = prfElement === undefined ? '1.2.840.113549.2.7' : oidOf(sequence(prfElement).next(TAG.oid));
    const prf = HMAC_PRFS[prfOid];
    if (prf === undefined) throw new Pkcs12Error(`its PBKDF2 uses an unknown PRF (${prfOid})`);
    const scheme = sequence(params.next(TAG.sequence));
    const schemeOid = oidOf(scheme.next(TAG.oid));
    const known = CIPHERS[schemeOid];
    if (known === undefined) throw new Pkcs12Error(`its certificates are encrypted with an unsupported cipher (${schemeOid}); re-export with AES (openssl pkcs12 -export, OpenSSL 3's default)`);
    cipher = known.name;
    iv = scheme.next(TAG.octetString).content;
    key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, known.keyBytes, prf);
  } else if (oid === OID.pbeSha1TripleDes || oid === OID.pbeSha1TwoKeyTripleDes) {
    const params = sequence(fields.next(TAG.sequence));
    const salt = params.next(TAG.octetString).content;
    const iterations = iterationsOf(params.next(TAG.integer));
    const sha1 = HASHES['1.3.14.3.2.26']!;
    const bmp = bmpPassword(password);
    key = pkcs12Kdf(sha1, bmp, salt, iterations, 1, 24);
    // Two-key 3DES uses K1, K2, K1.
    if (oid === OID.pbeSha1TwoKeyTripleDes) key = Buffer.concat([key.subarray(0, 16), key.subarray(0, 8)]);
    iv = pkcs12Kdf(sha1, bmp, salt, iterations, 2, 8);
    cipher = 'des-ede3-cbc';
  } else if (oid === OID.pbeSha1Rc240 || oid === OID.pbeSha1Rc2128) {
    throw new Pkcs12Error('its certificates are encrypted with RC2, which OpenSSL 3 no longer offers; re-export it with AES (openssl pkcs12 -export without -legacy, or keytool from Java 12 on)');
  } else {
    throw new Pkcs12Error(`its certificates are encrypted with an unsupported scheme (${oid})`);
  }
  try {
    const decipher = createDecipheriv(cipher, key, iv);
    return Buffer.concat([decipher.update(encrypted), decipher.final()]);
  } catch {
    throw new Pkcs12Error('its certificates cannot be decrypted: a wrong password, or a damaged file');
  }
}

/** The X.509 certificates (DER) in one SafeContents. */
function certificatesIn(safeContents: Buffer): Buffer[] {
  const certificates: Buffer[] = [];
  const bags = new DerReader(safeContents);
  const list = sequence(bags.next(TAG.sequence));
  while (!list.done) {
    const bag = sequence(list.next(TAG.sequence));
    if (oidOf(bag.next(TAG.oid)) !== OID.certBag) continue;
    const certBag = sequence(sequence(bag.next(TAG.context0)).next(TAG.sequence));
    if (oidOf(certBag.next(TAG.oid)) !== OID.x509Certificate) continue;
    certificates.push(sequence(certBag.next(TAG.context0)).next(TAG.octetString).content);
  }
  return certificates;
}

/** The content of an [0] IMPLICIT OCTET STRING: primitive, or constructed of octet strings. */
function implicitOctets(element: Element): Buffer {
  if (element.tag === TAG.context0Primitive) return element.content;
  const parts: Buffer[] = [];
  const inner = new DerReader(element.content);
  while (!inner.done) parts.push(inner.next(TAG.octetString).content);
  return Buffer.concat(parts);
}

/** Checks the PFX's MAC (RFC 7292 4: HMAC keyed by the PKCS#12 KDF's id 3) over the authenticated safe. */
function checkMac(macData: Element, authSafe: Buffer, password: string): void {
  const fields = sequence(macData);
  const digestInfo = sequence(fields.next(TAG.sequence));
  const hashOid = oidOf(sequence(digestInfo.next(TAG.sequence)).next(TAG.oid));
  const expected = digestInfo.next(TAG.octetString).content;
  const salt = fields.next(TAG.octetString).content;
  const iterationsElement = fields.optional(TAG.integer);
  const iterations = iterationsElement === undefined ? 1 : iterationsOf(iterationsElement);
  const hash = HASHES[hashOid];
  if (hash === undefined) throw new Pkcs12Error(`its integrity check uses an unsupported digest (${hashOid})`);
  const key = pkcs12Kdf(hash, bmpPassword(password), salt, iterations, 3, createHash(hash.name).digest().length);
  const mac = createHmac(hash.name, key).update(authSafe).digest();
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw new Pkcs12Error('its integrity check fails: a wrong password (ssl.truststore.password), or a damaged file');
}

/**
 * The certificates of the PKCS#12 file `file`, as PEM, in the file's order. `password` null reads
 * without checking integrity (as Kafka does without ssl.truststore.password).
 */
export function pkcs12Certificates(file: Buffer, password: string | null): string[] {
  const pfx = sequence(new DerReader(file).next(TAG.sequence));
  if (integerOf(pfx.next(TAG.integer)) !== 3) throw new Pkcs12Error('it is not a PKCS#12 (version 3) file');
  const authSafeInfo = sequence(pfx.next(TAG.sequence));
  if (oidOf(authSafeInfo.next(TAG.oid)) !== OID.data) throw new Pkcs12Error('it is signed with a public key, which is not supported; re-export it with a password');
  const authSafe = sequence(authSafeInfo.next(TAG.context0)).next(TAG.octetString).content;
  const macData = pfx.optional(TAG.sequence);
  if (macData !== undefined && password !== null) checkMac(macData, authSafe, password);
  const certificates: Buffer[] = [];
  const contents = sequence(new DerReader(authSafe).next(TAG.sequence));
  while (!contents.done) {
    const info = sequence(contents.next(TAG.sequence));
    const type = oidOf(info.next(TAG.oid));
    if (type === OID.data) {
      certificates.push(...certificatesIn(sequence(info.next(TAG.context0)).next(TAG.octetString).content));
    } else if (type === OID.encryptedData) {
      const encryptedData = sequence(sequence(info.next(TAG.context0)).next(TAG.sequence));
      encryptedData.next(TAG.integer);
      const encryptedContentInfo = sequence(encryptedData.next(TAG.sequence));
      encryptedContentInfo.next(TAG.oid);
      const algorithm = encryptedContentInfo.next(TAG.sequence);
      const content = encryptedContentInfo.done ? undefined : encryptedContentInfo.next();
      if (content === undefined) continue;
      certificates.push(...certificatesIn(decrypt(algorithm, implicitOctets(content), password)));
    }
  }
  return certificates.map((der) => {
    try {
      return new X509Certificate(der).toString();
    } catch {
      throw new Pkcs12Error('it holds a certificate that cannot be read');
    }
  });
}
