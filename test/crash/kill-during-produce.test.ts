// Crash safety of acknowledged writes: a broker child process started through the CLI takes a
// stream of pipelined acks=1 produce requests and is killed with SIGKILL at a random moment; after a
// restart on the same directory every acknowledged record must be readable at its acknowledged
// offset with the same bytes, and every batch on disk must be whole with a valid CRC.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { CreateTopicsApi, FetchApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync, decodeRecordBatchesSync } from '../../src/protocol/records/record-batch.js';
import { BrokerProcess } from '../support/crash-broker-process.js';
import { checkAllSegments } from '../support/crash-log-files.js';
import { RawClient } from '../support/raw-client.js';

const TOPIC = 'crash-test';
const PARTITIONS = 2;
const ROUNDS = 5;
/** Requests each producer connection keeps in flight; the broker serves five per connection. */
const PIPELINE_DEPTH = 4;
const PRODUCERS = 2;
const RECOVERY_LINE = 'no clean shutdown marker: recovering logs';
const TRUNCATION_LINE = 'truncating log segment at a torn or corrupt batch';

/** A small seeded generator, so a failing run's kill timing can be replayed with CRASH_SEED. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Acknowledged records by partition: offset to value. */
type Acknowledged = Map<number, Map<number, string>>;

interface ProduceStats {
  acknowledgedRecords: number;
  errors: string[];
}

/**
 * Keeps PIPELINE_DEPTH produce requests in flight on one connection until it closes, recording the
 * offset and value of every record the broker acknowledges.
 */
function produceUntilClosed(client: RawClient, producer: number, round: number, acknowledged: Acknowledged, stats: ProduceStats, random: () => number): Promise<void> {
  let sequence = 0;
  let inFlight = 0;
  return new Promise((resolve) => {
    const pump = () => {
      if (client.isClosed) {
        if (inFlight === 0) resolve();
        return;
      }
      while (inFlight < PIPELINE_DEPTH) {
        const partition = (sequence + producer) % PARTITIONS;
        const count = 1 + Math.floor(random() * 5);
        const values = Array.from({ length: count }, (_, index) => `r${round}-p${producer}-s${sequence}-i${index}-${'x'.repeat(Math.floor(random() * 40))}`);
        sequence += 1;
        inFlight += 1;
        const batch = buildRecordBatchSync(values.map((value) => ({ key: Buffer.from(`p${producer}`), value: Buffer.from(value) })));
        client
          .request(ProduceApi, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: batch }] }] })
          .then(
            (response) => {
              const result = response.responses[0]?.partitionResponses[0];
              if (!result || result.errorCode !== ErrorCode.NONE) {
                stats.errors.push(`partition ${partition}: error ${result?.errorCode} ${result?.errorMessage}`);
                return;
              }
              const baseOffset = Number(result.baseOffset);
              values.forEach((value, index) => acknowledged.get(partition)!.set(baseOffset + index, value));
              stats.acknowledgedRecords += values.length;
            },
            () => {
              // Unanswered when the broker died: not acknowledged, so nothing is promised about it.
            },
          )
          .finally(() => {
            inFlight -= 1;
            pump();
          });
      }
    };
    pump();
  });
}

/** Reads a whole partition through Fetch, decoding every batch (which checks its CRC). */
async function readPartition(client: RawClient, partition: number): Promise<{ records: Map<number, string>; highWatermark: number }> {
  const records = new Map<number, string>();
  let offset = 0;
  let highWatermark = -1;
  for (;;) {
    const response = await client.request(FetchApi, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 8 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 4 * 1024 * 1024 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const data = response.responses[0]!.partitions[0]!;
    assert.equal(data.errorCode, ErrorCode.NONE, `fetch partition ${partition} at ${offset}`);
    highWatermark = Number(data.highWatermark);
    const batches = data.records ? [...decodeRecordBatchesSync(data.records)] : [];
    if (batches.length === 0) break;
    for (const batch of batches) {
      for (const record of batch.records) if (record.offset >= offset) records.set(record.offset, record.value?.toString() ?? '');
      offset = batch.baseOffset + batch.lastOffsetDelta + 1;
    }
    if (offset >= highWatermark) break;
  }
  return { records, highWatermark };
}

async function verify(broker: BrokerProcess, dataDir: string, acknowledged: Acknowledged, label: string): Promise<void> {
  const client = await RawClient.connect(broker.host, broker.port);
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const { records, highWatermark } = await readPartition(client, partition);
      for (let offset = 0; offset < highWatermark; offset++) assert.ok(records.has(offset), `${label}: partition ${partition} has offset ${offset} below the high watermark ${highWatermark}`);
      for (const [offset, value] of acknowledged.get(partition)!) {
        assert.equal(records.get(offset), value, `${label}: partition ${partition} offset ${offset} holds its acknowledged value`);
      }
    }
  } finally {
    await client.close();
  }
  const segments = await checkAllSegments(dataDir);
  assert.ok(segments.some((segment) => segment.batches > 0), 'segments with batches were found on disk');
  for (const segment of segments) assert.deepEqual(segment.problems, [], `${label}: ${segment.file} is clean`);
}

async function createCrashTopic(broker: BrokerProcess): Promise<void> {
  const admin = await RawClient.connect(broker.host, broker.port);
  try {
    const created = await admin.request(CreateTopicsApi, 7, {
      topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [{ name: 'segment.bytes', value: '65536' }] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]?.errorCode, ErrorCode.NONE, created.topics[0]?.errorMessage ?? '');
  } finally {
    await admin.close();
  }
}

/** The active (highest base offset) segment file of a partition. */
async function activeSegment(dataDir: string, partition: number): Promise<string> {
  const dir = join(dataDir, `${TOPIC}-${partition}`);
  const logs = (await readdir(dir)).filter((name) => name.endsWith('.log')).sort();
  assert.ok(logs.length > 0, `${dir} has segments`);
  return join(dir, logs[logs.length - 1]!);
}

describe('SIGKILL during produce', { timeout: 150_000 }, () => {
  let dataDir: string;
  let broker: BrokerProcess | undefined;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'conveyor-crash-'));
  });
  after(async () => {
    if (broker) await broker.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged record through ${ROUNDS} kills`, async (context) => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    context.diagnostic(`CRASH_SEED=${seed}`);
    const random = seededRandom(seed);
    const acknowledged: Acknowledged = new Map(Array.from({ length: PARTITIONS }, (_, partition) => [partition, new Map()]));
    const startedAt = performance.now();

    broker = await BrokerProcess.start(dataDir);
    await createCrashTopic(broker);

    for (let round = 1; round <= ROUNDS; round++) {
      const stats: ProduceStats = { acknowledgedRecords: 0, errors: [] };
      const producers = await Promise.all(Array.from({ length: PRODUCERS }, () => RawClient.connect(broker!.host, broker!.port)));
      const producing = producers.map((client, producer) => produceUntilClosed(client, producer, round, acknowledged, stats, random));
      // Kill at a random moment once writes are flowing: between 0 and 400 ms after the 50th ack.
      const deadline = Date.now() + 20_000;
      while (stats.acknowledgedRecords < 50 && stats.errors.length === 0) {
        assert.ok(Date.now() < deadline, `round ${round}: acknowledgements are flowing`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 400)));
      const killed = await broker.kill('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      await Promise.all(producers.map((client) => client.waitForClose(5_000)));
      await Promise.all(producing);
      assert.deepEqual(stats.errors, [], `round ${round}: no produce errors before the kill`);
      context.diagnostic(`round ${round}: ${stats.acknowledgedRecords} records acknowledged before SIGKILL`);

      broker = await BrokerProcess.start(dataDir);
      assert.ok(broker.log.includes(RECOVERY_LINE), `round ${round}: the restarted broker logs '${RECOVERY_LINE}'; its log:\n${broker.log}`);
      await verify(broker, dataDir, acknowledged, `round ${round}`);
    }

    const stopped = await broker.kill('SIGTERM');
    assert.equal(stopped.exitCode, 0, 'SIGTERM shuts the broker down cleanly');
    broker = await BrokerProcess.start(dataDir);
    assert.ok(!broker.log.includes(RECOVERY_LINE), 'no recovery after a clean shutdown');
    await verify(broker, dataDir, acknowledged, 'after a clean shutdown');
    await broker.kill('SIGTERM');
    broker = undefined;
    const total = [...acknowledged.values()].reduce((sum, records) => sum + records.size, 0);
    context.diagnostic(`${total} acknowledged records verified in ${Math.round(performance.now() - startedAt)} ms`);
  });

  it('truncates a torn batch left at the tail by a crash, keeping every acknowledged record', async (context) => {
    const tornDir = await mkdtemp(join(tmpdir(), 'conveyor-torn-'));
    let child: BrokerProcess | undefined;
    try {
      const random = seededRandom(7);
      const acknowledged: Acknowledged = new Map(Array.from({ length: PARTITIONS }, (_, partition) => [partition, new Map()]));
      child = await BrokerProcess.start(tornDir);
      await createCrashTopic(child);
      const stats: ProduceStats = { acknowledgedRecords: 0, errors: [] };
      const client = await RawClient.connect(child.host, child.port);
      const producing = produceUntilClosed(client, 0, 1, acknowledged, stats, random);
      const deadline = Date.now() + 20_000;
      while (stats.acknowledgedRecords < 100) {
        assert.ok(Date.now() < deadline, 'acknowledgements are flowing');
        await new Promise((resolve) => setImmediate(resolve));
      }
      await child.kill('SIGKILL');
      await client.waitForClose(5_000);
      await producing;
      // What a crash in the middle of a write leaves: the first part of a batch, then nothing.
      const torn = buildRecordBatchSync([{ value: Buffer.from('never acknowledged '.repeat(20)) }]);
      torn.writeBigInt64BE(BigInt(1_000_000), 0);
      const segment = await activeSegment(tornDir, 0);
      await appendFile(segment, torn.subarray(0, Math.floor(torn.length / 2)));
      await appendFile(await activeSegment(tornDir, 1), Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 200, 1, 2]));

      child = await BrokerProcess.start(tornDir);
      assert.ok(child.log.includes(RECOVERY_LINE), `the broker recovers; its log:\n${child.log}`);
      assert.ok(child.log.includes(TRUNCATION_LINE), `the broker reports the truncation; its log:\n${child.log}`);
      await verify(child, tornDir, acknowledged, 'after a torn write');
      const after = await RawClient.connect(child.host, child.port);
      const next = await after.request(ProduceApi, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 10_000,
        topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatchSync([{ value: Buffer.from('after recovery') }]) }] }],
      });
      await after.close();
      const maxAcknowledged = Math.max(-1, ...acknowledged.get(0)!.keys());
      assert.equal(next.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.NONE);
      assert.ok(Number(next.responses[0]?.partitionResponses[0]?.baseOffset) > maxAcknowledged, 'new appends go after every acknowledged offset');
      acknowledged.get(0)!.set(Number(next.responses[0]!.partitionResponses[0]!.baseOffset), 'after recovery');
      await verify(child, tornDir, acknowledged, 'after appending past the truncation');
      context.diagnostic(`${stats.acknowledgedRecords} records acknowledged before the torn write`);
    } finally {
      if (child) await child.kill('SIGKILL');
      await rm(tornDir, { recursive: true, force: true });
    }
  });
});
