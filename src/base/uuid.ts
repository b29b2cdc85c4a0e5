// Kafka UUIDs (topic ids, incarnation ids, cluster ids) as 22-character base64url strings, the
// form Kafka prints and the generated protocol codecs use.
import type { RandomSource } from './clock.js';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * A random version-4 UUID. Like Kafka, never the zero UUID and never one whose text starts with
 * '-', which command-line tools would mistake for an option.
 */
export function randomUuid(random: RandomSource): string {
  for (;;) {
    const bytes = random.bytes(16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const text = bytes.toString('base64url');
    if (text !== ZERO_UUID && !text.startsWith('-')) return text;
  }
}

export function uuidToBytes(uuid: string): Buffer {
  const bytes = Buffer.from(uuid, 'base64url');
  if (bytes.length !== 16) throw new Error(`not a Kafka UUID: '${uuid}'`);
  return bytes;
}
