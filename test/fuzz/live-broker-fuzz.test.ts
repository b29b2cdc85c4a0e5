// The live fuzz: a few thousand mutated frames (seeded from real clients' captured requests and
// valid requests for every served API and version) fired at an in-process broker over TCP. Each
// frame gets an answer or a closed connection, a healthy client is served within a deadline all
// along, memory stays bounded, and afterwards every batch the broker serves carries a valid CRC.
// FUZZ_SEED replays a run; FUZZ_FRAMES sets the count (bench/fuzz.ts runs 1,000,000).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { MetadataApi } from '../../src/protocol/messages/index.js';
import { History } from '../../src/testing/history.js';
import { createTopic, readToEnd, seededRandom } from '../../src/testing/workload.js';
import { FaultBroker } from '../support/fault-memory-broker.js';
import { FUZZ_TOPIC, KNOWN_BROKER_ERRORS, distinctErrors, fuzzLiveBroker, seedFrames } from './frame-fuzzer.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 3_000);

/** Reads every partition of every topic, checking the CRC of each served batch. */
async function assertEveryStoredBatchIsValid(address: string): Promise<number> {
  const connection = await KafkaConnection.open(address, 'verifier');
  const metadata = await connection.send(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  connection.close();
  let batches = 0;
  for (const topic of metadata.topics) {
    if (topic.errorCode !== 0 || !topic.name) continue;
    const partitions = topic.partitions.map((partition) => partition.partitionIndex);
    const read = await readToEnd(new History(), { address, process: 'verifier', topic: topic.name, partitions });
    assert.deepEqual(read.corruptBatches, [], `${topic.name}: no corrupt batch stored`);
    batches += read.batches;
  }
  return batches;
}

describe(`live broker fuzz (FUZZ_SEED=${SEED}, ${FRAMES} frames)`, { timeout: 170_000 }, () => {
  const broker = new FaultBroker(new MemoryFileSystem({ trackDurability: false }), { 'group.initial.rebalance.delay.ms': '0' }, '/data', 'error');
  before(async () => {
    await broker.start();
    await createTopic(broker.address, FUZZ_TOPIC, 2);
  });
  after(async () => {
    await broker.stop();
  });

  it('answers or closes on every frame, keeps serving a healthy client, stores no corrupt batch', async (context) => {
    const rssBeforeMiB = process.memoryUsage().rss / (1024 * 1024);
    const startedAt = performance.now();
    const stats = await fuzzLiveBroker({ address: broker.address, frames: FRAMES, lanes: 6, random: seededRandom(SEED), seeds: seedFrames({ live: true }), holdMs: 750 });
    const elapsedS = (performance.now() - startedAt) / 1000;
    context.diagnostic(
      `${stats.frames} frames in ${elapsedS.toFixed(1)} s: ${stats.responses} answered, ${stats.closes} closed, ${stats.held} held; ${stats.healthChecks} health checks (max ${Math.round(stats.healthMaxMs)} ms); RSS ${Math.round(rssBeforeMiB)} -> peak ${Math.round(stats.rssPeakMiB)} MiB`,
    );
    assert.deepEqual(stats.violations, []);
    assert.equal(stats.responses + stats.closes + stats.held, stats.frames);
    assert.ok(stats.held < stats.frames / 20, `few frames are held (long polls, acks=0): ${stats.held}`);
    assert.ok(stats.responses > 0 && stats.closes > 0, 'the mix exercises both answers and refusals');
    assert.ok(stats.rssPeakMiB - rssBeforeMiB < 400, 'memory stays bounded');
    const errors = distinctErrors(broker.lines);
    context.diagnostic(`broker errors: ${errors.length === 0 ? 'none' : errors.join(' | ')}`);
    const unknown = errors.filter((error) => !KNOWN_BROKER_ERRORS.some((known) => known.test(error)));
    assert.deepEqual(unknown, [], 'no unexpected error in the broker log (handler failures, encode failures)');
    const batches = await assertEveryStoredBatchIsValid(broker.address);
    context.diagnostic(`${batches} stored batches verified`);
  });
});
