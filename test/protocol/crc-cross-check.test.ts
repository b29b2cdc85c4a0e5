// The broker's CRC32C (src/base/crc32c.ts, native @node-rs/crc32) against implementations it
// shares no code with: kafkajs's table-driven JavaScript, @platformatic/kafka's pure-JS function
// and its WebAssembly one, and kafka-python's pure-Python module. They must agree on random
// buffers, on every batch the project builds (random contents, every codec), on the batches real
// clients sent in the golden captures, and on the CRC field each batch carries; a batch corrupted
// after its CRC was written must be refused by the broker's decoder.
//
// Paths into the clients are internal modules, not public API, and may move in a new release:
// kafkajs 2.2.4 `src/protocol/recordBatch/crc32C/index.js`, @platformatic/kafka 2.x
// `dist/protocol/crc32c.js` (its exported `crc32c` uses @node-rs/crc32 when installed, the same
// library as ours, so only `jsCRC32C` counts here), @platformatic/wasm-utils `crc32c`, and
// kafka-python 2.0.2 `kafka/record/_crc32c.py` (Debian python3-kafka). A moved path fails the
// import loudly rather than skipping.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { crc32c } from '../../src/base/crc32c.js';
import { decodeRequestHeader, decodeResponseHeader, responseHeaderVersion } from '../../src/protocol/headers.js';
import { apiDescriptor } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import type { RecordInput } from '../../src/protocol/records/record.js';
import { buildRecordBatch, decodeRecordBatch, readRecordBatchHeader, recordBatchSpans } from '../../src/protocol/records/record-batch.js';
import type { GoldenEntry } from './capture/capture.js';
import { allClientsRequired } from '../support/clients.js';
import { seededRandom as random } from '../support/records.js';
import { PYTHON } from '../support/process.js';

const require = createRequire(import.meta.url);
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;
const platformaticDir = require.resolve('@platformatic/kafka').replace(/dist\/index\.js$/, 'dist/protocol/');
const { jsCRC32C } = (await import(pathToFileURL(`${platformaticDir}crc32c.js`).href)) as { jsCRC32C: (data: Buffer) => number };
const { crc32c: wasmCrc } = (await import('@platformatic/wasm-utils')) as { crc32c: (data: Buffer) => number };

const IMPLEMENTATIONS: [string, (data: Buffer) => number][] = [
  ['kafkajs', (data) => kafkajsCrc(data) >>> 0],
  ['platformatic js', (data) => jsCRC32C(data) >>> 0],
  ['platformatic wasm', (data) => wasmCrc(data) >>> 0],
];

const hasKafkaPython = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import kafka.record._crc32c']).status === 0;

/** kafka-python's pure-Python CRC32C of each hex buffer, in one process. */
function pythonCrcs(buffers: readonly Buffer[]): number[] {
  const script = 'import sys, json\nfrom kafka.record._crc32c import crc\nprint(json.dumps([crc(bytes.fromhex(h)) for h in json.load(sys.stdin)]))';
  const result = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(buffers.map((buffer) => buffer.toString('hex'))), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as number[];
}


function randomBytes(next: () => number, length: number, compressible: boolean): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index++) bytes[index] = compressible ? 97 + Math.floor(next() * 4) : Math.floor(next() * 256);
  return bytes;
}

function randomRecords(next: () => number): RecordInput[] {
  const count = 1 + Math.floor(next() * 40);
  const base = 1_600_000_000_000 + Math.floor(next() * 1e11);
  return Array.from({ length: count }, (_, index) => ({
    timestamp: base + Math.floor(next() * 10_000) * (index % 3 === 0 ? -1 : 1),
    key: next() < 0.2 ? null : randomBytes(next, Math.floor(next() * 40), next() < 0.5),
    value: next() < 0.1 ? null : randomBytes(next, Math.floor(next() * 3000), next() < 0.7),
    headers: Array.from({ length: Math.floor(next() * 3) }, (_, header) => ({
      key: `h${header}`,
      value: next() < 0.2 ? null : randomBytes(next, Math.floor(next() * 20), false),
    })),
  }));
}

// Record batch v2 layout, written out here rather than taken from the project's batch-header.ts,
// so a wrong offset there cannot agree with itself: baseOffset int64 (0), batchLength int32 (8),
// partitionLeaderEpoch int32 (12), magic int8 (16), crc uint32 (17), attributes int16 (21): the
// CRC covers attributes to the end of the batch, whose size is batchLength + 12.
const CRC_OFFSET = 17;
const CRC_COVERS_FROM = 21;

/** The CRC-covered bytes of the batch at `position`: from attributes to its end. */
function covered(buffer: Buffer, position = 0): Buffer {
  return buffer.subarray(position + CRC_COVERS_FROM, position + 12 + buffer.readInt32BE(position + 8));
}

/** The CRC the batch at `position` carries. */
function storedCrc(buffer: Buffer, position = 0): number {
  return buffer.readUInt32BE(position + CRC_OFFSET);
}

function assertAllAgree(data: Buffer, expected: number, label: string): void {
  assert.equal(crc32c(data), expected, `${label}: broker crc32c`);
  for (const [name, implementation] of IMPLEMENTATIONS) assert.equal(implementation(data), expected, `${label}: ${name}`);
}

const CODECS = Object.entries(CompressionType) as [string, number][];

describe('CRC32C: broker against client implementations', () => {
  it('the published check value of CRC-32C ("123456789" → 0xE3069283)', () => {
    assertAllAgree(Buffer.from('123456789'), 0xe3069283, 'check value');
    if (hasKafkaPython) assert.deepEqual(pythonCrcs([Buffer.from('123456789')]), [0xe3069283]);
  });

  it('random buffers of every length up to 4 KiB and some larger', () => {
    const next = random(1);
    const buffers = [
      ...Array.from({ length: 4097 }, (_, length) => randomBytes(next, length, false)),
      ...[65_535, 65_536, 65_537, 1_000_003].map((length) => randomBytes(next, length, false)),
    ];
    for (const buffer of buffers) {
      const expected = IMPLEMENTATIONS[0]![1](buffer);
      assertAllAgree(buffer, expected, `${buffer.length} random bytes`);
    }
    // The broker also computes CRCs over a window of a larger buffer (a batch inside a segment).
    const big = buffers.at(-1)!;
    for (let index = 0; index < 200; index++) {
      const start = Math.floor(next() * 1000);
      const end = start + Math.floor(next() * 5000);
      assert.equal(crc32c(big, start, end), kafkajsCrc(big.subarray(start, end)) >>> 0, `window ${start}-${end}`);
    }
  });

  // Under CONVEYOR_REQUIRE_ALL_CLIENTS=1 (CI) a missing kafka-python fails here instead of skipping.
  it('random buffers agree with kafka-python', { skip: !hasKafkaPython && !allClientsRequired() && `needs ${PYTHON} with python3-kafka` }, () => {
    const next = random(2);
    const buffers = Array.from({ length: 300 }, () => randomBytes(next, Math.floor(next() * 2000), false));
    assert.deepEqual(pythonCrcs(buffers), buffers.map((buffer) => crc32c(buffer)));
  });

  for (const [name, compression] of CODECS) {
    it(`${name}: batches built by the project carry a CRC every implementation computes, and corruption is refused`, async () => {
      const next = random(100 + compression);
      const covers: Buffer[] = [];
      const stored: number[] = [];
      for (let index = 0; index < 30; index++) {
        const batch = await buildRecordBatch(randomRecords(next), {
          compression,
          baseOffset: Math.floor(next() * 1e9),
          producerId: next() < 0.5 ? -1 : Math.floor(next() * 1e6),
          producerEpoch: Math.floor(next() * 100),
          baseSequence: Math.floor(next() * 1e6),
          transactional: next() < 0.3,
          partitionLeaderEpoch: Math.floor(next() * 100),
        });
        assert.equal(readRecordBatchHeader(batch).crc, storedCrc(batch), 'the header reader finds the CRC field');
        assertAllAgree(covered(batch), storedCrc(batch), `${name} batch ${index}`);
        covers.push(covered(batch));
        stored.push(storedCrc(batch));

        // One flipped bit anywhere the CRC covers: the CRC no longer matches and the broker refuses it.
        const corrupt = Buffer.from(batch);
        const position = CRC_COVERS_FROM + Math.floor(next() * (batch.length - CRC_COVERS_FROM));
        corrupt[position]! ^= 1 << Math.floor(next() * 8);
        assert.notEqual(kafkajsCrc(covered(corrupt)) >>> 0, storedCrc(batch), `${name} batch ${index}: corruption at ${position} changes the CRC`);
        await assert.rejects(decodeRecordBatch(corrupt), `${name} batch ${index}: corruption at ${position} is refused`);
      }
      if (hasKafkaPython) assert.deepEqual(pythonCrcs(covers), stored, `${name}: kafka-python`);
    });
  }

  it('batches real clients sent (golden Produce requests) and Conveyor served (golden Fetch responses)', () => {
    const goldenDir = new URL('golden/', import.meta.url);
    const index = JSON.parse(readFileSync(new URL('index.json', goldenDir), 'utf8')) as GoldenEntry[];
    const covers: Buffer[] = [];
    const stored: number[] = [];
    let batches = 0;
    for (const entry of index.filter((candidate) => (candidate.api === 'Produce' && candidate.direction === 'request') || (candidate.api === 'Fetch' && candidate.direction === 'response'))) {
      const frame = Buffer.from(readFileSync(new URL(`${entry.file}.hex`, goldenDir), 'utf8').trim(), 'hex');
      const reader = new Reader(frame.subarray(4));
      const api = apiDescriptor(entry.apiKey)!;
      let records: (Buffer | null)[];
      if (entry.direction === 'request') {
        decodeRequestHeader(reader);
        const body = api.decodeRequest(reader, entry.version) as { topicData: { partitionData: { records: Buffer | null }[] }[] };
        records = body.topicData.flatMap((topic) => topic.partitionData.map((partition) => partition.records));
      } else {
        decodeResponseHeader(reader, responseHeaderVersion(entry.apiKey, entry.version));
        const body = api.decodeResponse(reader, entry.version) as { responses: { partitions: { records: Buffer | null }[] }[] };
        records = body.responses.flatMap((topic) => topic.partitions.map((partition) => partition.records));
      }
      for (const buffer of records) {
        if (buffer === null || buffer.length === 0) continue;
        for (const span of recordBatchSpans(buffer)) {
          assert.equal(readRecordBatchHeader(buffer, span.position).crc, storedCrc(buffer, span.position), 'the header reader finds the CRC field');
          assertAllAgree(covered(buffer, span.position), storedCrc(buffer, span.position), `${entry.file} batch at ${span.position}`);
          covers.push(covered(buffer, span.position));
          stored.push(storedCrc(buffer, span.position));
          batches++;
        }
      }
    }
    assert.ok(batches >= 10, `golden captures hold batches (found ${batches})`);
    if (hasKafkaPython) assert.deepEqual(pythonCrcs(covers), stored, 'kafka-python');
  });
});
