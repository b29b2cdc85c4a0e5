// Differences from Apache Kafka 4.x that real clients' own integration suites tripped over, each
// pinned by a test over TCP: internal topics created by whichever request needs them first.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { FindCoordinatorApi, MetadataApi } from '../../src/protocol/messages/index.js';
import { type TestBroker, startTestBroker, uniqueTopic } from './helpers.js';

const CONSUMER_OFFSETS = '__consumer_offsets';
const TRANSACTION_STATE = '__transaction_state';

async function topicExists(broker: TestBroker, topic: string): Promise<boolean> {
  const response = await broker.client.request(MetadataApi, 12, { topics: [{ topicId: null, name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  return response.topics[0]?.errorCode === ErrorCode.NONE;
}

describe('internal topics are created by the first request that needs them', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ config: { 'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 2 } });
  });
  after(async () => {
    await broker.close();
  });

  it('a kafkajs transactional producer sends offsets on a broker where no group ever looked up its coordinator', async () => {
    const topic = uniqueTopic('eos-fresh');
    assert.equal(await topicExists(broker, CONSUMER_OFFSETS), false, 'the broker starts without __consumer_offsets');
    const kafka = new Kafka({ clientId: 'eos-fresh', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ transactionalId: 'eos-fresh-tx', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ key: 'k', value: 'v' }] });
      // AddOffsetsToTxn is the first request to need __consumer_offsets: no FindCoordinator for a group came before it.
      await transaction.sendOffsets({ consumerGroupId: 'eos-fresh-group', topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }] });
      await transaction.commit();
      const committed = await admin.fetchOffsets({ groupId: 'eos-fresh-group', topics: [topic] });
      assert.deepEqual(
        committed[0]?.partitions.map(({ partition, offset }) => ({ partition, offset })),
        [{ partition: 0, offset: '7' }],
      );
      assert.equal(await topicExists(broker, CONSUMER_OFFSETS), true);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('FindCoordinator for a transactional id creates __transaction_state with its configured partitions', async () => {
    const fresh = await startTestBroker({ config: { 'transaction.state.log.num.partitions': 2 } });
    try {
      assert.equal(await topicExists(fresh, TRANSACTION_STATE), false);
      const response = await fresh.client.request(FindCoordinatorApi, 4, { keyType: 1, coordinatorKeys: ['txn-a'] });
      const coordinator = response.coordinators[0];
      assert.equal(coordinator?.errorCode, ErrorCode.NONE);
      assert.equal(coordinator?.nodeId, fresh.running.nodeId);
      const described = await fresh.client.request(MetadataApi, 12, { topics: [{ topicId: null, name: TRANSACTION_STATE }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.equal(described.topics[0]?.errorCode, ErrorCode.NONE);
      assert.equal(described.topics[0]?.partitions.length, 2);
      assert.equal(described.topics[0]?.isInternal, true);
    } finally {
      await fresh.close();
    }
  });
});
