// The request decoder under mutated frames: tens of thousands of frames mutated from real clients'
// captured requests and valid requests of every served API and version (CreateTopics and
// CreatePartitions included) decode or fail with a ProtocolError, nothing else, each within a
// budget of reader operations linear in its size (a bound on work, not on the clock: a decoder
// that loops fails it); and absurd lengths (arrays, strings, bytes, compact varints) are refused
// within that budget (work in proportion to the bytes present, not to the length claimed) and
// before anything is allocated.
//
// FUZZ_INJECT (test-only, to see the checks fail): `decoder-loop` makes the Metadata request
// decoder start over forever, `decoder-alloc` makes it allocate what its array length claims.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRequestHeader } from '../../src/protocol/headers.js';
import { ApiKey, CreateTopicsApi, MetadataApi, ProduceApi, apis } from '../../src/protocol/messages/index.js';
import { ProtocolError } from '../../src/protocol/primitives/protocol-error.js';
import type { Reader } from '../../src/protocol/primitives/reader.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { type DecodeOutcome, WorkBoundedReader, decodeBudget, decodeFrame, mutatedFrames, seedFrames } from './frame-fuzzer.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const FRAMES = Number(process.env.FUZZ_DECODER_FRAMES ?? 30_000);

function injectBug(): void {
  const inject = process.env.FUZZ_INJECT;
  if (inject === undefined) return;
  const metadata = apis[ApiKey.Metadata] as { decodeRequest(reader: Reader, version: number): unknown };
  const decode = metadata.decodeRequest.bind(metadata);
  if (inject === 'decoder-loop') {
    metadata.decodeRequest = (reader, version) => {
      const start = reader.position;
      for (;;) {
        reader.position = start;
        try {
          decode(reader, version);
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
        }
      }
    };
  } else if (inject === 'decoder-alloc') {
    metadata.decodeRequest = (reader, version) => {
      const claimed = reader.buffer.length - reader.position >= 4 ? reader.buffer.readInt32BE(reader.position) : 0;
      const held = Buffer.alloc(Math.min(Math.max(claimed, 0), 64 * 1024 * 1024), 1);
      try {
        return decode(reader, version);
      } finally {
        (globalThis as { injectedAllocation?: Buffer }).injectedAllocation = held;
      }
    };
  } else {
    throw new Error(`unknown FUZZ_INJECT=${inject}`);
  }
}
injectBug();

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

/** Returns the reader operations the refusal took. */
function expectProtocolErrorWithoutAllocation(frame: Buffer, what: string): number {
  const heapBefore = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  const body = frame.subarray(4);
  const api = apis[body.readInt16BE(0)]!;
  // Work in proportion to the bytes present, never to the length they claim.
  const reader = new WorkBoundedReader(body, decodeBudget(body.length));
  assert.throws(
    () => {
      decodeRequestHeader(reader);
      api.decodeRequest(reader, body.readInt16BE(2));
    },
    (error: unknown) => error instanceof ProtocolError,
    `${what}: a ProtocolError within ${decodeBudget(body.length)} reader operations`,
  );
  const grownMiB = (process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - heapBefore) / (1024 * 1024);
  assert.ok(grownMiB < 32, `${what}: nothing large allocated (${grownMiB.toFixed(1)} MiB)`);
  return reader.operations;
}

describe(`request decoder fuzz (FUZZ_SEED=${SEED})`, () => {
  it(`${FRAMES} mutated frames decode or raise ProtocolError only, within a work budget linear in their size`, (context) => {
    const seeds = seedFrames({ live: false });
    const frames = mutatedFrames(seeds, SEED);
    const outcome: DecodeOutcome = { decoded: 0, protocolErrors: 0, unknownApis: 0 };
    for (let index = 0; index < FRAMES; index += 1) {
      const { frame, mutation } = frames.next().value;
      try {
        decodeFrame(frame, outcome, true);
      } catch (error) {
        assert.fail(`${mutation}: ${String(error)}\nframe ${frame.toString('hex')}`);
      }
    }
    context.diagnostic(
      `${seeds.length} seeds; ${outcome.decoded} decoded, ${outcome.protocolErrors} ProtocolErrors, ${outcome.unknownApis} unknown api/version; at most ${outcome.maxOperations} reader operations per frame, ${outcome.maxOperationsPerByte?.toFixed(2)} per byte (budget ${decodeBudget(0)} + 8 per byte)`,
    );
    assert.ok(outcome.decoded > 0 && outcome.protocolErrors > 0);
  });

  it('absurd array, string, bytes and compact lengths are refused at once and before allocating', (context) => {
    const refusals: number[] = [];
    const int32Max = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    // Metadata v1: topics array claims 2^31-1 entries.
    refusals.push(expectProtocolErrorWithoutAllocation(headerThen(ApiKey.Metadata, 1, int32Max), 'Metadata v1 array length 2^31-1'));
    // Metadata v9 (flexible): compact array length varint of 2^32-1.
    refusals.push(expectProtocolErrorWithoutAllocation(headerThen(ApiKey.Metadata, 9, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), 'Metadata v9 compact array 2^32-2'));
    // Produce v3: transactional id string claims 32767 bytes, absent.
    refusals.push(expectProtocolErrorWithoutAllocation(headerThen(ApiKey.Produce, 3, Buffer.from([0x7f, 0xff])), 'Produce v3 string length 32767'));
    // Produce v8: records bytes claim 2^31-1.
    const produce = encodeRequestFrame(ProduceApi, 8, 1, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(0) }] }] });
    const recordsLengthAt = produce.length - 4;
    produce.writeInt32BE(0x7fffffff, recordsLengthAt);
    refusals.push(expectProtocolErrorWithoutAllocation(produce, 'Produce v8 records length 2^31-1'));
    // CreateTopics v5 (flexible): an endless varint where the topics count goes.
    refusals.push(expectProtocolErrorWithoutAllocation(headerThen(ApiKey.CreateTopics, 5, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 'CreateTopics v5 endless varint'));
    // Tagged fields: a count of 2^31 and a tag whose size exceeds the frame.
    const metadata = encodeRequestFrame(MetadataApi, 12, 1, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const withTags = Buffer.concat([metadata.subarray(0, metadata.length - 1), Buffer.from([0x01, 0x05, 0xff, 0xff, 0xff, 0x7f])]);
    withTags.writeInt32BE(withTags.length - 4, 0);
    refusals.push(expectProtocolErrorWithoutAllocation(withTags, 'Metadata v12 tagged field of 2^28 bytes'));
    const createTopics = encodeRequestFrame(CreateTopicsApi, 7, 1, { topics: [], timeoutMs: 1000, validateOnly: false });
    const manyTags = Buffer.concat([createTopics.subarray(0, createTopics.length - 1), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07])]);
    manyTags.writeInt32BE(manyTags.length - 4, 0);
    refusals.push(expectProtocolErrorWithoutAllocation(manyTags, 'CreateTopics v7 tag count 2^31-1'));
    context.diagnostic(`refused within ${Math.max(...refusals)} reader operations each`);
  });
});
