// The fuzzer's own guarantees: a seed replays exactly the frames it fired (each lane's sequence
// depends on the seed and the lane alone, not on how lanes interleave), and a frame left
// unanswered is excused only for the reasons Kafka has, read from the decoded request.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FetchApi, JoinGroupApi, MetadataApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { type Mutated, laneSeed, legitimateHold, mutatedFrames, seedFrames } from './frame-fuzzer.js';

const seeds = seedFrames({ live: true });

function take(generator: Generator<Mutated>, count: number): Mutated[] {
  return Array.from({ length: count }, () => generator.next().value as Mutated);
}

function same(a: readonly Mutated[], b: readonly Mutated[]): boolean {
  return a.length === b.length && a.every((frame, index) => frame.mutation === b[index]!.mutation && frame.frame.equals(b[index]!.frame));
}

describe('fuzz frame generator', () => {
  it('builds the same seed frames whatever the clock says', (context) => {
    const now = context.mock.method(Date, 'now', () => 1_000);
    const early = seedFrames({ live: true });
    now.mock.mockImplementation(() => 2_000_000_000_000);
    const late = seedFrames({ live: true });
    assert.equal(early.length, late.length);
    for (let index = 0; index < early.length; index += 1) assert.ok(early[index]!.frame.equals(late[index]!.frame), `${early[index]!.label}: same bytes at another time`);
  });

  it('replays the identical frame sequence for the same seed, lane by lane', () => {
    for (const seed of [1, 20_261_124]) {
      for (let lane = 0; lane < 6; lane += 1) {
        const first = take(mutatedFrames(seeds, laneSeed(seed, lane)), 1_000);
        const second = take(mutatedFrames(seeds, laneSeed(seed, lane)), 1_000);
        assert.ok(same(first, second), `seed ${seed} lane ${lane}: a second run fires the same frames`);
      }
    }
  });

  it('gives each lane its own sequence, unaffected by how the lanes interleave', () => {
    const lanes = [0, 1, 2].map((lane) => laneSeed(7, lane));
    assert.equal(new Set(lanes).size, 3, 'distinct lane seeds');
    const alone = lanes.map((seed) => take(mutatedFrames(seeds, seed), 300));
    // Interleave the lanes unevenly, as timing would: lane 0 twice as fast as lane 2.
    const generators = lanes.map((seed) => mutatedFrames(seeds, seed));
    const interleaved: Mutated[][] = [[], [], []];
    for (let step = 0; interleaved.some((frames) => frames.length < 300); step += 1) {
      for (const [lane, pulls] of [[0, 2], [1, step % 3 === 0 ? 1 : 0], [2, 1]] as const) {
        for (let pull = 0; pull < pulls && interleaved[lane]!.length < 300; pull += 1) interleaved[lane]!.push(generators[lane]!.next().value as Mutated);
      }
    }
    for (let lane = 0; lane < 3; lane += 1) assert.ok(same(alone[lane]!, interleaved[lane]!), `lane ${lane}: same frames whatever the interleaving`);
    assert.ok(!same(alone[0]!, alone[1]!), 'lanes fire different frames');
    assert.ok(!same(take(mutatedFrames(seeds, laneSeed(8, 0)), 300), alone[0]!), 'another seed fires different frames');
  });
});

describe('legitimate holds', () => {
  const batch = buildRecordBatchSync([{ value: Buffer.from('v') }]);
  const produce = (version: number, acks: number) =>
    encodeRequestFrame(ProduceApi, version, 1, { transactionalId: null, acks, timeoutMs: 1_000, topicData: [{ name: 't', partitionData: [{ index: 0, records: batch }] }] });
  const fetch = (maxWaitMs: number, minBytes: number) =>
    encodeRequestFrame(FetchApi, 12, 1, {
      replicaId: -1,
      maxWaitMs,
      minBytes,
      maxBytes: 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1024 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });

  it('Produce with acks=0 (v3+, record batches) is never answered; acks 1 and -1, and acks=0 below v3 (refused by closing), are', () => {
    for (const version of [3, 7, 9, 11]) {
      assert.deepEqual(legitimateHold(produce(version, 0)), { reason: 'produce acks=0' }, `v${version} acks=0`);
      assert.equal(legitimateHold(produce(version, 1)), undefined, `v${version} acks=1`);
      assert.equal(legitimateHold(produce(version, -1)), undefined, `v${version} acks=-1`);
    }
    assert.equal(legitimateHold(produce(2, 0)), undefined, 'v2 acks=0 is refused by closing the connection');
  });

  it('Fetch waits up to MaxWaitMs only when MaxWaitMs > 0 and MinBytes > 0', () => {
    assert.deepEqual(legitimateHold(fetch(500, 1)), { reason: 'fetch long poll', boundMs: 500 });
    assert.equal(legitimateHold(fetch(0, 1)), undefined, 'MaxWaitMs 0');
    assert.equal(legitimateHold(fetch(-1, 1)), undefined, 'MaxWaitMs -1');
    assert.equal(legitimateHold(fetch(500, 0)), undefined, 'MinBytes 0');
  });

  it('JoinGroup may wait for the group; Metadata, undecodable frames and unserved versions may not wait', () => {
    const join = encodeRequestFrame(JoinGroupApi, 5, 1, { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    assert.deepEqual(legitimateHold(join), { reason: 'join group' });
    assert.equal(legitimateHold(encodeRequestFrame(MetadataApi, 9, 1, { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })), undefined);
    const truncated = produce(9, 0).subarray(0, 30);
    truncated.writeInt32BE(26, 0);
    assert.equal(legitimateHold(truncated), undefined, 'an acks=0 Produce that does not decode is refused, not held');
    const unserved = produce(9, 0);
    unserved.writeInt16BE(99, 6);
    assert.equal(legitimateHold(unserved), undefined, 'an unserved version is refused, not held');
  });
});
