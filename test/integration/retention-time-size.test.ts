// Retention against a running broker: small segments, retention.ms and retention.bytes, a
// retention check every 100 ms. The earliest offset advances, a fetch below it gets
// OFFSET_OUT_OF_RANGE, and a real client (kcat, librdkafka) starting below it resets per
// auto.offset.reset=earliest and reads on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { runChecked } from '../support/process.js';
import {
  type TestBroker,
  createTopic,
  fetchPartition,
  listOffset,
  produceOk,
  readAll,
  startTestBroker,
  temporaryDirectory,
  uniqueTopic,
  valuesOf,
  waitFor,
} from './helpers.js';

const EARLIEST = -2;
const LATEST = -1;

function batchAt(prefix: string, count: number, timestampMs: number): Buffer {
  return buildRecordBatchSync(Array.from({ length: count }, (_, index) => ({ key: Buffer.from(`k${index}`), value: Buffer.from(`${prefix}-${index}-${'x'.repeat(80)}`), timestamp: timestampMs })));
}

describe('retention', () => {
  let broker: TestBroker;
  let dataDir: { path: string; remove(): Promise<void> };

  before(async () => {
    dataDir = await temporaryDirectory();
    broker = await startTestBroker({ storage: 'disk', dataDir: dataDir.path, config: { 'log.retention.check.interval.ms': 100, 'log.segment.delete.delay.ms': 50 } });
  });

  after(async () => {
    await broker?.close();
    await dataDir?.remove();
  });

  it('deletes segments past retention.ms; fetches below the start get OFFSET_OUT_OF_RANGE; kcat resets to earliest', async () => {
    const topic = uniqueTopic('retention-time');
    await createTopic(broker.client, topic, 1, { 'segment.bytes': '2048', 'retention.ms': '60000' });
    const hourAgo = Date.now() - 3_600_000;
    for (let round = 0; round < 20; round += 1) await produceOk(broker.client, topic, 0, batchAt(`old${round}`, 5, hourAgo));
    const firstRecent = await produceOk(broker.client, topic, 0, batchAt('recent0', 5, Date.now()));
    for (let round = 1; round < 5; round += 1) await produceOk(broker.client, topic, 0, batchAt(`recent${round}`, 5, Date.now()));
    const start = await waitFor(async () => {
      const earliest = Number((await listOffset(broker.client, topic, 0, EARLIEST)).offset);
      return earliest >= 90 ? earliest : undefined;
    }, 'the earliest offset to pass the expired records', 15_000);
    assert.ok(start <= firstRecent, `start ${start} keeps every recent record (first at ${firstRecent})`);
    assert.equal(Number((await listOffset(broker.client, topic, 0, LATEST)).offset), 125);
    const below = await fetchPartition(broker.client, topic, 0, 0);
    assert.equal(below.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(Number(below.logStartOffset), start);
    const values = valuesOf(await readAll(broker.client, topic, 0, start));
    assert.ok(values.filter((value) => value.startsWith('recent')).length === 25);
    // librdkafka asked for offset 0, gets OFFSET_OUT_OF_RANGE and resets to the earliest offset.
    const kcat = await runChecked('kcat', ['-C', '-b', broker.running.bootstrapServers, '-t', topic, '-p', '0', '-o', '0', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%o %s\\n'], { timeoutMs: 30_000 });
    const lines = kcat.stdout.trim().split('\n');
    assert.equal(Number(lines[0]!.split(' ')[0]), start, 'kcat starts at the new earliest offset');
    assert.equal(lines.filter((line) => line.includes(' recent')).length, 25);
    assert.equal(Number(lines.at(-1)!.split(' ')[0]), 124);
  });

  it('deletes the oldest segments beyond retention.bytes, keeping the newest data', async () => {
    const topic = uniqueTopic('retention-size');
    await createTopic(broker.client, topic, 1, { 'segment.bytes': '2048', 'retention.bytes': '8192', 'retention.ms': '-1' });
    for (let round = 0; round < 60; round += 1) await produceOk(broker.client, topic, 0, batchAt(`r${round}`, 4, Date.now()));
    // One retention pass deletes segment after segment, so wait until it is done, not just begun.
    let bytes = 0;
    const batches = await waitFor(async () => {
      const earliest = Number((await listOffset(broker.client, topic, 0, EARLIEST)).offset);
      if (earliest === 0) return undefined;
      // The pass may delete the segment being read meanwhile: OFFSET_OUT_OF_RANGE, look again.
      const kept = await readAll(broker.client, topic, 0, earliest).catch((error: unknown) => {
        if ((error as { actual?: unknown }).actual === ErrorCode.OFFSET_OUT_OF_RANGE) return undefined;
        throw error;
      });
      if (kept === undefined) return undefined;
      bytes = kept.reduce((sum, batch) => sum + batch.sizeInBytes, 0);
      return bytes <= 8192 + 2048 ? kept : undefined;
    }, 'retention to keep about retention.bytes', 15_000);
    assert.ok(bytes >= 8192 - 2048 && bytes <= 8192 + 2048, `bytes kept: ${bytes}`);
    assert.ok(valuesOf(batches).at(-1)!.startsWith('r59-3'), 'the newest record stays');
  });
});
