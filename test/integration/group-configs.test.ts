// Group configs (config resource type GROUP = 32, KIP-848/KIP-932) over TCP, through Conveyor's own
// admin client: kafkajs 2.x knows config resource types 0-8 only, @platformatic/kafka 2.12 checks
// the type against the ACL resource types (0-7), and @confluentinc/kafka-javascript 1.10 has no
// configs API, so none of them can send type 32. IncrementalAlterConfigs sets a group's keys,
// DescribeConfigs lists every group key with the group's value (DYNAMIC_GROUP_CONFIG) or the
// broker's (DEFAULT_CONFIG), a value outside the broker's bounds or an unknown key is refused with
// INVALID_CONFIG naming the key, legacy AlterConfigs replaces the set, ListConfigResources lists
// the groups with configs, and everything survives a restart. `conveyor configs --entity-type
// groups` sets and describes them as kafka-configs.sh does. Authorization is Kafka's:
// ALTER_CONFIGS and DESCRIBE_CONFIGS on the GROUP resource, else GROUP_AUTHORIZATION_FAILED.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../src/base/error-codes.js';
import { AdminClient, AlterOperation, ConfigResource, type ConfigEntry } from '../../src/client/admin-client.js';
import { ClusterClient, KafkaResponseError } from '../../src/client/cluster-client.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { AlterConfigsApi, DescribeConfigsApi, IncrementalAlterConfigsApi, ListConfigResourcesApi } from '../../src/protocol/messages/index.js';
import { AclOperation, AclResourceType, AuthorizedBroker, PatternType, type User } from '../support/authorized-broker.js';
import { type TestBroker, startTestBroker } from '../support/broker.js';
import { runChecked, runProcess } from '../support/process.js';

const toolsEntry = fileURLToPath(new URL('../cli/tools-entry.ts', import.meta.url));

const GROUP = ConfigResource.group;

function byName(entries: ConfigEntry[]): Map<string, { value: string | null; source: string }> {
  return new Map(entries.map(({ name, value, source }) => [name, { value, source }]));
}

async function refusal(action: Promise<unknown>): Promise<KafkaResponseError> {
  try {
    await action;
  } catch (error) {
    if (error instanceof KafkaResponseError) return error;
    throw error;
  }
  assert.fail('the change was accepted');
}

describe('group configs (resource type 32)', () => {
  let broker: TestBroker;
  let cluster: ClusterClient;
  let admin: AdminClient;
  const connect = () => {
    cluster = new ClusterClient(connectTcp, broker.bootstrapServers, 'group-configs-test');
    admin = new AdminClient(cluster);
  };

  before(async () => {
    // A broker share session timeout other than Kafka's default, to see the broker value described.
    broker = await startTestBroker({ 'group.share.session.timeout.ms': 50_000 });
    connect();
  });
  after(async () => {
    cluster.close();
    await broker.close();
  });

  it('describes every group key with the broker value for a group without configs', async () => {
    const described = byName(await admin.describeConfigs(GROUP, 'no-such-group'));
    assert.deepEqual([...described.keys()], [
      'consumer.session.timeout.ms',
      'consumer.heartbeat.interval.ms',
      'share.session.timeout.ms',
      'share.heartbeat.interval.ms',
      'share.record.lock.duration.ms',
      'share.auto.offset.reset',
      'share.isolation.level',
    ]);
    assert.deepEqual(described.get('share.session.timeout.ms'), { value: '50000', source: 'DEFAULT_CONFIG' });
    assert.deepEqual(described.get('share.record.lock.duration.ms'), { value: '30000', source: 'DEFAULT_CONFIG' });
    assert.deepEqual(described.get('share.auto.offset.reset'), { value: 'latest', source: 'DEFAULT_CONFIG' });
  });

  it('sets group configs with IncrementalAlterConfigs and describes them as DYNAMIC_GROUP_CONFIG', async () => {
    await admin.alterConfigs(GROUP, 'orders-share', [
      { name: 'share.record.lock.duration.ms', operation: AlterOperation.set, value: '45000' },
      { name: 'share.auto.offset.reset', operation: AlterOperation.set, value: 'by_duration:PT1H' },
      { name: 'share.isolation.level', operation: AlterOperation.set, value: 'read_committed' },
      { name: 'consumer.heartbeat.interval.ms', operation: AlterOperation.set, value: '6000' },
    ]);
    const described = byName(await admin.describeConfigs(GROUP, 'orders-share'));
    assert.deepEqual(described.get('share.record.lock.duration.ms'), { value: '45000', source: 'DYNAMIC_GROUP_CONFIG' });
    assert.deepEqual(described.get('share.auto.offset.reset'), { value: 'by_duration:PT1H', source: 'DYNAMIC_GROUP_CONFIG' });
    assert.deepEqual(described.get('share.isolation.level'), { value: 'read_committed', source: 'DYNAMIC_GROUP_CONFIG' });
    assert.deepEqual(described.get('consumer.heartbeat.interval.ms'), { value: '6000', source: 'DYNAMIC_GROUP_CONFIG' });
    assert.deepEqual(described.get('share.session.timeout.ms'), { value: '50000', source: 'DEFAULT_CONFIG' });
    const only = await admin.describeConfigs(GROUP, 'orders-share', ['share.isolation.level']);
    assert.deepEqual(only.map(({ name }) => name), ['share.isolation.level']);
  });

  it('refuses a value outside the broker bounds, an invalid value and an unknown key with INVALID_CONFIG naming the key', async () => {
    const set = (name: string, value: string) => admin.alterConfigs(GROUP, 'orders-share', [{ name, operation: AlterOperation.set, value }]);
    const tooLong = await refusal(set('share.record.lock.duration.ms', '70000'));
    assert.equal(tooLong.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(tooLong.message, /share\.record\.lock\.duration\.ms.*less than or equal to group\.share\.max\.record\.lock\.duration\.ms/);
    const reset = await refusal(set('share.auto.offset.reset', 'by_duration:yesterday'));
    assert.equal(reset.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(reset.message, /share\.auto\.offset\.reset/);
    const unknown = await refusal(set('streams.num.standby.replicas', '1'));
    assert.equal(unknown.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(unknown.message, /streams\.num\.standby\.replicas/);
    const session = await refusal(set('share.session.timeout.ms', '40000'));
    assert.match(session.message, /share\.session\.timeout\.ms.*group\.share\.min\.session\.timeout\.ms/);
    const noName = await refusal(admin.alterConfigs(GROUP, '', [{ name: 'share.isolation.level', operation: AlterOperation.set, value: 'read_committed' }]));
    assert.equal(noName.errorCode, ErrorCode.INVALID_REQUEST);
    // Nothing refused was stored.
    const described = byName(await admin.describeConfigs(GROUP, 'orders-share'));
    assert.equal(described.get('share.record.lock.duration.ms')?.value, '45000');
  });

  it('replaces the whole set with legacy AlterConfigs and lists the groups with configs', async () => {
    const legacy = await cluster.request(AlterConfigsApi, {
      resources: [{ resourceType: GROUP, resourceName: 'legacy-group', configs: [{ name: 'share.auto.offset.reset', value: 'earliest' }] }],
      validateOnly: false,
    });
    assert.equal(legacy.responses[0]!.errorCode, ErrorCode.NONE, legacy.responses[0]!.errorMessage ?? '');
    const listed = await cluster.request(ListConfigResourcesApi, { resourceTypes: [GROUP] }, { minVersion: 1 });
    assert.equal(listed.errorCode, ErrorCode.NONE);
    assert.deepEqual(listed.configResources.map(({ resourceName, resourceType }) => [resourceType, resourceName]), [
      [GROUP, 'legacy-group'],
      [GROUP, 'orders-share'],
    ]);
    const replaced = await cluster.request(AlterConfigsApi, {
      resources: [{ resourceType: GROUP, resourceName: 'legacy-group', configs: [{ name: 'share.isolation.level', value: 'read_committed' }] }],
      validateOnly: false,
    });
    assert.equal(replaced.responses[0]!.errorCode, ErrorCode.NONE);
    const described = byName(await admin.describeConfigs(GROUP, 'legacy-group'));
    assert.deepEqual(described.get('share.auto.offset.reset'), { value: 'latest', source: 'DEFAULT_CONFIG' }, 'a key not named is removed');
    assert.deepEqual(described.get('share.isolation.level'), { value: 'read_committed', source: 'DYNAMIC_GROUP_CONFIG' });
  });

  it('keeps group configs across a restart, and a deleted one falls back to the broker value', async () => {
    cluster.close();
    await broker.restart();
    connect();
    const described = byName(await admin.describeConfigs(GROUP, 'orders-share'));
    assert.deepEqual(described.get('share.record.lock.duration.ms'), { value: '45000', source: 'DYNAMIC_GROUP_CONFIG' });
    assert.deepEqual(described.get('share.auto.offset.reset'), { value: 'by_duration:PT1H', source: 'DYNAMIC_GROUP_CONFIG' });
    await admin.alterConfigs(GROUP, 'orders-share', [{ name: 'share.record.lock.duration.ms', operation: AlterOperation.delete, value: null }]);
    const after = byName(await admin.describeConfigs(GROUP, 'orders-share'));
    assert.deepEqual(after.get('share.record.lock.duration.ms'), { value: '30000', source: 'DEFAULT_CONFIG' });
  });

  it('conveyor configs --entity-type groups alters and describes a group', { timeout: 60_000 }, async () => {
    const server = ['--bootstrap-server', broker.bootstrapServers];
    const cli = (args: string[]) => runChecked(process.execPath, ['--import', 'tsx', toolsEntry, ...args, ...server], { timeoutMs: 30_000 });
    await cli(['configs', 'alter', '--entity-type', 'groups', '--entity-name', 'cli-group', '--add-config', 'share.isolation.level=read_committed']);
    const overrides = JSON.parse((await cli(['configs', 'describe', '--entity-type', 'groups', '--entity-name', 'cli-group', '--json'])).stdout) as ConfigEntry[];
    assert.deepEqual(overrides.map(({ name, value, source }) => [name, value, source]), [['share.isolation.level', 'read_committed', 'DYNAMIC_GROUP_CONFIG']]);
    const bad = await runProcess(process.execPath, ['--import', 'tsx', toolsEntry, 'configs', 'alter', '--entity-type', 'groups', '--entity-name', 'cli-group', '--add-config', 'share.record.lock.duration.ms=1', ...server], { timeoutMs: 30_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /INVALID_CONFIG.*share\.record\.lock\.duration\.ms/);
  });
});

describe('group configs are authorized on the GROUP resource', { timeout: 60_000 }, () => {
  let broker: AuthorizedBroker;
  before(async () => {
    broker = await AuthorizedBroker.start();
    // alice may alter and describe the configs of groups named team-*, and nothing else.
    const grant = (operation: number) => ({ principal: 'User:alice', operation, resourceType: AclResourceType.GROUP, resourceName: 'team-', patternType: PatternType.PREFIXED });
    await broker.grant(grant(AclOperation.ALTER_CONFIGS), grant(AclOperation.DESCRIBE_CONFIGS));
  });
  after(() => broker.close());

  const alterAs = async (user: User, group: string) => {
    const client = await broker.raw(user);
    try {
      const response = await client.request(IncrementalAlterConfigsApi, 1, {
        resources: [{ resourceType: GROUP, resourceName: group, configs: [{ name: 'share.isolation.level', configOperation: AlterOperation.set, value: 'read_committed' }] }],
        validateOnly: false,
      });
      return response.responses[0]!.errorCode;
    } finally {
      await client.close();
    }
  };
  const describeAs = async (user: User, group: string) => {
    const client = await broker.raw(user);
    try {
      const response = await client.request(DescribeConfigsApi, 4, { resources: [{ resourceType: GROUP, resourceName: group, configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
      return response.results[0]!;
    } finally {
      await client.close();
    }
  };

  it('lets ALTER_CONFIGS and DESCRIBE_CONFIGS on the group through, and refuses the rest', async () => {
    assert.equal(await alterAs('alice', 'team-a'), ErrorCode.NONE);
    const described = await describeAs('alice', 'team-a');
    assert.equal(described.errorCode, ErrorCode.NONE);
    assert.equal(described.configs.find(({ name }) => name === 'share.isolation.level')?.value, 'read_committed');
    assert.equal(await alterAs('alice', 'other'), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal(await alterAs('bob', 'team-a'), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const refused = await describeAs('bob', 'team-a');
    assert.deepEqual([refused.errorCode, refused.configs], [ErrorCode.GROUP_AUTHORIZATION_FAILED, []]);
  });
});
