// The live fuzz: a few thousand mutated frames (seeded from real clients' captured requests and
// valid requests for every served API and version) fired at an in-process broker over TCP. Each
// frame gets an answer or a closed connection, unless Kafka itself may leave it unanswered (Produce
// acks=0, a Fetch long poll, JoinGroup and SyncGroup waiting for the group: worked out from the
// decoded frame, see legitimateHold); any other frame still unanswered after a generous deadline
// fails the run. A healthy client is served within a deadline all along, memory stays bounded, the
// broker logs no error at all, and afterwards every batch the broker serves carries a valid CRC.
// FUZZ_SEED replays a run (each lane has its own generator); FUZZ_FRAMES sets the count
// (bench/fuzz.ts runs 1,000,000).
//
// FUZZ_INJECT (test-only, to see the checks fail): `metadata-null-name` puts back the fixed
// Metadata bug (an empty topic name answered with a null name v1-v11 cannot encode), which must
// show up as a broker error; `lost-request` makes the Metadata handler never answer a request
// naming topics, which must show up as unanswered frames.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { metadataHandler } from '../../src/broker/handlers/03-metadata.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { MetadataApi } from '../../src/protocol/messages/index.js';
import { History } from '../../src/testing/history.js';
import { createTopic, readToEnd } from '../../src/testing/workload.js';
import { FaultBroker } from '../support/fault-memory-broker.js';
import { FUZZ_TOPIC, distinctErrors, fuzzLiveBroker, heldTotal, seedFrames } from './frame-fuzzer.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 3_000);
const INJECT = process.env.FUZZ_INJECT;

function injectBug(): void {
  const handle = metadataHandler.handle.bind(metadataHandler);
  if (INJECT === 'metadata-null-name') {
    metadataHandler.handle = (request, context) => {
      const named = request.topics?.some((topic) => topic.name === '');
      const outcome = handle(request, context);
      if (!named || context.apiVersion >= 12) return outcome;
      return Promise.resolve(outcome).then((response) => {
        if (typeof response !== 'object' || response === null || !('topics' in response)) return response;
        return { ...response, topics: response.topics.map((topic) => (topic.name === '' ? { ...topic, name: null } : topic)) };
      });
    };
  } else if (INJECT === 'lost-request') {
    metadataHandler.handle = (request, context) => ((request.topics?.length ?? 0) > 0 ? new Promise(() => {}) : handle(request, context));
  } else if (INJECT !== undefined) {
    throw new Error(`unknown FUZZ_INJECT=${INJECT}`);
  }
}

/** Reads every partition of every topic, checking the CRC of each served batch. */
async function assertEveryStoredBatchIsValid(address: string): Promise<number> {
  const connection = await KafkaConnection.open(connectTcp, address, 'verifier');
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

describe(`live broker fuzz (FUZZ_SEED=${SEED}, ${FRAMES} frames${INJECT ? `, FUZZ_INJECT=${INJECT}` : ''})`, { timeout: 170_000 }, () => {
  const broker = new FaultBroker(new MemoryFileSystem({ trackDurability: false }), { 'group.initial.rebalance.delay.ms': '0' }, '/data', 'error');
  before(async () => {
    injectBug();
    await broker.start();
    await createTopic(broker.address, FUZZ_TOPIC, 2);
  });
  after(async () => {
    await broker.stop();
  });

  it('answers or closes every frame Kafka must answer, keeps serving a healthy client, logs no error, stores no corrupt batch', async (context) => {
    const rssBeforeMiB = process.memoryUsage().rss / (1024 * 1024);
    const startedAt = performance.now();
    const stats = await fuzzLiveBroker({ address: broker.address, frames: FRAMES, lanes: 6, seed: SEED, seeds: seedFrames({ live: true }), holdMs: 750 });
    const elapsedS = (performance.now() - startedAt) / 1000;
    context.diagnostic(
      `${stats.frames} frames in ${elapsedS.toFixed(1)} s: ${stats.responses} answered, ${stats.closes} closed, ${heldTotal(stats)} legitimately held ${JSON.stringify(stats.held)}, ${stats.slow} slow, ${stats.unanswered.length} unanswered; ${stats.healthChecks} health checks (max ${Math.round(stats.healthMaxMs)} ms); RSS ${Math.round(rssBeforeMiB)} -> peak ${Math.round(stats.rssPeakMiB)} MiB`,
    );
    assert.deepEqual(stats.violations, []);
    assert.deepEqual(stats.unanswered.slice(0, 5), [], `${stats.unanswered.length} frames Kafka must answer went unanswered`);
    assert.equal(stats.responses + stats.closes + heldTotal(stats), stats.frames);
    assert.ok(stats.responses > 0 && stats.closes > 0, 'the mix exercises both answers and refusals');
    assert.ok(stats.rssPeakMiB - rssBeforeMiB < 400, 'memory stays bounded');
    const errors = distinctErrors(broker.lines);
    context.diagnostic(`frames digest ${stats.framesDigest} (the same for every run with FUZZ_SEED=${SEED}, FUZZ_FRAMES=${FRAMES})`);
    context.diagnostic(`broker errors: ${errors.length === 0 ? 'none' : errors.join(' | ')}`);
    assert.deepEqual(errors, [], 'no error in the broker log (handler failures, encode failures)');
    const batches = await assertEveryStoredBatchIsValid(broker.address);
    context.diagnostic(`${batches} stored batches verified`);
  });
});
