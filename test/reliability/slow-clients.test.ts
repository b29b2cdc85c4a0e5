// Slow and stuck clients: a consumer that pipelines large fetches and never reads its socket, a
// slowloris trickling one byte a second into a frame that claims 90 MB, and 1,000 idle
// connections. The broker's queued and buffered bytes stay within its limits, memory stays
// bounded, idle connections are swept, and a healthy client is served within a deadline throughout.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { FetchApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { createTopic, withTimeout } from '../../src/testing/workload.js';
import { closed, connectionTotals, healthyRoundTrip, openSocket } from '../support/fault-network.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';

const MIB = 1024 * 1024;
/** The broker's per-connection limit on unsent response bytes (broker.ts). */
const MAX_QUEUED_RESPONSE_BYTES = 16 * MIB;
const IDLE_MS = 3_000;

async function fillTopic(address: string, topic: string, megabytes: number): Promise<void> {
  const connection = await KafkaConnection.open(connectTcp, address, 'filler');
  try {
    const value = Buffer.alloc(100 * 1024, 7);
    for (let index = 0; index < megabytes * 10; index += 1) {
      const batch = buildRecordBatchSync([{ value }]);
      const response = await connection.send(ProduceApi, 9, { transactionalId: null, acks: 1, timeoutMs: 5_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
      assert.equal(response.responses[0]?.partitionResponses[0]?.errorCode, 0);
    }
  } finally {
    connection.close();
  }
}

function fetchFrame(topic: string, correlationId: number): Buffer {
  return encodeRequestFrame(FetchApi, 12, correlationId, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 64 * MIB,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 64 * MIB }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
}

describe('slow and stuck clients', { timeout: 90_000 }, () => {
  let broker: RunningBroker;
  const sockets: Socket[] = [];
  before(async () => {
    broker = await startBroker({ port: 0, storage: 'memory', config: { 'connections.max.idle.ms': IDLE_MS } });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await broker.close();
  });

  it('a consumer that never reads: queued bytes stay bounded, others are served', async (context) => {
    const topic = 'stuck';
    await createTopic(broker.bootstrapServers, topic, 1);
    await fillTopic(broker.bootstrapServers, topic, 6);
    const rssBefore = process.memoryUsage().rss;
    const stuck = await openSocket(broker.bootstrapServers);
    sockets.push(stuck);
    stuck.pause();
    // 40 pipelined fetches of the whole 6 MiB topic: 240 MiB if the broker queued them all.
    for (let index = 1; index <= 40; index += 1) stuck.write(fetchFrame(topic, index));
    await waitFor('the broker to stop reading the stuck connection', () => {
      const totals = connectionTotals(broker.broker);
      return totals.queuedResponseBytes > MAX_QUEUED_RESPONSE_BYTES / 2 || totals.peakQueuedResponseBytes > 0 ? totals : undefined;
    }, 20_000);
    const latencies: number[] = [];
    for (let round = 0; round < 10; round += 1) latencies.push(await healthyRoundTrip(broker.bootstrapServers));
    const totals = connectionTotals(broker.broker);
    const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / MIB;
    context.diagnostic(`stuck consumer: queued ${(totals.queuedResponseBytes / MIB).toFixed(1)} MiB, peak ${(totals.peakQueuedResponseBytes / MIB).toFixed(1)} MiB, in flight ${totals.inFlightRequests}, RSS +${rssGrowthMiB.toFixed(0)} MiB; healthy round trips max ${Math.round(Math.max(...latencies))} ms`);
    assert.ok(totals.queuedResponseBytes <= MAX_QUEUED_RESPONSE_BYTES + 8 * MIB, 'queued response bytes stay near the limit');
    assert.ok(totals.inFlightRequests <= 5, 'at most five requests in flight');
    assert.ok(rssGrowthMiB < 150, `memory stays bounded (RSS +${rssGrowthMiB.toFixed(0)} MiB, unbounded would be ~240)`);
    stuck.destroy();
  });

  it('a slowloris sending one byte a second into a 90 MB frame: nothing allocated up front, others served', async (context) => {
    const rssBefore = process.memoryUsage().rss;
    const slow = await openSocket(broker.bootstrapServers);
    sockets.push(slow);
    const header = Buffer.alloc(4);
    header.writeInt32BE(90 * MIB);
    slow.write(header);
    const latencies: number[] = [];
    for (let second = 0; second < 4; second += 1) {
      slow.write(Buffer.from([second]));
      latencies.push(await healthyRoundTrip(broker.bootstrapServers));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const totals = connectionTotals(broker.broker);
    const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / MIB;
    context.diagnostic(`slowloris: ${totals.bufferedRequestBytes} request bytes buffered, RSS +${rssGrowthMiB.toFixed(0)} MiB, healthy max ${Math.round(Math.max(...latencies))} ms`);
    assert.ok(totals.bufferedRequestBytes < 1024, 'only the bytes received are buffered');
    assert.ok(rssGrowthMiB < 60, 'the claimed 90 MB were never allocated');
    slow.destroy();
  });

  it('1,000 idle connections: others are served, memory stays bounded, the idle sweep closes them', async (context) => {
    const rssBefore = process.memoryUsage().rss;
    const idle = await Promise.all(Array.from({ length: 1_000 }, () => openSocket(broker.bootstrapServers)));
    sockets.push(...idle);
    await waitFor('the broker to accept 1,000 connections', () => (connectionTotals(broker.broker).connections >= 1_000 ? true : undefined), 10_000);
    const latency = await healthyRoundTrip(broker.bootstrapServers);
    const rssGrowthMiB = (process.memoryUsage().rss - rssBefore) / MIB;
    context.diagnostic(`1,000 idle connections: RSS +${rssGrowthMiB.toFixed(0)} MiB (both ends in this process), healthy round trip ${Math.round(latency)} ms`);
    assert.ok(rssGrowthMiB < 200, 'memory stays bounded');
    await withTimeout(Promise.all(idle.map(closed)), IDLE_MS * 4, 'the idle sweep closing 1,000 connections');
    await waitFor('the broker to drop the idle connections', () => (connectionTotals(broker.broker).connections < 10 ? true : undefined), 5_000);
  });
});
