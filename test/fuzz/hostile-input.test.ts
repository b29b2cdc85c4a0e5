// Hostile requests with a specific expected answer, beyond test/integration/produce-fetch.test.ts
// and admin.test.ts (which cover a bad CRC, a count mismatch, two batches, control batches,
// truncation, empty records, oversize): wrong magic, negative lengths and counts, impossible
// offset deltas, unknown codecs, garbage compressed payloads; each refused with Kafka's error and
// nothing appended. Invalid topic names, partition counts and configs get the Kafka error code
// and a message; empty and null topic names in Metadata get an answer in every version.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ZERO_UUID } from '../../src/base/uuid.js';
import { CreatePartitionsApi, MetadataApi } from '../../src/protocol/messages/index.js';
import { BatchField, rewriteCrc } from '../../src/protocol/records/batch-header.js';
import { type TestBroker, batchOf, createTopic, createTopics, fetchPartition, metadata, produce, startTestBroker, uniqueTopic } from '../integration/helpers.js';

/** A copy of `batch` changed by `edit`, with the CRC recomputed unless `keepCrc`. */
function edited(batch: Buffer, edit: (copy: Buffer) => void, keepCrc = false): Buffer {
  const copy = Buffer.from(batch);
  edit(copy);
  if (!keepCrc) rewriteCrc(copy);
  return copy;
}

/** The position of the first record's length varint: right after the 61-byte header. */
const FIRST_RECORD = 61;

const REFUSED = [ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE];

describe('hostile input', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  describe('bad record batches are refused with Kafka errors and nothing is appended', () => {
    const topic = uniqueTopic('hostile-batches');
    let good: Buffer;
    let snapshot: { highWatermark: bigint; records: Buffer | null };
    before(async () => {
      await createTopic(broker.client, topic, 1);
      good = batchOf(['one', 'two', 'three']);
      assert.equal((await produce(broker.client, topic, 0, good)).errorCode, ErrorCode.NONE);
      const data = await fetchPartition(broker.client, topic, 0, 0);
      snapshot = { highWatermark: data.highWatermark, records: data.records };
    });

    const cases: { name: string; accepted: number[]; records: () => Buffer }[] = [
      { name: 'magic 0', accepted: REFUSED, records: () => edited(good, (copy) => (copy[BatchField.magic] = 0)) },
      { name: 'magic 1', accepted: REFUSED, records: () => edited(good, (copy) => (copy[BatchField.magic] = 1)) },
      { name: 'magic 3', accepted: REFUSED, records: () => edited(good, (copy) => (copy[BatchField.magic] = 3)) },
      { name: 'a negative batch length', accepted: REFUSED, records: () => edited(good, (copy) => copy.writeInt32BE(-5, BatchField.length), true) },
      { name: 'a batch length past the end', accepted: REFUSED, records: () => edited(good, (copy) => copy.writeInt32BE(0x7fffff00, BatchField.length), true) },
      { name: 'a negative records count', accepted: [ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE], records: () => edited(good, (copy) => copy.writeInt32BE(-1, BatchField.recordsCount)) },
      { name: 'a records count of zero', accepted: [ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE], records: () => edited(good, (copy) => copy.writeInt32BE(0, BatchField.recordsCount)) },
      { name: 'a negative last offset delta', accepted: [ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE], records: () => edited(good, (copy) => copy.writeInt32BE(-3, BatchField.lastOffsetDelta)) },
      { name: "a record length of -1 (zigzag 0x01)", accepted: [ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE], records: () => edited(good, (copy) => (copy[FIRST_RECORD] = 0x01)) },
      { name: 'a record length varint that never ends', accepted: [ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE], records: () => edited(good, (copy) => copy.fill(0xff, FIRST_RECORD, FIRST_RECORD + 6)) },
      { name: 'compression codec 7', accepted: [ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, ErrorCode.INVALID_RECORD, ErrorCode.CORRUPT_MESSAGE], records: () => edited(good, (copy) => copy.writeInt16BE(0x07, BatchField.attributes)) },
      { name: 'a gzip flag over uncompressed bytes', accepted: [ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_RECORD], records: () => edited(good, (copy) => copy.writeInt16BE(0x01, BatchField.attributes)) },
      { name: 'a zstd flag over uncompressed bytes (zstd itself refused below v7)', accepted: [ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_RECORD, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE], records: () => edited(good, (copy) => copy.writeInt16BE(0x04, BatchField.attributes)) },
      { name: 'a control batch that is not transactional', accepted: [ErrorCode.INVALID_RECORD], records: () => edited(good, (copy) => copy.writeInt16BE(0x20, BatchField.attributes)) },
      { name: 'garbage after a whole batch', accepted: REFUSED, records: () => Buffer.concat([good, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])]) },
    ];
    for (const { name, accepted, records } of cases) {
      it(name, async () => {
        for (const version of [3, 9, 11]) {
          const result = await produce(broker.client, topic, 0, records(), { version });
          assert.ok(accepted.includes(result.errorCode), `v${version}: expected one of ${accepted}, got ${result.errorCode} (${result.errorMessage})`);
          assert.equal(result.baseOffset, -1n);
        }
        const data = await fetchPartition(broker.client, topic, 0, 0);
        assert.equal(data.highWatermark, snapshot.highWatermark, 'high watermark unchanged');
        assert.ok(data.records && snapshot.records && data.records.equals(snapshot.records), 'log bytes unchanged');
      });
    }
  });

  describe('invalid topics, partition counts and configs get the Kafka error and a message', () => {
    const names = ['', '.', '..', 'x'.repeat(250), 'a/b', 'tópico', 'a\u0000b', 'has space'];
    for (const name of names) {
      it(`topic name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}…(${name.length})` : name)}: INVALID_TOPIC_EXCEPTION`, async () => {
        const result = (await createTopics(broker.client, [{ name }])).topics[0];
        assert.equal(result?.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, result?.errorMessage ?? '');
        assert.ok((result?.errorMessage ?? '').length > 0, 'a message says why');
      });
    }

    for (const numPartitions of [0, -2, 100_001, 2_147_483_647]) {
      it(`${numPartitions} partitions: INVALID_PARTITIONS`, async () => {
        const result = (await createTopics(broker.client, [{ name: uniqueTopic('partitions'), numPartitions }])).topics[0];
        assert.equal(result?.errorCode, ErrorCode.INVALID_PARTITIONS, result?.errorMessage ?? '');
        assert.ok((result?.errorMessage ?? '').length > 0, 'a message says why');
      });
    }

    it('CreatePartitions beyond the per-topic maximum: INVALID_PARTITIONS, topic unchanged', async () => {
      const name = uniqueTopic('grow');
      await createTopic(broker.client, name, 1);
      const response = await broker.client.request(CreatePartitionsApi, 3, { topics: [{ name, count: 2_000_000, assignments: null }], timeoutMs: 5_000, validateOnly: false });
      assert.equal(response.results[0]?.errorCode, ErrorCode.INVALID_PARTITIONS, response.results[0]?.errorMessage ?? '');
      assert.equal((await metadata(broker.client, [name])).topics[0]?.partitions.length, 1);
    });

    const configs: Record<string, string>[] = [
      { 'no.such.config': '1' },
      { 'retention.ms': 'banana' },
      { 'segment.bytes': '1' },
      { 'cleanup.policy': 'shred' },
      { 'max.message.bytes': '-7' },
      { 'flush.messages': '0' },
    ];
    for (const config of configs) {
      const [key, value] = Object.entries(config)[0]!;
      it(`config ${key}=${value}: INVALID_CONFIG naming the key`, async () => {
        const result = (await createTopics(broker.client, [{ name: uniqueTopic('config'), configs: config }])).topics[0];
        assert.equal(result?.errorCode, ErrorCode.INVALID_CONFIG, result?.errorMessage ?? '');
        assert.match(result?.errorMessage ?? '', new RegExp(key.replaceAll('.', '\\.')));
      });
    }
  });

  // Found by the live fuzzer: the Metadata handler used to answer an empty topic name (v1-v11) or a
  // null one (v10-v11) with a null name, which those versions cannot encode, so the connection was
  // closed instead of answered. Every version is asked on one connection: a close fails the next.
  it('Metadata with an empty or null topic name is answered in every version, not closed', async () => {
    const client = await broker.connect();
    for (let version = 1; version <= 12; version += 1) {
      const response = await metadata(client, [''], version);
      assert.equal(response.topics.length, 1, `v${version}`);
      assert.equal(response.topics[0]?.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, `v${version}: an empty name is an invalid topic`);
      assert.equal(response.topics[0]?.name, '', `v${version}: the name asked for`);
    }
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    for (let version = 10; version <= 12; version += 1) {
      const byNull = await client.request(MetadataApi, version, { topics: [{ name: null, topicId: ZERO_UUID }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.equal(byNull.topics[0]?.errorCode, ErrorCode.INVALID_REQUEST, `v${version}: neither name nor id`);
      const byId = await client.request(MetadataApi, version, { topics: [{ name: null, topicId: unknownId }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.equal(byId.topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_ID, `v${version}: an unknown id`);
      assert.equal(byId.topics[0]?.name, version >= 12 ? null : '', `v${version}: the name it can encode`);
    }
  });
});
