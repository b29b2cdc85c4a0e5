// Garbage in, ProtocolError out: random bytes and corrupted valid encodings fed to every decoder
// at every version must never raise anything else (no RangeError, no huge allocation).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kebabCase, loadMessages, versionList, type MessageModel } from '../../scripts/codegen/schema-model.js';
import { decodeRequestHeader } from '../../src/protocol/headers.js';
import { ProtocolError } from '../../src/protocol/primitives/protocol-error.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { SampleBuilder } from './sample-values.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const messages = loadMessages(join(projectDir, 'schemas')).filter((message) => message.kind !== 'header');
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const CASES_PER_VERSION = 40;

/** A small deterministic PRNG (mulberry32) so a failing case reproduces from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

type Decode = (reader: Reader, version: number) => unknown;
type Encode = (writer: Writer, version: number, message: unknown) => void;

async function codecsOf(message: MessageModel): Promise<{ decode: Decode; encode: Encode }> {
  const isApi = message.kind === 'request' || message.kind === 'response';
  const file = isApi ? `${kebabCase(message.name.replace(/(Request|Response)$/, ''))}.js` : `records/${kebabCase(message.name)}.js`;
  const module = (await import(`../../src/protocol/messages/${file}`)) as Record<string, unknown>;
  return { decode: module[`decode${message.name}`] as Decode, encode: module[`encode${message.name}`] as Encode };
}

function onlyProtocolErrors(run: () => unknown, context: string): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `${context}: ${String(error)}`);
  }
}

function corrupt(valid: Buffer, next: () => number): Buffer {
  const bytes = Buffer.from(valid);
  const mode = Math.floor(next() * 3);
  if (mode === 0) return bytes.subarray(0, Math.floor(next() * bytes.length));
  const flips = 1 + Math.floor(next() * 4);
  for (let index = 0; index < flips && bytes.length > 0; index++) {
    const position = Math.floor(next() * bytes.length);
    bytes[position] = mode === 1 ? Math.floor(next() * 256) : 0xff;
  }
  return bytes;
}

describe(`decoders survive garbage (seed ${SEED})`, () => {
  for (const message of messages) {
    it(message.name, async () => {
      const codec = await codecsOf(message);
      const next = random(SEED ^ message.name.length);
      for (const version of versionList(message.validVersions)) {
        const writer = new Writer();
        codec.encode(writer, version, new SampleBuilder('values').struct(message.root, version));
        const valid = writer.toBuffer();
        for (let index = 0; index < CASES_PER_VERSION; index++) {
          const randomBytes = Buffer.alloc(Math.floor(next() * 64));
          for (let position = 0; position < randomBytes.length; position++) randomBytes[position] = Math.floor(next() * 256);
          onlyProtocolErrors(() => codec.decode(new Reader(randomBytes), version), `${message.name} v${version} random`);
          const damaged = corrupt(valid, next);
          onlyProtocolErrors(() => codec.decode(new Reader(damaged), version), `${message.name} v${version} ${damaged.toString('hex')}`);
        }
      }
    });
  }

  it('request headers', () => {
    const next = random(SEED);
    for (let index = 0; index < 2000; index++) {
      const bytes = Buffer.alloc(Math.floor(next() * 24));
      for (let position = 0; position < bytes.length; position++) bytes[position] = Math.floor(next() * 256);
      onlyProtocolErrors(() => decodeRequestHeader(new Reader(bytes)), bytes.toString('hex'));
    }
  });
});
