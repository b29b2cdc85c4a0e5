// `conveyor reassign-partitions` with "log_dirs" (Kafka's kafka-reassign-partitions moving replicas
// between a broker's log directories), as a child process against an in-process 3-node cluster on
// disk with two log directories per node:
// - a plan giving a replica its broker's other directory: --execute starts the move
//   (AlterReplicaLogDirs), --verify reports it until "completed successfully", the replica is then
//   in that directory (and no longer in the old one), and every record produced before is read
//   back, with a record produced after;
// - a plan moving a partition to a new broker with a specific directory there: --execute submits
//   the reassignment, then retries the move until the new replica exists; --verify reports both
//   the partition and the replica complete; the new broker holds every record in that directory;
// - refused before anything changes: a relative path, a directory the broker does not have;
// - --generate still proposes "any" directories;
// - each state --verify can report for a replica (Kafka's LogDirMoveState and its line), from
//   DescribeLogDirs answers: completed, moving (a future copy in the target or elsewhere), not
//   moving, missing (an offline directory, or not a replica there), and listed nowhere while the
//   broker is one of the partition's replicas (Conveyor's broker lists a replica it is copying
//   nowhere): in progress.
import assert from 'node:assert/strict';
import { access, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../src/base/error-codes.js';
import { logDirMoveLine, logDirMoveState } from '../../src/cli/reassign-partitions-command.js';
import type { LogDirInfo } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { CreateTopicsApi } from '../../src/protocol/messages/index.js';
import { batchOf, produce, readAll, temporaryDirectory, valuesOf } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

describe('conveyor reassign-partitions with log_dirs', { timeout: 120_000 }, () => {
  let cluster: RunningCluster;
  let directory: string;
  let client: ClusterClient;
  const server = () => ['--bootstrap-server', cluster.node(1).bootstrapServer];
  const conveyor = (...args: string[]): Promise<ProcessResult> => {
    const script = `import(${JSON.stringify(main)}).then((cli) => cli.run(['node', 'conveyor', ...process.argv.slice(1)]))`;
    return runProcess(process.execPath, ['--import', 'tsx', '--eval', script, 'reassign-partitions', ...args, ...server()], { timeoutMs: 40_000 });
  };
  const ok = async (...args: string[]): Promise<string> => {
    const result = await conveyor(...args);
    assert.equal(result.code, 0, `reassign-partitions ${args.join(' ')} exited ${result.code}\nstderr: ${result.stderr}\nstdout: ${result.stdout}`);
    return result.stdout;
  };
  let files = 0;
  const plan = async (partitions: { topic: string; partition: number; replicas: number[]; log_dirs?: string[] }[]): Promise<string> => {
    const path = join(directory, `plan-${files++}.json`);
    await writeFile(path, JSON.stringify({ version: 1, partitions }));
    return path;
  };
  const image = () => cluster.node(cluster.activeController()).broker!.services.image;
  /** The log directory broker `nodeId` keeps its replica of `topic`-0 in, or undefined. */
  const logDirOf = (nodeId: number, topic: string) => cluster.node(nodeId).broker?.services.replicaManager.logManager.logDirOf(topic, 0);
  const createTopic = async (topic: string, replicas: number[]) => {
    const response = await client.request(CreateTopicsApi, {
      topics: [{ name: topic, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: replicas }], configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE, `creating ${topic}: ${response.topics[0]?.errorMessage}`);
    await waitFor(`${topic} in sync on every node, its replicas created`, () =>
      cluster.nodeIds.every((nodeId) => cluster.node(nodeId).broker?.services.image.partition(topic, 0)?.isr.length === replicas.length) &&
      replicas.every((nodeId) => logDirOf(nodeId, topic) !== undefined)
        ? true
        : undefined,
    );
  };
  const connectTo = (nodeId: number) => {
    const [host, port] = cluster.node(nodeId).bootstrapServer.split(':');
    return RawClient.connect(host!, Number(port));
  };
  /** Produces `values` to `topic`-0 through its current leader with acks=all, retrying while leadership moves. */
  const write = async (topic: string, values: string[]) => {
    for (let index = 0; index < values.length; index += 50) {
      await waitFor(`${topic}-0 to take a batch`, async () => {
        const leader = image().partition(topic, 0)!.leader;
        const producer = await connectTo(leader);
        try {
          return (await produce(producer, topic, 0, batchOf(values.slice(index, index + 50)), { acks: -1 })).errorCode === ErrorCode.NONE ? true : undefined;
        } finally {
          await producer.close();
        }
      });
    }
  };
  /** Every value of `topic`-0 as broker `nodeId` serves it as the leader, once it does. */
  const readFrom = (nodeId: number, topic: string, expected: number) =>
    // A failed read or a short one is thrown, so that a timeout names the last one (waitFor).
    waitFor(`broker ${nodeId} to serve ${expected} records of ${topic}-0`, async () => {
      const reader = await connectTo(nodeId);
      try {
        const values = valuesOf(await readAll(reader, topic, 0));
        if (values.length !== expected) throw new Error(`the last read returned ${values.length} records`);
        return values;
      } finally {
        await reader.close();
      }
    });
  const verifyUntilComplete = async (target: string, expectedFirstLine: RegExp): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      const result = await conveyor('--verify', '--reassignment-json-file', target);
      assert.match(result.stdout, expectedFirstLine);
      if (result.code === 0 && !result.stdout.includes('still in progress')) return result.stdout;
      assert.equal(result.code, 0, `--verify exited ${result.code}: ${result.stderr}\n${result.stdout}`);
      assert.ok(attempt < 20, `the moves complete; last --verify:\n${result.stdout}`);
    }
  };

  before(async () => {
    directory = (await temporaryDirectory()).path;
    cluster = await startCluster({
      brokers: 3,
      storage: 'disk',
      logDirsPerNode: 2,
      config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100 },
    });
    client = new ClusterClient(connectTcp, cluster.node(1).bootstrapServer, 'reassign-log-dirs-test');
  });

  after(async () => {
    client?.close();
    await cluster?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it("moves a replica to its broker's other log directory; --verify reports it until done; no record is lost", async () => {
    const topic = 'dir-move';
    await createTopic(topic, [1, 2]);
    const values = Array.from({ length: 300 }, (_, index) => `${topic}-${index}-${'y'.repeat(500)}`);
    await write(topic, values);
    const from = logDirOf(1, topic)!;
    const to = cluster.node(1).logDirs.find((dir) => dir !== from)!;
    const target = await plan([{ topic, partition: 0, replicas: [1, 2], log_dirs: [to, 'any'] }]);

    const executed = await ok('--execute', '--reassignment-json-file', target);
    assert.equal(
      executed.trim(),
      [
        'Current partition replica assignment',
        '',
        `{"version":1,"partitions":[{"topic":"${topic}","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}`,
        '',
        'Save this to use as the --reassignment-json-file option during rollback',
        `Successfully started partition reassignment for ${topic}-0`,
        `Successfully started moving log directory to ${to} for replica ${topic}-0 with broker 1`,
      ].join('\n'),
    );

    const verified = await verifyUntilComplete(target, /^Status of partition reassignment:\nReassignment of partition dir-move-0 is completed\.\n/);
    assert.equal(
      verified.trim(),
      [
        'Status of partition reassignment:',
        `Reassignment of partition ${topic}-0 is completed.`,
        `Reassignment of replica ${topic}-0-1 completed successfully.`,
        'Clearing broker-level throttles on brokers 1,2,3',
        `Clearing topic-level throttles on topic ${topic}`,
      ].join('\n'),
    );
    assert.equal(logDirOf(1, topic), to, 'broker 1 keeps the replica in its other directory');
    await access(join(to, `${topic}-0`));
    await assert.rejects(access(join(from, `${topic}-0`)), 'the old directory no longer holds the partition');
    assert.deepEqual(image().partition(topic, 0)?.replicas, [1, 2]);

    // Every record produced before the move is served, and the partition takes more.
    await write(topic, ['after-the-move']);
    const leader = image().partition(topic, 0)!.leader;
    assert.deepEqual(await readFrom(leader, topic, values.length + 1), [...values, 'after-the-move']);

    // --json: the replica's state and where it is.
    const json = JSON.parse(await ok('--verify', '--reassignment-json-file', target, '--preserve-throttles', '--json'));
    assert.equal(json.complete, true);
    assert.deepEqual(json.replicaLogDirs, [{ topic, partition: 0, broker: 1, logDir: to, state: 'completed', inProgress: false, currentLogDir: to, futureLogDir: null }]);
  });

  it('moves a partition to a new broker and into a given log directory there', async () => {
    const topic = 'dir-new-broker';
    await createTopic(topic, [1, 2]);
    const values = Array.from({ length: 200 }, (_, index) => `${topic}-${index}`);
    await write(topic, values);
    // The directory of broker 3 with more logs: a new replica would not go there by itself.
    const logManager = () => cluster.node(3).broker!.services.replicaManager.logManager;
    const count = (dir: string) => [...logManager().logs()].filter((log) => logManager().logDirOf(log.topic, log.partition) === dir).length;
    const [first, second] = cluster.node(3).logDirs as [string, string];
    if (count(first) === count(second)) await createTopic('dir-ballast', [3]);
    const to = count(first) > count(second) ? first : second;
    const target = await plan([{ topic, partition: 0, replicas: [3, 2], log_dirs: [to, 'any'] }]);

    const executed = await ok('--execute', '--reassignment-json-file', target);
    assert.match(executed, new RegExp(`^Successfully started partition reassignment for ${topic}-0\\nSuccessfully started moving log directory to ${to} for replica ${topic}-0 with broker 3\\n$`, 'm'));

    const verified = await verifyUntilComplete(target, /^Status of partition reassignment:\n/);
    assert.equal(
      verified.trim(),
      [
        'Status of partition reassignment:',
        `Reassignment of partition ${topic}-0 is completed.`,
        `Reassignment of replica ${topic}-0-3 completed successfully.`,
        'Clearing broker-level throttles on brokers 1,2,3',
        `Clearing topic-level throttles on topic ${topic}`,
      ].join('\n'),
    );
    assert.deepEqual(image().partition(topic, 0)?.replicas, [3, 2]);
    assert.equal(logDirOf(3, topic), to);
    await access(join(to, `${topic}-0`));
    await waitFor('broker 1 to delete its replica', () => (logDirOf(1, topic) === undefined ? true : undefined));
    // Broker 3 leads it (the target's first replica) and serves every record.
    await waitFor('broker 3 to lead', () => (image().partition(topic, 0)?.leader === 3 ? true : undefined));
    assert.deepEqual(await readFrom(3, topic, values.length), values);
  });

  it('refuses a relative log directory and one its broker does not have, before anything changes', async () => {
    const topic = 'dir-refused';
    await createTopic(topic, [1, 2]);
    const relative = await conveyor('--execute', '--reassignment-json-file', await plan([{ topic, partition: 0, replicas: [2, 3], log_dirs: ['data', 'any'] }]));
    assert.equal(relative.code, 1);
    assert.match(relative.stderr, /"data" in "log_dirs", which is neither "any" nor an absolute path/);
    const elsewhere = join(directory, 'not-a-log-dir');
    const unknown = await conveyor('--execute', '--reassignment-json-file', await plan([{ topic, partition: 0, replicas: [2, 3], log_dirs: ['any', elsewhere] }]));
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, new RegExp(`names log directories its brokers cannot take: "${elsewhere}" for ${topic}-0 on broker 3 \\(its log directories: ${cluster.node(3).logDirs.join(', ')}\\); nothing was changed`));
    assert.deepEqual(image().partition(topic, 0)?.replicas, [1, 2], 'nothing was moved');
    assert.equal((await ok('--list')).trim(), 'No partition reassignments found.');
  });

  it('--generate proposes "any" log directories', async () => {
    const topics = join(directory, 'topics.json');
    await writeFile(topics, JSON.stringify({ topics: [{ topic: 'dir-move' }], version: 1 }));
    const json = JSON.parse(await ok('--generate', '--topics-to-move-json-file', topics, '--broker-list', '1,2,3', '--json'));
    assert.deepEqual(json.proposed.partitions.map((entry: { log_dirs: string[] }) => entry.log_dirs), [['any', 'any']]);
  });
});

describe("--verify's log directory states", () => {
  const target = { topic: 't', partition: 0, broker: 2, logDir: '/b' };
  const dir = (path: string, partitions: { future?: boolean; topic?: string }[] = [], errorCode: number = ErrorCode.NONE): LogDirInfo => ({
    path,
    errorCode,
    error: errorCode === ErrorCode.NONE ? null : 'KAFKA_STORAGE_ERROR',
    partitions: partitions.map(({ future = false, topic = 't' }) => ({ topic, partition: 0, size: 1, offsetLag: 0, future })),
    totalBytes: -1,
    usableBytes: -1,
  });
  const cases: [string, LogDirInfo[], boolean, string, boolean, string][] = [
    ['in the target', [dir('/a'), dir('/b/', [{}])], true, 'completed', false, 'Reassignment of replica t-0-2 completed successfully.'],
    ['a future copy in the target', [dir('/a', [{}]), dir('/b', [{ future: true }])], true, 'moving', true, 'Reassignment of replica t-0-2 is still in progress.'],
    ['a future copy elsewhere', [dir('/b', [{}]), dir('/c', [{ future: true }])], true, 'moving-elsewhere', true, 'Partition t-0 on broker 2 is being moved to log dir /c instead of /b.'],
    ['in another directory, not moving', [dir('/a', [{}]), dir('/b', [{ topic: 'other' }])], true, 'not-moving', false, 'Partition t-0 on broker 2 is not being moved from log dir /a to /b.'],
    ['listed nowhere, a directory offline', [dir('/a'), dir('/b', [], ErrorCode.KAFKA_STORAGE_ERROR)], true, 'missing-log-dir', false, 'Partition t-0 is not found in any live log dir on broker 2. There is likely an offline log directory on the broker.'],
    ['listed nowhere, not a replica there', [dir('/a'), dir('/b')], false, 'missing-replica', false, 'Partition t-0 cannot be found in any live log directory on broker 2.'],
    ['listed nowhere, a replica there', [dir('/a'), dir('/b')], true, 'unlisted', true, 'Reassignment of replica t-0-2 is still in progress.'],
  ];
  for (const [what, dirs, assigned, state, inProgress, line] of cases) {
    it(what, () => {
      const move = logDirMoveState(dirs, target, assigned);
      assert.deepEqual([move.state, move.inProgress], [state, inProgress]);
      assert.equal(logDirMoveLine(move), line);
    });
  }
});
