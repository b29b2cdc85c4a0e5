// controller_mutation_rate (KIP-599) enforced as Kafka 4 enforces it. Each client id below has its
// own quota; the bucket of a quota Q holds Q x 11 samples x 1 s tokens (Kafka's default controller
// window), so at Q = 0.5 a client may create, delete or add 5.5 partitions at once before it must
// wait. Strict versions (CreateTopics v6+, DeleteTopics v5+, CreatePartitions v3+) admit topics in
// request order while the bucket is not negative (a topic may take it below zero) and refuse the
// rest with THROTTLING_QUOTA_EXCEEDED and a throttle time; older versions do everything and answer
// with the throttle time. Topics with another error are not counted; validate-only requests are (as
// Kafka 4's controller counts them). A client without a quota is never held back, and the throttled
// connection is muted for the throttle time. A kafkajs admin (CreateTopics v3: permissive) gets its
// topics and is held back for the throttle time. Topics a Metadata request auto-creates are charged
// as a strict CreateTopics of the client's, as Kafka's broker sends one: over the quota a topic is
// not created and answered UNKNOWN_TOPIC_OR_PARTITION, with no throttle time and no mute. In a
// cluster the active controller enforces the quota of a request another broker forwarded, and that
// broker mutes its client's connection; a Metadata request to another broker sends its topics to
// the controller as the client's CreateTopics, charged there.
// Throttle times are only asserted positive; waits only from below (a mute can only be longer on a
// busy machine). Without enforcement every test here fails: no refusal, no throttle time, no wait.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ZERO_UUID } from '../../src/base/uuid.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { AlterClientQuotasApi, CreatePartitionsApi, CreateTopicsApi, DeleteTopicsApi, DescribeClientQuotasApi, MetadataApi } from '../../src/protocol/messages/index.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from './helpers.js';

const QUOTA = 0.5;
const MESSAGE = 'The throttling quota has been exceeded.';

interface NewTopic {
  name: string;
  numPartitions: number;
  replicationFactor?: number;
}

function createTopicsBody(topics: NewTopic[], validateOnly = false) {
  return {
    topics: topics.map(({ name, numPartitions, replicationFactor = 1 }) => ({ name, numPartitions, replicationFactor, assignments: [], configs: [] })),
    timeoutMs: 10_000,
    validateOnly,
  };
}

/** Sets controller_mutation_rate for each client id. */
async function setQuotas(admin: RawClient, quotas: Record<string, number>): Promise<void> {
  const response = await admin.request(AlterClientQuotasApi, 1, {
    entries: Object.entries(quotas).map(([clientId, value]) => ({ entity: [{ entityType: 'client-id', entityName: clientId }], ops: [{ key: 'controller_mutation_rate', value, remove: false }] })),
    validateOnly: false,
  });
  assert.deepEqual(
    response.entries.map(({ errorCode }) => errorCode),
    Object.keys(quotas).map(() => ErrorCode.NONE),
  );
}

async function topicNames(client: RawClient, names: string[]): Promise<Set<string>> {
  const response = await client.request(MetadataApi, 12, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  return new Set(response.topics.filter(({ errorCode }) => errorCode === ErrorCode.NONE).map(({ name }) => name!));
}

/** How long the connection takes to answer a Metadata request sent now: at least what is left of a mute. */
async function answerDelayMs(client: RawClient, clientId: string): Promise<number> {
  const sentAt = Date.now();
  await client.request(MetadataApi, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { clientId, timeoutMs: 60_000 });
  return Date.now() - sentAt;
}

describe('controller_mutation_rate on one broker', { timeout: 120_000 }, () => {
  let broker: RunningBroker;
  let admin: RawClient;
  const clients: RawClient[] = [];
  const connect = async () => {
    const client = await RawClient.connect('127.0.0.1', broker.broker.endpoints[0]!.port);
    clients.push(client);
    return client;
  };

  before(async () => {
    broker = await startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0' } });
    admin = await connect();
    await setQuotas(admin, {
      'strict-creator': QUOTA,
      'permissive-creator': QUOTA,
      validator: QUOTA,
      'strict-deleter': QUOTA,
      'permissive-deleter': QUOTA,
      'strict-grower': QUOTA,
      'permissive-grower': QUOTA,
      'kafkajs-admin': 1,
    });
  });
  after(async () => {
    for (const client of clients) await client.close();
    await broker?.close();
  });

  it('strict CreateTopics (v7): admits topics while tokens are left, refuses the rest with THROTTLING_QUOTA_EXCEEDED, and mutes the connection', async () => {
    const client = await connect();
    const response = await client.request(
      CreateTopicsApi,
      7,
      createTopicsBody([
        // Refused for its replication factor: its 10 partitions are not counted, or the next topic would be refused.
        { name: 'strict-bad', numPartitions: 10, replicationFactor: 3 },
        // 6 partitions of 5.5 tokens: admitted whole, the bucket goes to -0.5.
        { name: 'strict-big', numPartitions: 6 },
        { name: 'strict-small', numPartitions: 1 },
        { name: 'strict-other', numPartitions: 1 },
      ]),
      { clientId: 'strict-creator' },
    );
    assert.deepEqual(
      response.topics.map(({ name, errorCode }) => [name, errorCode]),
      [
        ['strict-bad', ErrorCode.INVALID_REPLICATION_FACTOR],
        ['strict-big', ErrorCode.NONE],
        ['strict-small', ErrorCode.THROTTLING_QUOTA_EXCEEDED],
        ['strict-other', ErrorCode.THROTTLING_QUOTA_EXCEEDED],
      ],
    );
    assert.equal(response.topics[2]!.errorMessage, MESSAGE);
    const answeredAt = Date.now();
    const throttleMs = response.throttleTimeMs ?? 0;
    assert.ok(throttleMs > 0, 'the refusal carries a throttle time');
    assert.deepEqual([...(await topicNames(admin, ['strict-big', 'strict-small']))], ['strict-big']);
    // The next request on the throttled connection is read only once the throttle time has passed.
    const leftMs = throttleMs - (Date.now() - answeredAt);
    const delayMs = await answerDelayMs(client, 'strict-creator');
    assert.ok(delayMs >= leftMs * 0.8, `answered after ${delayMs} ms, ${leftMs} ms of a ${throttleMs} ms throttle left`);
    // Then the bucket is back at zero: the refused topic goes through on a retry.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const retried = await client.request(CreateTopicsApi, 7, createTopicsBody([{ name: 'strict-small', numPartitions: 1 }]), { clientId: 'strict-creator' });
    assert.equal(retried.topics[0]!.errorCode, ErrorCode.NONE);
  });

  it('permissive CreateTopics (v5): creates every topic and answers with the throttle time', async () => {
    const client = await connect();
    const response = await client.request(
      CreateTopicsApi,
      5,
      createTopicsBody([
        { name: 'permissive-1', numPartitions: 4 },
        { name: 'permissive-2', numPartitions: 4 },
      ]),
      { clientId: 'permissive-creator' },
    );
    assert.deepEqual(
      response.topics.map(({ errorCode }) => errorCode),
      [ErrorCode.NONE, ErrorCode.NONE],
    );
    assert.ok((response.throttleTimeMs ?? 0) > 0, 'a permissive answer carries the throttle time');
    assert.equal((await topicNames(admin, ['permissive-1', 'permissive-2'])).size, 2);
  });

  it('counts validate-only CreateTopics, as Kafka 4 does: the quota refuses the next one', async () => {
    const client = await connect();
    const first = await client.request(CreateTopicsApi, 7, createTopicsBody([{ name: 'validated-1', numPartitions: 6 }], true), { clientId: 'validator' });
    assert.equal(first.topics[0]!.errorCode, ErrorCode.NONE);
    const second = await client.request(CreateTopicsApi, 7, createTopicsBody([{ name: 'validated-2', numPartitions: 1 }], true), { clientId: 'validator' });
    assert.equal(second.topics[0]!.errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
    assert.ok((second.throttleTimeMs ?? 0) > 0);
    assert.equal((await topicNames(admin, ['validated-1', 'validated-2'])).size, 0, 'validate-only creates nothing');
  });

  it('DeleteTopics: strict (v6) refuses the topics over the quota, permissive (v4) deletes all with a throttle time', async () => {
    for (const [name, numPartitions] of [['delete-big', 6], ['delete-small', 1], ['delete-p1', 4], ['delete-p2', 4]] as const) {
      const created = await admin.request(CreateTopicsApi, 7, createTopicsBody([{ name, numPartitions }]), { clientId: 'unlimited' });
      assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    }
    const strict = await (await connect()).request(
      DeleteTopicsApi,
      6,
      { topics: [{ name: 'delete-big', topicId: ZERO_UUID }, { name: 'delete-small', topicId: ZERO_UUID }], timeoutMs: 10_000 },
      { clientId: 'strict-deleter' },
    );
    const codes = new Map(strict.responses.map(({ name, errorCode, errorMessage }) => [name, [errorCode, errorMessage]]));
    assert.deepEqual(codes.get('delete-big')?.[0], ErrorCode.NONE);
    assert.deepEqual(codes.get('delete-small'), [ErrorCode.THROTTLING_QUOTA_EXCEEDED, MESSAGE]);
    assert.ok((strict.throttleTimeMs ?? 0) > 0);
    assert.deepEqual([...(await topicNames(admin, ['delete-big', 'delete-small']))], ['delete-small']);
    const permissive = await (await connect()).request(DeleteTopicsApi, 4, { topicNames: ['delete-p1', 'delete-p2'], timeoutMs: 10_000 }, { clientId: 'permissive-deleter' });
    assert.deepEqual(
      permissive.responses.map(({ errorCode }) => errorCode),
      [ErrorCode.NONE, ErrorCode.NONE],
    );
    assert.ok((permissive.throttleTimeMs ?? 0) > 0);
  });

  it('CreatePartitions: strict (v3) refuses the topics over the quota, permissive (v2) grows all with a throttle time', async () => {
    for (const name of ['grow-1', 'grow-2', 'grow-3', 'grow-4']) {
      const created = await admin.request(CreateTopicsApi, 7, createTopicsBody([{ name, numPartitions: 1 }]), { clientId: 'unlimited' });
      assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    }
    const grow = (name: string, count: number) => ({ name, count, assignments: null });
    const strict = await (await connect()).request(CreatePartitionsApi, 3, { topics: [grow('grow-1', 7), grow('grow-2', 2)], timeoutMs: 10_000, validateOnly: false }, { clientId: 'strict-grower' });
    assert.deepEqual(
      strict.results.map(({ name, errorCode }) => [name, errorCode]),
      [
        ['grow-1', ErrorCode.NONE],
        ['grow-2', ErrorCode.THROTTLING_QUOTA_EXCEEDED],
      ],
    );
    assert.ok((strict.throttleTimeMs ?? 0) > 0);
    const permissive = await (await connect()).request(CreatePartitionsApi, 2, { topics: [grow('grow-3', 5), grow('grow-4', 5)], timeoutMs: 10_000, validateOnly: false }, { clientId: 'permissive-grower' });
    assert.deepEqual(
      permissive.results.map(({ errorCode }) => errorCode),
      [ErrorCode.NONE, ErrorCode.NONE],
    );
    assert.ok((permissive.throttleTimeMs ?? 0) > 0);
    const partitions = await admin.request(MetadataApi, 12, { topics: ['grow-1', 'grow-2', 'grow-3', 'grow-4'].map((name) => ({ name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.deepEqual(
      partitions.topics.map(({ name, partitions: each }) => [name, each.length]),
      [
        ['grow-1', 7],
        ['grow-2', 1],
        ['grow-3', 5],
        ['grow-4', 5],
      ],
    );
  });

  it('never holds back a client id without a quota', async () => {
    const client = await connect();
    for (let round = 0; round < 3; round++) {
      const response = await client.request(CreateTopicsApi, 7, createTopicsBody([{ name: `unlimited-${round}`, numPartitions: 20 }]), { clientId: 'unlimited' });
      assert.equal(response.topics[0]!.errorCode, ErrorCode.NONE);
      assert.equal(response.throttleTimeMs, 0);
    }
  });

  it('a kafkajs admin (CreateTopics v3, permissive) gets its topics and waits for the throttle time before its next request', async () => {
    const kafkaAdmin = new Kafka({ clientId: 'kafkajs-admin', brokers: [`127.0.0.1:${broker.broker.endpoints[0]!.port}`], logLevel: logLevel.NOTHING }).admin();
    await kafkaAdmin.connect();
    try {
      // 16 partitions against a burst of 11 at 1 per second: the bucket goes to -5, a throttle of 5 s.
      // (Not waiting for leaders: that would wait out the throttle inside the first call.)
      assert.equal(await kafkaAdmin.createTopics({ topics: [{ topic: 'kafkajs-big', numPartitions: 16 }], waitForLeaders: false }), true);
      const startedAt = Date.now();
      assert.equal(await kafkaAdmin.createTopics({ topics: [{ topic: 'kafkajs-next', numPartitions: 1 }], waitForLeaders: false }), true);
      const waitedMs = Date.now() - startedAt;
      assert.ok(waitedMs >= 2000, `the next createTopics took ${waitedMs} ms: not held back`);
    } finally {
      await kafkaAdmin.disconnect();
    }
    assert.equal((await topicNames(admin, ['kafkajs-big', 'kafkajs-next'])).size, 2);
  });
});

describe('controller_mutation_rate on topics a Metadata request auto-creates', { timeout: 120_000 }, () => {
  let broker: RunningBroker;
  let admin: RawClient;
  const clients: RawClient[] = [];
  const connect = async () => {
    const client = await RawClient.connect('127.0.0.1', broker.broker.endpoints[0]!.port);
    clients.push(client);
    return client;
  };
  const autoCreate = (client: RawClient, names: string[], clientId: string) =>
    client.request(MetadataApi, 12, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false }, { clientId });

  before(async () => {
    // Each auto-created topic has 4 partitions: 4 tokens of the 5.5 a quota of 0.5 holds.
    broker = await startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'num.partitions': 4 } });
    admin = await connect();
    await setQuotas(admin, { 'auto-creator': QUOTA });
  });
  after(async () => {
    for (const client of clients) await client.close();
    await broker?.close();
  });

  it('charges each topic its partitions as a strict CreateTopics; a topic over the quota is UNKNOWN_TOPIC_OR_PARTITION, uncreated, with no throttle time or mute', async () => {
    const client = await connect();
    // 5.5 - 4 = 1.5 tokens left: the second topic is admitted and takes the bucket to -2.5 (5 s at
    // 0.5 per second); the third is refused. Counted per topic rather than per partition, all three would pass.
    const response = await autoCreate(client, ['auto-1', 'auto-2', 'auto-3'], 'auto-creator');
    assert.deepEqual(
      response.topics.map(({ name, errorCode, partitions }) => [name, errorCode, partitions.length]),
      [
        ['auto-1', ErrorCode.NONE, 4],
        ['auto-2', ErrorCode.NONE, 4],
        ['auto-3', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ],
    );
    // Kafka's Metadata answer carries no controller mutation throttle time, and the connection is not muted.
    assert.equal(response.throttleTimeMs, 0);
    assert.ok((await answerDelayMs(client, 'auto-creator')) < 2000, 'the connection was muted');
    assert.deepEqual([...(await topicNames(admin, ['auto-1', 'auto-2', 'auto-3']))], ['auto-1', 'auto-2']);
    // The same bucket as the client's CreateTopics: exhausted by the auto-creation.
    const created = await client.request(CreateTopicsApi, 7, createTopicsBody([{ name: 'auto-explicit', numPartitions: 1 }]), { clientId: 'auto-creator' });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
    assert.ok((created.throttleTimeMs ?? 0) > 0);
    // A client id without a quota auto-creates past what the quota would allow.
    const free = await autoCreate(client, ['free-1', 'free-2', 'free-3'], 'unlimited');
    assert.deepEqual(
      free.topics.map(({ errorCode }) => errorCode),
      [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE],
    );
    // A refused topic is not charged: asked again until the bucket is back at zero, it is then created.
    const retried = await waitFor(
      async () => {
        const again = await autoCreate(client, ['auto-3'], 'auto-creator');
        return again.topics[0]!.errorCode === ErrorCode.NONE && again;
      },
      'auto-3 created once the bucket refilled',
      30_000,
    );
    assert.equal(retried.topics[0]!.partitions.length, 4);
  });
});

describe('controller_mutation_rate on a request another broker forwarded', { timeout: 120_000 }, () => {
  let cluster: RunningCluster;
  let forwarding: string;
  const clients: RawClient[] = [];
  const connect = async (address: string) => {
    const [host, port] = address.split(':');
    const client = await RawClient.connect(host!, Number(port));
    clients.push(client);
    return client;
  };

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    const controllerId = cluster.activeController();
    forwarding = cluster.node(cluster.nodeIds.find((id) => id !== controllerId)!).bootstrapServer;
    const admin = await connect(forwarding);
    await setQuotas(admin, { 'forwarded-creator': QUOTA, 'forwarded-auto-creator': QUOTA });
    // The forwarding broker mutes by its own image's quotas: wait until it has the new one.
    await waitFor(async () => {
      const described = await admin.request(DescribeClientQuotasApi, 1, { components: [{ entityType: 'client-id', matchType: 0, match: 'forwarded-creator' }], strict: false });
      return (described.entries?.length ?? 0) > 0;
    }, 'the quota in the forwarding broker image');
  });
  after(async () => {
    for (const client of clients) await client.close();
    await cluster?.close();
  });

  it('the active controller refuses over the quota; the forwarding broker mutes its client, not the other clients it forwards for', async () => {
    const client = await connect(forwarding);
    const response = await client.request(
      CreateTopicsApi,
      7,
      createTopicsBody([
        // 8 partitions of 5.5 tokens: the bucket goes to -2.5, 5 s at 0.5 per second.
        { name: 'forwarded-big', numPartitions: 8 },
        { name: 'forwarded-small', numPartitions: 1 },
      ]),
      { clientId: 'forwarded-creator' },
    );
    assert.deepEqual(
      response.topics.map(({ errorCode }) => errorCode),
      [ErrorCode.NONE, ErrorCode.THROTTLING_QUOTA_EXCEEDED],
    );
    const answeredAt = Date.now();
    const throttleMs = response.throttleTimeMs ?? 0;
    assert.ok(throttleMs > 0, 'the controller put its throttle time in the forwarded answer');
    // Another client's request, forwarded over the same broker-to-controller connection meanwhile, is not held back.
    const other = await connect(forwarding);
    const startedAt = Date.now();
    const free = await other.request(CreateTopicsApi, 7, createTopicsBody([{ name: 'forwarded-free', numPartitions: 1 }]), { clientId: 'unlimited' });
    assert.equal(free.topics[0]!.errorCode, ErrorCode.NONE);
    const freeMs = Date.now() - startedAt;
    assert.ok(freeMs < throttleMs / 2, `another client waited ${freeMs} ms of a ${throttleMs} ms throttle`);
    // The throttled client's own connection to the forwarding broker is muted.
    const leftMs = throttleMs - (Date.now() - answeredAt);
    const delayMs = await answerDelayMs(client, 'forwarded-creator');
    assert.ok(delayMs >= leftMs * 0.8, `answered after ${delayMs} ms, ${leftMs} ms of a ${throttleMs} ms throttle left`);
  });
  it('a Metadata request to a broker that is not the controller auto-creates as the client\'s CreateTopics: answered at once, the controller charges the client', async () => {
    const client = await connect(forwarding);
    // One partition each (num.partitions=1): 5.5 tokens admit six topics (the sixth takes the bucket to -0.5), not the seventh.
    const names = Array.from({ length: 7 }, (_, index) => `forwarded-auto-${index + 1}`);
    const response = await client.request(MetadataApi, 12, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false }, { clientId: 'forwarded-auto-creator' });
    // As Kafka's broker: the topics go to the controller and the answer does not wait for them.
    assert.deepEqual(
      response.topics.map(({ errorCode }) => errorCode),
      names.map(() => ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
    );
    assert.equal(response.throttleTimeMs, 0);
    // The admitted ones were created in one step: once they are here, the seventh is not coming.
    const created = await waitFor(async () => {
      const found = await topicNames(client, names);
      return found.size >= 6 && found;
    }, 'the auto-created topics on the broker that sent them');
    assert.deepEqual([...created].sort(), names.slice(0, 6));
    // The controller's bucket of the client: its own CreateTopics is refused now.
    const explicit = await client.request(CreateTopicsApi, 7, createTopicsBody([{ name: 'forwarded-auto-explicit', numPartitions: 1 }]), { clientId: 'forwarded-auto-creator' });
    assert.equal(explicit.topics[0]!.errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
  });
});
