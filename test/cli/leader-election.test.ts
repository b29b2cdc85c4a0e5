// `conveyor leader-election` (Kafka's kafka-leader-election tool) against an in-process 3-node
// cluster over TCP, the full CLI from source (main.ts's command table) as a child process. The
// preferred replica of a partition crashes, another replica leads, it comes back into the ISR, and
// (with auto.leader.rebalance.enable off, so only the tool moves it) a preferred election for the
// partition makes it the leader again; --all-topic-partitions then finds every partition already
// led by its preferred replica (ELECTION_NOT_NEEDED, exit 0); an unknown partition fails with a
// non-zero exit naming UNKNOWN_TOPIC_OR_PARTITION; a bad --election-type or a malformed JSON file
// is refused with a message; the JSON file form elects as --topic does.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { CreateTopicsApi } from '../../src/protocol/messages/index.js';
import { temporaryDirectory, waitFor } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';

const cliEntry = fileURLToPath(new URL('../support/crash-cli-entry.ts', import.meta.url));
const TOPIC = 'elections';

describe('conveyor leader-election', { timeout: 60_000 }, () => {
  let cluster: RunningCluster;
  let directory: string;
  /** A node that stays up, so the CLI always has a broker to bootstrap from. */
  const server = () => ['--bootstrap-server', cluster.node(2).bootstrapServer];
  const conveyor = (...args: string[]): Promise<ProcessResult> => runProcess(process.execPath, ['--import', 'tsx', cliEntry, 'leader-election', ...args, ...server()], { timeoutMs: 30_000 });
  const partitionState = (partition: number) => {
    const controller = cluster.activeController();
    return controller > 0 ? cluster.node(controller).broker?.services.image.partition(TOPIC, partition) : undefined;
  };
  const until = <T>(what: string, probe: () => T | undefined | false) => waitFor(probe, what, 15_000);

  before(async () => {
    directory = (await temporaryDirectory()).path;
    cluster = await startCluster({
      brokers: 3,
      config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'auto.leader.rebalance.enable': false },
    });
    const client = new ClusterClient(connectTcp, cluster.node(2).bootstrapServer, 'leader-election-test');
    try {
      const response = await client.request(CreateTopicsApi, {
        topics: [{ name: TOPIC, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }, { partitionIndex: 1, brokerIds: [2, 3, 1] }], configs: [] }],
        timeoutMs: 30_000,
        validateOnly: false,
      });
      assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE, `creating ${TOPIC}: ${response.topics[0]?.errorMessage}`);
    } finally {
      client.close();
    }
    await until('both partitions led by their preferred replicas with full ISRs', () =>
      [0, 1].every((partition) => {
        const state = partitionState(partition);
        return state?.leader === [1, 2][partition] && state.isr.length === 3;
      }),
    );
  });

  after(async () => {
    await cluster?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('moves leadership back to the preferred replica once it is in sync again, and reports what needed no election', async () => {
    await cluster.crash(1);
    await until('partition 0 led by another replica', () => [2, 3].includes(partitionState(0)?.leader ?? -1));
    await cluster.restart(1);
    await until('node 1 back in the ISR of partition 0', () => partitionState(0)?.isr.includes(1));
    assert.notEqual(partitionState(0)!.leader, 1, 'with auto.leader.rebalance.enable off, nothing but the tool moves the leader back');

    const elected = await conveyor('--election-type', 'preferred', '--topic', TOPIC, '--partition', '0');
    assert.equal(elected.code, 0, `${elected.stderr}\n${elected.stdout}`);
    assert.equal(elected.stdout.trim(), `Successfully completed leader election (PREFERRED) for partitions ${TOPIC}-0`);
    await until('the preferred replica 1 leading partition 0 again', () => partitionState(0)?.leader === 1);

    const all = await conveyor('--election-type', 'PREFERRED', '--all-topic-partitions');
    assert.equal(all.code, 0, `${all.stderr}\n${all.stdout}`);
    assert.equal(all.stdout.trim(), `Valid replica already elected for partitions ${TOPIC}-0, ${TOPIC}-1`);

    const allJson = await conveyor('--election-type', 'preferred', '--all-topic-partitions', '--json');
    assert.equal(allJson.code, 0, allJson.stderr);
    assert.deepEqual(JSON.parse(allJson.stdout), {
      electionType: 'PREFERRED',
      partitions: [0, 1].map((partition) => ({ topic: TOPIC, partition, outcome: 'already-elected', error: 'ELECTION_NOT_NEEDED', message: null })),
    });
  });

  it('fails for an unknown partition with a non-zero exit, naming the error', async () => {
    const [unknown, json] = await Promise.all([
      conveyor('--election-type', 'preferred', '--topic', TOPIC, '--partition', '7'),
      conveyor('--election-type', 'unclean', '--topic', 'no-such-topic', '--partition', '0', '--json'),
    ]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stdout, new RegExp(`^Error completing leader election \\(PREFERRED\\) for partition: ${TOPIC}-7: UNKNOWN_TOPIC_OR_PARTITION`, 'm'));
    assert.match(unknown.stderr, /1 replica\(s\) could not be elected/);
    assert.notEqual(json.code, 0);
    assert.equal(JSON.parse(json.stdout).partitions[0].error, 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('refuses a bad election type, a missing or doubled partition selection and a malformed JSON file', async () => {
    const malformedFile = join(directory, 'malformed.json');
    await writeFile(malformedFile, JSON.stringify({ partitions: [{ topic: TOPIC, partition: 'zero' }] }));
    // Refused before any request: run side by side.
    const [badType, none, both, malformed] = await Promise.all([
      conveyor('--election-type', 'sometimes', '--topic', TOPIC, '--partition', '0'),
      conveyor('--election-type', 'preferred'),
      conveyor('--election-type', 'preferred', '--all-topic-partitions', '--topic', TOPIC, '--partition', '0'),
      conveyor('--election-type', 'preferred', '--path-to-json-file', malformedFile),
    ]);
    assert.notEqual(badType.code, 0);
    assert.match(badType.stderr, /--election-type must be PREFERRED or UNCLEAN/);
    assert.equal(badType.stdout, '');
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /exactly one of --topic .*--all-topic-partitions or --path-to-json-file/);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /got --topic and --all-topic-partitions/);
    assert.notEqual(malformed.code, 0);
    assert.match(malformed.stderr, /is not a valid election file \(partitions\[0\] has no non-negative integer "partition"\)/);
  });

  it('elects the partitions a JSON file lists', async () => {
    // Partition 1's preferred replica (2) leads it; crash it so 3 or 1 does, and let 2 catch up.
    await cluster.crash(2);
    await until('partition 1 led by another replica', () => [1, 3].includes(partitionState(1)?.leader ?? -1));
    await cluster.restart(2);
    await until('node 2 back in the ISR of partition 1', () => partitionState(1)?.isr.includes(2));
    const file = join(directory, 'election.json');
    await writeFile(file, JSON.stringify({ partitions: [{ topic: TOPIC, partition: 0 }, { topic: TOPIC, partition: 1 }] }));
    const result = await conveyor('--election-type', 'Preferred', '--path-to-json-file', file);
    assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
    assert.equal(result.stdout, `Successfully completed leader election (PREFERRED) for partitions ${TOPIC}-1\nValid replica already elected for partitions ${TOPIC}-0\n`);
    await until('the preferred replica 2 leading partition 1 again', () => partitionState(1)?.leader === 2);
  });
});
