// ListOffsets on a replica that has just become leader (KIP-207): its high watermark, learnt from
// follower fetches, is below the log end it had when it became leader of the epoch, and records
// below that log end may already be acknowledged (acks=all) by the previous leader. Until the high
// watermark reaches it, a client's latest (and a timestamp lookup that finds nothing or something
// at or above the high watermark) is refused with OFFSET_NOT_AVAILABLE (v5+) or
// LEADER_NOT_AVAILABLE (v1-v4), so a "read to the end" does not stop short; replicas, earliest
// offsets, lookups below the high watermark and v0 are answered. The handler runs against a real
// Partition and log; the broker around it is a stand-in, so the window is exact, not a race.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import type { BrokerServices } from '../../src/broker/broker-services.js';
import { listOffsetsHandler } from '../../src/broker/handlers/02-list-offsets.js';
import type { RequestContext } from '../../src/broker/handlers/handler.js';
import type { ListOffsetsResponse } from '../../src/protocol/messages/index.js';
import { Partition } from '../../src/replication/partition.js';
import { openTestLogManager } from '../../src/testing/log-support.js';
import { buildBatch } from '../../src/testing/test-batches.js';

const TOPIC = 'changelog';
const T0 = 1_700_000_000_000;
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const CONSUMER = -1;

type PartitionAnswer = ListOffsetsResponse['topics'][number]['partitions'][number];

interface Ask {
  timestamp: number;
  version: number;
  replicaId?: number;
  isolationLevel?: number;
}

function fakeBroker(partition: Partition): BrokerServices {
  const replicaManager = {
    get: (topic: string, index: number) => (topic === TOPIC && index === 0 && partition.isLeader ? partition : undefined),
    isOffline: () => false,
  };
  return {
    authorization: { topic: () => true },
    replicaManager,
    image: { topic: () => undefined },
    clock: { nowMs: () => T0 + 10_000 },
  } as unknown as BrokerServices;
}

async function listOffset(broker: BrokerServices, ask: Ask): Promise<PartitionAnswer> {
  const request = {
    replicaId: ask.replicaId ?? CONSUMER,
    isolationLevel: ask.isolationLevel ?? 0,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: BigInt(ask.timestamp), maxNumOffsets: 1 }] }],
  };
  const context = { apiVersion: ask.version, broker, connection: {}, correlationId: 1, clientId: 'test', afterResponse: () => {} } as unknown as RequestContext;
  const response = (await listOffsetsHandler.handle(request, context)) as ListOffsetsResponse;
  return response.topics[0]!.partitions[0]!;
}

describe('ListOffsets right after a leader change (KIP-207)', () => {
  let partition: Partition;
  let broker: BrokerServices;
  before(async () => {
    const manager = await openTestLogManager();
    partition = new Partition(TOPIC, 0, 'AAAAAAAAAAAAAAAAAAAAAQ', await manager.createLog(TOPIC, 0), 1);
    broker = fakeBroker(partition);
    // Follower of broker 2: it copied offsets 0-2 (times T0, T0+1000, T0+2000), but the last
    // high watermark broker 2 reported was 1, though broker 2 acknowledged all three.
    partition.assign({ leaderId: 2, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2, 3], isr: [1, 2, 3] }, 0);
    const batches = [0, 1, 2].map((offset) => buildBatch({ baseOffset: offset, timestampMs: T0 + offset * 1000 }));
    await partition.appendAsFollower(batches, 1, 0);
    // Broker 2 is gone: this replica leads epoch 1 with log end 3 and high watermark 1.
    partition.assign({ leaderId: 1, leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2, 3], isr: [1, 3] }, 1);
    assert.deepEqual([partition.highWatermark, partition.log.logEndOffset, partition.leaderEpochStartOffset], [1, 3, 3]);
  });

  it('refuses a client latest while the high watermark lags: OFFSET_NOT_AVAILABLE from v5, LEADER_NOT_AVAILABLE before', async () => {
    for (const version of [5, 7, 10]) {
      const latest = await listOffset(broker, { timestamp: LATEST, version });
      assert.deepEqual([latest.errorCode, latest.offset], [ErrorCode.OFFSET_NOT_AVAILABLE, -1n], `v${version}`);
      const committed = await listOffset(broker, { timestamp: LATEST, version, isolationLevel: 1 });
      assert.equal(committed.errorCode, ErrorCode.OFFSET_NOT_AVAILABLE, `v${version} read_committed`);
    }
    for (const version of [1, 2, 4]) {
      const latest = await listOffset(broker, { timestamp: LATEST, version });
      assert.deepEqual([latest.errorCode, latest.offset], [ErrorCode.LEADER_NOT_AVAILABLE, -1n], `v${version}`);
    }
  });

  it('refuses a timestamp or max-timestamp lookup that finds nothing or finds an offset at or above the high watermark', async () => {
    const atTwo = await listOffset(broker, { timestamp: T0 + 2000, version: 7 });
    assert.equal(atTwo.errorCode, ErrorCode.OFFSET_NOT_AVAILABLE, 'offset 2 is above the high watermark');
    const beyond = await listOffset(broker, { timestamp: T0 + 60_000, version: 7 });
    assert.equal(beyond.errorCode, ErrorCode.OFFSET_NOT_AVAILABLE, 'nothing found');
    const max = await listOffset(broker, { timestamp: MAX_TIMESTAMP, version: 7 });
    assert.equal(max.errorCode, ErrorCode.OFFSET_NOT_AVAILABLE, 'the max timestamp is at offset 2');
    const old = await listOffset(broker, { timestamp: T0 + 2000, version: 4 });
    assert.equal(old.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
  });

  it('answers earliest, a lookup below the high watermark, a replica and v0', async () => {
    const earliest = await listOffset(broker, { timestamp: EARLIEST, version: 7 });
    assert.deepEqual([earliest.errorCode, earliest.offset], [ErrorCode.NONE, 0n]);
    const atZero = await listOffset(broker, { timestamp: T0, version: 7 });
    assert.deepEqual([atZero.errorCode, atZero.offset], [ErrorCode.NONE, 0n]);
    const fromReplica = await listOffset(broker, { timestamp: LATEST, version: 7, replicaId: 3 });
    assert.deepEqual([fromReplica.errorCode, fromReplica.offset], [ErrorCode.NONE, 1n]);
    const legacy = await listOffset(broker, { timestamp: LATEST, version: 0 });
    assert.equal(legacy.errorCode, ErrorCode.NONE);
  });

  it('answers the end once the high watermark reaches the epoch start', async () => {
    partition.updateFollower(3, 2, 2);
    assert.equal((await listOffset(broker, { timestamp: LATEST, version: 7 })).errorCode, ErrorCode.OFFSET_NOT_AVAILABLE, 'high watermark 2 < 3');
    partition.updateFollower(3, 3, 3);
    const latest = await listOffset(broker, { timestamp: LATEST, version: 7 });
    assert.deepEqual([latest.errorCode, latest.offset, latest.leaderEpoch], [ErrorCode.NONE, 3n, 1]);
    const atTwo = await listOffset(broker, { timestamp: T0 + 2000, version: 7 });
    assert.deepEqual([atTwo.errorCode, atTwo.offset], [ErrorCode.NONE, 2n]);
    const old = await listOffset(broker, { timestamp: LATEST, version: 1 });
    assert.deepEqual([old.errorCode, old.offset], [ErrorCode.NONE, 3n]);
  });
});
