// Compaction against a running broker: 100,000 records over 1,000 keys, then tombstones for 100 of
// them. After the cleaner runs, exactly the latest value of each live key remains at the offset it
// was produced at, offsets increase, and the tombstones are gone once delete.retention.ms passed.
// How long the tombstones stay visible depends on how fast the cleaner runs (a loaded machine may
// finish the last pass after their horizon), so that window is checked against the wall clock here
// and exactly, with a manual clock, in src/log/cleaner/log-cleaner.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import type { DecodedBatch } from '../../src/protocol/records/record-batch.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { type TestBroker, createTopic, produce, produceOk, readAll, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from './helpers.js';

const KEYS = 1_000;
const RECORDS = 100_000;
const PER_BATCH = 500;
const TOMBSTONED_KEYS = 100;
const DELETE_RETENTION_MS = 1_500;

interface Latest {
  offset: number;
  value: string | null;
}

function summarize(batches: DecodedBatch[]): { byKey: Map<string, Latest[]>; offsets: number[] } {
  const byKey = new Map<string, Latest[]>();
  const offsets: number[] = [];
  for (const batch of batches) {
    for (const record of batch.records) {
      const key = record.key!.toString();
      if (!key.startsWith('key-')) continue;
      offsets.push(record.offset);
      byKey.set(key, [...(byKey.get(key) ?? []), { offset: record.offset, value: record.value?.toString() ?? null }]);
    }
  }
  return { byKey, offsets };
}

describe('compaction of 100,000 records over 1,000 keys', () => {
  let broker: TestBroker;
  let dataDir: { path: string; remove(): Promise<void> };

  before(async () => {
    dataDir = await temporaryDirectory();
    broker = await startTestBroker({ storage: 'disk', dataDir: dataDir.path, config: { 'log.cleaner.backoff.ms': 100 } });
  });

  after(async () => {
    await broker?.close();
    await dataDir?.remove();
  });

  it('keeps the latest value per live key at its offset and drops tombstones after delete.retention.ms', async () => {
    const topic = uniqueTopic('compacted');
    await createTopic(broker.client, topic, 1, {
      'cleanup.policy': 'compact',
      'segment.bytes': String(256 * 1024),
      'min.cleanable.dirty.ratio': '0.1',
      'delete.retention.ms': String(DELETE_RETENTION_MS),
    });
    const expected = new Map<string, Latest>();
    for (let first = 0; first < RECORDS; first += PER_BATCH) {
      const records = Array.from({ length: PER_BATCH }, (_, index) => ({ key: Buffer.from(`key-${(first + index) % KEYS}`), value: Buffer.from(`value-${first + index}`) }));
      // Every other batch compressed: the cleaner must recompress with the same codec.
      const compression = (first / PER_BATCH) % 2 === 0 ? CompressionType.none : CompressionType.lz4;
      const baseOffset = await produceOk(broker.client, topic, 0, buildRecordBatchSync(records, { compression }));
      records.forEach((record, index) => expected.set(record.key.toString(), { offset: baseOffset + index, value: record.value.toString() }));
    }
    const tombstones = Array.from({ length: TOMBSTONED_KEYS }, (_, index) => ({ key: Buffer.from(`key-${index * 10}`), value: null }));
    const tombstonesProducedAtMs = Date.now();
    const tombstoneBase = await produceOk(broker.client, topic, 0, buildRecordBatchSync(tombstones));
    tombstones.forEach((record, index) => expected.set(record.key.toString(), { offset: tombstoneBase + index, value: null }));
    // Records without a key are refused by a compacted topic, as Kafka refuses them.
    const keyless = await produce(broker.client, topic, 0, buildRecordBatchSync([{ value: Buffer.from('no key') }]));
    assert.equal(keyless.errorCode, ErrorCode.INVALID_RECORD);
    // Two large filler batches roll the segment, so every keyed record lies below the active one.
    for (let filler = 0; filler < 2; filler += 1) {
      await produceOk(broker.client, topic, 0, buildRecordBatchSync(Array.from({ length: 100 }, (_, index) => ({ key: Buffer.from(`filler-${filler}-${index}`), value: Buffer.alloc(1400, 0x66) }))));
    }

    // Cleaned: one record per key, the latest. The tombstones are still there unless their horizon
    // (delete.retention.ms after the pass that first saw them) has passed already.
    const cleaned = await waitFor(async () => {
      const { byKey, offsets } = summarize(await readAll(broker.client, topic, 0));
      const oneEach = [...byKey.values()].every((records) => records.length === 1);
      return oneEach && (byKey.size === KEYS || byKey.size === KEYS - TOMBSTONED_KEYS) ? { byKey, offsets, seenAtMs: Date.now() } : undefined;
    }, 'one record per key', 60_000);
    for (const [key, latest] of expected) {
      const held = cleaned.byKey.get(key)?.[0];
      if (latest.value === null && held === undefined) {
        const elapsedMs = cleaned.seenAtMs - tombstonesProducedAtMs;
        assert.ok(elapsedMs >= DELETE_RETENTION_MS, `the tombstone of ${key} went ${elapsedMs} ms after it was written, before delete.retention.ms`);
      } else {
        assert.deepEqual(held, latest, `${key} holds its latest record at its offset`);
      }
    }
    for (let index = 1; index < cleaned.offsets.length; index += 1) assert.ok(cleaned.offsets[index]! > cleaned.offsets[index - 1]!);

    // After delete.retention.ms the next pass removes the tombstones; live keys stay as they were.
    const final = await waitFor(async () => {
      const { byKey, offsets } = summarize(await readAll(broker.client, topic, 0));
      return byKey.size === KEYS - TOMBSTONED_KEYS ? { byKey, offsets } : undefined;
    }, 'tombstones to go after delete.retention.ms', 60_000);
    for (const [key, latest] of expected) {
      if (latest.value === null) assert.equal(final.byKey.has(key), false, `${key} was deleted`);
      else assert.deepEqual(final.byKey.get(key), [latest], `${key} keeps its latest record`);
    }
    for (let index = 1; index < final.offsets.length; index += 1) assert.ok(final.offsets[index]! > final.offsets[index - 1]!);
  });
});
