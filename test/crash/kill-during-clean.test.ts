// Crash safety of the log cleaner: a broker child process compacts a topic and is killed with
// SIGKILL while a `.cleaned` or `.swap` segment is on disk. After a restart on the same directory
// the latest acknowledged value of every key is readable at its acknowledged offset, nothing
// superseded comes back after it, offsets increase, every batch on disk is whole with a valid CRC,
// and no temporary cleaner file is left behind.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { BrokerProcess } from '../support/crash-broker-process.js';
import { checkAllSegments } from '../support/crash-log-files.js';
import { RawClient } from '../support/raw-client.js';
import { createTopic, produceOk, readAll } from '../integration/helpers.js';

const TOPIC = 'compacted-crash';
const ROUNDS = 3;
const KEYS = 300;
const RECORDS_PER_ROUND = 30_000;
const PER_BATCH = 200;
const BROKER_ARGS = ['--set', 'log.cleaner.backoff.ms=20', '--set', 'log.retention.check.interval.ms=600000'];
/** Restarts to verify recovery run without the cleaner, so its new temporary files cannot mix in. */
const VERIFY_ARGS = [...BROKER_ARGS, '--set', 'log.cleaner.enable=false'];
const TEMPORARY = /\.(cleaned|swap)$/;

interface Latest {
  offset: number;
  value: string;
}

/** Produces a round of updates over every key, then filler that rolls the segment so all of it is cleanable. */
async function produceRound(client: RawClient, round: number, expected: Map<string, Latest>): Promise<void> {
  for (let first = 0; first < RECORDS_PER_ROUND; first += PER_BATCH) {
    const records = Array.from({ length: PER_BATCH }, (_, index) => ({ key: Buffer.from(`key-${(first + index) % KEYS}`), value: Buffer.from(`r${round}-${first + index}-${'v'.repeat(30)}`) }));
    const baseOffset = await produceOk(client, TOPIC, 0, buildRecordBatchSync(records, { compression: first % (2 * PER_BATCH) === 0 ? CompressionType.none : CompressionType.gzip }));
    records.forEach((record, index) => expected.set(record.key.toString(), { offset: baseOffset + index, value: record.value.toString() }));
  }
  for (let filler = 0; filler < 2; filler += 1) {
    await produceOk(client, TOPIC, 0, buildRecordBatchSync(Array.from({ length: 20 }, (_, index) => ({ key: Buffer.from(`filler-${round}-${filler}-${index}`), value: Buffer.alloc(1000, 0x66) }))));
  }
}

/** Waits until the cleaner has a temporary segment on disk, then lets it run a random few milliseconds. */
async function waitForCleaning(partitionDir: string, delayMs: number, pattern = TEMPORARY): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await readdir(partitionDir)).some((name) => pattern.test(name))) {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return true;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

async function verify(broker: BrokerProcess, dataDir: string, expected: Map<string, Latest>, label: string): Promise<void> {
  const client = await RawClient.connect(broker.host, broker.port);
  try {
    const batches = await readAll(client, TOPIC, 0);
    const records = batches.flatMap((batch) => batch.records);
    for (let index = 1; index < records.length; index += 1) assert.ok(records[index]!.offset > records[index - 1]!.offset, `${label}: offsets increase`);
    const lastByKey = new Map<string, Latest>();
    for (const record of records) lastByKey.set(record.key!.toString(), { offset: record.offset, value: record.value!.toString() });
    for (const [key, latest] of expected) assert.deepEqual(lastByKey.get(key), latest, `${label}: ${key} reads its latest acknowledged value at its offset`);
  } finally {
    await client.close();
  }
  for (const segment of await checkAllSegments(dataDir)) assert.deepEqual(segment.problems, [], `${label}: ${segment.file} is clean`);
  const leftovers = (await readdir(join(dataDir, `${TOPIC}-0`))).filter((name) => TEMPORARY.test(name) || name.endsWith('.deleted'));
  assert.deepEqual(leftovers, [], `${label}: recovery left no temporary cleaner files`);
}

describe('SIGKILL during a log clean', { timeout: 120_000 }, () => {
  let dataDir: string;
  let broker: BrokerProcess | undefined;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'conveyor-clean-crash-'));
  });
  after(async () => {
    if (broker) await broker.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it(`loses nothing through ${ROUNDS} kills mid-clean`, async (context) => {
    const expected = new Map<string, Latest>();
    broker = await BrokerProcess.start(dataDir, BROKER_ARGS);
    const admin = await RawClient.connect(broker.host, broker.port);
    await createTopic(admin, TOPIC, 1, { 'cleanup.policy': 'compact', 'segment.bytes': '32768', 'min.cleanable.dirty.ratio': '0.01' });
    await admin.close();
    let killedMidClean = 0;
    for (let round = 1; round <= ROUNDS; round += 1) {
      if (round > 1) {
        assert.equal((await broker.kill('SIGTERM')).exitCode, 0);
        broker = await BrokerProcess.start(dataDir, BROKER_ARGS);
      }
      const client = await RawClient.connect(broker.host, broker.port);
      await produceRound(client, round, expected);
      // The last round aims at the short window after the commit point (a `.swap` on disk).
      const sawCleaning = await waitForCleaning(join(dataDir, `${TOPIC}-0`), round === ROUNDS ? 0 : (round * 7) % 25, round === ROUNDS ? /\.swap$/ : TEMPORARY);
      if (sawCleaning) killedMidClean += 1;
      const killed = await broker.kill('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      await client.waitForClose(5_000);
      broker = await BrokerProcess.start(dataDir, VERIFY_ARGS);
      const swaps = broker.log.split('completed an interrupted segment swap').length - 1;
      context.diagnostic(`round ${round}: killed ${sawCleaning ? 'mid-clean' : 'without seeing a temporary segment'}; ${swaps} swaps completed at restart`);
      await verify(broker, dataDir, expected, `round ${round}`);
    }
    assert.ok(killedMidClean >= 2, `at least two kills hit a clean in progress (${killedMidClean})`);
    // The restarted cleaner finishes the job: one record per key in the end.
    assert.equal((await broker.kill('SIGTERM')).exitCode, 0);
    broker = await BrokerProcess.start(dataDir, BROKER_ARGS);
    const client = await RawClient.connect(broker.host, broker.port);
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const keyed = (await readAll(client, TOPIC, 0)).flatMap((batch) => batch.records).filter((record) => record.key!.toString().startsWith('key-'));
        if (keyed.length === KEYS) break;
        assert.ok(Date.now() < deadline, `compaction converges after the crashes (${keyed.length} keyed records)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await client.close();
    }
    const stopped = await broker.kill('SIGTERM');
    assert.equal(stopped.exitCode, 0);
    broker = await BrokerProcess.start(dataDir, VERIFY_ARGS);
    await verify(broker, dataDir, expected, 'after compaction converged');
    await broker.kill('SIGTERM');
    broker = undefined;
  });
});
