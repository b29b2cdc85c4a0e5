// SCRAM's mechanisms and key derivation (RFC 5802, RFC 7677), shared by the controller (which turns
// a client's salted password into the keys a server keeps), the broker (which checks a client's
// proof with them) and the tools (which salt a password before sending it, as Kafka's admin client
// does). Kafka numbers the mechanisms 1 (SCRAM-SHA-256) and 2 (SCRAM-SHA-512), and accepts 4,096 to
// 16,384 iterations.
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

export interface ScramMechanism {
  readonly name: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  /** Kafka's ScramMechanism type on the wire and in UserScramCredentialRecord. */
  readonly type: number;
  readonly hash: 'sha256' | 'sha512';
  /** The hash's output length: the salted password's and the keys' length. */
  readonly keyLength: number;
}

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = [
  { name: 'SCRAM-SHA-256', type: 1, hash: 'sha256', keyLength: 32 },
  { name: 'SCRAM-SHA-512', type: 2, hash: 'sha512', keyLength: 64 },
];

export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

export function scramMechanismByName(name: string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((mechanism) => mechanism.name === name.toUpperCase());
}

export function scramMechanismByType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((mechanism) => mechanism.type === type);
}

export function hmac(mechanism: ScramMechanism, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(mechanism.hash, key).update(data).digest();
}

export function digest(mechanism: ScramMechanism, data: Buffer): Buffer {
  return createHash(mechanism.hash).update(data).digest();
}

/** Hi(password, salt, iterations) of RFC 5802: PBKDF2 with the mechanism's HMAC. */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, mechanism.keyLength, mechanism.hash);
}

/** What a server keeps of a salted password: StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key"). */
export function serverKeys(mechanism: ScramMechanism, salted: Buffer): { storedKey: Buffer; serverKey: Buffer } {
  return { storedKey: digest(mechanism, hmac(mechanism, salted, 'Client Key')), serverKey: hmac(mechanism, salted, 'Server Key') };
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const result = Buffer.allocUnsafe(a.length);
  for (let index = 0; index < a.length; index++) result[index] = a[index]! ^ b[index]!;
  return result;
}
