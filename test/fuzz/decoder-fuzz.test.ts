// The request decoder under mutated frames: tens of thousands of frames mutated from real clients'
// captured requests and valid requests of every served API and version (CreateTopics and
// CreatePartitions included) decode or fail with a ProtocolError, nothing else; and absurd
// lengths (arrays, strings, bytes, compact varints) are refused before anything is allocated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRequestHeader } from '../../src/protocol/headers.js';
import { ApiKey, CreateTopicsApi, MetadataApi, ProduceApi, apis } from '../../src/protocol/messages/index.js';
import { ProtocolError } from '../../src/protocol/primitives/protocol-error.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { seededRandom } from '../../src/testing/workload.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { type DecodeOutcome, decodeFrame, mutate, seedFrames } from './frame-fuzzer.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const FRAMES = Number(process.env.FUZZ_DECODER_FRAMES ?? 30_000);

/** A frame: a v1/v2 request header for `apiKey` vN (null client id), then `tail` as the body. */
function headerThen(apiKey: number, version: number, tail: Buffer): Buffer {
  const flexible = version >= apis[apiKey]!.firstFlexibleVersion;
  const parts: Buffer[] = [Buffer.from([0, 0, 0, 0]), Buffer.alloc(8), Buffer.from([0xff, 0xff])];
  parts[1]!.writeInt16BE(apiKey, 0);
  parts[1]!.writeInt16BE(version, 2);
  parts[1]!.writeInt32BE(1, 4);
  if (flexible) parts.push(Buffer.from([0]));
  parts.push(tail);
  const frame = Buffer.concat(parts);
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

function expectProtocolErrorWithoutAllocation(frame: Buffer, what: string): void {
  const heapBefore = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  const startedAt = performance.now();
  const body = frame.subarray(4);
  const api = apis[body.readInt16BE(0)]!;
  assert.throws(
    () => {
      const reader = new Reader(body);
      decodeRequestHeader(reader);
      api.decodeRequest(reader, body.readInt16BE(2));
    },
    (error: unknown) => error instanceof ProtocolError,
    `${what}: a ProtocolError`,
  );
  const grownMiB = (process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - heapBefore) / (1024 * 1024);
  assert.ok(performance.now() - startedAt < 200, `${what}: refused at once`);
  assert.ok(grownMiB < 32, `${what}: nothing large allocated (${grownMiB.toFixed(1)} MiB)`);
}

describe(`request decoder fuzz (FUZZ_SEED=${SEED})`, () => {
  it(`${FRAMES} mutated frames decode or raise ProtocolError only`, (context) => {
    const random = seededRandom(SEED);
    const seeds = seedFrames({ live: false });
    const outcome: DecodeOutcome = { decoded: 0, protocolErrors: 0, unknownApis: 0 };
    for (let index = 0; index < FRAMES; index += 1) {
      const { frame, mutation } = mutate(seeds[Math.floor(random() * seeds.length)]!, random);
      try {
        decodeFrame(frame, outcome);
      } catch (error) {
        assert.fail(`${mutation}: ${String(error)}\nframe ${frame.toString('hex')}`);
      }
    }
    context.diagnostic(`${seeds.length} seeds; ${outcome.decoded} decoded, ${outcome.protocolErrors} ProtocolErrors, ${outcome.unknownApis} unknown api/version`);
    assert.ok(outcome.decoded > 0 && outcome.protocolErrors > 0);
  });

  it('absurd array, string, bytes and compact lengths are refused before allocating', () => {
    const int32Max = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    // Metadata v1: topics array claims 2^31-1 entries.
    expectProtocolErrorWithoutAllocation(headerThen(ApiKey.Metadata, 1, int32Max), 'Metadata v1 array length 2^31-1');
    // Metadata v9 (flexible): compact array length varint of 2^32-1.
    expectProtocolErrorWithoutAllocation(headerThen(ApiKey.Metadata, 9, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), 'Metadata v9 compact array 2^32-2');
    // Produce v3: transactional id string claims 32767 bytes, absent.
    expectProtocolErrorWithoutAllocation(headerThen(ApiKey.Produce, 3, Buffer.from([0x7f, 0xff])), 'Produce v3 string length 32767');
    // Produce v8: records bytes claim 2^31-1.
    const produce = encodeRequestFrame(ProduceApi, 8, 1, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(0) }] }] });
    const recordsLengthAt = produce.length - 4;
    produce.writeInt32BE(0x7fffffff, recordsLengthAt);
    expectProtocolErrorWithoutAllocation(produce, 'Produce v8 records length 2^31-1');
    // CreateTopics v5 (flexible): an endless varint where the topics count goes.
    expectProtocolErrorWithoutAllocation(headerThen(ApiKey.CreateTopics, 5, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 'CreateTopics v5 endless varint');
    // Tagged fields: a count of 2^31 and a tag whose size exceeds the frame.
    const metadata = encodeRequestFrame(MetadataApi, 12, 1, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const withTags = Buffer.concat([metadata.subarray(0, metadata.length - 1), Buffer.from([0x01, 0x05, 0xff, 0xff, 0xff, 0x7f])]);
    withTags.writeInt32BE(withTags.length - 4, 0);
    expectProtocolErrorWithoutAllocation(withTags, 'Metadata v12 tagged field of 2^28 bytes');
    const createTopics = encodeRequestFrame(CreateTopicsApi, 7, 1, { topics: [], timeoutMs: 1000, validateOnly: false });
    const manyTags = Buffer.concat([createTopics.subarray(0, createTopics.length - 1), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07])]);
    manyTags.writeInt32BE(manyTags.length - 4, 0);
    expectProtocolErrorWithoutAllocation(manyTags, 'CreateTopics v7 tag count 2^31-1');
  });
});
