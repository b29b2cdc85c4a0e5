// `conveyor reassign-partitions` (Kafka's kafka-reassign-partitions tool) as a child process
// against an in-process 4-node cluster over TCP (nodes 1 and 3 on rack r1, 2 and 4 on r2):
// - bad input is refused with a message naming the problem and a non-zero exit, before anything
//   changes: malformed JSON, an empty or duplicated list, a broker listed twice, an unknown topic,
//   partition or broker, a missing or misplaced option, not exactly one action;
// - --generate prints the current assignment and a rack-aware proposal over --broker-list (same
//   replication factor, every replica on a listed broker, no partition with both replicas on one
//   rack), and with --disable-rack-aware any spread over the listed brokers;
// - --list with nothing in progress; --execute of the current replicas (a no-op) and --verify of it;
// - a real move: a partition with records on [1,2] moves to [3,2] with --throttle (the rate on
//   brokers 1-3, not 4; the topic's leader list the existing replicas 0:1,0:2, its follower list
//   the added 0:3); --verify until it reports completion, which clears every throttle; broker 3
//   then leads it and serves every record (a Fetch to it), and broker 1 no longer hosts it;
// - a move toward a stopped broker stays in progress: --list shows it with adding and removing,
//   --verify reports it in progress and leaves its throttles, --cancel goes back to the original
//   replicas and clears them;
// - a move between a broker's log directories held under way (its copy's writes wait): --cancel
//   asks the broker for the replica's current directory, as Kafka's tool does, so the future
//   replica disappears and the data stays where it was, every record readable; a second --cancel
//   finds no move active.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../src/base/error-codes.js';
import { silentLogger } from '../../src/base/logger.js';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { buildProgram } from '../../src/cli/main.js';
import { assignReplicas } from '../../src/cli/reassign-partitions-command.js';
import { ClusterClient, ToolError } from '../../src/client/cluster-client.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { ConfigResourceType } from '../../src/metadata/metadata-record.js';
import { systemClock, systemRandom } from '../../src/node/system.js';
import { CreateTopicsApi, DescribeLogDirsApi } from '../../src/protocol/messages/index.js';
import { type ProcessResult, runProcess } from '../support/process.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
import { HeldCopies } from './held-copies.js';
import { batchOf, createTopic as createRawTopic, produce, readAll, temporaryDirectory, valuesOf } from './helpers.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RACKS: Record<number, string> = { 1: 'r1', 2: 'r2', 3: 'r1', 4: 'r2' };

interface Assignment {
  topic: string;
  partition: number;
  replicas: number[];
  log_dirs?: string[];
}

/** `conveyor reassign-partitions ...args` from source, as a child process. */
function conveyor(...args: string[]): Promise<ProcessResult> {
  const script = `import(${JSON.stringify(main)}).then((cli) => cli.run(['node', 'conveyor', ...process.argv.slice(1)]))`;
  return runProcess(process.execPath, ['--import', 'tsx', '--eval', script, 'reassign-partitions', ...args], { timeoutMs: 30_000 });
}

describe('conveyor reassign-partitions', { timeout: 90_000 }, () => {
  let cluster: RunningCluster;
  let directory: string;
  let client: ClusterClient;
  const server = () => ['--bootstrap-server', cluster.node(1).bootstrapServer];
  const ok = async (...args: string[]): Promise<string> => {
    const result = await conveyor(...args, ...server());
    assert.equal(result.code, 0, `reassign-partitions ${args.join(' ')} exited ${result.code}\nstderr: ${result.stderr}\nstdout: ${result.stdout}`);
    return result.stdout;
  };
  let files = 0;
  const file = async (content: unknown): Promise<string> => {
    const path = join(directory, `input-${files++}.json`);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const reassignment = (partitions: Assignment[]) => file({ version: 1, partitions });
  const partitionState = (topic: string, partition: number) => {
    const controller = cluster.activeController();
    return controller > 0 ? cluster.node(controller).broker?.services.image.partition(topic, partition) : undefined;
  };
  /** The dynamic configs of a resource as the active controller has them. */
  const configsOf = (resourceType: number, resourceName: string): Record<string, string> => {
    const controller = cluster.activeController();
    const image = controller > 0 ? cluster.node(controller).broker?.services.image : undefined;
    return Object.fromEntries(image?.resourceConfigs(resourceType, resourceName) ?? []);
  };
  const throttleConfigs = (topic: string) => ({
    topic: configsOf(ConfigResourceType.topic, topic),
    brokers: Object.fromEntries(cluster.nodeIds.map((id) => [id, configsOf(ConfigResourceType.broker, String(id))])),
  });
  const rate = (value: string) => ({ 'leader.replication.throttled.rate': value, 'follower.replication.throttled.rate': value });
  const hosts = (nodeId: number, topic: string) => [...(cluster.node(nodeId).broker?.services.replicaManager.logManager.logs() ?? [])].some((log) => log.topic === topic);
  /** Writes `count` records to partition 0 of `topic` through its leader, acks=all. */
  const write = async (topic: string, count: number): Promise<string[]> => {
    const leader = partitionState(topic, 0)!.leader;
    const [host, port] = cluster.node(leader).bootstrapServer.split(':');
    const producer = await RawClient.connect(host!, Number(port));
    const values = Array.from({ length: count }, (_, index) => `${topic}-${index}-${'x'.repeat(1000)}`);
    try {
      for (let index = 0; index < count; index += 50) {
        const result = await produce(producer, topic, 0, batchOf(values.slice(index, index + 50)), { acks: -1 });
        assert.equal(result.errorCode, ErrorCode.NONE, `producing to ${topic}-0: ${result.errorMessage}`);
      }
    } finally {
      await producer.close();
    }
    return values;
  };
  const createTopic = async (topic: string, assignment: number[][]) => {
    const response = await client.request(CreateTopicsApi, {
      topics: [{ name: topic, numPartitions: -1, replicationFactor: -1, assignments: assignment.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })), configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE, `creating ${topic}: ${response.topics[0]?.errorMessage}`);
    // Every node's image, not only the controller's: the CLI asks node 1's metadata.
    await waitFor(`${topic} with every replica in sync, on every node`, () =>
      cluster.nodeIds.every((nodeId) =>
        assignment.every((replicas, partition) => cluster.node(nodeId).broker?.services.image.partition(topic, partition)?.isr.length === replicas.length),
      )
        ? true
        : undefined,
    );
  };

  before(async () => {
    directory = (await temporaryDirectory()).path;
    cluster = await startCluster({
      brokers: 4,
      config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100 },
      nodeConfig: (nodeId) => ({ 'broker.rack': RACKS[nodeId]! }),
    });
    client = new ClusterClient(connectTcp, cluster.node(1).bootstrapServer, 'reassign-partitions-test');
    await createTopic('spread', [[1, 2], [2, 3], [3, 4], [4, 1], [1, 3], [2, 4]]);
  });

  after(async () => {
    client?.close();
    await cluster?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('refuses bad input with a message naming the problem and a non-zero exit', async () => {
    const good = await reassignment([{ topic: 'spread', partition: 0, replicas: [1, 2] }]);
    const cases: [string, string[], RegExp][] = [
      ['no action', ['--reassignment-json-file', good], /exactly one action/],
      ['two actions', ['--execute', '--verify', '--reassignment-json-file', good], /exactly one action.*--execute and --verify/],
      ['a missing file option', ['--execute'], /--execute needs --reassignment-json-file/],
      ['--generate without --broker-list', ['--generate', '--topics-to-move-json-file', good], /--generate needs --broker-list/],
      ['an option of another action', ['--verify', '--reassignment-json-file', good, '--throttle', '1000'], /--throttle cannot be used with --verify/],
      ['--broker-list with --execute', ['--execute', '--reassignment-json-file', good, '--broker-list', '1,2'], /--broker-list cannot be used with --execute/],
      ['a bad --throttle', ['--execute', '--reassignment-json-file', good, '--throttle', 'fast'], /--throttle must be an integer/],
      ['a missing file', ['--verify', '--reassignment-json-file', join(directory, 'nowhere.json')], /cannot read --reassignment-json-file .*nowhere\.json/],
      ['bad JSON', ['--execute', '--reassignment-json-file', await file('{"version":1,"partitions":[')], /is not valid \(not JSON/],
      ['no partitions array', ['--execute', '--reassignment-json-file', await file({ version: 1 })], /no "partitions" array/],
      ['an empty list', ['--execute', '--reassignment-json-file', await reassignment([])], /the partition reassignment list is empty/],
      ['an unsupported version', ['--execute', '--reassignment-json-file', await file({ version: 2, partitions: [{ topic: 'spread', partition: 0, replicas: [1] }] })], /"version" 2 is not supported/],
      ['a partition listed twice', ['--execute', '--reassignment-json-file', await reassignment([{ topic: 'spread', partition: 0, replicas: [1, 2] }, { topic: 'spread', partition: 0, replicas: [2, 3] }])], /lists partitions more than once: spread-0/],
      ['a broker listed twice in a partition', ['--execute', '--reassignment-json-file', await reassignment([{ topic: 'spread', partition: 0, replicas: [2, 2] }])], /replicas of spread-0 list broker 2 more than once/],
      ['a non-integer replica', ['--execute', '--reassignment-json-file', await reassignment([{ topic: 'spread', partition: 0, replicas: [1, 'two' as unknown as number] }])], /not all non-negative integer broker ids/],
      ['log_dirs of the wrong length', ['--execute', '--reassignment-json-file', await reassignment([{ topic: 'spread', partition: 0, replicas: [1, 2], log_dirs: ['any'] }])], /"log_dirs" that is not an array with one entry per replica/],
      ['a named log directory', ['--execute', '--reassignment-json-file', await reassignment([{ topic: 'spread', partition: 0, replicas: [1, 2], log_dirs: ['/data', 'any'] }])], /names log directories .*"\/data"/],
      ['an unknown topic', ['--execute', '--reassignment-json-file', await reassignment([{ topic: 'nothing-here', partition: 0, replicas: [1, 2] }])], /unknown topic: nothing-here/],
      ['an unknown partition', ['--verify', '--reassignment-json-file', await reassignment([{ topic: 'spread', partition: 9, replicas: [1, 2] }])], /unknown partition: spread-9/],
      ['an unknown broker', ['--execute', '--reassignment-json-file', await reassignment([{ topic: 'spread', partition: 0, replicas: [1, 7] }])], /unknown broker id in --reassignment-json-file: 7/],
      ['a topics file without topics', ['--generate', '--topics-to-move-json-file', await file({ topics: [], version: 1 }), '--broker-list', '1,2'], /"topics" is empty/],
      ['a topic listed twice', ['--generate', '--topics-to-move-json-file', await file({ topics: [{ topic: 'spread' }, { topic: 'spread' }], version: 1 }), '--broker-list', '1,2'], /lists topics more than once: spread/],
      ['a broker listed twice in --broker-list', ['--generate', '--topics-to-move-json-file', await file({ topics: [{ topic: 'spread' }] }), '--broker-list', '1,2,1'], /--broker-list lists broker 1 more than once/],
      ['a malformed --broker-list', ['--generate', '--topics-to-move-json-file', await file({ topics: [{ topic: 'spread' }] }), '--broker-list', '1,x'], /--broker-list must be comma-separated broker ids/],
      ['an unknown broker in --broker-list', ['--generate', '--topics-to-move-json-file', await file({ topics: [{ topic: 'spread' }] }), '--broker-list', '1,9'], /unknown broker id in --broker-list: 9/],
      ['too few brokers for the replication factor', ['--generate', '--topics-to-move-json-file', await file({ topics: [{ topic: 'spread' }] }), '--broker-list', '3'], /replication factor 2, more than the 1 broker/],
      ['an unknown topic to move', ['--generate', '--topics-to-move-json-file', await file({ topics: [{ topic: 'nothing-here' }] }), '--broker-list', '1,2'], /unknown topic: nothing-here/],
    ];
    // In this process (main.ts's program, as the CLI builds it): a process each would take a second or more.
    for (const [what, args, expected] of cases) {
      const program = await buildProgram('reassign-partitions');
      await assert.rejects(program.parseAsync(['node', 'conveyor', 'reassign-partitions', ...args, ...server()]), (error: Error) => {
        assert.ok(error instanceof ToolError, `${what}: ${error.stack}`);
        assert.match(error.message, expected, `${what}: ${error.message}`);
        return true;
      });
    }
    // As a process: the message on stderr and exit status 1.
    const [missing, unknown] = await Promise.all([
      conveyor('--execute', ...server()),
      conveyor('--execute', '--reassignment-json-file', await reassignment([{ topic: 'nothing-here', partition: 0, replicas: [1, 2] }]), ...server()),
    ]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'conveyor: --execute needs --reassignment-json-file\n');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.equal(unknown.stderr, 'conveyor: unknown topic: nothing-here (UNKNOWN_TOPIC_OR_PARTITION)\n');
    assert.deepEqual(partitionState('spread', 0)?.replicas, [1, 2], 'nothing was moved');
  });

  it('--generate proposes a rack-aware spread over --broker-list, and any spread without racks', async () => {
    const topics = await file({ topics: [{ topic: 'spread' }], version: 1 });
    const text = await ok('--generate', '--topics-to-move-json-file', topics, '--broker-list', '1,2,3,4');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'Current partition replica assignment');
    assert.equal(lines[3], 'Proposed partition reassignment configuration');
    assert.equal(lines[2], '');
    assert.deepEqual(JSON.parse(lines[1]!), {
      version: 1,
      partitions: [[1, 2], [2, 3], [3, 4], [4, 1], [1, 3], [2, 4]].map((replicas, partition) => ({ topic: 'spread', partition, replicas, log_dirs: ['any', 'any'] })),
    });
    const proposed = JSON.parse(lines[4]!) as { version: number; partitions: Assignment[] };
    assert.equal(proposed.version, 1);
    assert.deepEqual(proposed.partitions.map((entry) => entry.partition), [0, 1, 2, 3, 4, 5]);
    for (const entry of proposed.partitions) {
      assert.equal(entry.topic, 'spread');
      assert.equal(entry.replicas.length, 2);
      assert.deepEqual(entry.log_dirs, ['any', 'any']);
      assert.notEqual(RACKS[entry.replicas[0]!], RACKS[entry.replicas[1]!], `spread-${entry.partition} has a replica on each rack: ${entry.replicas}`);
    }
    // Leaders go round the brokers: 6 partitions over 4 brokers lead 1 or 2 each.
    const leaders = proposed.partitions.map((entry) => entry.replicas[0]!);
    for (const broker of [1, 2, 3, 4]) assert.ok([1, 2].includes(leaders.filter((leader) => leader === broker).length), `leaders ${leaders}`);

    // Only rack r1's brokers: a rack-aware proposal would need another rack, so racks are ignored.
    const json = JSON.parse(await ok('--generate', '--topics-to-move-json-file', topics, '--broker-list', '1,3', '--disable-rack-aware', '--json')) as { proposed: { partitions: Assignment[] } };
    for (const entry of json.proposed.partitions) assert.deepEqual([...entry.replicas].sort(), [1, 3]);
    assert.deepEqual(partitionState('spread', 0)?.replicas, [1, 2], '--generate changes nothing');
  });

  it("--generate's assignment: leaders and followers spread evenly; with racks, each partition on as many racks as it can be", () => {
    for (const seed of [0, 0.3, 0.6, 0.99]) {
      const random = () => seed;
      const plain = assignReplicas([1, 2, 3, 4], 8, 3, undefined, random);
      const count = (ids: number[]) => [1, 2, 3, 4].map((id) => ids.filter((each) => each === id).length);
      assert.deepEqual(count(plain.map((replicas) => replicas[0]!)), [2, 2, 2, 2], 'two leaders each');
      assert.deepEqual(count(plain.flat()), [6, 6, 6, 6], 'six replicas each');
      for (const replicas of plain) assert.equal(new Set(replicas).size, 3);
      // Three racks of two: every partition on all three racks.
      const racks = new Map([[1, 'a'], [2, 'a'], [3, 'b'], [4, 'b'], [5, 'c'], [6, 'c']]);
      const racked = assignReplicas([1, 2, 3, 4, 5, 6], 12, 3, racks, random);
      for (const replicas of racked) assert.deepEqual(replicas.map((id) => racks.get(id)).sort(), ['a', 'b', 'c'], `${replicas}`);
      assert.deepEqual([1, 2, 3, 4, 5, 6].map((id) => racked.flat().filter((each) => each === id).length), [6, 6, 6, 6, 6, 6]);
      // Uneven racks: the lone broker of rack b is in every partition of replication factor 2.
      const uneven = new Map([[1, 'a'], [2, 'a'], [3, 'a'], [4, 'b']]);
      for (const replicas of assignReplicas([1, 2, 3, 4], 6, 2, uneven, random)) assert.ok(replicas.includes(4) && new Set(replicas).size === 2, `${replicas}`);
    }
  });

  it('--list with nothing in progress; --execute and --verify of the current replicas', async () => {
    assert.equal((await ok('--list')).trim(), 'No partition reassignments found.');
    const same = await reassignment([{ topic: 'spread', partition: 0, replicas: [1, 2], log_dirs: ['any', 'any'] }, { topic: 'spread', partition: 1, replicas: [2, 3] }]);
    const executed = await ok('--execute', '--reassignment-json-file', same);
    assert.equal(
      executed.trim(),
      [
        'Current partition replica assignment',
        '',
        '{"version":1,"partitions":[{"topic":"spread","partition":0,"replicas":[1,2],"log_dirs":["any","any"]},{"topic":"spread","partition":1,"replicas":[2,3],"log_dirs":["any","any"]}]}',
        '',
        'Save this to use as the --reassignment-json-file option during rollback',
        'Successfully started partition reassignments for spread-0,spread-1',
      ].join('\n'),
    );
    const verified = await ok('--verify', '--reassignment-json-file', same, '--preserve-throttles');
    assert.equal(verified.trim(), ['Status of partition reassignment:', 'Reassignment of partition spread-0 is completed.', 'Reassignment of partition spread-1 is completed.'].join('\n'));
    const cancelled = await ok('--cancel', '--reassignment-json-file', same, '--preserve-throttles');
    assert.equal(cancelled.trim(), ['None of the specified partition reassignments are active.', 'None of the specified partition moves are active.'].join('\n'));
  });

  it('moves a partition with --throttle; --verify reports completion and clears the throttles; the new replica serves the records', async () => {
    await createTopic('moving', [[1, 2]]);
    const values = await write('moving', 500);
    const target = await reassignment([{ topic: 'moving', partition: 0, replicas: [3, 2] }]);
    const executed = await ok('--execute', '--reassignment-json-file', target, '--throttle', '50000000');
    assert.equal(
      executed.trim(),
      [
        'Current partition replica assignment',
        '',
        '{"version":1,"partitions":[{"topic":"moving","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}',
        '',
        'Save this to use as the --reassignment-json-file option during rollback',
        'Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.',
        'The inter-broker throttle limit was set to 50000000 B/s',
        'Successfully started partition reassignment for moving-0',
      ].join('\n'),
    );
    // Kafka's throttles: the rate on every broker of the move, the existing replicas as the
    // topic's leader list and the added one as its follower list; they stay until --verify.
    assert.deepEqual(throttleConfigs('moving'), {
      topic: { 'leader.replication.throttled.replicas': '0:1,0:2', 'follower.replication.throttled.replicas': '0:3' },
      brokers: { 1: rate('50000000'), 2: rate('50000000'), 3: rate('50000000'), 4: {} },
    });

    // --verify until the move is complete: only then does it clear the throttles.
    let verified = '';
    for (let attempt = 0; ; attempt++) {
      verified = await ok('--verify', '--reassignment-json-file', target);
      if (verified.includes('is completed.')) break;
      assert.match(verified, /^Status of partition reassignment:\nReassignment of partition moving-0 is still in progress\.\n$/);
      assert.equal(throttleConfigs('moving').topic['follower.replication.throttled.replicas'], '0:3', 'the throttles stay while the move is in progress');
      assert.ok(attempt < 15, 'the move completes');
    }
    assert.equal(
      verified.trim(),
      [
        'Status of partition reassignment:',
        'Reassignment of partition moving-0 is completed.',
        'Clearing broker-level throttles on brokers 1,2,3,4',
        'Clearing topic-level throttles on topic moving',
      ].join('\n'),
    );
    assert.deepEqual(throttleConfigs('moving'), { topic: {}, brokers: { 1: {}, 2: {}, 3: {}, 4: {} } });

    // The leaving leader handed over to the first in-sync replica of the target, 3, which serves
    // every record; broker 1 deleted its replica.
    const state = partitionState('moving', 0)!;
    assert.deepEqual({ replicas: state.replicas, leader: state.leader, isr: [...state.isr].sort() }, { replicas: [3, 2], leader: 3, isr: [2, 3] });
    // Broker 3's own metadata may be a fetch behind the controller's: asked until it answers as leader.
    const [host, port] = cluster.node(3).bootstrapServer.split(':');
    const served = await waitFor('broker 3 to serve moving-0 as its leader', async () => {
      const reader = await RawClient.connect(host!, Number(port));
      try {
        return valuesOf(await readAll(reader, 'moving', 0));
      } finally {
        await reader.close();
      }
    });
    assert.equal(served.length, values.length);
    assert.deepEqual(served, values);
    await waitFor('broker 1 to delete its replica of moving-0', () => (hosts(1, 'moving') ? undefined : true));
    assert.equal((await ok('--list')).trim(), 'No partition reassignments found.');
  });

  it('a move toward a stopped broker stays in progress: --list and --verify show it, --cancel goes back and clears the throttles', async () => {
    await createTopic('stuck', [[1, 2]]);
    await write('stuck', 50);
    await cluster.stop(4);
    await waitFor('broker 4 fenced', () => (cluster.node(1).broker?.services.image.brokers.get(4)?.fenced ? true : undefined));
    const target = await reassignment([{ topic: 'stuck', partition: 0, replicas: [1, 4] }]);
    assert.match(await ok('--execute', '--reassignment-json-file', target, '--throttle', '1000000'), /Successfully started partition reassignment for stuck-0$/m);
    assert.equal((await ok('--list')).trim(), ['Current partition reassignments:', 'stuck-0: replicas: 1,4,2. adding: 4. removing: 2.'].join('\n'));
    const listed = JSON.parse(await ok('--list', '--json'));
    assert.deepEqual(listed, [{ topic: 'stuck', partition: 0, replicas: [1, 4, 2], addingReplicas: [4], removingReplicas: [2] }]);

    // Another --execute is refused while this one is in progress, unless --additional.
    const refused = await conveyor('--execute', '--reassignment-json-file', target, ...server());
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /there are reassignments in progress \(stuck-0\); use --additional/);

    assert.equal((await ok('--verify', '--reassignment-json-file', target)).trim(), ['Status of partition reassignment:', 'Reassignment of partition stuck-0 is still in progress.'].join('\n'));
    assert.deepEqual(throttleConfigs('stuck').topic, { 'leader.replication.throttled.replicas': '0:1,0:2', 'follower.replication.throttled.replicas': '0:4' }, '--verify keeps the throttles of a move in progress');

    const cancelled = await ok('--cancel', '--reassignment-json-file', target);
    assert.equal(
      cancelled.trim(),
      [
        'Successfully cancelled partition reassignment for: stuck-0',
        'None of the specified partition moves are active.',
        'Clearing broker-level throttles on brokers 1,2,3,4',
        'Clearing topic-level throttles on topic stuck',
      ].join('\n'),
    );
    assert.deepEqual(partitionState('stuck', 0)?.replicas, [1, 2]);
    assert.deepEqual(throttleConfigs('stuck'), { topic: {}, brokers: { 1: {}, 2: {}, 3: {}, 4: {} } });
    assert.equal((await ok('--list')).trim(), 'No partition reassignments found.');
    // The move did not happen: --verify says where the partition is instead.
    const afterCancel = await conveyor('--verify', '--reassignment-json-file', target, '--preserve-throttles', ...server());
    assert.equal(afterCancel.code, 1);
    assert.equal(afterCancel.stdout.trim(), ['Status of partition reassignment:', 'There is no active reassignment of partition stuck-0, but replica set is [1, 2] rather than [1, 4].'].join('\n'));
  });
});

describe('conveyor reassign-partitions --cancel and a move between log directories', { timeout: 60_000 }, () => {
  const dirs = ['/c1', '/c2'];
  const fs = new HeldCopies(new MemoryFileSystem());
  const topic = 'held';
  let broker: Broker;
  let client: RawClient;
  let directory: string;
  const server = () => ['--bootstrap-server', `${broker.endpoints[0]!.host}:${broker.endpoints[0]!.port}`];
  const ok = async (...args: string[]): Promise<string> => {
    const result = await conveyor(...args, ...server());
    assert.equal(result.code, 0, `reassign-partitions ${args.join(' ')} exited ${result.code}\nstderr: ${result.stderr}\nstdout: ${result.stdout}`);
    return result.stdout;
  };
  /** Where partition 0 lives and where a future replica of it is, by DescribeLogDirs. */
  const described = async () => {
    const results = (await client.request(DescribeLogDirsApi, 4, { topics: null })).results;
    const holding = (future: boolean) =>
      results.filter((result) => result.topics.some((entry) => entry.name === topic && entry.partitions.some((partition) => partition.partitionIndex === 0 && partition.isFutureKey === future))).map((result) => result.logDir);
    return { current: holding(false), futures: holding(true) };
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
      await waitFor(`a produce of ${value}`, async () => ((await produce(client, topic, 0, batchOf([value]))).errorCode === ErrorCode.NONE ? true : undefined));
      values.push(value);
    }
  };

  before(async () => {
    directory = (await temporaryDirectory()).path;
    const config = resolveBrokerConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dirs.join(','), 'node.id': 1 });
    broker = await Broker.start({ config, fs, clock: systemClock, random: systemRandom, logger: silentLogger });
    client = await RawClient.connect(broker.endpoints[0]!.host, broker.endpoints[0]!.port);
    await createRawTopic(client, topic, 1);
    await produceSome('before');
  });
  after(async () => {
    fs.release();
    await client?.close();
    await broker?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('--cancel calls back a copy under way to another directory: the future replica goes, the data stays', async () => {
    const from = broker.services.replicaManager.logManager.logDirOf(topic, 0)!;
    const to = dirs.find((dir) => dir !== from)!;
    const plan = join(directory, 'plan.json');
    await writeFile(plan, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [1], log_dirs: [to] }] }));
    fs.hold(to);
    assert.match(await ok('--execute', '--reassignment-json-file', plan), new RegExp(`^Successfully started moving log directory to ${to} for replica ${topic}-0 with broker 1$`, 'm'));
    await waitFor(`the copy in ${to}`, async () => ((await described()).futures.includes(to) ? true : undefined));
    assert.match(await ok('--verify', '--reassignment-json-file', plan, '--preserve-throttles'), new RegExp(`^Reassignment of replica ${topic}-0-1 is still in progress\\.$`, 'm'));

    const cancelled = await ok('--cancel', '--reassignment-json-file', plan, '--preserve-throttles');
    assert.equal(cancelled.trim(), ['None of the specified partition reassignments are active.', `Successfully started moving log directory to ${from} for replica ${topic}-0 with broker 1`].join('\n'));
    // The broker gives the copy up at once (Kafka removes the future replica); the copy's writes
    // still held stop at their next round once released.
    assert.deepEqual(await described(), { current: [from], futures: [] }, 'the move was not cancelled');
    fs.release();
    await waitFor('the cancelled move to end', () => (broker.services.replicaManager.isMoving(topic, 0) ? undefined : true));
    assert.deepEqual(await described(), { current: [from], futures: [] });
    assert.equal(broker.services.replicaManager.logManager.logDirOf(topic, 0), from);
    assert.deepEqual(await futureDirectories(), [], 'a copy left behind');
    await produceSome('after-cancel');
    assert.deepEqual(valuesOf(await readAll(client, topic, 0)), values);

    // The replica is not where the plan puts it and is not moving there: --verify says so.
    const verified = await conveyor('--verify', '--reassignment-json-file', plan, '--preserve-throttles', ...server());
    assert.equal(verified.code, 1);
    assert.match(verified.stdout, new RegExp(`^Partition ${topic}-0 on broker 1 is not being moved from log dir ${from} to ${to}\\.$`, 'm'));
    assert.equal(
      (await ok('--cancel', '--reassignment-json-file', plan, '--preserve-throttles')).trim(),
      ['None of the specified partition reassignments are active.', 'None of the specified partition moves are active.'].join('\n'),
    );
  });
});
