// Client quotas (KIP-546) over the wire, with raw clients (kafkajs's admin has no quota APIs) and
// @platformatic/kafka's admin (alterClientQuotas, describeClientQuotas):
// AlterClientQuotas (v0 and v1) sets and removes user, client-id, user + client-id and ip quotas
// and their defaults, answering each entity (Kafka's INVALID_REQUEST and message for a bad one,
// nothing committed with validateOnly); DescribeClientQuotas (v0 and v1) matches them with Kafka's
// filters and refuses a bad filter; the broker's image resolves them for enforcement (`quotaFor`,
// `ipQuota`). On disk they survive a restart, also from a metadata snapshot once the log before it
// is gone. With Kafka's StandardAuthorizer, DescribeClientQuotas needs DESCRIBE_CONFIGS and
// AlterClientQuotas ALTER_CONFIGS on the cluster, refused in Kafka's response shapes and with
// nothing changed. In a three-node cluster a broker that is not the active controller forwards
// AlterClientQuotas to it, and every broker's image gets the quotas.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import '../support/polyfills.js';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ipQuota, quotaFor } from '../../src/metadata/client-quotas.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import {
  AlterClientQuotasApi,
  type AlterClientQuotasRequest,
  type AlterClientQuotasResponse,
  DescribeClientQuotasApi,
  type DescribeClientQuotasRequest,
  type DescribeClientQuotasResponse,
} from '../../src/protocol/messages/index.js';
import { AclOperation, AclResourceType, AuthorizedBroker } from '../support/authorized-broker.js';
import { RawClient } from '../support/raw-client.js';
import { type TestBroker, startTestBroker, temporaryDirectory, waitFor } from './helpers.js';

type Entity = { entityType: string; entityName: string | null }[];
type Op = AlterClientQuotasRequest['entries'][number]['ops'][number];

const user = (name: string | null): Entity => [{ entityType: 'user', entityName: name }];
const clientId = (name: string | null): Entity => [{ entityType: 'client-id', entityName: name }];
const ip = (address: string | null): Entity => [{ entityType: 'ip', entityName: address }];
const set = (key: string, value: number): Op => ({ key, value, remove: false });
const remove = (key: string): Op => ({ key, value: 0, remove: true });
const { EXACT, DEFAULT, ANY } = { EXACT: 0, DEFAULT: 1, ANY: 2 };

/** An entity as text, its parts sorted: `client-id=app,user=bob`, `user=<default>`. */
const entityText = (entity: readonly { entityType: string; entityName?: string | null }[]) =>
  entity
    .map(({ entityType, entityName }) => `${entityType}=${entityName ?? '<default>'}`)
    .sort()
    .join(',');

function alter(client: RawClient, entries: [Entity, ...Op[]][], options: { version?: number; validateOnly?: boolean } = {}): Promise<AlterClientQuotasResponse> {
  return client.request(AlterClientQuotasApi, options.version ?? 1, { entries: entries.map(([entity, ...ops]) => ({ entity, ops })), validateOnly: options.validateOnly ?? false });
}

/** Each entity's answer, by entity text. */
function answers(response: { entries: readonly { entity: Entity | readonly { entityType: string; entityName?: string | null }[]; errorCode: number; errorMessage?: string | null }[] }): Record<string, [number, string | null]> {
  return Object.fromEntries(response.entries.map(({ entity, errorCode, errorMessage }) => [entityText(entity), [errorCode, errorMessage ?? null]]));
}

function describeQuotas(client: RawClient, components: DescribeClientQuotasRequest['components'] = [], strict = false, version = 1): Promise<DescribeClientQuotasResponse> {
  return client.request(DescribeClientQuotasApi, version, { components, strict });
}

/** The described quotas by entity text, entities and values sorted; fails on an error. */
async function described(client: RawClient, components: DescribeClientQuotasRequest['components'] = [], strict = false, version = 1): Promise<Record<string, Record<string, number>>> {
  const response = await describeQuotas(client, components, strict, version);
  assert.equal(response.errorCode, ErrorCode.NONE, response.errorMessage ?? '');
  const entries = (response.entries ?? []).map(({ entity, values }) => [entityText(entity), Object.fromEntries(values.map(({ key, value }) => [key, value]).sort())] as const);
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const OK: [number, null] = [ErrorCode.NONE, null];

const platformatic = await import('@platformatic/kafka').catch(() => undefined);

describe('client quotas on one broker, on disk', { timeout: 120_000 }, () => {
  let dir: Awaited<ReturnType<typeof temporaryDirectory>> | undefined;
  let broker: TestBroker | undefined;
  // Small snapshots, so the quotas are soon only in a snapshot.
  const config = { 'metadata.log.max.record.bytes.between.snapshots': 2048 };
  after(async () => {
    await broker?.close();
    await dir?.remove();
  });

  it('sets, describes, resolves and removes quotas, refuses bad ones, commits nothing with validateOnly, and keeps them across restarts', async () => {
    dir = await temporaryDirectory();
    broker = await startTestBroker({ storage: 'disk', dataDir: dir.path, config });
    const { client } = broker;

    const first = await alter(client, [
      [user('alice'), set('producer_byte_rate', 1048576), set('consumer_byte_rate', 2097152)],
      [user(null), set('request_percentage', 25.5)],
      [[{ entityType: 'user', entityName: 'bob' }, { entityType: 'client-id', entityName: null }], set('producer_byte_rate', 1024)],
      [clientId('app'), set('consumer_byte_rate', 4096)],
      [ip('127.0.0.1'), set('connection_creation_rate', 10)],
      [ip(null), set('connection_creation_rate', 100)],
      [user('carol'), set('producer_byte_rate', 1.5)],
      [ip('no.such.host'), set('connection_creation_rate', 1)],
      [[{ entityType: 'user', entityName: 'dave' }, { entityType: 'ip', entityName: '10.0.0.1' }], set('producer_byte_rate', 1)],
    ]);
    assert.equal(first.throttleTimeMs, 0);
    assert.deepEqual(answers(first), {
      'user=alice': OK,
      'user=<default>': OK,
      'client-id=<default>,user=bob': OK,
      'client-id=app': OK,
      'ip=127.0.0.1': OK,
      'ip=<default>': OK,
      'user=carol': [ErrorCode.INVALID_REQUEST, 'producer_byte_rate cannot be a fractional value.'],
      'ip=no.such.host': [ErrorCode.INVALID_REQUEST, 'no.such.host is not a valid IP or resolvable host.'],
      'ip=10.0.0.1,user=dave': [ErrorCode.INVALID_REQUEST, 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId'],
    });
    const expected = {
      'client-id=<default>,user=bob': { producer_byte_rate: 1024 },
      'client-id=app': { consumer_byte_rate: 4096 },
      'ip=127.0.0.1': { connection_creation_rate: 10 },
      'ip=<default>': { connection_creation_rate: 100 },
      'user=<default>': { request_percentage: 25.5 },
      'user=alice': { consumer_byte_rate: 2097152, producer_byte_rate: 1048576 },
    };
    assert.deepEqual(await described(client), expected);
    assert.deepEqual(await described(client, [], false, 0), expected, 'v0 answers the same');

    // Filters.
    assert.deepEqual(Object.keys(await described(client, [{ entityType: 'user', matchType: EXACT, match: 'alice' }], true)), ['user=alice']);
    assert.deepEqual(Object.keys(await described(client, [{ entityType: 'user', matchType: ANY, match: null }], false)), ['client-id=<default>,user=bob', 'user=<default>', 'user=alice']);
    assert.deepEqual(Object.keys(await described(client, [{ entityType: 'user', matchType: ANY, match: null }], true)), ['user=<default>', 'user=alice']);
    assert.deepEqual(Object.keys(await described(client, [{ entityType: 'client-id', matchType: DEFAULT, match: null }], false, 0)), ['client-id=<default>,user=bob']);
    assert.deepEqual(Object.keys(await described(client, [{ entityType: 'ip', matchType: ANY, match: null }], true)), ['ip=127.0.0.1', 'ip=<default>']);
    assert.deepEqual(await describeQuotas(client, [{ entityType: 'user', matchType: ANY, match: null }, { entityType: 'user', matchType: EXACT, match: 'alice' }]), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: 'Entity type user cannot appear more than once in the filter.',
      entries: null,
    });
    assert.deepEqual(await describeQuotas(client, [{ entityType: 'group', matchType: ANY, match: null }], false, 0), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      errorMessage: 'Unsupported entity type group',
      entries: null,
    });

    // validateOnly answers as a real change would and commits nothing.
    const checked = await alter(client, [[user('alice'), set('producer_byte_rate', 1)], [user('erin'), set('producer_byte_rate', -1)]], { validateOnly: true });
    assert.deepEqual(answers(checked), { 'user=alice': OK, 'user=erin': [ErrorCode.INVALID_REQUEST, 'Quota producer_byte_rate must be greater than 0'] });
    assert.deepEqual(await described(client), expected);

    // What enforcement reads from the broker's image.
    const image = () => broker!.running.broker.services.image;
    assert.equal(quotaFor(image(), 'producer_byte_rate', 'alice', 'any-client'), 1048576);
    assert.equal(quotaFor(image(), 'producer_byte_rate', 'bob', 'any-client'), 1024);
    assert.equal(quotaFor(image(), 'consumer_byte_rate', 'frank', 'app'), 4096);
    assert.equal(quotaFor(image(), 'request_percentage', 'frank', 'app'), 25.5);
    assert.equal(quotaFor(image(), 'producer_byte_rate', 'frank', 'app'), undefined);
    assert.equal(ipQuota(image(), '::ffff:127.0.0.1'), 10);
    assert.equal(ipQuota(image(), '192.0.2.1'), 100);

    // Removal (v0): alice keeps the other value; the default ip entity goes.
    const removed = await alter(client, [[user('alice'), remove('consumer_byte_rate')], [ip(null), remove('connection_creation_rate')]], { version: 0 });
    assert.deepEqual(answers(removed), { 'user=alice': OK, 'ip=<default>': OK });
    delete (expected as Record<string, unknown>)['ip=<default>'];
    expected['user=alice'] = { producer_byte_rate: 1048576 } as typeof expected['user=alice'];
    assert.deepEqual(await described(client), expected);
    assert.equal(ipQuota(image(), '192.0.2.1'), undefined);

    // A restart replays the log.
    await broker.close();
    broker = await startTestBroker({ storage: 'disk', dataDir: dir.path, config });
    assert.deepEqual(await described(broker.client), expected);
    assert.equal(quotaFor(image(), 'producer_byte_rate', 'alice', 'x'), 1048576);

    // Enough quotas for snapshots, until the log before them is dropped: those above are then only in a snapshot.
    const raft = broker.running.broker.services.quorum.raft;
    const many: Record<string, Record<string, number>> = {};
    for (let round = 0; raft.log.startOffset === 0; round++) {
      assert.ok(round < 20, 'snapshots taken and the log before them dropped');
      const users = Array.from({ length: 40 }, (_, index) => `user-${round}-${index}`);
      const response = await alter(broker.client, users.map((name, index) => [user(name), set('producer_byte_rate', 1000 + index)]));
      assert.ok(response.entries.every(({ errorCode }) => errorCode === ErrorCode.NONE));
      users.forEach((name, index) => {
        many[`user=${name}`] = { producer_byte_rate: 1000 + index };
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await broker.close();
    broker = await startTestBroker({ storage: 'disk', dataDir: dir.path, config });
    assert.ok(broker.running.broker.services.quorum.raft.log.startOffset > 0, 'the restarted log starts after a snapshot');
    const all = await described(broker.client);
    for (const [entity, values] of Object.entries(expected)) assert.deepEqual(all[entity], values, entity);
    assert.deepEqual(Object.keys(all).length, Object.keys(expected).length + Object.keys(many).length);
    assert.equal(quotaFor(image(), 'producer_byte_rate', 'user-0-7', 'x'), 1007);
    assert.equal(ipQuota(image(), '127.0.0.1'), 10);
  });
});

describe("@platformatic/kafka's admin", { timeout: 60_000, skip: platformatic === undefined ? '@platformatic/kafka is not installed' : false }, () => {
  let broker: TestBroker | undefined;
  after(async () => {
    await broker?.close();
  });

  it('sets, describes and removes quotas; a bad value is refused with its message', async () => {
    broker = await startTestBroker();
    const { Admin, ClientQuotaMatchTypes } = platformatic!;
    const admin = new Admin({ clientId: 'quota-admin', bootstrapBrokers: [`${broker.running.host}:${broker.running.port}`], retries: 0 });
    try {
      const altered = await admin.alterClientQuotas({
        entries: [
          { entities: [{ entityType: 'user', entityName: 'alice' }, { entityType: 'client-id', entityName: 'billing' }], ops: [{ key: 'producer_byte_rate', value: 2048, remove: false }] },
          { entities: [{ entityType: 'client-id', entityName: null }], ops: [{ key: 'consumer_byte_rate', value: 512, remove: false }] },
        ],
      });
      assert.deepEqual(answers({ entries: altered }), { 'client-id=billing,user=alice': OK, 'client-id=<default>': OK });
      // The client fails the call on an entry's error; the broker's answer is in the error.
      const refused = await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'ip', entityName: '10.1.2.3' }], ops: [{ key: 'connection_creation_rate', value: 2.5, remove: false }] }] }).then(
        () => undefined,
        (error: unknown) => error as { errors?: { response?: { entries?: { entity: Entity; errorCode: number; errorMessage: string | null }[] } }[] },
      );
      assert.ok(refused, 'the fractional connection_creation_rate is refused');
      assert.deepEqual(answers({ entries: refused.errors?.[0]?.response?.entries ?? [] }), { 'ip=10.1.2.3': [ErrorCode.INVALID_REQUEST, 'connection_creation_rate cannot be a fractional value.'] });
      const entries = await admin.describeClientQuotas({ components: [{ entityType: 'user', matchType: ClientQuotaMatchTypes.EXACT, match: 'alice' }] });
      assert.deepEqual(
        entries.map(({ entity, values }) => [entityText(entity), values]),
        [['client-id=billing,user=alice', [{ key: 'producer_byte_rate', value: 2048 }]]],
      );
      const defaults = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: ClientQuotaMatchTypes.DEFAULT }], strict: true });
      assert.deepEqual(defaults.map(({ entity, values }) => [entityText(entity), values]), [['client-id=<default>', [{ key: 'consumer_byte_rate', value: 512 }]]]);
      await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: null }], ops: [{ key: 'consumer_byte_rate', remove: true }] }] });
      assert.deepEqual(Object.keys(await described(broker.client)), ['client-id=billing,user=alice']);
      assert.equal(quotaFor(broker.running.broker.services.image, 'consumer_byte_rate', 'bob', 'any'), undefined);
    } finally {
      await admin.close();
    }
  });
});

describe('client quota APIs under an authorizer', { timeout: 60_000 }, () => {
  let broker: AuthorizedBroker | undefined;
  after(async () => {
    await broker?.close();
  });

  it("need DESCRIBE_CONFIGS and ALTER_CONFIGS on the cluster, refused in Kafka's response shapes with nothing changed", async () => {
    broker = await AuthorizedBroker.start();
    const [admin, alice, bob] = [await broker.raw('admin'), await broker.raw('alice'), await broker.raw('bob')];
    try {
      const request: [Entity, ...Op[]][] = [
        [[{ entityType: 'user', entityName: 'mallory' }, { entityType: 'client-id', entityName: 'x' }], set('producer_byte_rate', 1)],
        [user(null), set('producer_byte_rate', 1)],
      ];
      assert.deepEqual(await describeQuotas(bob), { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null });
      assert.deepEqual(await alter(bob, request), {
        throttleTimeMs: 0,
        entries: request.map(([entity]) => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', entity })),
      });
      assert.deepEqual(await described(admin), {}, 'nothing changed');

      const cluster = { principal: 'User:alice', resourceType: AclResourceType.CLUSTER, resourceName: 'kafka-cluster' };
      await broker.grant({ ...cluster, operation: AclOperation.DESCRIBE_CONFIGS });
      assert.deepEqual(await described(alice), {});
      assert.deepEqual(
        answers(await alter(alice, request, { version: 0 })),
        Object.fromEntries(request.map(([entity]) => [entityText(entity), [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.']])),
      );
      assert.deepEqual(await described(admin), {}, 'still nothing changed');

      await broker.grant({ ...cluster, operation: AclOperation.ALTER_CONFIGS });
      assert.deepEqual(answers(await alter(alice, request)), { 'client-id=x,user=mallory': OK, 'user=<default>': OK });
      assert.deepEqual(Object.keys(await described(alice)), ['client-id=x,user=mallory', 'user=<default>']);
      // bob still may not describe them.
      assert.equal((await describeQuotas(bob, [], false, 0)).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    } finally {
      await Promise.all([admin.close(), alice.close(), bob.close()]);
    }
  });
});

describe('client quotas in a three-node cluster', { timeout: 120_000 }, () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('a broker that is not the active controller forwards AlterClientQuotas, and every broker describes and resolves the quotas', async () => {
    cluster = await startCluster();
    const connect = (nodeId: number) => {
      const [host, port] = cluster!.node(nodeId).bootstrapServer.split(':');
      return RawClient.connect(host!, Number(port));
    };
    const controllerId = await waitFor(() => cluster!.activeController() > 0 && cluster!.activeController(), 'an active controller', 30_000);
    const otherId = cluster.nodeIds.find((nodeId) => nodeId !== controllerId)!;
    const client = await connect(otherId);
    try {
      const response = await alter(client, [[user('alice'), set('producer_byte_rate', 5000)], [user('bob'), set('producer_byte_rate', 0)]]);
      assert.deepEqual(answers(response), { 'user=alice': OK, 'user=bob': [ErrorCode.INVALID_REQUEST, 'Quota producer_byte_rate must be greater than 0'] });
      for (const nodeId of cluster.nodeIds) {
        await waitFor(() => quotaFor(cluster!.node(nodeId).broker!.services.image, 'producer_byte_rate', 'alice', 'app') === 5000, `node ${nodeId} has alice's quota`);
        const other = await connect(nodeId);
        try {
          assert.deepEqual(await described(other), { 'user=alice': { producer_byte_rate: 5000 } });
        } finally {
          await other.close();
        }
      }
    } finally {
      await client.close();
    }
  });
});
