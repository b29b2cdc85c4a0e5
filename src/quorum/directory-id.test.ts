// Replica directory ids in the quorum (KIP-853): a replica is its node id and the directory.id of
// its metadata log directory. Three Raft nodes on the simulated network, their voter set from a
// bootstrap checkpoint naming each one's directory: a vote or BeginQuorumEpoch meant for another
// replica key is answered INVALID_VOTER_KEY, and a voter whose disk was replaced comes back with a
// new directory id as an observer: it neither stands nor votes, and its fetches do not count toward
// the high watermark, until it is added again under its new key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { createLogger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { defaultLogConfig } from '../log/log-config.js';
import { LogManager } from '../log/log-manager.js';
import { BeginQuorumEpochApi, type BeginQuorumEpochResponse, VoteApi, type VoteRequest, type VoteResponse } from '../protocol/messages/index.js';
import { SeededRandom } from '../testing/simulation/seeded-random.js';
import { SimNetwork } from '../testing/simulation/sim-network.js';
import { SimScheduler } from '../testing/simulation/sim-scheduler.js';
import { writeBootstrapCheckpoint } from './bootstrap-checkpoint.js';
import { PartitionRaftLog } from './partition-raft-log.js';
import { QuorumStateFile, isVoteFor } from './quorum-state-file.js';
import { raftConfig } from './raft-config.js';
import { METADATA_TOPIC, RaftNode } from './raft-node.js';
import { SnapshotStore } from './snapshot-store.js';
import type { Voter } from './voter-set.js';

const logger = createLogger(() => {}, 'silent');
const CLUSTER_ID = 'directory-id-cluster';
const DIRS: Record<number, string> = { 1: 'AQEBAQEBQQGBAQEBAQEBAQ', 2: 'AgICAgICQgKCAgICAgICAg', 3: 'AwMDAwMDQwODAwMDAwMDAw' };
const REPLACED_DISK = 'BAQEBAQEQASEBAQEBAQEBA';
const VOTERS: Voter[] = [1, 2, 3].map((id) => ({ id, directoryId: DIRS[id]!, endpoints: [{ name: 'CONTROLLER', host: 'localhost', port: 9000 + id }] }));

class Quorum {
  readonly scheduler = new SimScheduler();
  readonly random = new SeededRandom(853);
  readonly network = new SimNetwork({ scheduler: this.scheduler, random: this.random });
  readonly nodes = new Map<number, RaftNode>();

  /** Starts node `id` on a new disk formatted with the bootstrap voters, its metadata directory being `directoryId`. */
  async start(id: number, directoryId: string): Promise<RaftNode> {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/data');
    await writeBootstrapCheckpoint(fs, '/data', VOTERS, 0);
    const clock = this.network.clockFor(id);
    const logManager = await LogManager.open({ fs, dataDir: '/data', clock, logger, defaults: { ...defaultLogConfig }, checkpointIntervalMs: Number.POSITIVE_INFINITY });
    const log = logManager.get(METADATA_TOPIC, 0) ?? (await logManager.createLog(METADATA_TOPIC, 0));
    const snapshots = await SnapshotStore.open(fs, log.dir, logger);
    const raft = await RaftNode.start({
      config: raftConfig({ nodeId: id, directoryId, voters: [], clusterId: CLUSTER_ID }),
      log: await PartitionRaftLog.open(log, snapshots.latest),
      snapshots,
      stateFile: new QuorumStateFile(fs, log.dir),
      transport: this.network.transportFor(id),
      clock,
      random: this.random.fork(`raft-${id}-${directoryId}`),
      logger,
    });
    this.nodes.set(id, raft);
    this.network.serve(id, (request) => raft.handle(request));
    return raft;
  }

  crash(id: number): void {
    this.nodes.get(id)?.kill();
    this.nodes.delete(id);
    this.network.crash(id);
  }

  async runUntil(what: string, done: () => boolean, limitMs = 30_000): Promise<void> {
    const deadline = this.scheduler.monotonicMs() + limitMs;
    while (!done()) {
      if (this.scheduler.monotonicMs() > deadline || !(await this.scheduler.step())) assert.fail(`timed out waiting for ${what}`);
    }
  }

  async runFor(ms: number): Promise<void> {
    const until = this.scheduler.monotonicMs() + ms;
    while ((this.scheduler.nextEventAtMs ?? Number.POSITIVE_INFINITY) <= until) await this.scheduler.step();
  }

  leader(): RaftNode | undefined {
    return [...this.nodes.values()].find((node) => node.role.kind === 'leader' && node.highWatermark > 0);
  }
}

function voteRequest(voterId: number, voterDirectoryId: string, candidate: RaftNode | { nodeId: number; epoch: number; directoryId: string }, preVote = false): VoteRequest {
  const epoch = candidate.epoch + 1;
  return {
    clusterId: CLUSTER_ID,
    voterId,
    topics: [{
      topicName: METADATA_TOPIC,
      partitions: [{ partitionIndex: 0, candidateEpoch: epoch, candidateId: candidate.nodeId, candidateDirectoryId: candidate.directoryId, voterDirectoryId, lastOffsetEpoch: 1_000, lastOffset: 1_000_000n, preVote }],
    }],
  };
}

async function vote(node: RaftNode, request: VoteRequest): Promise<{ errorCode: number; voteGranted: boolean }> {
  const response = (await node.handle({ apiKey: VoteApi.apiKey, apiVersion: 2, body: request })) as VoteResponse;
  const partition = response.topics[0]!.partitions[0]!;
  return { errorCode: partition.errorCode, voteGranted: partition.voteGranted };
}

/** Runs the quorum until `operation` succeeds, trying again whenever it fails (not caught up yet, an earlier change pending). */
async function change(quorum: Quorum, what: string, operation: () => Promise<void>): Promise<void> {
  let state: 'idle' | 'pending' | 'done' = 'idle';
  await quorum.runUntil(what, () => {
    if (state === 'idle') {
      state = 'pending';
      operation().then(() => { state = 'done'; }, () => { state = 'idle'; });
    }
    return state === 'done';
  });
}

describe('replica directory ids in the quorum (KIP-853)', () => {
  it('answers a vote or BeginQuorumEpoch meant for another replica key with INVALID_VOTER_KEY', async () => {
    const quorum = new Quorum();
    const node = await quorum.start(1, DIRS[1]!);
    assert.equal(node.kraftVersion, 1, 'a voter set from the bootstrap checkpoint is kraft.version 1');
    const candidate = { nodeId: 2, epoch: node.epoch, directoryId: DIRS[2]! };
    for (const preVote of [true, false]) {
      assert.deepEqual(await vote(node, voteRequest(1, REPLACED_DISK, { ...candidate, epoch: node.epoch }, preVote)), { errorCode: ErrorCode.INVALID_VOTER_KEY, voteGranted: false }, `another directory (preVote ${preVote})`);
      assert.deepEqual(await vote(node, voteRequest(3, DIRS[1]!, { ...candidate, epoch: node.epoch }, preVote)), { errorCode: ErrorCode.INVALID_VOTER_KEY, voteGranted: false }, `another node id (preVote ${preVote})`);
    }
    // Its own key, or a request naming no directory (the zero uuid: any), gets the vote.
    assert.deepEqual(await vote(node, voteRequest(1, DIRS[1]!, { ...candidate, epoch: node.epoch }, true)), { errorCode: ErrorCode.NONE, voteGranted: true });
    assert.deepEqual(await vote(node, voteRequest(1, 'AAAAAAAAAAAAAAAAAAAAAA', { ...candidate, epoch: node.epoch })), { errorCode: ErrorCode.NONE, voteGranted: true });

    const begin = (voterDirectoryId: string, leaderEpoch: number) =>
      node.handle({
        apiKey: BeginQuorumEpochApi.apiKey,
        apiVersion: 1,
        body: { clusterId: CLUSTER_ID, voterId: 1, topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0, voterDirectoryId, leaderId: 2, leaderEpoch }] }] },
      }) as Promise<BeginQuorumEpochResponse>;
    const wrong = await begin(REPLACED_DISK, node.epoch);
    assert.equal(wrong.topics[0]!.partitions[0]!.errorCode, ErrorCode.INVALID_VOTER_KEY);
    // As Kafka: the leader it names is followed all the same.
    assert.equal(node.leaderId, 2);
    const right = await begin(DIRS[1]!, node.epoch);
    assert.equal(right.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    node.kill();
  });

  it('a vote names the candidate\'s directory: in the same epoch another replica under that id is refused, the same one granted again', async () => {
    const quorum = new Quorum();
    const node = await quorum.start(1, DIRS[1]!);
    const epoch = node.epoch;
    const original = { nodeId: 2, epoch, directoryId: DIRS[2]! };
    const replaced = { nodeId: 2, epoch, directoryId: REPLACED_DISK };
    assert.deepEqual(await vote(node, voteRequest(1, DIRS[1]!, original)), { errorCode: ErrorCode.NONE, voteGranted: true });
    assert.deepEqual(await vote(node, voteRequest(1, DIRS[1]!, replaced, true)), { errorCode: ErrorCode.NONE, voteGranted: false }, 'pre-vote');
    assert.deepEqual(await vote(node, voteRequest(1, DIRS[1]!, replaced)), { errorCode: ErrorCode.NONE, voteGranted: false }, 'vote');
    assert.deepEqual(await vote(node, voteRequest(1, DIRS[1]!, original)), { errorCode: ErrorCode.NONE, voteGranted: true }, 'the same candidate again');
    node.kill();
  });

  it('the quorum-state file keeps the vote\'s directory (QuorumStateData version 1) and still reads version 0', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/meta');
    const file = new QuorumStateFile(fs, '/meta');
    await file.write({ epoch: 7, leaderId: -1, voted: { id: 2, directoryId: DIRS[2]! } });
    assert.deepEqual(JSON.parse((await fs.readFile('/meta/quorum-state')).toString('utf8')), { leaderId: -1, leaderEpoch: 7, votedId: 2, votedDirectoryId: DIRS[2], data_version: 1 });
    assert.deepEqual(await file.read(), { epoch: 7, leaderId: -1, voted: { id: 2, directoryId: DIRS[2] } });
    // Version 0 (written before KIP-853): the vote has no directory, so any replica of node 2 matches it.
    await fs.writeFile('/meta/quorum-state', Buffer.from(JSON.stringify({ clusterId: '', leaderId: 3, leaderEpoch: 4, votedId: 2, appliedOffset: 0, currentVoters: [{ voterId: 1 }], data_version: 0 })));
    const old = await file.read();
    assert.deepEqual(old, { epoch: 4, leaderId: 3, voted: { id: 2, directoryId: 'AAAAAAAAAAAAAAAAAAAAAA' } });
    assert.ok(isVoteFor(old.voted, { id: 2, directoryId: REPLACED_DISK }) && !isVoteFor(old.voted, { id: 3, directoryId: 'AAAAAAAAAAAAAAAAAAAAAA' }));
    await fs.writeFile('/meta/quorum-state', Buffer.from(JSON.stringify({ leaderId: -1, leaderEpoch: 4, votedId: 2, votedDirectoryId: 'not a uuid', data_version: 1 })));
    await assert.rejects(file.read(), /votedDirectoryId is not a uuid/);
  });

  it('a voter back with a new directory id (a replaced disk) is an observer: no vote, and its fetches commit nothing, until added again', async () => {
    const quorum = new Quorum();
    for (const id of [1, 2, 3]) await quorum.start(id, DIRS[id]!);
    await quorum.runUntil('a leader', () => quorum.leader() !== undefined);
    let leader = quorum.leader()!;
    // A voter other than the leader loses its disk and comes back with a fresh directory.
    const replacedId = [1, 2, 3].find((id) => id !== leader.nodeId)!;
    const otherId = [1, 2, 3].find((id) => id !== leader.nodeId && id !== replacedId)!;
    quorum.crash(replacedId);
    const replaced = await quorum.start(replacedId, REPLACED_DISK);
    assert.equal(replaced.isVoter, false, 'a replica with another directory id is not the voter');
    await quorum.runUntil('the replaced node to follow the leader', () => replaced.leaderId === leader.nodeId && replaced.highWatermark >= leader.highWatermark);

    // It cannot vote: a request for the voter's recorded key is not for it.
    const request = voteRequest(replacedId, DIRS[replacedId]!, { nodeId: otherId, epoch: replaced.epoch, directoryId: DIRS[otherId]! }, true);
    assert.equal((await vote(replaced, request)).errorCode, ErrorCode.INVALID_VOTER_KEY);
    const description = leader.describe()!;
    assert.ok(description.observers.some((observer) => observer.replicaId === replacedId && observer.directoryId === REPLACED_DISK), 'the replaced node is not listed as an observer with its new directory');
    assert.ok(description.voters.some((voter) => voter.replicaId === replacedId && voter.directoryId === DIRS[replacedId]), 'the voter keeps its recorded directory');

    // With the third voter down, the leader and the replaced disk are no majority of voters: an
    // append is fetched by the replaced node but not committed.
    quorum.crash(otherId);
    const committedBefore = leader.highWatermark;
    const appended = leader.append([{ key: null, value: Buffer.from('after the disk was replaced'), timestamp: 0 }]);
    appended.catch(() => {});
    await quorum.runFor(1_500);
    assert.ok(replaced.log.endOffset > committedBefore, 'the replaced node did not fetch the append');
    assert.equal(leader.highWatermark, committedBefore, 'a fetch from a replica that is not a voter by key moved the high watermark');

    // Back up, the other voter commits it; then the voter is replaced by its new key and votes again.
    await quorum.start(otherId, DIRS[otherId]!);
    await quorum.runUntil('the append to commit', () => quorum.leader() !== undefined && quorum.leader()!.highWatermark > committedBefore);
    leader = quorum.leader()!;
    await change(quorum, 'the removal of the old key', () => leader.removeVoter(replacedId, DIRS[replacedId]));
    assert.equal(replaced.isVoter, false);
    await change(quorum, 'the new key to be added', () => leader.addVoter({ id: replacedId, directoryId: REPLACED_DISK, endpoints: [] }));
    await quorum.runUntil('the replaced node to see itself a voter', () => replaced.isVoter);
    assert.ok(leader.voterSet.some((voter) => voter.id === replacedId && voter.directoryId === REPLACED_DISK));
  });
});
