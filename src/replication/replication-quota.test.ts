import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../base/logger.js';
import type { FetchRequest, FetchResponse } from '../protocol/messages/index.js';
import type { Transport } from '../protocol/transport.js';
import { ManualClock, openTestLogManager } from '../testing/log-support.js';
import { buildBatch } from '../testing/test-batches.js';
import { Partition } from './partition.js';
import { ReplicaFetcherManager } from './replica-fetcher.js';
import { ReplicationQuota, ReplicationThrottle, type ThrottleSettings, UNTHROTTLED_RATE, throttledPartitions } from './replication-quota.js';

const KB = 1024;

describe('ReplicationQuota (Kafka Rate over 11 samples of 1 s)', () => {
  it('is unlimited until a rate is set, and Long.MAX_VALUE lifts it again', () => {
    const clock = new ManualClock();
    const quota = new ReplicationQuota(clock);
    assert.equal(quota.unlimited, true);
    quota.record(1e12);
    assert.equal(quota.isExceeded(), false);
    quota.setRate(1000);
    assert.equal(quota.unlimited, false);
    assert.equal(quota.isExceeded(), true, 'the bytes recorded before the rate was set count');
    quota.setRate(UNTHROTTLED_RATE);
    assert.equal(quota.isExceeded(), false);
    quota.setRate(Number.POSITIVE_INFINITY);
    assert.equal(quota.unlimited, true);
  });

  it('measures over at least (samples - 1) windows, so a first burst is spread over 10 s; a rate equal to the bound is not exceeded', () => {
    const clock = new ManualClock();
    const quota = new ReplicationQuota(clock);
    quota.setRate(100);
    quota.record(1000);
    assert.equal(quota.rate(), 100);
    assert.equal(quota.isExceeded(), false);
    quota.record(1);
    assert.equal(quota.isExceeded(), true);
    clock.advance(5000);
    assert.equal(quota.rate(), 1001 / 10, 'still within the minimum window');
    clock.advance(5500);
    assert.equal(quota.rate(), 1001 / 10.5, 'then over the time since the oldest sample began');
    clock.advance(500);
    // 11 s after it began the sample is older than the 11 samples of the window: it is gone.
    assert.equal(quota.rate(), 0);
    assert.equal(quota.isExceeded(), false);
  });

  it('keeps a sliding window of samples: old samples expire one by one', () => {
    const clock = new ManualClock();
    const quota = new ReplicationQuota(clock, { samples: 3, sampleMs: 1000 });
    quota.setRate(1000);
    quota.record(1000); // sample 1 at 0
    clock.advance(1000);
    quota.record(1000); // sample 2 at 1000
    clock.advance(1000);
    quota.record(1000); // sample 3 at 2000
    assert.equal(quota.rate(), 3000 / 2, 'three samples over 2 s (the minimum window)');
    assert.equal(quota.isExceeded(), true);
    clock.advance(1000); // 3000: sample 1 is 3 s old, expired
    assert.equal(quota.rate(), 2000 / 2);
    assert.equal(quota.isExceeded(), false);
    quota.record(500); // sample 4 reuses the slot of sample 1
    assert.equal(quota.rate(), 2500 / 2);
  });

  it('holds a greedy sender to the rate: never more than rate x 11 s plus one chunk in any 10 s, and close to the rate over a long run', (t) => {
    const clock = new ManualClock();
    const quota = new ReplicationQuota(clock);
    const rate = 200 * KB;
    const chunk = 64 * KB;
    quota.setRate(rate);
    const sends: number[] = [];
    for (let ms = 0; ms <= 60_000; ms += 10) {
      if (!quota.isExceeded()) {
        quota.record(chunk);
        sends.push(ms);
      }
      clock.advance(10);
    }
    assertWithinRate(sends.map((atMs) => ({ atMs, bytes: chunk })), rate, chunk);
    const sent = sends.length * chunk;
    const average = sent / 60;
    t.diagnostic(`greedy sender: ${Math.round(average)} B/s over 60 s against a rate of ${rate}`);
    assert.ok(average > rate * 0.95 && average < rate * 1.25, `averaged ${Math.round(average)} B/s against ${rate}`);
  });
});

/**
 * What a quota of `rate` allows: whatever is recorded in any 10 s (the samples that are certainly
 * still in the window) was at most the rate over the 11 s window when last checked, plus one send.
 */
function assertWithinRate(sends: readonly { atMs: number; bytes: number }[], rate: number, largestSend: number): void {
  let first = 0;
  let inWindow = 0;
  for (const send of sends) {
    inWindow += send.bytes;
    while (sends[first]!.atMs <= send.atMs - 10_000) inWindow -= sends[first++]!.bytes;
    assert.ok(inWindow <= rate * 11 + largestSend, `${inWindow} bytes in the 10 s up to ${send.atMs} ms`);
  }
}

describe('throttled replicas lists', () => {
  it('reads `*` and the partition:broker entries that name this broker', () => {
    assert.equal(throttledPartitions('*', 1), 'all');
    assert.equal(throttledPartitions('0:2,*', 1), 'all');
    assert.deepEqual([...(throttledPartitions('0:1,1:2,2:1', 1) as Set<number>)], [0, 2]);
    assert.deepEqual([...(throttledPartitions('0:1,1:2', 3) as Set<number>)], []);
    assert.deepEqual([...(throttledPartitions(undefined, 1) as Set<number>)], []);
    assert.deepEqual([...(throttledPartitions('', 1) as Set<number>)], []);
  });

  it('a throttle re-reads its rate and lists only when the settings version moves', () => {
    const clock = new ManualClock();
    let version = 1;
    let rate = UNTHROTTLED_RATE;
    const lists = new Map<string, string>([['a', '0:7,1:8']]);
    let lookups = 0;
    const settings: ThrottleSettings = {
      version: () => version,
      rate: () => rate,
      throttledReplicas: (topic) => {
        lookups++;
        return lists.get(topic);
      },
    };
    const throttle = new ReplicationThrottle(settings, 7, clock);
    assert.equal(throttle.active(), false);
    rate = 1000;
    assert.equal(throttle.active(), false, 'same version: not re-read');
    version++;
    assert.equal(throttle.active(), true);
    assert.equal(throttle.isThrottled('a', 0), true);
    assert.equal(throttle.isThrottled('a', 1), false);
    assert.equal(throttle.isThrottled('b', 0), false);
    assert.equal(lookups, 2, 'one lookup per topic');
    lists.set('b', '*');
    assert.equal(throttle.isThrottled('b', 3), false, 'same version: cached');
    version++;
    assert.equal(throttle.isThrottled('b', 3), true);
  });
});

/** A leader partition (broker 1) holding `batches` batches of about `batchBytes`, and a follower (broker 2) outside the ISR. */
async function leaderAndFollower(batches: number, batchBytes: number) {
  const leaderLog = await (await openTestLogManager()).createLog('t', 0);
  const followerLog = await (await openTestLogManager()).createLog('t', 0);
  const topicId = 'AAAAAAAAAAAAAAAAAAAAAQ';
  const leader = new Partition('t', 0, topicId, leaderLog, 1);
  const follower = new Partition('t', 0, topicId, followerLog, 2);
  const assignment = { leaderId: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2], isr: [1] };
  leader.assign(assignment, 0);
  follower.assign(assignment, 0);
  let bytes = 0;
  for (let index = 0; index < batches; index++) {
    const batch = buildBatch({ count: 1, valueBytes: batchBytes });
    bytes += batch.length;
    await leader.append(batch, 0);
  }
  assert.equal(leader.highWatermark, batches, 'a leader alone in its ISR commits at once');
  return { leader, follower, bytes };
}

/** Serves the follower's fetches from the leader's log, as the Fetch handler would (an empty answer waits MaxWaitMs). */
function leaderTransport(leader: Partition, clock: ManualClock): Transport & { sends: { atMs: number; bytes: number }[] } {
  const transport = {
    sends: [] as { atMs: number; bytes: number }[],
    async send(_nodeId: number, _api: unknown, _version: number, body: unknown): Promise<never> {
      const request = body as FetchRequest;
      const wanted = request.topics[0]!.partitions[0]!;
      const read = await leader.log.read(Number(wanted.fetchOffset), { maxBytes: wanted.partitionMaxBytes, maxOffset: leader.log.logEndOffset, minOneBatch: true });
      transport.sends.push({ atMs: clock.monotonicMs(), bytes: read.chunks.reduce((sum, chunk) => sum + chunk.length, 0) });
      if (read.chunks.length === 0) await new Promise<void>((resolve) => clock.schedule(request.maxWaitMs, resolve));
      const response: FetchResponse = {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: [
          {
            topic: 't',
            // From v13 the fetcher names topics by id and matches the answers by it.
            topicId: request.topics[0]!.topicId,
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: BigInt(leader.highWatermark),
                lastStableOffset: BigInt(leader.highWatermark),
                logStartOffset: 0n,
                abortedTransactions: null,
                preferredReadReplica: -1,
                records: Buffer.concat(read.chunks),
              },
            ],
          },
        ],
      } as FetchResponse;
      return response as never;
    },
  };
  return transport;
}

/** Runs the fetcher on the manual clock in 10 ms steps until the follower has the leader's log; the simulated ms it took. */
async function catchUp(clock: ManualClock, leader: Partition, follower: Partition, limitMs: number): Promise<number> {
  const start = clock.monotonicMs();
  while (follower.log.logEndOffset < leader.log.logEndOffset) {
    const elapsed = clock.monotonicMs() - start;
    assert.ok(elapsed <= limitMs, `caught up to ${follower.log.logEndOffset} of ${leader.log.logEndOffset} by ${elapsed} ms`);
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(10);
  }
  return clock.monotonicMs() - start;
}

describe('follower-side throttle in the replica fetcher', () => {
  const fetcherConfig = { waitMaxMs: 500, minBytes: 1, maxBytes: 64 * KB, responseMaxBytes: 10 * 1024 * KB, backoffMs: 100, requestTimeoutMs: 30_000 };

  function fetcherFor(clock: ManualClock, leader: Partition, follower: Partition, throttle?: ReplicationThrottle) {
    const transport = leaderTransport(leader, clock);
    const fetchers = new ReplicaFetcherManager({
      localBrokerId: 2,
      transport,
      clock,
      logger: silentLogger,
      config: fetcherConfig,
      stillFollows: (partition) => partition === follower,
      onProgress: () => {},
      ...(throttle ? { throttle } : {}),
    });
    return { fetchers, transport };
  }

  it('a follower outside the ISR of a throttled partition fetches no faster than follower.replication.throttled.rate', async (t) => {
    const clock = new ManualClock();
    const { leader, follower, bytes } = await leaderAndFollower(300, 10 * KB);
    const rate = 100 * KB;
    const throttle = new ReplicationThrottle({ version: () => 0, rate: () => rate, throttledReplicas: () => '1:2,0:2' }, 2, clock);
    const { fetchers, transport } = fetcherFor(clock, leader, follower, throttle);
    try {
      fetchers.follow(follower);
      const fetchBytes = fetcherConfig.maxBytes + 11 * KB;
      const tookMs = await catchUp(clock, leader, follower, 60_000);
      assertWithinRate(transport.sends, rate, fetchBytes);
      // About 3 MB at 100 KB/s, less the 10 s the first window spreads over.
      const expectedMs = (bytes / rate - 10) * 1000;
      t.diagnostic(`${bytes} bytes at ${rate} B/s: caught up in ${tookMs} ms of simulated time (about ${Math.round(expectedMs)} expected)`);
      assert.ok(tookMs >= expectedMs - 2000 && tookMs <= expectedMs + 3000, `caught up in ${tookMs} ms of simulated time; at the rate, about ${Math.round(expectedMs)}`);
    } finally {
      fetchers.close();
    }
  });

  it('is not throttled without a rate, for partitions not listed, or for a replica in the ISR', async () => {
    const cases: { name: string; rate: number; list: string; isr: number[] }[] = [
      { name: 'no rate', rate: UNTHROTTLED_RATE, list: '*', isr: [1] },
      { name: 'listed for another broker', rate: 1, list: '0:3', isr: [1] },
      { name: 'in the ISR', rate: 1, list: '*', isr: [1, 2] },
    ];
    for (const { name, rate, list, isr } of cases) {
      const clock = new ManualClock();
      const { leader, follower } = await leaderAndFollower(300, 10 * KB);
      const assignment = { leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, replicas: [1, 2], isr };
      follower.assign(assignment, 0);
      const throttle = new ReplicationThrottle({ version: () => 0, rate: () => rate, throttledReplicas: () => list }, 2, clock);
      const { fetchers } = fetcherFor(clock, leader, follower, throttle);
      try {
        fetchers.follow(follower);
        const tookMs = await catchUp(clock, leader, follower, 1000);
        assert.ok(tookMs < 1000, `${name}: ${tookMs} ms`);
      } finally {
        fetchers.close();
      }
    }
  });
});
