// Round trips every message and data record at every valid version: a sample with non-default
// values (and one with nulls and empty lists) encodes, decodes to the expected value, and
// re-encodes to the same bytes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kebabCase, loadMessages, versionList, type MessageModel } from '../../scripts/codegen/schema-model.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { defaultStruct, expectedDecoded, SampleBuilder, type Variant } from './sample-values.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const messages = loadMessages(join(projectDir, 'schemas')).filter((message) => message.kind !== 'header');

type Decode = (reader: Reader, version: number) => unknown;
type Encode = (writer: Writer, version: number, message: unknown) => void;

async function codecsOf(message: MessageModel): Promise<{ decode: Decode; encode: Encode }> {
  const isApi = message.kind === 'request' || message.kind === 'response';
  const file = isApi
    ? `${kebabCase(message.name.replace(/(Request|Response)$/, ''))}.js`
    : `records/${kebabCase(message.name)}.js`;
  const module = (await import(`../../src/protocol/messages/${file}`)) as Record<string, unknown>;
  return { decode: module[`decode${message.name}`] as Decode, encode: module[`encode${message.name}`] as Encode };
}

function encode(codec: { encode: Encode }, version: number, value: unknown): Buffer {
  const writer = new Writer(64);
  codec.encode(writer, version, value);
  return writer.toBuffer();
}

function decodeAll(codec: { decode: Decode }, version: number, bytes: Buffer): unknown {
  const reader = new Reader(bytes);
  const decoded = codec.decode(reader, version);
  assert.equal(reader.remaining, 0, 'decoder consumed every byte');
  return decoded;
}

for (const message of messages) {
  describe(`${message.name}`, () => {
    for (const version of versionList(message.validVersions)) {
      it(`v${version} round trips`, async () => {
        const codec = await codecsOf(message);
        for (const variant of ['values', 'nulls'] as Variant[]) {
          const sample = new SampleBuilder(variant).struct(message.root, version);
          const bytes = encode(codec, version, sample);
          const decoded = decodeAll(codec, version, bytes);
          assert.deepEqual(decoded, expectedDecoded(message.root, version, sample), `${variant} sample`);
          assert.deepEqual(encode(codec, version, decoded), bytes, `${variant} re-encodes to the same bytes`);
        }
      });
    }
    it('refuses versions outside its range', async () => {
      const codec = await codecsOf(message);
      for (const version of [message.validVersions.low - 1, message.validVersions.high + 1]) {
        assert.throws(() => codec.decode(new Reader(Buffer.alloc(64)), version), { name: 'ProtocolError' });
        assert.throws(() => codec.encode(new Writer(), version, {}), { name: 'ProtocolError' });
      }
    });
    it('encodes an empty object as the schema defaults', async () => {
      const codec = await codecsOf(message);
      const version = message.validVersions.high;
      const decoded = decodeAll(codec, version, encode(codec, version, {}));
      assert.deepEqual(decoded, defaultStruct(message.root));
    });
  });
}
