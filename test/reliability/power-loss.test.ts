// Flush policy under a simulated power loss (MemoryFileSystem drops every write not fsynced): with
// log.flush.interval.messages=1 (broker) or flush.messages=1 (topic), every acknowledged record
// survives a power cut in the middle of pipelined produce. Without a flush policy, a power cut
// takes what the operating system had not yet written: the test measures it and checks that what
// is left is a consistent prefix (nothing but lost writes).
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { History } from '../../src/testing/history.js';
import { type CheckResult, checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
import { createTopic, readToEnd, seededRandom, startRawProducer } from '../../src/testing/workload.js';
import { type MemoryBroker, startMemoryBroker } from '../support/fault-memory-broker.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'power';
const PARTITIONS = [0, 1];

interface PowerLossRun {
  result: CheckResult;
  acknowledgedBeforeCut: number;
}

/** Two pipelined producers (acks=1 and acks=all); the power goes out once `acksBeforeCut` are acknowledged. */
async function produceThenCutPower(broker: MemoryBroker, topicConfigs: Record<string, string>, acksBeforeCut: number, seed: number): Promise<PowerLossRun> {
  const history = new History();
  await createTopic(broker.address, TOPIC, PARTITIONS.length, topicConfigs);
  const random = seededRandom(seed);
  const producers = await Promise.all(
    ([1, -1] as const).map((acks, index) => startRawProducer(history, { address: broker.address, process: `producer-${index}`, topic: TOPIC, partitions: PARTITIONS, acks, random })),
  );
  const acknowledged = () => producers.reduce((sum, producer) => sum + producer.acknowledgedRecords, 0);
  await waitFor('acknowledgements before the power cut', () => (acknowledged() >= acksBeforeCut ? true : undefined), 20_000, 2);
  history.fault('power loss');
  // Counted at the cut: acknowledgements still on their way out are in the history too.
  const acknowledgedBeforeCut = acknowledged();
  await broker.powerLoss();
  await Promise.all(producers.map((producer) => producer.done));
  await broker.start();
  assert.ok(broker.logged(/no clean shutdown marker: recovering logs/).length > 0, 'the broker recovers after the power loss');
  const read = await readToEnd(history, { address: broker.address, process: 'reader', topic: TOPIC, partitions: PARTITIONS });
  assert.deepEqual(read.corruptBatches, [], 'every served batch has a valid CRC');
  return { result: checkQueueHistory(history, { finalReadComplete: true }), acknowledgedBeforeCut };
}

async function expectNothingLost(context: TestContext, brokerConfig: Record<string, string>, topicConfigs: Record<string, string>, seed: number): Promise<void> {
  const broker = await startMemoryBroker(brokerConfig);
  try {
    const { result } = await produceThenCutPower(broker, topicConfigs, 200, seed);
    context.diagnostic(formatQueueReport(result));
    assert.ok(result.stats.acknowledged >= 200);
    assert.ok(result.valid, formatQueueReport(result));
  } finally {
    await broker.stop();
  }
}

describe('power loss', { timeout: 120_000 }, () => {
  it('log.flush.interval.messages=1: every acknowledged record survives', async (context) => {
    await expectNothingLost(context, { 'log.flush.interval.messages': '1' }, {}, 11);
  });

  it('flush.messages=1 on the topic: every acknowledged record survives', async (context) => {
    await expectNothingLost(context, {}, { 'flush.messages': '1' }, 12);
  });

  it('without a flush policy a power loss takes unflushed acknowledged records, leaving a consistent prefix', async (context) => {
    const broker = await startMemoryBroker();
    try {
      const { result, acknowledgedBeforeCut } = await produceThenCutPower(broker, {}, 200, 13);
      const lost = result.counts['lost-write'];
      context.diagnostic(`without flush: ${lost} of ${result.stats.acknowledged} acknowledged records lost (${acknowledgedBeforeCut} acknowledged at the cut)`);
      context.diagnostic(formatQueueReport(result, 3));
      assert.ok(lost > 0, 'unflushed acknowledged records are lost: that is what flush.messages prevents');
      const otherKinds = result.anomalies.filter((anomaly) => anomaly.kind !== 'lost-write');
      assert.deepEqual(otherKinds, [], 'nothing but lost writes: no corruption, no reordering');
    } finally {
      await broker.stop();
    }
  });
});
