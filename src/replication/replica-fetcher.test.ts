import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../base/logger.js';
import { systemClock } from '../node/system.js';
import { readBaseOffset } from '../protocol/records/batch-header.js';
import type { FetchRequest, FetchResponse } from '../protocol/messages/index.js';
import type { Transport } from '../protocol/transport.js';
import { openTestLogManager, readBatches } from '../testing/log-support.js';
import { buildBatch } from '../testing/test-batches.js';
import { Partition } from './partition.js';
import { ReplicaFetcherManager } from './replica-fetcher.js';

const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** The leader's answer to one fetch, read at the offset the request names. */
async function answer(leader: Partition, request: FetchRequest): Promise<FetchResponse> {
  const wanted = request.topics[0]!.partitions[0]!;
  const read = await leader.log.read(Number(wanted.fetchOffset), { maxBytes: 1 << 20, maxOffset: leader.log.logEndOffset, minOneBatch: true });
  if (read.chunks.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{
      topic: 't',
      topicId: request.topics[0]!.topicId,
      partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: BigInt(leader.highWatermark), lastStableOffset: BigInt(leader.highWatermark), logStartOffset: 0n, abortedTransactions: null, preferredReadReplica: -1, records: Buffer.concat(read.chunks) }],
    }],
  } as FetchResponse;
}

describe('replica fetcher', () => {
  it('drops an answer to a fetch from before the log was truncated, rather than leave a hole', async () => {
    const leaderLog = await (await openTestLogManager()).createLog('t', 0);
    const followerLog = await (await openTestLogManager()).createLog('t', 0);
    const leader = new Partition('t', 0, TOPIC_ID, leaderLog, 1);
    const follower = new Partition('t', 0, TOPIC_ID, followerLog, 2);
    const assignment = { leaderId: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1] };
    leader.assign(assignment, 0);
    follower.assign(assignment, 0);
    for (let index = 0; index < 6; index++) await leader.append(buildBatch({ count: 1 }), 0);
    // The follower has offsets 0-3 when its fetch (from 4) goes out.
    for (const batch of (await readBatches(leaderLog)).slice(0, 4)) await followerLog.appendAsFollower(batch);

    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const transport = {
      async send(_nodeId: number, _api: unknown, _version: number, body: unknown): Promise<never> {
        const request = body as FetchRequest;
        if (first) {
          first = false;
          assert.equal(request.topics[0]!.partitions[0]!.fetchOffset, 4n);
          await held;
        }
        return (await answer(leader, request)) as never;
      },
    } as unknown as Transport;
    const fetchers = new ReplicaFetcherManager({
      localBrokerId: 2,
      transport,
      clock: systemClock,
      logger: silentLogger,
      config: { waitMaxMs: 5, minBytes: 1, maxBytes: 1 << 20, responseMaxBytes: 1 << 20, backoffMs: 5, requestTimeoutMs: 1000 },
      stillFollows: (partition) => partition === follower,
      onProgress: () => {},
    });
    try {
      fetchers.follow(follower);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // While that fetch is out the log loses its last two batches (as another fetch's truncation
      // would, after leadership went away and came back); the answer from 4 arrives after.
      await followerLog.truncateTo(2);
      release();
      const deadline = Date.now() + 5000;
      while (followerLog.logEndOffset < leaderLog.logEndOffset && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual((await readBatches(followerLog)).map((batch) => readBaseOffset(batch)), [0, 1, 2, 3, 4, 5], 'the follower fetched again from its end: no offsets missing');
    } finally {
      fetchers.close();
    }
  });
});
