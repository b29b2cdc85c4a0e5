// kafkajs 2.2.4 admin against Conveyor: createTopics with configs and validateOnly, describeConfigs
// (topic and broker, with synonyms), alterConfigs (AlterConfigs v1, replace semantics),
// createPartitions, deleteTopicRecords (DeleteRecords), fetchTopicOffsets after the delete, and
// an INVALID_CONFIG refusal that names the key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestBroker, startTestBroker } from '../../support/broker.js';
import { kafkajsClient } from '../../support/kafkajs.js';

/** kafkajs's ConfigResourceTypes (a CommonJS export that ESM cannot import by name). */
const ConfigResourceTypes = { TOPIC: 2, BROKER: 4 } as const;

describe('kafkajs admin', { timeout: 60_000 }, () => {
  let broker: TestBroker;
  let admin: ReturnType<ReturnType<typeof kafkajsClient>['admin']>;
  before(async () => {
    broker = await startTestBroker();
    admin = kafkajsClient(broker.bootstrapServers).admin();
    await admin.connect();
  });
  after(async () => {
    await admin.disconnect();
    await broker.close();
  });

  it('creates topics with configs, describes and alters them', async () => {
    // kafkajs waits for leaders even after validateOnly (its own quirk), so the dry run skips that.
    assert.equal(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'kjs-dry', configEntries: [{ name: 'retention.ms', value: '1000' }] }] }), true);
    assert.deepEqual((await admin.listTopics()).filter((name) => name === 'kjs-dry'), []);
    await admin.createTopics({ topics: [{ topic: 'kjs-configs', numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    const described = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-configs' }] });
    const entries = described.resources[0]!.configEntries;
    const cleanup = entries.find((entry) => entry.configName === 'cleanup.policy')!;
    assert.equal(cleanup.configValue, 'compact');
    assert.equal(cleanup.isDefault, false);
    assert.ok(cleanup.configSynonyms.some((synonym) => synonym.configName === 'log.cleanup.policy'));
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-configs', configEntries: [{ name: 'retention.ms', value: '86400000' }] }] });
    const altered = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-configs', configNames: ['retention.ms', 'cleanup.policy'] }] });
    const values = new Map(altered.resources[0]!.configEntries.map((entry) => [entry.configName, entry.configValue]));
    assert.equal(values.get('retention.ms'), '86400000');
    assert.equal(values.get('cleanup.policy'), 'delete', 'AlterConfigs replaces the whole set of overrides');
    await assert.rejects(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'kjs-configs', configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }),
      (error: Error & { type?: string }) => error.type === 'INVALID_CONFIG' || /retention\.ms|INVALID_CONFIG|invalid/i.test(error.message),
    );
  });

  it('describes the broker', async () => {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: String(broker.running.nodeId) }] });
    const entries = new Map(described.resources[0]!.configEntries.map((entry) => [entry.configName, entry]));
    assert.equal(entries.get('num.partitions')?.configValue, '1');
    assert.equal(entries.get('listeners')?.readOnly, false, 'Kafka updates listeners per broker at run time');
    assert.equal(entries.get('log.dirs')?.readOnly, true);
  });

  it('adds partitions and deletes records', async () => {
    await admin.createTopics({ topics: [{ topic: 'kjs-records', numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'kjs-records', count: 3 }] });
    assert.equal((await admin.fetchTopicMetadata({ topics: ['kjs-records'] })).topics[0]!.partitions.length, 3);
    const producer = kafkajsClient(broker.bootstrapServers).producer();
    await producer.connect();
    await producer.send({ topic: 'kjs-records', messages: Array.from({ length: 10 }, (_, index) => ({ partition: 0, value: `v${index}` })) });
    await producer.disconnect();
    await admin.deleteTopicRecords({ topic: 'kjs-records', partitions: [{ partition: 0, offset: '4' }] });
    const offsets = await admin.fetchTopicOffsets('kjs-records');
    const partition0 = offsets.find((entry) => entry.partition === 0)!;
    assert.equal(partition0.low, '4');
    assert.equal(partition0.high, '10');
  });
});
