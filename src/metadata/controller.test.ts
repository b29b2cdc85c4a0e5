import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { Controller } from './controller.js';
import { MetadataImage } from './metadata-image.js';
import type { MetadataRecord } from './metadata-record.js';

function setup() {
  const image = new MetadataImage();
  const committed: MetadataRecord[] = [];
  const quorum = {
    async ensureActive() {},
    async append(records: MetadataRecord[]) {
      for (const record of records) {
        committed.push(record);
        image.apply(record);
      }
    },
  };
  const random = { nextInt: (bound: number) => randomInt(bound), bytes: (length: number) => randomBytes(length) };
  const controller = new Controller({ image, quorum, random, defaultNumPartitions: 1, defaultReplicationFactor: 1 });
  return { image, committed, controller };
}

const endpoint = { name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 };

test('creates a topic with partitions, configs and a non-zero topic id', async () => {
  const { image, controller } = setup();
  await controller.registerBroker(1, [endpoint], null);
  const [result] = await controller.createTopics(
    [{ name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }],
    false,
  );
  assert.equal(result!.errorCode, ErrorCode.NONE);
  assert.equal(result!.numPartitions, 3);
  const topic = image.topic('orders')!;
  assert.equal(topic.topicId, result!.topicId);
  assert.notEqual(topic.topicId, 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.deepEqual([...topic.partitions.keys()], [0, 1, 2]);
  assert.equal(topic.partitions.get(2)!.leader, 1);
  assert.equal(image.resourceConfigs(2, 'orders').get('retention.ms'), '1000');
});

test('refuses bad names, counts, factors, configs and duplicates with Kafka error codes', async () => {
  const { controller, committed } = setup();
  await controller.registerBroker(1, [endpoint], null);
  const base = { numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] };
  const results = await controller.createTopics(
    [
      { ...base, name: 'bad name!' },
      { ...base, name: 'zero', numPartitions: 0 },
      { ...base, name: 'rf', replicationFactor: 3 },
      { ...base, name: 'cfg', configs: [{ name: 'retention.ms', value: 'soon' }] },
      { ...base, name: 'unknown-cfg', configs: [{ name: 'no.such.key', value: '1' }] },
    ],
    false,
  );
  assert.deepEqual(
    results.map((result) => result.errorCode),
    [ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.INVALID_PARTITIONS, ErrorCode.INVALID_REPLICATION_FACTOR, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG],
  );
  assert.match(results[3]!.errorMessage!, /retention\.ms/);
  assert.equal(committed.filter((record) => record.type === 'Topic').length, 0);
  await controller.createTopics([{ ...base, name: 'once' }], false);
  const [again] = await controller.createTopics([{ ...base, name: 'once' }], false);
  assert.equal(again!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
});

test('validate-only creates nothing; concurrent creates of one name make one topic', async () => {
  const { image, controller } = setup();
  await controller.registerBroker(1, [endpoint], null);
  const request = { name: 't', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] };
  const [validated] = await controller.createTopics([request], true);
  assert.equal(validated!.errorCode, ErrorCode.NONE);
  assert.equal(image.topic('t'), undefined);
  const [first, second] = await Promise.all([controller.createTopics([request], false), controller.createTopics([request], false)]);
  assert.deepEqual([first![0]!.errorCode, second![0]!.errorCode].sort(), [ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS]);
});

test('deletes topics by name and id and grows partitions', async () => {
  const { image, controller } = setup();
  await controller.registerBroker(1, [endpoint], null);
  const [created] = await controller.createTopics([{ name: 'a', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
  const [grown] = await controller.createPartitions([{ name: 'a', count: 4, assignments: null }], false);
  const [shrink] = await controller.createPartitions([{ name: 'a', count: 2, assignments: null }], false);
  const duplicated = await controller.createPartitions(
    [
      { name: 'a', count: 6, assignments: null },
      { name: 'a', count: 7, assignments: null },
    ],
    false,
  );
  assert.equal(grown!.errorCode, ErrorCode.NONE);
  assert.equal(shrink!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.deepEqual(duplicated.map((result) => result.errorCode), [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  assert.equal(image.topic('a')!.partitions.size, 4);
  const [deleted, missing, missingId] = await controller.deleteTopics([
    { name: null, topicId: created!.topicId },
    { name: 'nope', topicId: null },
    { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
  ]);
  assert.equal(deleted!.errorCode, ErrorCode.NONE);
  assert.equal(missing!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(missingId!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  assert.equal(image.topic('a'), undefined);
});
