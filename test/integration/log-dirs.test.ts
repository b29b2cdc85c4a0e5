// Several log directories (log.dirs, Kafka's JBOD) on real brokers: placement over the
// directories, each directory's identity (meta.properties with its own directory.id),
// DescribeLogDirs per directory, AlterReplicaLogDirs moving a replica's data to another directory
// (and a restart finding it there), and a log directory failing: on a single node its partitions
// answer KAFKA_STORAGE_ERROR while the rest are served; on a 3-broker cluster an I/O error in a
// leader's directory moves that partition's leadership to another broker (the controller hears it
// in the heartbeat and takes the replica out of the ISR), with no acknowledged write lost and the
// broker still up for the partitions in its healthy directory.
import '../support/polyfills.js';
import assert from 'node:assert/strict';
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { silentLogger } from '../../src/base/logger.js';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { replicaDirectory } from '../../src/metadata/metadata-image.js';
import { AlterReplicaLogDirsApi, DescribeLogDirsApi, type DescribeLogDirsResponse } from '../../src/protocol/messages/index.js';
import { startBroker } from '../../src/node/start-broker.js';
import { startCluster, type RunningCluster } from '../../src/node/start-cluster.js';
import { systemClock, systemRandom } from '../../src/node/system.js';
import { RawClient } from '../support/raw-client.js';
import { HeldCopies } from './held-copies.js';
import { batchOf, createTopic, produce, readAll, startTestBroker, temporaryDirectory, type TestBroker, uniqueTopic, valuesOf, waitFor } from './helpers.js';

type LogDirResult = DescribeLogDirsResponse['results'][number];

/** Where each partition of `topic` lives, by DescribeLogDirs: partition → log dir. */
function placement(results: LogDirResult[], topic: string): Map<number, string> {
  const where = new Map<number, string>();
  for (const result of results) {
    for (const described of result.topics.filter((entry) => entry.name === topic)) {
      // A future replica (a move in progress) is the copy, not where the partition lives.
      for (const partition of described.partitions.filter((entry) => !entry.isFutureKey)) {
        assert.equal(where.has(partition.partitionIndex), false, `partition ${partition.partitionIndex} listed in two directories`);
        where.set(partition.partitionIndex, result.logDir);
      }
    }
  }
  return where;
}

async function describeLogDirs(client: RawClient): Promise<LogDirResult[]> {
  return (await client.request(DescribeLogDirsApi, 4, { topics: null })).results;
}

function metaProperties(text: string): Map<string, string> {
  return new Map(text.split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]));
}

describe('several log directories on one broker', () => {
  let root: Awaited<ReturnType<typeof temporaryDirectory>>;
  let dirs: string[];
  let broker: TestBroker;
  const topic = uniqueTopic('jbod');
  const config = () => ({ 'log.dirs': dirs.join(','), 'node.id': 1 });

  before(async () => {
    root = await temporaryDirectory();
    dirs = ['a', 'b', 'c'].map((name) => join(root.path, name));
    broker = await startTestBroker({ storage: 'disk', config: config() });
  });
  after(async () => {
    await broker?.close();
    await root?.remove();
  });

  it('gives every directory the cluster identity and its own directory.id', async () => {
    const identities = await Promise.all(dirs.map(async (dir) => metaProperties(await readFile(join(dir, 'meta.properties'), 'utf8'))));
    assert.equal(new Set(identities.map((identity) => identity.get('cluster.id'))).size, 1);
    assert.deepEqual(identities.map((identity) => identity.get('node.id')), ['1', '1', '1']);
    const ids = identities.map((identity) => identity.get('directory.id'));
    assert.ok(ids.every((id) => id !== undefined && /^[A-Za-z0-9_-]{22}$/.test(id)), `directory ids: ${ids.join(',')}`);
    assert.equal(new Set(ids).size, 3, 'distinct directory ids');
  });

  it('spreads new partitions over the directories, and DescribeLogDirs lists each one', async () => {
    await createTopic(broker.client, topic, 6);
    for (let partition = 0; partition < 6; partition++) await produce(broker.client, topic, partition, batchOf([`p${partition}-a`, `p${partition}-b`]));
    const results = await describeLogDirs(broker.client);
    assert.deepEqual(results.map((result) => [result.logDir, result.errorCode]), dirs.map((dir) => [dir, ErrorCode.NONE]));
    const where = placement(results, topic);
    assert.equal(where.size, 6);
    for (const dir of dirs) assert.ok([...where.values()].filter((placed) => placed === dir).length >= 1, `${dir} holds a partition of the topic`);
    for (const result of results) for (const described of result.topics.filter((entry) => entry.name === topic)) for (const partition of described.partitions) assert.ok(partition.partitionSize > 0n);
  });

  it('AlterReplicaLogDirs moves a replica with its data; a restart finds it in its new directory', async () => {
    const before = placement(await describeLogDirs(broker.client), topic);
    const from = before.get(0)!;
    const to = dirs.find((dir) => dir !== from)!;
    const response = await broker.client.request(AlterReplicaLogDirsApi, 2, { dirs: [{ path: to, topics: [{ name: topic, partitions: [0] }] }] });
    assert.equal(response.results[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    await waitFor(async () => placement(await describeLogDirs(broker.client), topic).get(0) === to, 'partition 0 in its new directory');
    // Produced after the move, read back with what came before, in order.
    await waitFor(async () => (await produce(broker.client, topic, 0, batchOf(['p0-c']))).errorCode === ErrorCode.NONE, 'a produce to the moved partition');
    assert.deepEqual(valuesOf(await readAll(broker.client, topic, 0)), ['p0-a', 'p0-b', 'p0-c']);

    await broker.close();
    broker = await startTestBroker({ storage: 'disk', config: config() });
    assert.equal(placement(await describeLogDirs(broker.client), topic).get(0), to);
    assert.deepEqual(valuesOf(await readAll(broker.client, topic, 0)), ['p0-a', 'p0-b', 'p0-c']);
  });

  it('a failed directory answers KAFKA_STORAGE_ERROR for its partitions; the other directories are served', async () => {
    const where = placement(await describeLogDirs(broker.client), topic);
    const failed = dirs[2]!;
    broker.running.broker.services.replicaManager.logManager.failLogDir(failed, 'test: the disk is gone');
    const results = await describeLogDirs(broker.client);
    assert.deepEqual(results.map((result) => [result.logDir, result.errorCode]), dirs.map((dir) => [dir, dir === failed ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.NONE]));
    for (const [partition, dir] of where) {
      const answer = await produce(broker.client, topic, partition, batchOf(['after']));
      assert.equal(answer.errorCode, dir === failed ? ErrorCode.KAFKA_STORAGE_ERROR : ErrorCode.NONE, `partition ${partition} in ${dir}`);
    }
  });
});

describe('the metadata log directory failing', () => {
  it('stops the broker and tells its owner, as a Kafka broker halts', async () => {
    const halted: string[] = [];
    const running = await startBroker({ port: 0, storage: 'memory', config: { 'log.dirs': '/m1,/m2' }, onHalted: (reason) => halted.push(reason) });
    try {
      running.broker.services.replicaManager.logManager.failLogDir('/m1', 'test: the disk is gone');
      await waitFor(() => halted.length > 0, 'the broker halted');
      assert.match(halted[0]!, /metadata log directory \/m1 failed/);
      await assert.rejects(RawClient.connect(running.host, running.port), 'the listener is closed');
    } finally {
      await running.close().catch(() => {});
    }
  });
});

describe('a log directory failing on a 3-broker cluster', () => {
  let cluster: RunningCluster;

  before(async () => {
    cluster = await startCluster({ brokers: 3, logDirsPerNode: 2, config: { 'broker.heartbeat.interval.ms': 200, 'broker.session.timeout.ms': 3000, 'offsets.topic.replication.factor': 3 } });
  });
  after(async () => {
    await cluster?.close();
  });

  it("an I/O error in the leader's directory moves leadership away; nothing acknowledged is lost; the broker serves the rest", async () => {
    const topic = uniqueTopic('dirfail');
    const kafka = new Kafka({ clientId: 'log-dir-failure', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
      // A partition whose leader keeps it in its second directory (not the metadata log's).
      const image = () => cluster.node(cluster.activeController()).broker!.services.image;
      const chosen = await waitFor(() => {
        for (const [partitionId, partition] of image().topic(topic)?.partitions ?? []) {
          const node = cluster.node(partition.leader);
          if (node.broker?.services.replicaManager.logManager.logDirOf(topic, partitionId) === node.logDirs[1]) return { partitionId, leader: partition.leader, dir: node.logDirs[1]! };
        }
        return undefined;
      }, 'a partition led from a second log directory');
      await producer.connect();
      const acknowledged: string[] = [];
      const send = async (value: string) => {
        await producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: [{ value, partition: chosen.partitionId }] });
        acknowledged.push(value);
      };
      for (let index = 0; index < 20; index++) await send(`before-${index}`);

      const leaderNode = cluster.node(chosen.leader);
      assert.ok(leaderNode.fs instanceof MemoryFileSystem);
      // The controller knows the replica's directory: the broker told it (AssignReplicasToDirs).
      const directoryId = metaProperties((await leaderNode.fs.readFile(`${chosen.dir}/meta.properties`)).toString('utf8')).get('directory.id');
      await waitFor(() => replicaDirectory(image().partition(topic, chosen.partitionId)!, chosen.leader) === directoryId, 'the replica\'s directory recorded by the controller');
      leaderNode.fs.setFaultInjector((_operation, path) => (path.startsWith(`${chosen.dir}/`) ? 'EIO' : undefined));
      // The first write into the failed directory fails it; the producer carries on at the new leader.
      for (let index = 0; index < 20; index++) await send(`after-${index}`);

      const now = image().partition(topic, chosen.partitionId)!;
      assert.notEqual(now.leader, chosen.leader, 'leadership moved off the failed directory');
      assert.equal(now.isr.includes(chosen.leader), false, 'the failed replica left the ISR');
      assert.equal(image().brokers.get(chosen.leader)?.fenced, false, 'the broker itself stays in the cluster');
      // The broker kafkajs asks may apply the controller's records a moment after the controller.
      const offlineListed = async () => {
        const described = await admin.fetchTopicMetadata({ topics: [topic] });
        return described.topics[0]!.partitions.find((partition) => partition.partitionId === chosen.partitionId)!.offlineReplicas ?? [];
      };
      // Each call may reach another broker: the answer checked is the one that listed it.
      let lastListed: number[] = [];
      await waitFor(async () => {
        lastListed = await offlineListed();
        return lastListed.includes(chosen.leader);
      }, 'Metadata lists the replica in the failed directory as offline').catch(() => {});
      assert.deepEqual(lastListed, [chosen.leader], 'Metadata lists the replica in the failed directory as offline');
      // Its other directory still serves: it still leads or follows partitions kept there.
      const stillHosted = [...leaderNode.broker!.services.replicaManager.all()].filter((replica) => leaderNode.broker!.services.replicaManager.logManager.logDirOf(replica.topic, replica.partitionIndex) === leaderNode.logDirs[0]);
      assert.ok(stillHosted.length > 0, 'partitions in the healthy directory are still hosted');
      const client = await RawClient.connect('127.0.0.1', Number(leaderNode.bootstrapServer.split(':')[1]));
      try {
        const results = await describeLogDirs(client);
        assert.deepEqual(results.map((result) => [result.logDir, result.errorCode]), [[leaderNode.logDirs[0], ErrorCode.NONE], [chosen.dir, ErrorCode.KAFKA_STORAGE_ERROR]]);
      } finally {
        await client.close();
      }

      // Every acknowledged record, once, in order, from the new leader.
      const consumer = kafka.consumer({ groupId: `${topic}-check` });
      await consumer.connect();
      const seen: string[] = [];
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ partition, message }) => void (partition === chosen.partitionId && seen.push(message.value!.toString())) });
        await waitFor(() => seen.length >= acknowledged.length, 'every acknowledged record consumed', 30_000);
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual(seen, acknowledged);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
      for (const nodeId of cluster.nodeIds) {
        const fs = cluster.node(nodeId).fs;
        if (fs instanceof MemoryFileSystem) fs.setFaultInjector(undefined);
      }
    }
  });
});

describe('DescribeLogDirs total and usable bytes (KIP-827)', () => {
  it('on disk: the file system each log directory is on, as statfs reports it', async () => {
    const root = await temporaryDirectory();
    const dirs = ['a', 'b'].map((name) => join(root.path, name));
    const broker = await startTestBroker({ storage: 'disk', config: { 'log.dirs': dirs.join(','), 'node.id': 1 } });
    try {
      const results = await describeLogDirs(broker.client);
      assert.deepEqual(results.map((result) => [result.logDir, result.errorCode]), dirs.map((dir) => [dir, ErrorCode.NONE]));
      for (const { logDir, totalBytes, usableBytes } of results) {
        const stats = await statfs(logDir, { bigint: true });
        assert.equal(totalBytes, stats.blocks * stats.bsize, `${logDir}: total`);
        // Version 4 carries both; other writers on the volume move usable bytes from one moment to the next.
        assert.ok(totalBytes !== undefined && usableBytes !== undefined && totalBytes > 0n, `${logDir}: total ${totalBytes}`);
        assert.ok(usableBytes > 0n && usableBytes <= totalBytes, `${logDir}: usable ${usableBytes} of ${totalBytes}`);
      }
    } finally {
      await broker.close();
      await root.remove();
    }
  });

  it('in memory: the capacity limit and what the files leave of it; -1 without a limit; a directory that cannot be measured answers UNKNOWN_SERVER_ERROR', async () => {
    const capacity = 1024 * 1024 * 1024;
    const fs = new MemoryFileSystem({ capacityBytes: capacity });
    const config = resolveBrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': '/m1,/m2', 'node.id': 1 });
    const broker = await Broker.start({ config, fs, clock: systemClock, random: systemRandom, logger: silentLogger });
    const endpoint = broker.endpoints[0]!;
    const client = await RawClient.connect(endpoint.host, endpoint.port);
    try {
      const topic = uniqueTopic('space');
      await createTopic(client, topic, 2);
      for (let partition = 0; partition < 2; partition++) await produce(client, topic, partition, batchOf(['x'.repeat(10_000)]));
      // Both directories are on the one memory file system: its capacity, less every file's bytes.
      const answered = await waitFor(async () => {
        const results = await describeLogDirs(client);
        const used = BigInt(fs.usedBytes);
        return results.every((result) => result.usableBytes === BigInt(capacity) - used) && results;
      }, 'usable bytes to be the capacity less the bytes used');
      assert.deepEqual(answered.map((result) => [result.logDir, result.errorCode, result.totalBytes]), [['/m1', ErrorCode.NONE, BigInt(capacity)], ['/m2', ErrorCode.NONE, BigInt(capacity)]]);
      assert.ok(BigInt(capacity) - answered[0]!.usableBytes! >= 20_000n, 'the records produced are counted as used');

      fs.setFaultInjector((operation, path) => (operation === 'space' && path === '/m2' ? 'EIO' : undefined));
      const failing = await describeLogDirs(client);
      assert.deepEqual(failing.map((result) => [result.logDir, result.errorCode, result.topics.length > 0, result.totalBytes, result.usableBytes]), [
        ['/m1', ErrorCode.NONE, true, BigInt(capacity), failing[0]!.usableBytes],
        ['/m2', ErrorCode.UNKNOWN_SERVER_ERROR, false, -1n, -1n],
      ]);
    } finally {
      fs.setFaultInjector(undefined);
      await client.close();
      await broker.close();
    }

    const unlimited = await startTestBroker({ storage: 'memory' });
    try {
      const results = await describeLogDirs(unlimited.client);
      assert.deepEqual(results.map((result) => [result.errorCode, result.totalBytes, result.usableBytes]), [[ErrorCode.NONE, -1n, -1n]]);
    } finally {
      await unlimited.close();
    }
  });
});

describe('AlterReplicaLogDirs for a replica being moved, as Kafka replaces its future replica', () => {
  const dirs = ['/m1', '/m2', '/m3'];
  const fs = new HeldCopies(new MemoryFileSystem());
  let broker: Broker;
  let client: RawClient;
  const topic = uniqueTopic('remove');
  const alter = async (path: string) => (await client.request(AlterReplicaLogDirsApi, 2, { dirs: [{ path, topics: [{ name: topic, partitions: [0] }] }] })).results[0]!.partitions[0]!.errorCode;
  /** Where partition 0 lives and where its future replica is, by DescribeLogDirs. */
  const described = async () => {
    const results = await describeLogDirs(client);
    const futures = results.filter((result) => result.topics.some((entry) => entry.name === topic && entry.partitions.some((partition) => partition.isFutureKey))).map((result) => result.logDir);
    return { current: placement(results, topic).get(0), futures };
  };
  const futureDirectories = async () => {
    const names: string[] = [];
    for (const dir of dirs) for (const entry of await fs.readdir(dir)) if (entry.name.endsWith('-future')) names.push(`${dir}/${entry.name}`);
    return names;
  };
  const values: string[] = [];
  const produceSome = async (label: string) => {
    for (let index = 0; index < 3; index++) {
      const value = `${label}-${index}`;
      await waitFor(async () => (await produce(client, topic, 0, batchOf([value]))).errorCode === ErrorCode.NONE, `a produce of ${value}`);
      values.push(value);
    }
  };

  before(async () => {
    const config = resolveBrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dirs.join(','), 'node.id': 1 });
    broker = await Broker.start({ config, fs, clock: systemClock, random: systemRandom, logger: silentLogger });
    client = await RawClient.connect(broker.endpoints[0]!.host, broker.endpoints[0]!.port);
    await createTopic(client, topic, 1);
    await produceSome('before');
  });
  after(async () => {
    fs.release();
    await client?.close();
    await broker?.close();
  });

  it('another directory: the running copy is given up (its -future directory removed) and a new copy goes there', async () => {
    const from = (await described()).current!;
    const [first, second] = dirs.filter((dir) => dir !== from) as [string, string];
    fs.hold(first);
    assert.equal(await alter(first), ErrorCode.NONE);
    await waitFor(async () => (await described()).futures.includes(first) || undefined, `the copy in ${first}`);
    assert.equal(await alter(first), ErrorCode.NONE, 'the same destination again');
    assert.deepEqual(await described(), { current: from, futures: [first] }, 'the same destination changes nothing');

    assert.equal(await alter(second), ErrorCode.NONE);
    // Kafka drops the future replica at once; the copy under way stops at its next round.
    assert.equal((await described()).futures.includes(first), false, `the copy in ${first} is still listed`);
    fs.release();
    await waitFor(async () => ((await described()).current === second && !broker.services.replicaManager.isMoving(topic, 0)) || undefined, `partition 0 moved to ${second}`);
    assert.deepEqual(await described(), { current: second, futures: [] });
    assert.deepEqual(await futureDirectories(), [], 'a copy left behind');
    await produceSome('after-move');
    assert.deepEqual(valuesOf(await readAll(client, topic, 0)), values);
  });

  it('its current directory: the move is cancelled, the copy removed, the replica stays', async () => {
    const from = (await described()).current!;
    const elsewhere = dirs.find((dir) => dir !== from)!;
    fs.hold(elsewhere);
    assert.equal(await alter(elsewhere), ErrorCode.NONE);
    await waitFor(async () => (await described()).futures.includes(elsewhere) || undefined, `the copy in ${elsewhere}`);

    assert.equal(await alter(from), ErrorCode.NONE);
    assert.deepEqual(await described(), { current: from, futures: [] }, 'the move is not cancelled');
    fs.release();
    await waitFor(() => !broker.services.replicaManager.isMoving(topic, 0) || undefined, 'the cancelled move to end');
    assert.deepEqual(await described(), { current: from, futures: [] });
    assert.deepEqual(await futureDirectories(), [], 'a copy left behind');
    await produceSome('after-cancel');
    assert.deepEqual(valuesOf(await readAll(client, topic, 0)), values);
  });
});

// The chaos run of 2026-12-07 (seed 2032): a node's log directory failed while the node created a
// new topic's partition in it (mkdir refused). The failure escaped the metadata publisher and
// stopped the node's metadata loading for good; as the quorum's leader later, that node could not
// act as the controller, and the cluster lost its controller. A directory failing is a storage
// fault of that directory (its replicas offline, reported to the controller), not of the metadata.
describe('a log directory failing while a new topic is created in it', () => {
  it('takes that directory offline; the metadata goes on loading and the other directory serves new topics', async () => {
    const cluster = await startCluster({ brokers: 1, logDirsPerNode: 2 });
    try {
      const node = cluster.node(cluster.nodeIds[0]!);
      const failing = node.logDirs[1]!;
      (node.fs as MemoryFileSystem).setFaultInjector((operation, path) => (operation === 'mkdir' && path.startsWith(`${failing}/`) ? 'EIO' : undefined));
      const kafka = new Kafka({ clientId: 'log-dir-create-failure', brokers: [node.bootstrapServer], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
      const admin = kafka.admin();
      await admin.connect();
      try {
        // Four partitions over two directories: some are placed in the failing one.
        await admin.createTopics({ topics: [{ topic: 'placed-on-both', numPartitions: 4 }] }).catch(() => false);
        const services = node.broker!.services;
        await waitFor(() => services.replicaManager.logManager.logDirs.some((dir) => dir.path === failing && dir.offline), 'the directory taken offline');
        // The metadata still loads: a later topic is created, placed in the healthy directory and written.
        assert.equal(await admin.createTopics({ topics: [{ topic: 'after-the-failure', numPartitions: 2 }] }), true);
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic: 'after-the-failure', messages: [{ value: 'a' }, { value: 'b' }] });
        await producer.disconnect();
        assert.ok(services.image.topic('after-the-failure'), 'the image has the later topic');
      } finally {
        await admin.disconnect();
      }
    } finally {
      await cluster.close();
    }
  });
});

// The same kind of fault on the deletion path: a log directory failing while a deleted topic's
// logs are removed from it (the rename refused). Once, that failure escaped the metadata publisher
// too, and any failure there stopped the node's metadata loading for good.
describe('a log directory failing while a deleted topic\'s logs are removed from it', () => {
  it('takes that directory offline; the other partitions are deleted and the metadata goes on loading', async () => {
    const cluster = await startCluster({ brokers: 1, logDirsPerNode: 2 });
    try {
      const node = cluster.node(cluster.nodeIds[0]!);
      const failing = node.logDirs[1]!;
      const services = node.broker!.services;
      const kafka = new Kafka({ clientId: 'log-dir-delete-failure', brokers: [node.bootstrapServer], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
      const admin = kafka.admin();
      await admin.connect();
      try {
        assert.equal(await admin.createTopics({ topics: [{ topic: 'deleted-from-both', numPartitions: 4 }] }), true);
        const logsOf = (topic: string) => [...services.replicaManager.logManager.logs()].filter((log) => log.topic === topic);
        await waitFor(() => logsOf('deleted-from-both').length === 4, 'the four logs');
        const dirOf = (partition: number) => services.replicaManager.logManager.logDirOf('deleted-from-both', partition);
        assert.ok([0, 1, 2, 3].some((partition) => dirOf(partition) === failing), 'some partitions are in the failing directory');
        (node.fs as MemoryFileSystem).setFaultInjector((operation, path) => (operation === 'rename' && path.startsWith(`${failing}/`) ? 'EIO' : undefined));
        await admin.deleteTopics({ topics: ['deleted-from-both'] });
        await waitFor(() => services.replicaManager.logManager.logDirs.some((dir) => dir.path === failing && dir.offline), 'the directory taken offline');
        // The healthy directory's logs of the topic go; the failing one's stay on disk for the next start.
        await waitFor(() => logsOf('deleted-from-both').every((log) => services.replicaManager.logManager.logDirOf(log.topic, log.partition) === failing), 'the healthy directory\'s logs deleted');
        assert.equal(await admin.createTopics({ topics: [{ topic: 'after-the-deletion', numPartitions: 2 }] }), true);
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic: 'after-the-deletion', messages: [{ value: 'a' }, { value: 'b' }] });
        await producer.disconnect();
      } finally {
        await admin.disconnect();
      }
    } finally {
      await cluster.close();
    }
  });
});

// Whatever else fails while a broker applies committed metadata to its partitions (here a failure
// injected into the topic deletion once, standing for a fault nobody foresaw) is the broker's, not
// the metadata's: it is logged, the metadata goes on loading (a node that stopped loading would
// leave its controller unable to act), and the broker retries with the whole image until its
// partitions match it.
describe('a failure while a broker applies committed metadata', () => {
  it('does not stop the metadata loading, and the broker catches up with the whole image', async () => {
    const cluster = await startCluster({ brokers: 1 });
    try {
      const node = cluster.node(cluster.nodeIds[0]!);
      const services = node.broker!.services;
      const replicaManager = services.replicaManager;
      const kafka = new Kafka({ clientId: 'publish-failure', brokers: [node.bootstrapServer], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
      const admin = kafka.admin();
      await admin.connect();
      try {
        assert.equal(await admin.createTopics({ topics: [{ topic: 'deleted-on-retry', numPartitions: 3 }] }), true);
        const logsOf = (topic: string) => [...replicaManager.logManager.logs()].filter((log) => log.topic === topic);
        await waitFor(() => logsOf('deleted-on-retry').length === 3, 'the three logs');
        const deleteTopic = replicaManager.deleteTopic.bind(replicaManager);
        let failures = 0;
        replicaManager.deleteTopic = async (topic) => {
          if (failures++ === 0) throw new Error('injected: the first deletion fails');
          return deleteTopic(topic);
        };
        await admin.deleteTopics({ topics: ['deleted-on-retry'] });
        await waitFor(() => failures > 0, 'the deletion attempted');
        assert.equal(await admin.createTopics({ topics: [{ topic: 'after-the-failure', numPartitions: 2 }] }), true);
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic: 'after-the-failure', messages: [{ value: 'a' }] });
        await producer.disconnect();
        await waitFor(() => logsOf('deleted-on-retry').length === 0, 'the deleted topic\'s logs gone after the retry');
        assert.equal(logsOf('after-the-failure').length, 2);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await cluster.close();
    }
  });
});
