// Kafka's connection limits over real TCP against a broker started in this process:
// max.connections.per.ip closes the connection beyond it at once while the others are served (an
// override raises it, in server.properties or as a dynamic broker config); max.connections keeps
// new connections waiting, connected but unanswered, until a slot frees or the limit is raised;
// max.connection.creation.rate delays accepting; an address's connection_creation_rate client quota
// (KIP-612) closes a connection over it after the throttle time, never serving it; bad values are
// refused naming the key, and max.connections.per.ip=0 without overrides at any level is refused
// as a dynamic config with Kafka's INVALID_REQUEST and message. The quota windows are quota.window.num=2 samples of 1 s. Timing is
// asserted only as lower bounds measured from before the connections were opened (a loaded machine
// only makes things later), and otherwise as order, answers and closes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { AlterClientQuotasApi, AlterConfigsApi, ApiVersionsApi, DescribeConfigsApi, IncrementalAlterConfigsApi } from '../../src/protocol/messages/index.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from './helpers.js';

const BROKER = 4;
const SET = 0;

async function start(config: Record<string, string | number>): Promise<RunningBroker> {
  return startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'quota.window.num': 2, ...config } });
}

function connect(broker: RunningBroker): Promise<RawClient> {
  return RawClient.connect('127.0.0.1', broker.port);
}

/** One cheap request; resolves once answered, rejects if the connection closes first. */
async function apiVersions(client: RawClient, timeoutMs = 30_000): Promise<void> {
  const response = await client.request(ApiVersionsApi, 3, { clientSoftwareName: 'conveyor-test', clientSoftwareVersion: '1' }, { timeoutMs });
  assert.equal(response.errorCode, ErrorCode.NONE);
}

async function setBrokerConfig(client: RawClient, resourceName: string, name: string, value: string) {
  const response = await client.request(IncrementalAlterConfigsApi, 1, {
    resources: [{ resourceType: BROKER, resourceName, configs: [{ name, configOperation: SET, value }] }],
    validateOnly: false,
  });
  return response.responses[0]!;
}

/**
 * A connection the broker closes as soon as it accepts it: connected, then closed (or, when the
 * broker's reset overtakes the client's handshake, never connected).
 */
async function expectRefused(broker: RunningBroker): Promise<void> {
  let client: RawClient;
  try {
    client = await connect(broker);
  } catch (error) {
    assert.match(String(error), /ECONNRESET|EPIPE/);
    return;
  }
  await client.waitForClose(10_000);
  await assert.rejects(apiVersions(client), /closed/);
}

/** Whether `client` got no answer and was not closed within `ms`: it waits, connected. */
async function stillWaiting(client: RawClient, answered: Promise<void>, ms = 300): Promise<boolean> {
  let settled = false;
  answered.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return !settled && !client.isClosed;
}

describe('connection quotas', { timeout: 120_000 }, () => {
  const opened: RawClient[] = [];
  const brokers: RunningBroker[] = [];
  const open = async (broker: RunningBroker) => {
    const client = await connect(broker);
    opened.push(client);
    return client;
  };
  after(async () => {
    await Promise.all(opened.map((client) => client.close()));
    await Promise.all(brokers.map((broker) => broker.close()));
  });

  describe('max.connections.per.ip', () => {
    let broker: RunningBroker;
    /** One of the connections from 127.0.0.1 the limit allows, kept for the admin requests. */
    let admin: RawClient;
    before(async () => {
      broker = await start({ 'max.connections.per.ip': 3 });
      brokers.push(broker);
      admin = await open(broker);
    });

    it('closes the connection beyond the limit at once while the others keep being answered, and takes a dynamic override', async () => {
      const others = [await open(broker), await open(broker)];
      for (const client of [admin, ...others]) await apiVersions(client);
      await expectRefused(broker);
      for (const client of [admin, ...others]) await apiVersions(client);

      // A cluster-wide dynamic override for this address applies without a restart.
      const changed = await setBrokerConfig(admin, '', 'max.connections.per.ip.overrides', '127.0.0.1:5');
      assert.equal(changed.errorCode, ErrorCode.NONE, changed.errorMessage ?? '');
      const fourth = await waitFor(async () => {
        const client = await open(broker).catch(() => undefined);
        return client && apiVersions(client).then(() => client, () => undefined);
      }, 'a fourth connection from 127.0.0.1 to be served');
      await apiVersions(await open(broker));
      await expectRefused(broker);
      await apiVersions(fourth);
    });

    it('refuses bad values of the connection keys as dynamic configs, naming the key', async () => {
      for (const [name, value] of [
        ['max.connections.per.ip.overrides', '127.0.0.1'],
        ['max.connections.per.ip.overrides', 'host#name:4'],
        ['listener.name.plaintext.max.connection.creation.rate', '-1'],
        ['max.connections', 'many'],
      ] as const) {
        const refused = await setBrokerConfig(admin, String(broker.nodeId), name, value);
        assert.equal(refused.errorCode, ErrorCode.INVALID_CONFIG, `${name}=${value}`);
        assert.ok(refused.errorMessage?.includes(name), refused.errorMessage ?? '');
      }
    });
  });

  it('refuses max.connections.per.ip=0 as a dynamic config while no level has max.connections.per.ip.overrides, as Kafka does; with overrides it takes effect', async () => {
    const broker = await start({});
    brokers.push(broker);
    const admin = await open(broker);
    const nodeId = String(broker.nodeId);
    // Kafka's broker validates the whole config before forwarding; its KafkaConfig `require` fails.
    const requirement = 'requirement failed: max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set.';
    const alter = async (resourceName: string, configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false) => {
      const response = await admin.request(IncrementalAlterConfigsApi, 1, { resources: [{ resourceType: BROKER, resourceName, configs }], validateOnly });
      return [response.responses[0]!.errorCode, response.responses[0]!.errorMessage];
    };
    const zero = { name: 'max.connections.per.ip', configOperation: SET, value: '0' };
    for (const resourceName of ['', nodeId]) {
      assert.deepEqual(await alter(resourceName, [zero]), [ErrorCode.INVALID_REQUEST, requirement], `resource '${resourceName}'`);
      assert.deepEqual(await alter(resourceName, [zero], true), [ErrorCode.INVALID_REQUEST, requirement], `validate-only, resource '${resourceName}'`);
    }
    // The legacy AlterConfigs too.
    const legacy = await admin.request(AlterConfigsApi, 2, { resources: [{ resourceType: BROKER, resourceName: nodeId, configs: [{ name: 'max.connections.per.ip', value: '0' }] }], validateOnly: false });
    assert.deepEqual([legacy.responses[0]!.errorCode, legacy.responses[0]!.errorMessage], [ErrorCode.INVALID_REQUEST, requirement]);
    // Nothing was stored.
    const described = await admin.request(DescribeConfigsApi, 4, { resources: [{ resourceType: BROKER, resourceName: nodeId, configurationKeys: ['max.connections.per.ip'] }], includeSynonyms: false, includeDocumentation: false });
    assert.deepEqual(
      described.results[0]!.configs.map(({ name, value }) => [name, value]),
      [['max.connections.per.ip', '2147483647']],
    );

    // With overrides in the same change it is accepted, and applies: 127.0.0.1 may hold 2 connections (admin is one).
    assert.deepEqual(await alter(nodeId, [zero, { name: 'max.connections.per.ip.overrides', configOperation: SET, value: '127.0.0.1:2' }]), [ErrorCode.NONE, null]);
    const second = await open(broker);
    await apiVersions(second);
    await waitFor(async () => {
      const client = await open(broker).catch(() => undefined);
      if (client === undefined) return true;
      const served = await apiVersions(client, 5_000).then(
        () => true,
        () => false,
      );
      await client.close();
      return !served;
    }, 'a third connection from 127.0.0.1 to be refused');
    await apiVersions(admin);
    // Removing the overrides would leave the zero without them: refused, the overrides kept.
    assert.deepEqual(await alter(nodeId, [{ name: 'max.connections.per.ip.overrides', configOperation: 1, value: null }]), [ErrorCode.INVALID_REQUEST, requirement]);
    await expectRefused(broker);
    await apiVersions(second);
  });

  it('takes max.connections.per.ip.overrides from server.properties', async () => {
    const broker = await start({ 'max.connections.per.ip': 1, 'max.connections.per.ip.overrides': '127.0.0.1:2,10.9.9.9:7' });
    brokers.push(broker);
    const served = [await open(broker), await open(broker)];
    for (const client of served) await apiVersions(client);
    await expectRefused(broker);
    for (const client of served) await apiVersions(client);
  });

  it('refuses a start with a bad connection setting, naming the key', async () => {
    await assert.rejects(start({ 'max.connections.per.ip': 0 }), /max\.connections\.per\.ip: can be set to zero only if max\.connections\.per\.ip\.overrides property is set/);
    await assert.rejects(start({ 'max.connections.per.ip.overrides': 'host#name:1' }), /max\.connections\.per\.ip\.overrides: contains invalid addresses : host#name/);
    await assert.rejects(start({ 'listener.name.plaintext.max.connections': 'x' }), /listener\.name\.plaintext\.max\.connections/);
  });

  it('keeps a connection beyond max.connections waiting, connected, until a slot frees or the limit is raised', async () => {
    const broker = await start({ 'max.connections': 2 });
    brokers.push(broker);
    const admin = await open(broker);
    const second = await open(broker);
    for (const client of [admin, second]) await apiVersions(client);
    const third = await open(broker);
    const thirdAnswered = apiVersions(third);
    assert.ok(await stillWaiting(third, thirdAnswered), 'the third connection waits, neither answered nor closed');
    await second.close();
    await thirdAnswered;
    const fourth = await open(broker);
    const fourthAnswered = apiVersions(fourth);
    assert.ok(await stillWaiting(fourth, fourthAnswered), 'the fourth connection waits');
    const raised = await setBrokerConfig(admin, '', 'max.connections', '3');
    assert.equal(raised.errorCode, ErrorCode.NONE, raised.errorMessage ?? '');
    await fourthAnswered;
    await apiVersions(third);
  });

  it('delays accepting beyond max.connection.creation.rate, closing nothing', async () => {
    const broker = await start({ 'max.connection.creation.rate': 2 });
    brokers.push(broker);
    // Eight connections at once: at 2 per second over a window of one to two seconds, the broker
    // cannot have accepted them all within a second of the first.
    const startedAt = Date.now();
    const answeredAt = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const client = await open(broker);
        await apiVersions(client);
        return Date.now() - startedAt;
      }),
    );
    answeredAt.sort((a, b) => a - b);
    assert.ok(answeredAt[7]! >= 900, `the eighth connection was answered ${answeredAt[7]} ms after the first was opened (${answeredAt.join(', ')})`);
    assert.ok(opened.slice(-8).every((client) => !client.isClosed), 'every connection was served, none closed');
  });

  it('closes a connection over its address\'s connection_creation_rate after the throttle time, never serving it', async () => {
    const broker = await start({});
    brokers.push(broker);
    const admin = await open(broker);
    const set = await admin.request(AlterClientQuotasApi, 1, {
      entries: [{ entity: [{ entityType: 'ip', entityName: '127.0.0.1' }], ops: [{ key: 'connection_creation_rate', value: 1, remove: false }] }],
      validateOnly: false,
    });
    assert.deepEqual(set.entries.map(({ errorCode }) => errorCode), [ErrorCode.NONE]);
    // Two connections at once: the address may open one per second, so one is served and the
    // other is held for the throttle time (1 s here) and closed, its request never answered.
    const startedAt = Date.now();
    const clients = await Promise.all([open(broker), open(broker)]);
    const outcomes = await Promise.all(
      clients.map(async (client) => {
        try {
          await apiVersions(client);
          return 'answered';
        } catch {
          return Date.now() - startedAt;
        }
      }),
    );
    const closedAfterMs = outcomes.find((outcome): outcome is number => typeof outcome === 'number');
    assert.deepEqual(outcomes.filter((outcome) => outcome === 'answered').length, 1, `one served, one closed: ${outcomes.join(', ')}`);
    assert.ok(closedAfterMs !== undefined && closedAfterMs >= 900, `closed ${closedAfterMs} ms after it was opened, before its throttle time`);
    // The served one and the admin connection go on.
    for (const client of [admin, ...clients.filter((client) => !client.isClosed)]) await apiVersions(client);
  });
});
