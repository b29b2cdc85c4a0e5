// KRaft configuration and the storage flow: the controller.quorum.* and listener keys parsed into
// the broker config with Kafka 4's defaults, every refusal naming its key, the cross-key rules that
// apply once a quorum is configured, isMultiNodeQuorum, and meta.properties for a single node (made
// at start) and for a node of a multi-node quorum (formatted beforehand by formatStorage).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RandomSource } from '../../src/base/clock.js';
import { ConfigError } from '../../src/base/config-def.js';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { type ConfigInput, isMultiNodeQuorum, resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { ensureBrokerIdentity, ensureMetaProperties, formatStorage, readMetaProperties } from '../../src/broker/meta-properties.js';

const random: RandomSource = { nextInt: (bound) => Math.floor(Math.random() * bound), bytes: (length) => randomBytes(length) };
const CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qg';
const OTHER_CLUSTER_ID = 'q1Sh-9_ISia_zwGINzRvyQ';

/** A controller of a three-voter quorum, as Kafka's combined-mode server.properties has it. */
const combined = {
  'node.id': 1,
  'process.roles': 'broker,controller',
  'controller.quorum.voters': '1@localhost:9093,2@localhost:9095,3@localhost:9097',
  listeners: 'PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093',
  'controller.listener.names': 'CONTROLLER',
};

function refuses(input: ConfigInput, key: string, message?: RegExp): void {
  assert.throws(
    () => resolveBrokerConfig(input),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
      assert.equal(error.key, key, error.message);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

describe('KRaft configuration', () => {
  it('defaults: a single combined node with no quorum keys, Kafka 4 timeouts', () => {
    const config = resolveBrokerConfig();
    assert.deepEqual(config.processRoles, ['broker', 'controller']);
    assert.deepEqual(config.controllerQuorumVoters, []);
    assert.deepEqual(config.controllerQuorumBootstrapServers, []);
    assert.deepEqual(config.controllerListenerNames, []);
    assert.equal(config.interBrokerListenerName, null);
    assert.equal(config.controllerQuorumElectionTimeoutMs, 1000);
    assert.equal(config.controllerQuorumFetchTimeoutMs, 2000);
    assert.equal(config.controllerQuorumElectionBackoffMaxMs, 1000);
    assert.equal(config.controllerQuorumRequestTimeoutMs, 2000);
    assert.equal(config.controllerQuorumRetryBackoffMs, 20);
    assert.equal(config.brokerHeartbeatIntervalMs, 2000);
    assert.equal(config.brokerSessionTimeoutMs, 9000);
    assert.equal(config.metadataLogMaxRecordBytesBetweenSnapshots, 20971520);
    assert.equal(config.metadataMaxIdleIntervalMs, 500);
    assert.equal(isMultiNodeQuorum(config), false);
  });

  it('parses voters (IPv6 in brackets), bootstrap servers, listener names and the timeouts', () => {
    const config = resolveBrokerConfig({
      ...combined,
      'controller.quorum.voters': '1@localhost:9093, 2@10.0.0.2:9093,3@[::1]:9093',
      'controller.quorum.bootstrap.servers': 'localhost:9093,[fe80::1]:19093',
      'controller.listener.names': 'controller',
      'inter.broker.listener.name': 'plaintext',
      'controller.quorum.election.timeout.ms': 1500,
      'controller.quorum.fetch.timeout.ms': 3000,
      'controller.quorum.election.backoff.max.ms': 800,
      'controller.quorum.request.timeout.ms': 2500,
      'controller.quorum.retry.backoff.ms': 50,
      'broker.heartbeat.interval.ms': 1000,
      'broker.session.timeout.ms': 6000,
      'metadata.log.max.record.bytes.between.snapshots': 1048576,
      'metadata.max.idle.interval.ms': 0,
    });
    assert.deepEqual(config.controllerQuorumVoters, [
      { nodeId: 1, host: 'localhost', port: 9093 },
      { nodeId: 2, host: '10.0.0.2', port: 9093 },
      { nodeId: 3, host: '::1', port: 9093 },
    ]);
    assert.deepEqual(config.controllerQuorumBootstrapServers, [{ host: 'localhost', port: 9093 }, { host: 'fe80::1', port: 19093 }]);
    assert.deepEqual(config.controllerListenerNames, ['CONTROLLER']);
    assert.equal(config.interBrokerListenerName, 'PLAINTEXT');
    assert.deepEqual(
      [config.controllerQuorumElectionTimeoutMs, config.controllerQuorumFetchTimeoutMs, config.controllerQuorumElectionBackoffMaxMs,
        config.controllerQuorumRequestTimeoutMs, config.controllerQuorumRetryBackoffMs, config.brokerHeartbeatIntervalMs,
        config.brokerSessionTimeoutMs, config.metadataLogMaxRecordBytesBetweenSnapshots, config.metadataMaxIdleIntervalMs],
      [1500, 3000, 800, 2500, 50, 1000, 6000, 1048576, 0],
    );
    assert.equal(config.values.get('controller.quorum.voters')!.toString(), '1@localhost:9093,2@10.0.0.2:9093,3@[::1]:9093');
  });

  it('refuses a malformed voter entry, a duplicate node id and a port out of range, naming controller.quorum.voters', () => {
    for (const voters of ['1@localhost', 'localhost:9093', 'x@localhost:9093', '-1@localhost:9093', '1@:9093', '1@::1:9093', '1@localhost:9093@', '1@local host:9093']) {
      refuses({ ...combined, 'controller.quorum.voters': voters }, 'controller.quorum.voters', /\{id\}@\{host\}:\{port\}/);
    }
    refuses({ ...combined, 'controller.quorum.voters': '1@localhost:9093,1@otherhost:9093' }, 'controller.quorum.voters', /node id 1 appears more than once/);
    refuses({ ...combined, 'controller.quorum.voters': '1@localhost:65536' }, 'controller.quorum.voters', /port 65536/);
    refuses({ ...combined, 'controller.quorum.voters': '1@localhost:99999999' }, 'controller.quorum.voters', /port/);
  });

  it('refuses a malformed bootstrap server, naming controller.quorum.bootstrap.servers', () => {
    for (const servers of ['localhost', 'localhost:', '1@localhost:9093', 'localhost:70000']) {
      refuses({ ...combined, 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': servers }, 'controller.quorum.bootstrap.servers');
    }
  });

  it('refuses bad process.roles and listener names', () => {
    refuses({ 'process.roles': 'broker,zookeeper' }, 'process.roles');
    refuses({ 'process.roles': '' }, 'process.roles');
    refuses({ 'controller.listener.names': 'CONTROLLER://localhost:9093' }, 'controller.listener.names');
    refuses({ 'inter.broker.listener.name': 'PLAIN TEXT' }, 'inter.broker.listener.name');
    refuses({ 'inter.broker.listener.name': 'PLAINTEXT,INTERNAL' }, 'inter.broker.listener.name');
  });

  it('a controller needs controller.listener.names, among its listeners, and must be a voter', () => {
    assert.doesNotThrow(() => resolveBrokerConfig(combined));
    const { 'controller.listener.names': _names, ...withoutNames } = combined;
    refuses(withoutNames, 'controller.listener.names', /CONTROLLER/);
    refuses({ ...withoutNames, 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093' }, 'controller.listener.names');
    refuses({ ...combined, listeners: 'PLAINTEXT://localhost:9092' }, 'controller.listener.names', /CONTROLLER is not one of the listeners \(PLAINTEXT\)/);
    refuses({ ...combined, 'node.id': 4 }, 'node.id', /node 4 has the controller role but is not one of controller.quorum.voters \(1, 2, 3\)/);
    refuses({ ...combined, 'process.roles': 'controller', 'node.id': 4 }, 'node.id');
    // With bootstrap servers alone (a dynamic quorum) a controller need not be listed anywhere.
    assert.doesNotThrow(() => resolveBrokerConfig({ ...combined, 'node.id': 4, 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093' }));
  });

  it('a broker-only node must not be a voter and still needs controller.listener.names, which it does not serve', () => {
    const brokerOnly = { ...combined, 'node.id': 4, 'process.roles': 'broker', listeners: 'PLAINTEXT://localhost:9092' };
    const config = resolveBrokerConfig(brokerOnly);
    assert.deepEqual(config.processRoles, ['broker']);
    assert.deepEqual(config.controllerListenerNames, ['CONTROLLER']);
    refuses({ ...brokerOnly, 'node.id': 2 }, 'node.id', /node 2 is one of controller.quorum.voters but process.roles is broker only/);
    const { 'controller.listener.names': _names, ...withoutNames } = brokerOnly;
    refuses(withoutNames, 'controller.listener.names');
    refuses({ ...brokerOnly, listeners: 'PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093' }, 'listeners', /broker-only/);
  });

  it('a controller listener is not the inter-broker listener, and a broker keeps a listener of its own', () => {
    refuses({ ...combined, 'inter.broker.listener.name': 'CONTROLLER' }, 'inter.broker.listener.name', /controller listener/);
    refuses({ ...combined, 'inter.broker.listener.name': 'INTERNAL' }, 'inter.broker.listener.name', /not one of the listeners/);
    refuses({ ...combined, listeners: 'CONTROLLER://localhost:9093' }, 'listeners', /broker role/);
    assert.doesNotThrow(() => resolveBrokerConfig({ ...combined, 'process.roles': 'controller', listeners: 'CONTROLLER://localhost:9093' }));
    refuses({ ...combined, listeners: 'PLAINTEXT://localhost:9092,CONTROLLER:/localhost:9093' }, 'listeners');
  });

  it('without voters or bootstrap servers the quorum keys are not cross-checked (a single node as before)', () => {
    const config = resolveBrokerConfig({ 'inter.broker.listener.name': 'PLAINTEXT', 'controller.listener.names': 'CONTROLLER', 'process.roles': 'broker' });
    assert.deepEqual(config.controllerListenerNames, ['CONTROLLER']);
    assert.equal(isMultiNodeQuorum(config), false);
  });

  it('isMultiNodeQuorum: several voters, or a voter set this node is not alone in; bootstrap servers alone are a quorum of one', () => {
    assert.equal(isMultiNodeQuorum(resolveBrokerConfig(combined)), true);
    assert.equal(isMultiNodeQuorum(resolveBrokerConfig({ ...combined, 'controller.quorum.voters': '1@localhost:9093' })), false);
    // Kafka's sample standalone server.properties: until voters can be added at run time (KIP-853)
    // this node is the whole quorum and formats itself, as it always did.
    assert.equal(
      isMultiNodeQuorum(resolveBrokerConfig({ ...combined, 'controller.quorum.voters': '', 'controller.quorum.bootstrap.servers': 'localhost:9093' })),
      false,
    );
    const brokerOfOneController = { ...combined, 'node.id': 2, 'process.roles': 'broker', 'controller.quorum.voters': '1@localhost:9093', listeners: 'PLAINTEXT://localhost:9092' };
    assert.equal(isMultiNodeQuorum(resolveBrokerConfig(brokerOfOneController)), true);
  });
});

describe('meta.properties: ensureMetaProperties and formatStorage', () => {
  it('a single node formats a new directory itself; an existing identity is returned as it is', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/data');
    const created = await ensureMetaProperties(fs, '/data', 1, random, false);
    assert.match(created.clusterId, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(await ensureMetaProperties(fs, '/data', 1, random, false), created);
    assert.deepEqual(await ensureMetaProperties(fs, '/data', 1, random, true), created);
    await assert.rejects(ensureMetaProperties(fs, '/data', 2, random, false), /node\.id: .* belongs to node 1/);
  });

  it('a broker start reads each directory\'s meta.properties once, a new one\'s directory id being the one it wrote', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/data');
    await fs.mkdir('/data2');
    const reads: string[] = [];
    const readFile = fs.readFile.bind(fs);
    fs.readFile = (path) => {
      reads.push(path);
      return readFile(path);
    };
    const created = await ensureBrokerIdentity(fs, ['/data', '/data2'], 1, random, false);
    assert.deepEqual(reads, ['/data/meta.properties', '/data2/meta.properties'], 'the first directory is not read back after its identity was written');
    const written = (await readFile('/data/meta.properties')).toString('utf8');
    assert.ok(written.includes(`cluster.id=${created.clusterId}\n`) && written.includes(`directory.id=${created.directoryIds.get('/data')}\n`), written);
    assert.ok((await readFile('/data2/meta.properties')).toString('utf8').includes(`directory.id=${created.directoryIds.get('/data2')}\n`));
    assert.notEqual(created.directoryIds.get('/data'), created.directoryIds.get('/data2'));
    reads.length = 0;
    assert.deepEqual(await ensureBrokerIdentity(fs, ['/data', '/data2'], 1, random, false), created, 'a restart finds the same identity');
    assert.deepEqual(reads, ['/data/meta.properties', '/data2/meta.properties']);
    await assert.rejects(ensureBrokerIdentity(fs, ['/data', '/data2'], 2, random, false), /node\.id: .* belongs to node 1/);
  });

  it('a node of a multi-node quorum refuses an unformatted directory, saying how to format it', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/data');
    await assert.rejects(ensureMetaProperties(fs, '/data', 1, random, true), (error: Error) => {
      assert.match(error.message, /\/data is not formatted/);
      assert.match(error.message, /conveyor storage format --cluster-id <id> --config <server\.properties>/);
      assert.match(error.message, /conveyor storage random-uuid/);
      assert.match(error.message, /same id/);
      return true;
    });
    assert.equal(await readMetaProperties(fs, '/data', 1), undefined, 'nothing written');
    await formatStorage(fs, '/data', 1, CLUSTER_ID, {});
    assert.deepEqual(await ensureMetaProperties(fs, '/data', 1, random, true), { clusterId: CLUSTER_ID, nodeId: 1 });
  });

  it('formatStorage writes meta.properties durably, creating the directory and its parents', async () => {
    const fs = new MemoryFileSystem();
    assert.equal(await formatStorage(fs, '/var/lib/conveyor/node-3', 3, CLUSTER_ID, {}), 'formatted');
    fs.simulatePowerLoss();
    assert.equal((await fs.readFile('/var/lib/conveyor/node-3/meta.properties')).toString('utf8'), `version=1\ncluster.id=${CLUSTER_ID}\nnode.id=3\n`);
    assert.deepEqual(await readMetaProperties(fs, '/var/lib/conveyor/node-3', 3), { clusterId: CLUSTER_ID, nodeId: 3 });
  });

  it('formatStorage refuses a formatted directory unless ignoreFormatted and the identity is the same', async () => {
    const fs = new MemoryFileSystem();
    await formatStorage(fs, '/data', 1, CLUSTER_ID, {});
    await assert.rejects(formatStorage(fs, '/data', 1, CLUSTER_ID, {}), /already formatted.*--ignore-formatted/);
    assert.equal(await formatStorage(fs, '/data', 1, CLUSTER_ID, { ignoreFormatted: true }), 'already-formatted');
    await assert.rejects(formatStorage(fs, '/data', 1, OTHER_CLUSTER_ID, {}), new RegExp(`belongs to cluster ${CLUSTER_ID}, not ${OTHER_CLUSTER_ID}`));
    await assert.rejects(formatStorage(fs, '/data', 1, OTHER_CLUSTER_ID, { ignoreFormatted: true }), /belongs to cluster/);
    await assert.rejects(formatStorage(fs, '/data', 2, CLUSTER_ID, { ignoreFormatted: true }), /node\.id: .* belongs to node 1/);
    assert.deepEqual(await readMetaProperties(fs, '/data', 1), { clusterId: CLUSTER_ID, nodeId: 1 }, 'unchanged');
  });

  it('formatStorage refuses a cluster id that is not a 22-character base64url UUID', async () => {
    const fs = new MemoryFileSystem();
    for (const clusterId of ['', 'abc', 'MkU3OEVBNTcwNTJENDM2Qg==', 'MkU3OEVBNTcwNTJENDM2Q', 'MkU3OEVBNTcwNTJENDM2Qg1', 'MkU3OEVBNTcwNTJENDM2Q+', 'MkU3OEVBNTcwNTJENDM2Qh']) {
      await assert.rejects(formatStorage(fs, '/data', 1, clusterId, {}), /not a Kafka cluster id.*conveyor storage random-uuid/, clusterId);
    }
    assert.equal(await readMetaProperties(fs, '/data', 1), undefined, 'nothing written');
  });
});
