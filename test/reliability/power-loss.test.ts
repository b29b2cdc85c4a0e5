// Flush policy under a simulated power loss: with log.flush.interval.messages=1 (broker) or
// flush.messages=1 (topic), every acknowledged record survives a power cut in the middle of
// pipelined produce. Without a flush policy, a power cut takes what the operating system had not
// yet written: the test measures it. In every case, per partition, what the broker serves after
// recovery must be exactly a prefix of what it had written at the cut (the page cache then):
// same offsets, same bytes, nothing never written, no hole, and everything acknowledged below the
// recovery point at the cut (flushed) is in it.
//
// Two disk models (src/base/memory-file-system.ts): the default one (directory operations durable
// at once, unsynced writes dropped whole), and the strict one, run with several seeds and 4 KiB
// segments so that segments roll: a file create, rename or delete is undone unless its directory
// was synced, and unsynced pages are kept, dropped or torn at random, so recovery meets torn tails
// and holes. Each strict run prints its seed; POWER_SEED=S replays seed S (the disk's choices
// replay exactly, the timing of the produce requests does not), POWER_RUNS=N runs N seeds.
// POWER_TAMPER=drop-middle-batch or flip-surviving-record damages what survives on purpose: every
// scenario with something to damage must then fail.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { History } from '../../src/testing/history.js';
import { type CheckResult, checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
import { createTopic, readToEnd, seededRandom, startRawProducer } from '../../src/testing/workload.js';
import { fetchAllRecords, type MemoryBroker, type PowerLossTamper, prefixViolations, recordsInSegments, startMemoryBroker } from '../support/fault-memory-broker.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'power';
const PARTITIONS = [0, 1];
const TAMPER = process.env.POWER_TAMPER as PowerLossTamper | undefined;
const STRICT_RUNS = process.env.POWER_SEED !== undefined ? 1 : Number(process.env.POWER_RUNS ?? 4);
const STRICT_SEED = Number(process.env.POWER_SEED ?? Date.now() % 1_000_000);

interface PowerLossRun {
  result: CheckResult;
  acknowledgedBeforeCut: number;
  /** Per partition: records written at the cut, records served after it, the recovery point at the cut. */
  partitions: { partition: number; written: number; survived: number; recoveryPoint: number }[];
  /** Everything wrong with what survived, as sentences; must be empty. */
  violations: string[];
  /** What the disk model did at the cut. */
  cut: string;
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
  // Read in the same tick as the cut (powerLoss cuts before its first await): state at the cut.
  const acknowledgedBeforeCut = acknowledged();
  const replicas = broker.broker.services.replicaManager;
  const recoveryPoints = PARTITIONS.map((partition) => replicas.get(TOPIC, partition)?.log.recoveryPoint ?? 0);
  const cut = await broker.powerLoss(TAMPER === undefined ? {} : { tamper: TAMPER });
  await Promise.all(producers.map((producer) => producer.done));
  await broker.start();
  assert.ok(broker.logged(/no clean shutdown marker: recovering logs/).length > 0, 'the broker recovers after the power loss');
  const read = await readToEnd(history, { address: broker.address, process: 'reader', topic: TOPIC, partitions: PARTITIONS });
  assert.deepEqual(read.corruptBatches, [], 'every served batch has a valid CRC');

  const violations: string[] = [];
  const partitions: PowerLossRun['partitions'] = [];
  for (const [index, partition] of PARTITIONS.entries()) {
    const written = recordsInSegments(cut.written, `${broker.dataDir}/${TOPIC}-${partition}`);
    const served = await fetchAllRecords(broker.address, TOPIC, partition);
    if (served.errorCode !== 0) violations.push(`partition ${partition}: fetch error ${served.errorCode} after ${served.records.length} records`);
    for (const problem of prefixViolations(written, served.records, recoveryPoints[index]!)) violations.push(`partition ${partition}: ${problem}`);
    // What was written is what the producers sent: each acknowledged value at its acknowledged offset.
    const writtenAt = new Map(written.map((record) => [record.offset, record.value?.toString('latin1') ?? '']));
    for (const event of history.events) {
      if (event.type !== 'send' || event.partition !== partition || event.outcome !== 'ok' || event.offset === undefined) continue;
      if (!writtenAt.get(event.offset)?.startsWith(`${event.value}|`)) violations.push(`partition ${partition}: ${event.value} acknowledged at offset ${event.offset}, which holds ${JSON.stringify(writtenAt.get(event.offset)?.slice(0, 30))} in the log at the cut`);
    }
    partitions.push({ partition, written: written.length, survived: served.records.length, recoveryPoint: recoveryPoints[index]! });
  }
  const { pagesKept, pagesDropped, pagesTorn, entriesUndone } = cut.report;
  const model = `pages kept ${pagesKept}, dropped ${pagesDropped}, torn ${pagesTorn}; directory entries undone ${entriesUndone}${cut.tampered ? `; TAMPERED: ${cut.tampered}` : ''}`;
  return { result: checkQueueHistory(history, { finalReadComplete: true }), acknowledgedBeforeCut, partitions, violations, cut: model };
}

function describeRun(run: PowerLossRun): string {
  const partitions = run.partitions.map((entry) => `p${entry.partition}: ${entry.survived} of ${entry.written} written survived (recovery point at the cut ${entry.recoveryPoint})`).join('; ');
  return `${partitions}; ${run.cut}`;
}

async function expectNothingLost(context: TestContext, brokerConfig: Record<string, string>, topicConfigs: Record<string, string>, seed: number, fs = new MemoryFileSystem()): Promise<void> {
  const broker = await startMemoryBroker(brokerConfig, fs);
  try {
    const run = await produceThenCutPower(broker, topicConfigs, 200, seed);
    context.diagnostic(formatQueueReport(run.result));
    context.diagnostic(describeRun(run));
    assert.ok(run.result.stats.acknowledged >= 200);
    assert.deepEqual(run.violations, [], `what survived is not a prefix of what was written; ${describeRun(run)}`);
    assert.ok(run.result.valid, formatQueueReport(run.result));
  } finally {
    await broker.stop();
  }
}

async function expectPrefix(context: TestContext, topicConfigs: Record<string, string>, seed: number, fs = new MemoryFileSystem()): Promise<PowerLossRun> {
  const broker = await startMemoryBroker({}, fs);
  try {
    const run = await produceThenCutPower(broker, topicConfigs, 200, seed);
    const lost = run.result.counts['lost-write'];
    context.diagnostic(`without flush: ${lost} of ${run.result.stats.acknowledged} acknowledged records lost (${run.acknowledgedBeforeCut} acknowledged at the cut)`);
    context.diagnostic(describeRun(run));
    context.diagnostic(formatQueueReport(run.result, 3));
    assert.deepEqual(run.violations, [], `what survived is not a prefix of what was written; ${describeRun(run)}`);
    const otherKinds = run.result.anomalies.filter((anomaly) => anomaly.kind !== 'lost-write');
    assert.deepEqual(otherKinds, [], 'nothing but lost writes: no corruption, no reordering');
    return run;
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
    const run = await expectPrefix(context, {}, 13);
    assert.ok(run.result.counts['lost-write'] > 0, 'unflushed acknowledged records are lost: that is what flush.messages prevents');
  });
});

// Directory entries durable only once synced, torn pages, rolling 4 KiB segments.
const SMALL_SEGMENTS = { 'segment.bytes': '4096' };

describe(`power loss, strict disk model (${STRICT_RUNS} seeds from POWER_SEED=${STRICT_SEED})`, { timeout: 300_000 }, () => {
  for (let run = 0; run < STRICT_RUNS; run += 1) {
    const seed = STRICT_SEED + run;
    const strictFs = () => new MemoryFileSystem({ strictPowerLoss: { seed } });
    it(`POWER_SEED=${seed}: log.flush.interval.messages=1, every acknowledged record survives`, async (context) => {
      await expectNothingLost(context, { 'log.flush.interval.messages': '1' }, SMALL_SEGMENTS, seed, strictFs());
    });
    it(`POWER_SEED=${seed}: flush.messages=1 on the topic, every acknowledged record survives`, async (context) => {
      await expectNothingLost(context, {}, { ...SMALL_SEGMENTS, 'flush.messages': '1' }, seed, strictFs());
    });
    it(`POWER_SEED=${seed}: without a flush policy, what survives is a prefix of what was written`, async (context) => {
      await expectPrefix(context, SMALL_SEGMENTS, seed, strictFs());
    });
  }
});
