// request_percentage enforced as Kafka enforces it: a client hammering cheap requests (Metadata,
// ListOffsets) under a tiny quota soon gets answers carrying a throttle time (at most one sample of
// the quota window, 1 s here), and its next request is read only once that time has passed; a
// client id without a quota, sending the same requests at the same time, is never throttled. Only
// the time a request occupies the broker counts, never its waits: fetch long polls that each wait
// half a second stay far within a quota they would exceed if their waiting counted. Throttle times
// are only asserted positive and waits only from below, so a busy machine cannot fail the test;
// without enforcement every test here fails (no throttle time), and counting waits fails the last.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { AlterClientQuotasApi, CreateTopicsApi, FetchApi, ListOffsetsApi, MetadataApi } from '../../src/protocol/messages/index.js';
import { RawClient } from '../support/raw-client.js';
import { fetchRequest } from './helpers.js';

/**
 * 0.01% of one thread: over the first 10 s window (11 samples of 1 s) a client may take 0.1
 * percent-seconds, 1 ms of the broker's time, before it is throttled.
 */
const TINY = 0.01;
/** 5% of one thread: 500 ms of handling per 10 s window. */
const FIVE_PERCENT = 5;
const MAX_REQUESTS = 5000;

const metadataRequest = { topics: [{ name: 'quota-topic' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };
const listOffsetsRequest = {
  replicaId: -1,
  isolationLevel: 0,
  topics: [{ name: 'quota-topic', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
  timeoutMs: 1000,
};

describe('request_percentage', { timeout: 120_000 }, () => {
  let broker: RunningBroker;
  const clients: RawClient[] = [];
  const connect = async () => {
    const client = await RawClient.connect('127.0.0.1', broker.broker.endpoints[0]!.port);
    clients.push(client);
    return client;
  };

  before(async () => {
    broker = await startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0' } });
    const admin = await connect();
    const created = await admin.request(CreateTopicsApi, 7, { topics: [{ name: 'quota-topic', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    const quotas = { 'metadata-hammer': TINY, 'offsets-hammer': TINY, poller: FIVE_PERCENT };
    const set = await admin.request(AlterClientQuotasApi, 1, {
      entries: Object.entries(quotas).map(([clientId, value]) => ({ entity: [{ entityType: 'client-id', entityName: clientId }], ops: [{ key: 'request_percentage', value, remove: false }] })),
      validateOnly: false,
    });
    assert.deepEqual(
      set.entries.map(({ errorCode }) => errorCode),
      [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE],
    );
  });
  after(async () => {
    for (const client of clients) await client.close();
    await broker?.close();
  });

  /**
   * Sends `send` until an answer carries a throttle time of at least `stopAtMs` (or `count`
   * requests); the throttle times seen, in order. The window's whole allowance is a millisecond
   * here, so past it each request's tens of microseconds add a large part of it, and the throttle
   * time grows to its cap (one sample, 1 s) within a few requests.
   */
  async function hammer(send: () => Promise<{ throttleTimeMs?: number }>, stopAtMs: number, count = MAX_REQUESTS): Promise<number[]> {
    const throttles: number[] = [];
    for (let sent = 0; sent < count; sent++) {
      throttles.push((await send()).throttleTimeMs ?? 0);
      if (throttles.at(-1)! >= stopAtMs) break;
    }
    return throttles;
  }

  it('throttles a client hammering Metadata, mutes its connection, and leaves another client id alone', async () => {
    const [hammered, calm] = [await connect(), await connect()];
    const throttles = await hammer(() => hammered.request(MetadataApi, 12, metadataRequest, { clientId: 'metadata-hammer', timeoutMs: 30_000 }), 100);
    const throttleMs = throttles.at(-1)!;
    const answeredAt = Date.now();
    assert.ok(throttleMs >= 100, `no throttle time of 100 ms in ${throttles.length} answers`);
    assert.ok(throttleMs <= 1000, `a request quota throttles for at most one sample, got ${throttleMs} ms`);
    // Its next request is read only once its throttle time has passed.
    const leftMs = throttleMs - (Date.now() - answeredAt);
    const sentAt = Date.now();
    await hammered.request(MetadataApi, 12, metadataRequest, { clientId: 'metadata-hammer', timeoutMs: 30_000 });
    const delayMs = Date.now() - sentAt;
    assert.ok(delayMs >= leftMs * 0.8, `answered after ${delayMs} ms, ${leftMs} ms of a ${throttleMs} ms throttle left`);
    // A client id without a quota sends as many requests, while the other's are still in its window: never throttled.
    const calmThrottles = await hammer(() => calm.request(MetadataApi, 12, metadataRequest, { clientId: 'calm', timeoutMs: 30_000 }), Number.POSITIVE_INFINITY, throttles.length);
    assert.deepEqual(new Set(calmThrottles), new Set([0]), 'a client id without a quota is never throttled');
  });

  it('throttles a client hammering ListOffsets', async () => {
    const client = await connect();
    const throttles = await hammer(() => client.request(ListOffsetsApi, 7, listOffsetsRequest, { clientId: 'offsets-hammer', timeoutMs: 30_000 }), 1);
    assert.ok(throttles.at(-1)! > 0, `no throttle time in ${throttles.length} answers`);
  });

  it('does not count the time a fetch long poll waits', async () => {
    const client = await connect();
    for (let round = 0; round < 3; round++) {
      const sentAt = Date.now();
      // Nothing to read: the fetch waits its 500 ms. Three such waits would be 15% of the 10 s window.
      const response = await client.request(FetchApi, 12, fetchRequest('quota-topic', [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 500, minBytes: 1 }), { clientId: 'poller', timeoutMs: 30_000 });
      assert.ok(Date.now() - sentAt >= 400, 'the fetch waited');
      assert.equal(response.throttleTimeMs, 0, `long poll ${round} throttled`);
    }
  });
});
