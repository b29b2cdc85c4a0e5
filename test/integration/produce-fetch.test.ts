// Produce and Fetch over TCP: batches of every codec come back byte-identical but for the two
// fields the broker stamps; malformed or oversized batches are refused with Kafka's error codes and
// leave the log untouched; Fetch long polling, MinBytes, KIP-74 sizing, partition echo, offset
// range errors, topic-id fetch, leader epoch checks and LogAppendTime topics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { FetchApi, ProduceApi, ZERO_UUID } from '../../src/protocol/messages/index.js';
import { BatchField, CompressionType, rewriteCrc } from '../../src/protocol/records/batch-header.js';
import { TimestampType, buildRecordBatchSync, recordBatchSpans } from '../../src/protocol/records/record-batch.js';
import type { RawClient } from '../support/raw-client.js';
import {
  type TestBroker,
  batchOf,
  createTopic,
  decodeBatches,
  fetchPartition,
  fetchRequest,
  metadata,
  produce,
  produceOk,
  startTestBroker,
  uniqueTopic,
  valuesOf,
  waitFor,
  withoutStampedFields,
} from './helpers.js';

/** The stored batch starting at `baseOffset` in a fetched records blob. */
function batchAt(records: Buffer | null, baseOffset: number): Buffer | undefined {
  if (!records) return undefined;
  for (const span of recordBatchSpans(records)) {
    const batch = records.subarray(span.position, span.position + span.sizeInBytes);
    if (Number(batch.readBigInt64BE(0)) === baseOffset) return batch;
  }
  return undefined;
}

function recordsLength(records: Buffer | null): number {
  return records?.length ?? 0;
}

async function leaderEpochOf(client: RawClient, topic: string, partition = 0): Promise<number> {
  const response = await metadata(client, [topic]);
  const epoch = response.topics[0]?.partitions.find((entry) => entry.partitionIndex === partition)?.leaderEpoch;
  assert.ok(epoch !== undefined && epoch >= 0, 'metadata reports a leader epoch');
  return epoch;
}

async function topicIdOf(client: RawClient, topic: string): Promise<string> {
  const response = await metadata(client, [topic]);
  const id = response.topics[0]?.topicId;
  assert.ok(id && id !== ZERO_UUID);
  return id;
}

describe('Produce', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  const codecs = [
    { name: 'none', codec: CompressionType.none, versions: [3, 7, 9, 11] },
    { name: 'gzip', codec: CompressionType.gzip, versions: [3, 9] },
    { name: 'snappy', codec: CompressionType.snappy, versions: [7, 9] },
    { name: 'lz4', codec: CompressionType.lz4, versions: [7, 11] },
    { name: 'zstd', codec: CompressionType.zstd, versions: [7, 11] },
  ];
  for (const { name, codec, versions } of codecs) {
    it(`stores ${name} batches unchanged but for base offset and leader epoch (produce v${versions.join(', v')})`, async () => {
      const topic = uniqueTopic(`codec-${name}`);
      await createTopic(broker.client, topic);
      const epoch = await leaderEpochOf(broker.client, topic);
      const sent: { offset: number; batch: Buffer }[] = [];
      for (const version of versions) {
        const batch = buildRecordBatchSync(
          Array.from({ length: 20 }, (_, index) => ({
            key: Buffer.from(`key-${index}`),
            value: Buffer.from(`value ${version}-${index} `.repeat(10)),
            timestamp: 1_700_000_000_000 + index,
            headers: [{ key: 'h', value: Buffer.from([index]) }],
          })),
          { compression: codec },
        );
        const offset = await produceOk(broker.client, topic, 0, batch, version);
        sent.push({ offset, batch });
      }
      assert.deepEqual(
        sent.map((entry) => entry.offset),
        sent.map((_, index) => index * 20),
      );
      const topicId = await topicIdOf(broker.client, topic);
      for (const fetchVersion of [4, 11, 12, 16]) {
        const data = await fetchPartition(broker.client, topic, 0, 0, { version: fetchVersion, ...(fetchVersion >= 13 ? { topicId } : {}) });
        assert.equal(data.errorCode, ErrorCode.NONE);
        assert.equal(data.highWatermark, BigInt(sent.length * 20));
        for (const { offset, batch } of sent) {
          const stored = batchAt(data.records, offset);
          assert.ok(stored, `fetch v${fetchVersion} returns the batch at ${offset}`);
          assert.equal(stored.readInt32BE(BatchField.partitionLeaderEpoch), epoch, 'the leader epoch is stamped');
          assert.ok(withoutStampedFields(stored).equals(withoutStampedFields(batch)), `batch at ${offset} is byte-identical`);
        }
        const decoded = decodeBatches(data.records);
        assert.equal(decoded.flatMap((batch) => batch.records).length, sent.length * 20);
        assert.ok(decoded.every((batch) => batch.compression === codec));
      }
    });
  }

  it('refuses zstd below produce v7 with UNSUPPORTED_COMPRESSION_TYPE', async () => {
    const topic = uniqueTopic('zstd-old');
    await createTopic(broker.client, topic);
    const result = await produce(broker.client, topic, 0, batchOf(['z'], { compression: CompressionType.zstd }), { version: 6 });
    assert.equal(result.errorCode, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });

  describe('refuses bad batches and leaves the log unchanged', () => {
    const topic = uniqueTopic('bad-batches');
    let good: Buffer;
    let snapshot: { highWatermark: bigint; records: Buffer | null };

    before(async () => {
      await createTopic(broker.client, topic, 1, { 'max.message.bytes': '2048' });
      good = batchOf(['one', 'two', 'three']);
      await produceOk(broker.client, topic, 0, good);
      const data = await fetchPartition(broker.client, topic, 0, 0);
      snapshot = { highWatermark: data.highWatermark, records: data.records };
    });

    async function assertUnchanged(): Promise<void> {
      const data = await fetchPartition(broker.client, topic, 0, 0);
      assert.equal(data.highWatermark, snapshot.highWatermark, 'high watermark unchanged');
      assert.ok(data.records && snapshot.records && data.records.equals(snapshot.records), 'log bytes unchanged');
    }

    const cases: { name: string; errorCode: number; records: () => Buffer }[] = [
      {
        name: 'a bad CRC gets CORRUPT_MESSAGE',
        errorCode: ErrorCode.CORRUPT_MESSAGE,
        records: () => {
          const copy = Buffer.from(good);
          copy[copy.length - 1]! ^= 0xff;
          return copy;
        },
      },
      {
        name: 'a records count that does not match the offset range gets INVALID_RECORD',
        errorCode: ErrorCode.INVALID_RECORD,
        records: () => {
          const copy = Buffer.from(good);
          copy.writeInt32BE(copy.readInt32BE(BatchField.recordsCount) + 1, BatchField.recordsCount);
          rewriteCrc(copy);
          return copy;
        },
      },
      {
        name: 'two batches in one partition get INVALID_RECORD',
        errorCode: ErrorCode.INVALID_RECORD,
        records: () => Buffer.concat([batchOf(['a']), batchOf(['b'])]),
      },
      {
        name: 'a control batch gets INVALID_RECORD',
        errorCode: ErrorCode.INVALID_RECORD,
        records: () => batchOf(['marker'], { control: true, transactional: true, producerId: 7, producerEpoch: 0 }),
      },
      {
        name: 'a truncated batch gets INVALID_RECORD or CORRUPT_MESSAGE',
        errorCode: ErrorCode.INVALID_RECORD,
        records: () => good.subarray(0, good.length - 5),
      },
      {
        name: 'an empty records field gets INVALID_RECORD',
        errorCode: ErrorCode.INVALID_RECORD,
        records: () => Buffer.alloc(0),
      },
      {
        name: 'a batch above max.message.bytes gets MESSAGE_TOO_LARGE',
        errorCode: ErrorCode.MESSAGE_TOO_LARGE,
        records: () => buildRecordBatchSync([{ value: Buffer.alloc(4000, 7) }]),
      },
    ];
    for (const { name, errorCode, records } of cases) {
      it(name, async () => {
        for (const version of [3, 9]) {
          const result = await produce(broker.client, topic, 0, records(), { version });
          const accepted = name.includes('truncated') ? [ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE] : [errorCode];
          assert.ok(accepted.includes(result.errorCode), `v${version}: expected ${accepted}, got ${result.errorCode} (${result.errorMessage})`);
          assert.equal(result.baseOffset, -1n);
        }
        await assertUnchanged();
      });
    }

    it('an unknown partition or topic gets UNKNOWN_TOPIC_OR_PARTITION', async () => {
      const unknownPartition = await produce(broker.client, topic, 7, batchOf(['x']));
      assert.equal(unknownPartition.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const unknownTopic = await produce(broker.client, uniqueTopic('nowhere'), 0, batchOf(['x']));
      assert.equal(unknownTopic.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      await assertUnchanged();
    });

    it('a bad partition does not stop a good one in the same request', async () => {
      const other = uniqueTopic('mixed');
      await createTopic(broker.client, other, 2);
      const response = await broker.client.request(ProduceApi, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          {
            name: other,
            partitionData: [
              { index: 0, records: batchOf(['kept']) },
              { index: 1, records: Buffer.concat([batchOf(['a']), batchOf(['b'])]) },
            ],
          },
        ],
      });
      const [first, second] = response.responses[0]!.partitionResponses;
      assert.equal(first?.errorCode, ErrorCode.NONE);
      assert.equal(second?.errorCode, ErrorCode.INVALID_RECORD);
      assert.deepEqual(valuesOf(decodeBatches((await fetchPartition(broker.client, other, 0, 0)).records)), ['kept']);
      assert.equal((await fetchPartition(broker.client, other, 1, 0)).highWatermark, 0n);
    });
  });
});

describe('Fetch', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  function waitingFetches(): number {
    return broker.running.broker.services.fetchWaiters.size;
  }

  it('a long poll returns as soon as data is appended', async () => {
    const topic = uniqueTopic('long-poll');
    await createTopic(broker.client, topic);
    const consumer = await broker.connect();
    const startedAt = performance.now();
    const pending = consumer.request(FetchApi, 12, fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 10_000, minBytes: 1 }));
    await waitFor(() => waitingFetches() > 0, 'the fetch to be parked');
    await produceOk(broker.client, topic, 0, batchOf(['wake up']));
    const response = await pending;
    const elapsedMs = performance.now() - startedAt;
    assert.deepEqual(valuesOf(decodeBatches(response.responses[0]!.partitions[0]!.records)), ['wake up']);
    assert.ok(elapsedMs < 5_000, `returned after ${Math.round(elapsedMs)} ms, well before MaxWaitMs 10000`);
  });

  it('returns empty after MaxWaitMs when nothing arrives', async () => {
    const topic = uniqueTopic('empty-poll');
    await createTopic(broker.client, topic);
    const startedAt = performance.now();
    const data = await fetchPartition(broker.client, topic, 0, 0, { maxWaitMs: 300, minBytes: 1 });
    const elapsedMs = performance.now() - startedAt;
    assert.equal(data.errorCode, ErrorCode.NONE);
    assert.equal(recordsLength(data.records), 0);
    assert.equal(data.highWatermark, 0n);
    assert.ok(elapsedMs >= 250, `waited ${Math.round(elapsedMs)} ms for MaxWaitMs 300`);
  });

  it('a fetch at the high watermark of a non-empty log also waits, then returns empty', async () => {
    const topic = uniqueTopic('at-end');
    await createTopic(broker.client, topic);
    await produceOk(broker.client, topic, 0, batchOf(['x']));
    const startedAt = performance.now();
    const data = await fetchPartition(broker.client, topic, 0, 1, { maxWaitMs: 300 });
    assert.equal(data.errorCode, ErrorCode.NONE);
    assert.equal(recordsLength(data.records), 0);
    assert.ok(performance.now() - startedAt >= 250);
  });

  it('respects MinBytes: waits while less is available and wakes once enough is appended', async () => {
    const topic = uniqueTopic('min-bytes');
    await createTopic(broker.client, topic);
    const small = batchOf(['small']);
    await produceOk(broker.client, topic, 0, small);
    const startedAt = performance.now();
    const partial = await fetchPartition(broker.client, topic, 0, 0, { maxWaitMs: 300, minBytes: 10_000 });
    assert.ok(performance.now() - startedAt >= 250, 'waited for MinBytes until MaxWaitMs');
    assert.deepEqual(valuesOf(decodeBatches(partial.records)), ['small'], 'then returned what there was');

    const consumer = await broker.connect();
    const big = buildRecordBatchSync([{ value: Buffer.alloc(3000, 1) }]);
    const pending = consumer.request(FetchApi, 12, fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 10_000, minBytes: small.length + 2 * big.length }));
    await waitFor(() => waitingFetches() > 0, 'the fetch to be parked');
    await produceOk(broker.client, topic, 0, big);
    await produceOk(broker.client, topic, 0, buildRecordBatchSync([{ value: Buffer.alloc(3000, 2) }]));
    const response = await pending;
    const data = response.responses[0]!.partitions[0]!;
    assert.ok(recordsLength(data.records) >= small.length + 2 * big.length, 'returned once MinBytes had accumulated');
    assert.ok(performance.now() - startedAt < 8_000);
  });

  it('returns the first batch whole even when it exceeds PartitionMaxBytes and MaxBytes (KIP-74)', async () => {
    const topic = uniqueTopic('kip74');
    await createTopic(broker.client, topic);
    const large = buildRecordBatchSync([{ value: Buffer.alloc(5000, 3) }, { value: Buffer.alloc(5000, 4) }]);
    await produceOk(broker.client, topic, 0, large);
    await produceOk(broker.client, topic, 0, batchOf(['after']));
    const partitionLimited = await fetchPartition(broker.client, topic, 0, 0, { partitionMaxBytes: 100 });
    const whole = batchAt(partitionLimited.records, 0);
    assert.ok(whole && whole.length === large.length, 'the whole first batch is returned');
    assert.equal(decodeBatches(partitionLimited.records).length, 1, 'and no further complete batch');
    const requestLimited = await fetchPartition(broker.client, topic, 0, 0, { maxBytes: 100, partitionMaxBytes: 1_000_000 });
    assert.equal(batchAt(requestLimited.records, 0)?.length, large.length);
    const fromMiddle = await fetchPartition(broker.client, topic, 0, 1, { partitionMaxBytes: 100 });
    assert.equal(batchAt(fromMiddle.records, 0)?.length, large.length, 'a batch starting before the fetch offset is returned whole');
  });

  it('echoes every requested partition in request order, unknown ones with an error', async () => {
    const topic = uniqueTopic('echo');
    await createTopic(broker.client, topic, 2);
    await produceOk(broker.client, topic, 1, batchOf(['in one']));
    const missing = uniqueTopic('missing');
    const request = fetchRequest(topic, [
      { partition: 1, fetchOffset: 0 },
      { partition: 9, fetchOffset: 0 },
      { partition: 0, fetchOffset: 0 },
    ]);
    request.topics.push({ topic: missing, partitions: [{ ...request.topics[0]!.partitions[0]!, partition: 0 }] });
    const response = await broker.client.request(FetchApi, 12, request);
    assert.deepEqual(
      response.responses.map((entry) => [entry.topic, entry.partitions.map((partition) => [partition.partitionIndex, partition.errorCode])]),
      [
        [
          topic,
          [
            [1, ErrorCode.NONE],
            [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
            [0, ErrorCode.NONE],
          ],
        ],
        [missing, [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ],
    );
    assert.deepEqual(valuesOf(decodeBatches(response.responses[0]!.partitions[0]!.records)), ['in one']);
  });

  it('answers OFFSET_OUT_OF_RANGE above the log end and below the log start', async () => {
    const topic = uniqueTopic('range');
    await createTopic(broker.client, topic);
    for (const value of ['a', 'b', 'c', 'd']) await produceOk(broker.client, topic, 0, batchOf([value]));
    const above = await fetchPartition(broker.client, topic, 0, 5);
    assert.equal(above.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(recordsLength(above.records), 0);
    const negative = await fetchPartition(broker.client, topic, 0, -1);
    assert.equal(negative.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    // No API moves the log start offset yet (DeleteRecords, retention), so move it from inside.
    const log = broker.running.broker.services.replicaManager.get(topic, 0)!.log;
    assert.ok(log.maybeIncrementLogStartOffset(2));
    const below = await fetchPartition(broker.client, topic, 0, 1);
    assert.equal(below.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(below.logStartOffset, 2n);
    const atStart = await fetchPartition(broker.client, topic, 0, 2);
    assert.equal(atStart.errorCode, ErrorCode.NONE);
    assert.deepEqual(valuesOf(decodeBatches(atStart.records)), ['c', 'd']);
  });

  for (const version of [13, 15, 17]) {
    it(`fetch v${version} names topics by id; an unknown id gets UNKNOWN_TOPIC_ID`, async () => {
      const topic = uniqueTopic(`by-id-${version}`);
      await createTopic(broker.client, topic);
      await produceOk(broker.client, topic, 0, batchOf(['by id']));
      const topicId = await topicIdOf(broker.client, topic);
      const request = fetchRequest('', [{ partition: 0, fetchOffset: 0 }], { topicId });
      const response = await broker.client.request(FetchApi, version, request);
      assert.equal(response.responses[0]?.topicId, topicId);
      assert.equal(response.responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
      assert.deepEqual(valuesOf(decodeBatches(response.responses[0]!.partitions[0]!.records)), ['by id']);
      const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
      const unknown = await broker.client.request(FetchApi, version, fetchRequest('', [{ partition: 0, fetchOffset: 0 }], { topicId: unknownId }));
      assert.equal(unknown.responses[0]?.topicId, unknownId);
      assert.equal(unknown.responses[0]?.partitions[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    });
  }

  it('checks CurrentLeaderEpoch: older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH, equal or -1 is fine', async () => {
    const topic = uniqueTopic('epochs');
    await createTopic(broker.client, topic);
    await produceOk(broker.client, topic, 0, batchOf(['e']));
    const epoch = await leaderEpochOf(broker.client, topic);
    // With epoch 0 there is no older valid epoch; -2 is still "older" and is not the -1 sentinel.
    const older = epoch > 0 ? epoch - 1 : -2;
    const cases = [
      { currentLeaderEpoch: -1, errorCode: ErrorCode.NONE },
      { currentLeaderEpoch: epoch, errorCode: ErrorCode.NONE },
      { currentLeaderEpoch: older, errorCode: ErrorCode.FENCED_LEADER_EPOCH },
      { currentLeaderEpoch: epoch + 1, errorCode: ErrorCode.UNKNOWN_LEADER_EPOCH },
    ];
    for (const { currentLeaderEpoch, errorCode } of cases) {
      for (const version of [9, 12]) {
        const data = await fetchPartition(broker.client, topic, 0, 0, { currentLeaderEpoch, version, maxWaitMs: 5_000 });
        assert.equal(data.errorCode, errorCode, `v${version} epoch ${currentLeaderEpoch} (current ${epoch})`);
        if (errorCode !== ErrorCode.NONE) assert.equal(recordsLength(data.records), 0);
      }
    }
  });

  it('stamps the append time on LogAppendTime topics and keeps the CRC valid', async () => {
    const topic = uniqueTopic('append-time');
    await createTopic(broker.client, topic, 1, { 'message.timestamp.type': 'LogAppendTime' });
    const createTime = 1_000_000_000_000;
    const before = Date.now();
    const batch = buildRecordBatchSync([
      { value: Buffer.from('first'), timestamp: createTime },
      { value: Buffer.from('second'), timestamp: createTime + 5 },
    ]);
    const result = await produce(broker.client, topic, 0, batch);
    const afterMs = Date.now();
    assert.equal(result.errorCode, ErrorCode.NONE);
    const appendTime = Number(result.logAppendTimeMs);
    assert.ok(appendTime >= before - 5 && appendTime <= afterMs + 5, `logAppendTimeMs ${appendTime} is the broker's clock`);
    const data = await fetchPartition(broker.client, topic, 0, 0);
    const [stored] = decodeBatches(data.records);
    assert.ok(stored, 'the batch decodes with a valid CRC');
    assert.equal(stored.timestampType, TimestampType.logAppendTime);
    assert.equal(stored.maxTimestamp, appendTime);
    assert.deepEqual(
      stored.records.map((record) => record.timestamp),
      [appendTime, appendTime],
    );
    const createTimeTopic = uniqueTopic('create-time');
    await createTopic(broker.client, createTimeTopic);
    const plain = await produce(broker.client, createTimeTopic, 0, batch);
    assert.equal(plain.logAppendTimeMs, -1n, 'CreateTime topics answer -1');
  });
});
