// Share groups (KIP-932) with a real client: librdkafka 2.15.1's share consumer, through the C test
// program test/clients/share-consumer (test/support/share-consumer.ts), against one broker.
// - Three consumers share one partition: the records are spread over them and each is accepted
//   exactly once.
// - A consumer killed (SIGKILL) with records in flight: another consumer gets them once their
//   acquisition lock expires, with delivery count 2.
// - Poison records a consumer keeps releasing are delivered group.share.delivery.count.limit times
//   and then archived: never delivered again, never accepted; the rest are accepted.
// Each consumer acknowledges after "processing" and waits for the broker's answer (commit_sync), so
// the acknowledgements the broker accepted are known per offset.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningBroker, startBroker } from '../../../src/index.js';
import { ErrorCode } from '../../../src/base/error-codes.js';
import { IncrementalAlterConfigsApi } from '../../../src/protocol/messages/index.js';
import { batchOf, createTopic, produceOk, waitFor } from '../../integration/helpers.js';
import { allClientsRequired } from '../../support/clients.js';
import { RawClient } from '../../support/raw-client.js';
import { ShareHistory, checkShareHistory, formatShareReport } from '../../../src/testing/share-checker.js';
import { type SettledAck, type ShareConsumerOptions, type ShareConsumerProcess, addToShareHistory, shareConsumerAvailable, startShareConsumer } from '../../support/share-consumer.js';

const GROUP_CONFIG_RESOURCE = 32;
const DELIVERY_LIMIT = 3;
const LOCK_MS = 2000;

const availability = shareConsumerAvailable();
// CI builds the program (scripts/install-librdkafka-client.sh) and requires it; elsewhere its absence skips.
if (!availability.available && allClientsRequired()) throw new Error(`${availability.reason} (CONVEYOR_REQUIRE_ALL_CLIENTS=1)`);
const skip = availability.available ? false : availability.reason;

async function setGroupConfigs(client: RawClient, groupId: string, configs: Record<string, string>): Promise<void> {
  const response = await client.request(IncrementalAlterConfigsApi, 1, {
    resources: [{ resourceType: GROUP_CONFIG_RESOURCE, resourceName: groupId, configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: 0, value })) }],
    validateOnly: false,
  });
  assert.equal(response.responses[0]?.errorCode, ErrorCode.NONE, response.responses[0]?.errorMessage ?? '');
}

/** Offsets accepted without error, with how many times each was. */
function acceptedOffsets(consumers: readonly ShareConsumerProcess[]): Map<number, number> {
  const accepted = new Map<number, number>();
  for (const consumer of consumers) {
    for (const ack of consumer.settledAcks()) if (isAccepted(ack)) accepted.set(ack.offset, (accepted.get(ack.offset) ?? 0) + 1);
  }
  return accepted;
}

function isAccepted(ack: SettledAck): boolean {
  return ack.type === 'accept' && ack.error === 'NO_ERROR';
}

/**
 * The share-group history checker over what the consumers saw, the topic's `count` records being
 * `value(offset)`: each record accepted at most once, none lost, none delivered after it was
 * settled or past the delivery limit, delivery counts rising, values as sent.
 */
function assertShareHistory(topic: string, count: number, value: (offset: number) => string, consumers: readonly ShareConsumerProcess[], poisoned?: (value: string) => boolean): void {
  const history = new ShareHistory();
  for (let offset = 0; offset < count; offset++) history.send({ process: 'producer', topic, partition: 0, value: value(offset), outcome: 'ok', offset });
  consumers.forEach((consumer, index) => addToShareHistory(history, `consumer-${index + 1}`, consumer.events));
  const result = checkShareHistory(history, { deliveryCountLimit: DELIVERY_LIMIT, drained: true, order: 'per-consumer', ...(poisoned ? { poisoned } : {}) });
  assert.ok(result.valid, formatShareReport(result));
}

describe('librdkafka share consumers', { skip, timeout: 180_000 }, () => {
  let broker: RunningBroker;
  let client: RawClient;
  const consumers: ShareConsumerProcess[] = [];

  before(async () => {
    broker = await startBroker({
      port: 0,
      storage: 'memory',
      config: {
        'group.share.min.record.lock.duration.ms': 1000,
        'group.share.record.lock.duration.ms': LOCK_MS,
        'group.share.delivery.count.limit': DELIVERY_LIMIT,
        'group.share.min.heartbeat.interval.ms': 1000,
        'group.share.heartbeat.interval.ms': 1000,
      },
    });
    client = await RawClient.connect(broker.host, broker.port);
  });

  after(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop().catch(() => undefined)));
    await client?.close();
    await broker?.close();
  });

  function start(options: Omit<ShareConsumerOptions, 'bootstrap'>): ShareConsumerProcess {
    const consumer = startShareConsumer({ bootstrap: `${broker.host}:${broker.port}`, timeoutMs: 120_000, ...options });
    consumers.push(consumer);
    return consumer;
  }

  /** A topic of `count` records ('<prefix>-<i>') in batches of 10, and a group that reads it from the start. */
  async function prepare(topic: string, groupId: string, values: (index: number) => string, count: number): Promise<void> {
    await createTopic(client, topic, 1);
    for (let first = 0; first < count; first += 10) {
      const batch = [];
      for (let index = first; index < Math.min(count, first + 10); index++) batch.push(values(index));
      await produceOk(client, topic, 0, batchOf(batch));
    }
    await setGroupConfigs(client, groupId, { 'share.auto.offset.reset': 'earliest' });
  }

  it('spreads one partition over three consumers, each record accepted exactly once', async () => {
    const count = 600;
    await prepare('share-spread', 'share-spread-group', (index) => `spread-${index}`, count);
    const group = [1, 2, 3].map((index) =>
      start({ groupId: 'share-spread-group', topics: ['share-spread'], mode: 'explicit', ackRule: 'accept', clientId: `spread-${index}`, config: { 'max.poll.records': 20 } }),
    );
    // Polled: each consumer's own waitFor sees only its own events.
    await waitFor(() => acceptedOffsets(group).size === count, `all ${count} records accepted`, 60_000);
    const accepted = acceptedOffsets(group);
    for (let offset = 0; offset < count; offset++) assert.equal(accepted.get(offset), 1, `offset ${offset} accepted once`);
    const busy = group.filter((consumer) => consumer.records.length > 0).length;
    assert.ok(busy >= 2, `the partition's records went to ${busy} consumer(s) of 3`);
    for (const consumer of group) assert.deepEqual(consumer.errors, [], 'no errors reported to the application');
    assertShareHistory('share-spread', count, (offset) => `spread-${offset}`, group);
  });

  /**
   * A consumer acquires records and acknowledges none of them; the survivor must get them, with
   * delivery count 2, no earlier than `minimumWaitMs` after `release` and then accept all.
   */
  async function heldRecordsComeBack(topic: string, lockMs: number, release: (holder: ShareConsumerProcess) => Promise<unknown>, check: (sinceHeldMs: number, sinceReleaseMs: number) => void): Promise<void> {
    const count = 30;
    const groupId = `${topic}-group`;
    await prepare(topic, groupId, (index) => `${topic}-${index}`, count);
    await setGroupConfigs(client, groupId, { 'share.record.lock.duration.ms': String(lockMs) });
    const holder = start({ groupId, topics: [topic], mode: 'explicit', ackRule: 'none', clientId: `${topic}-holder` });
    await holder.waitFor((consumer) => consumer.events.some((event) => event.event === 'holding'), 30_000, 'the holder holding its first batch');
    const heldAt = Date.now();
    const held = holder.records.map((record) => record.offset);
    assert.ok(held.length > 0);
    const survivor = start({ groupId, topics: [topic], mode: 'explicit', ackRule: 'accept', clientId: `${topic}-survivor` });
    // The survivor joins and fetches while the records are still held.
    await survivor.waitFor(() => acceptedOffsets([survivor]).size === count - held.length, 30_000, 'the records nobody held accepted by the survivor');
    const releasedAt = Date.now();
    await release(holder);
    await survivor.waitFor(() => acceptedOffsets([survivor]).size === count, 60_000, `all ${count} records accepted by the survivor`);
    check(Date.now() - heldAt, Date.now() - releasedAt);
    for (const offset of held) {
      const redelivered = survivor.records.find((record) => record.offset === offset);
      assert.equal(redelivered?.deliveryCount, 2, `offset ${offset}, held by the other consumer, comes back as its second delivery`);
    }
    const accepted = acceptedOffsets([survivor]);
    for (let offset = 0; offset < count; offset++) assert.equal(accepted.get(offset), 1);
    assertShareHistory(topic, count, (offset) => `${topic}-${offset}`, [holder, survivor]);
  }

  it('redelivers the records of a consumer that hangs with them once their acquisition lock expires', async () => {
    // The holder stays connected and silent: only the lock gives its records back.
    await heldRecordsComeBack('share-hang', LOCK_MS, async () => {}, (sinceHeldMs) => {
      assert.ok(sinceHeldMs >= LOCK_MS - 300, `redelivered ${sinceHeldMs} ms after they were acquired: not before the ${LOCK_MS} ms lock`);
    });
  });

  it('redelivers the records of a consumer killed with records in flight at once (its connection closed)', async () => {
    // SIGKILL closes the holder's connections; the broker ends its share session and releases what it held.
    const longLockMs = 30_000;
    await heldRecordsComeBack('share-kill', longLockMs, (holder) => holder.kill(), (sinceHeldMs) => {
      assert.ok(sinceHeldMs < longLockMs - 5000, `redelivered ${sinceHeldMs} ms after they were acquired, well before their ${longLockMs} ms lock`);
    });
  });

  it('archives poison records after the delivery limit and accepts the rest', async () => {
    const count = 40;
    const isPoison = (index: number) => index % 10 === 3;
    await prepare('share-poison', 'share-poison-group', (index) => (isPoison(index) ? `poison-${index}` : `ok-${index}`), count);
    const consumer = start({ groupId: 'share-poison-group', topics: ['share-poison'], mode: 'explicit', ackRule: [{ type: 'release', prefix: 'poison' }], clientId: 'poisoned' });
    const poisonOffsets = Array.from({ length: count }, (_, index) => index).filter(isPoison);
    const okCount = count - poisonOffsets.length;
    const deliveries = (offset: number) => consumer.records.filter((record) => record.offset === offset).length;
    await consumer.waitFor(() => acceptedOffsets([consumer]).size === okCount && poisonOffsets.every((offset) => deliveries(offset) === DELIVERY_LIMIT), 60_000, 'the good records accepted and each poison record delivered to the limit');
    // Released for the last time: the limit archives them, so nothing comes back even after a lock's time.
    await new Promise((resolve) => setTimeout(resolve, LOCK_MS + 1000));
    for (const offset of poisonOffsets) {
      assert.equal(deliveries(offset), DELIVERY_LIMIT, `poison offset ${offset} delivered exactly ${DELIVERY_LIMIT} times`);
      assert.deepEqual(consumer.records.filter((record) => record.offset === offset).map((record) => record.deliveryCount), [1, 2, 3]);
    }
    const accepted = acceptedOffsets([consumer]);
    assert.equal(accepted.size, okCount);
    for (const offset of poisonOffsets) assert.equal(accepted.has(offset), false);
    assertShareHistory('share-poison', count, (offset) => (isPoison(offset) ? `poison-${offset}` : `ok-${offset}`), [consumer], (value) => value.startsWith('poison'));
  });
});
