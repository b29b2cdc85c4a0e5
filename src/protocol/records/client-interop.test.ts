// Interop with real client code: batches built by kafkajs, platformatic and kafka-python decode and
// validate here, and batches built here decode in those clients, for every codec each client has.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CompressionType } from './batch-header.js';
import type { RecordInput } from './record.js';
import { buildRecordBatch, decodeRecordBatch } from './record-batch.js';
import { validateProducedRecords } from './produce-validation.js';

const require = createRequire(import.meta.url);
const OPTIONS = { maxMessageBytes: 1024 * 1024, produceVersion: 9, maxDecompressedBytes: 16 * 1024 * 1024 };
const T0 = 1_700_000_000_000;
const PYTHON = '/usr/bin/python3';

/** Compressible values, because kafka-python sends a batch uncompressed when compression does not pay. */
const sample = Array.from({ length: 6 }, (_, index) => ({
  timestamp: T0 + index * 3,
  key: index === 2 ? null : Buffer.from(`key-${index}`),
  value: index === 4 ? null : Buffer.from(`value ${index} `.repeat(20)),
  headers: index % 2 === 0 ? [{ key: `header-${index}`, value: Buffer.from(`h${index}`) }] : [],
}));

interface Expected {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

function expected(records: readonly RecordInput[], baseOffset = 0): Expected[] {
  return records.map((record, index) => ({
    offset: baseOffset + index,
    timestamp: record.timestamp!,
    key: record.key ?? null,
    value: record.value ?? null,
    headers: record.headers ?? [],
  }));
}

async function assertDecodesHere(batch: Buffer, records: readonly RecordInput[], compression: number): Promise<void> {
  assert.deepEqual(await validateProducedRecords(batch, OPTIONS), { errorCode: 0 });
  const decoded = await decodeRecordBatch(batch);
  assert.equal(decoded.compression, compression);
  assert.deepEqual(
    decoded.records.map(({ offset, timestamp, key, value, headers }) => ({ offset, timestamp, key, value, headers })),
    expected(records),
  );
}

describe('kafkajs 2.2.4 (its own RecordBatch v0 encoder and decoder)', () => {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
  const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
  const Decoder = require('kafkajs/src/protocol/decoder');
  const Long = require('kafkajs/src/utils/long');
  // kafkajs headers are an object, so null header values and repeated keys stay out of this sample.
  const kafkajsSample = sample.map((record) => ({ ...record, value: record.value ?? Buffer.from('v') }));

  async function kafkajsBatch(compression: number): Promise<Buffer> {
    const records = kafkajsSample.map((record, index) =>
      Record({
        offsetDelta: index,
        timestampDelta: record.timestamp - T0,
        key: record.key,
        value: record.value,
        headers: Object.fromEntries(record.headers.map((header) => [header.key, header.value])),
      }),
    );
    const encoder = await RecordBatch({
      compression,
      firstOffset: Long.fromInt(0),
      firstTimestamp: T0,
      maxTimestamp: T0 + 15,
      lastOffsetDelta: records.length - 1,
      producerId: Long.fromValue(-1),
      producerEpoch: 0,
      firstSequence: 0,
      records,
    });
    return encoder.buffer;
  }

  for (const compression of [CompressionType.none, CompressionType.gzip]) {
    it(`codec ${compression}: kafkajs batches validate and decode here`, async () => {
      await assertDecodesHere(await kafkajsBatch(compression), kafkajsSample, compression);
    });

    it(`codec ${compression}: our batches decode in kafkajs`, async () => {
      const batch = await buildRecordBatch(sample, { compression, producerId: 9, producerEpoch: 2, baseSequence: 5 });
      const decoded = await decodeBatch(new Decoder(batch));
      assert.equal(decoded.producerId, '9');
      assert.equal(decoded.firstSequence, 5);
      assert.deepEqual(
        decoded.records.map((record: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: object }) => ({
          offset: Number(record.offset),
          timestamp: Number(record.timestamp),
          key: record.key,
          value: record.value,
          headers: record.headers,
        })),
        expected(sample).map((record) => ({
          ...record,
          headers: Object.fromEntries(record.headers.map((header) => [header.key, header.value])),
        })),
      );
    });
  }
});

describe('@platformatic/kafka (its records module)', async () => {
  const root = require.resolve('@platformatic/kafka').replace(/dist\/index\.js$/, 'dist/protocol/');
  const records = await import(pathToFileURL(`${root}records.js`).href);
  const { Reader } = await import(pathToFileURL(`${root}reader.js`).href);
  const names: [string, number][] = [['none', 0], ['gzip', 1], ['snappy', 2], ['lz4', 3]];

  for (const [name, compression] of names) {
    it(`${name}: platformatic batches (raw snappy, wasm lz4) validate and decode here`, async () => {
      const messages = sample.map((record) => ({
        key: record.key ?? undefined,
        value: record.value ?? undefined,
        timestamp: BigInt(record.timestamp),
        headers: new Map(record.headers.map((header) => [Buffer.from(header.key), header.value])),
        topic: 't',
      }));
      const batch: Buffer = records.createRecordsBatch(messages, { compression: name, producerId: 0n, producerEpoch: 0, firstSequence: 0 }).buffer;
      const decoded = await decodeRecordBatch(batch);
      assert.deepEqual(await validateProducedRecords(batch, OPTIONS), { errorCode: 0 });
      assert.equal(decoded.compression, compression);
      assert.deepEqual(decoded.records.map((record) => record.value?.toString() ?? null), sample.map((record) => record.value?.toString() ?? null));
    });

    it(`${name}: our batches (xerial snappy, lz4-napi frames) decode in platformatic`, async () => {
      const batch = await buildRecordBatch(sample, { compression });
      const decoded = records.readRecordsBatch(Reader.from(batch));
      assert.equal(decoded.records.length, sample.length);
      decoded.records.forEach((record: { offsetDelta: number; key: Buffer | null; value: Buffer | null; headers: [Buffer, Buffer][] }, index: number) => {
        assert.equal(record.offsetDelta, index);
        assert.deepEqual(record.key?.length ? record.key : null, sample[index]!.key);
        assert.deepEqual(record.value?.length ? record.value : null, sample[index]!.value);
        assert.deepEqual(record.headers.map(([key]) => key.toString()), sample[index]!.headers.map((header) => header.key));
      });
    });
  }
});

const PYTHON_HELPER = String.raw`
import json, sys
from kafka import codec
from kafka.record.default_records import DefaultRecordBatchBuilder, DefaultRecordBatch
request = json.load(sys.stdin)
hx = lambda b: None if b is None else bytes(b).hex()
un = lambda h: None if h is None else bytes.fromhex(h)
if request["mode"] == "codecs":
    print(json.dumps({"gzip": codec.has_gzip(), "snappy": codec.has_snappy(), "lz4": codec.has_lz4(), "zstd": codec.has_zstd()}))
elif request["mode"] == "build":
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=request["codec"], is_transactional=False,
        producer_id=request["producerId"], producer_epoch=0, base_sequence=request["baseSequence"], batch_size=1 << 20)
    for index, record in enumerate(request["records"]):
        headers = [(key, un(value)) for key, value in record["headers"]]
        builder.append(index, timestamp=record["timestamp"], key=un(record["key"]), value=un(record["value"]), headers=headers)
    print(bytes(builder.build()).hex())
else:
    batch = DefaultRecordBatch(bytearray.fromhex(request["batch"]))
    crc_valid = batch.validate_crc()
    records = [{"offset": r.offset, "timestamp": r.timestamp, "key": hx(r.key), "value": hx(r.value),
        "headers": [[k, hx(v)] for k, v in r.headers]} for r in batch]
    print(json.dumps({"crcValid": crc_valid, "compression": batch.compression_type, "records": records}))
`;

function python(request: object): string {
  const result = spawnSync(PYTHON, ['-c', PYTHON_HELPER], { input: JSON.stringify(request), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

const hasKafkaPython = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import kafka']).status === 0;

describe('kafka-python 2.0.2 (Debian python3-kafka)', { skip: !hasKafkaPython && 'needs /usr/bin/python3 with python3-kafka' }, () => {
  const available: { [codec: string]: boolean } = hasKafkaPython ? JSON.parse(python({ mode: 'codecs' })) : {};
  const codecs: [string, number][] = [['none', 0], ['gzip', 1], ['snappy', 2], ['lz4', 3], ['zstd', 4]];
  const toWire = sample.map((record) => ({
    timestamp: record.timestamp,
    key: record.key?.toString('hex') ?? null,
    value: record.value?.toString('hex') ?? null,
    headers: record.headers.map((header) => [header.key, header.value?.toString('hex') ?? null]),
  }));

  for (const [name, compression] of codecs) {
    const skip = name !== 'none' && !available[name] && `kafka-python lacks ${name} here (Debian package python3-${name === 'zstd' ? 'zstandard' : name})`;

    it(`${name}: kafka-python batches validate and decode here`, { skip }, async () => {
      const batch = Buffer.from(python({ mode: 'build', codec: compression, records: toWire, producerId: 21, baseSequence: 3 }), 'hex');
      await assertDecodesHere(batch, sample, compression);
    });

    it(`${name}: our batches decode in kafka-python with a valid CRC`, { skip }, async () => {
      const batch = await buildRecordBatch(sample, { compression });
      const decoded = JSON.parse(python({ mode: 'decode', batch: batch.toString('hex') }));
      assert.equal(decoded.crcValid, true);
      assert.equal(decoded.compression, compression);
      assert.deepEqual(decoded.records, toWire.map((record, index) => ({ offset: index, ...record })));
    });
  }
});

// Random contents (seeded), every codec each client can read: batch header fields and records
// decoded by the clients' own decoders. Neither JavaScript client checks CRCs when decoding; the
// CRCs are cross-checked against client implementations in test/protocol/crc-cross-check.test.ts.
describe('random batches built here, decoded by kafkajs and platformatic', async () => {
  const decodeKafkajs = require('kafkajs/src/protocol/recordBatch/v0/decoder');
  const KafkajsDecoder = require('kafkajs/src/protocol/decoder');
  const root = require.resolve('@platformatic/kafka').replace(/dist\/index\.js$/, 'dist/protocol/');
  const platformaticRecords = await import(pathToFileURL(`${root}records.js`).href);
  const { Reader: PlatformaticReader } = await import(pathToFileURL(`${root}reader.js`).href);

  function seeded(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 4294967296;
    };
  }
  const bytes = (next: () => number, length: number) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
  /** Non-empty keys and values or null: platformatic reads a null as an empty buffer, so empty ones would be ambiguous. */
  function randomBatch(next: () => number) {
    const records = Array.from({ length: 1 + Math.floor(next() * 30) }, (_, index) => ({
      timestamp: T0 + Math.floor(next() * 100_000),
      key: next() < 0.25 ? null : bytes(next, 1 + Math.floor(next() * 30)),
      value: next() < 0.1 ? null : bytes(next, 1 + Math.floor(next() * 2000)),
      headers: Array.from({ length: Math.floor(next() * 3) }, (_, header) => ({ key: `h${index}-${header}`, value: bytes(next, 1 + Math.floor(next() * 10)) })),
    }));
    const options = {
      baseOffset: Math.floor(next() * 1e9),
      producerId: Math.floor(next() * 1e9),
      producerEpoch: Math.floor(next() * 1000),
      baseSequence: Math.floor(next() * 1e6),
      partitionLeaderEpoch: Math.floor(next() * 1000),
      transactional: next() < 0.5,
    };
    return { records, options };
  }
  const clients: [string, number[], (batch: Buffer) => Promise<object>][] = [
    [
      'kafkajs',
      [CompressionType.none, CompressionType.gzip],
      async (batch) => {
        const decoded = await decodeKafkajs(new KafkajsDecoder(batch));
        return {
          baseOffset: Number(decoded.firstOffset),
          partitionLeaderEpoch: decoded.partitionLeaderEpoch,
          producerId: Number(decoded.producerId),
          producerEpoch: decoded.producerEpoch,
          baseSequence: decoded.firstSequence,
          transactional: decoded.inTransaction,
          maxTimestamp: Number(decoded.maxTimestamp),
          records: decoded.records.map((record: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: { [key: string]: Buffer } }) => ({
            offset: Number(record.offset),
            timestamp: Number(record.timestamp),
            key: record.key,
            value: record.value,
            headers: Object.entries(record.headers).map(([key, value]) => ({ key, value })),
          })),
        };
      },
    ],
    [
      'platformatic',
      [CompressionType.none, CompressionType.gzip, CompressionType.snappy, CompressionType.lz4],
      async (batch) => {
        const decoded = platformaticRecords.readRecordsBatch(PlatformaticReader.from(batch));
        const base = Number(decoded.firstOffset);
        return {
          baseOffset: base,
          partitionLeaderEpoch: decoded.partitionLeaderEpoch,
          producerId: Number(decoded.producerId),
          producerEpoch: decoded.producerEpoch,
          baseSequence: decoded.firstSequence,
          transactional: (decoded.attributes & 0x10) !== 0,
          maxTimestamp: Number(decoded.maxTimestamp),
          records: decoded.records.map((record: { offsetDelta: number; timestampDelta: bigint; key: Buffer | null; value: Buffer | null; headers: [Buffer, Buffer][] }) => ({
            offset: base + record.offsetDelta,
            timestamp: Number(decoded.firstTimestamp + BigInt(record.timestampDelta)),
            key: record.key?.length ? record.key : null,
            value: record.value?.length ? record.value : null,
            headers: record.headers.map(([key, value]) => ({ key: key.toString(), value })),
          })),
        };
      },
    ],
  ];

  for (const [client, codecs, decode] of clients) {
    for (const compression of codecs) {
      it(`${client}, codec ${compression}: 25 random batches decode to what was built`, async () => {
        const next = seeded(1000 * compression + client.length);
        for (let index = 0; index < 25; index++) {
          const { records, options } = randomBatch(next);
          const batch = await buildRecordBatch(records, { ...options, compression });
          assert.deepEqual(
            await decode(batch),
            {
              ...options,
              maxTimestamp: Math.max(...records.map((record) => record.timestamp)),
              records: records.map((record, offset) => ({ ...record, offset: options.baseOffset + offset })),
            },
            `${client} codec ${compression} batch ${index}`,
          );
        }
      });
    }
  }
});
