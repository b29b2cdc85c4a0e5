// Crash safety of the log cleaner: a broker child process compacts a topic and is killed with
// SIGKILL while a `.cleaned` or `.swap` segment is on disk. The kill is not a guess at timing: the
// child holds its cleaner at a named pause point (CONVEYOR_TEST_CLEANER_PAUSE, installed by
// test/support/crash-cli-entry.ts) and reports it; the test checks the temporary segment is on disk
// and only then kills. After a restart on the same directory the latest acknowledged value of every
// key is readable at its acknowledged offset, nothing superseded comes back after it, offsets
// increase, every batch on disk is whole with a valid CRC, and no temporary cleaner file is left
// behind.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CleanerPausePoint } from '../../src/log/cleaner/log-cleaner.js';
import { offsetFileName } from '../../src/log/log-file-names.js';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { BrokerProcess, CLEANER_PAUSE_ENV, CLEANER_PAUSED_LINE } from '../support/crash-broker-process.js';
import { checkAllSegments } from '../support/crash-log-files.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';
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
/**
 * Where each round's kill lands: before the swap (a complete `.cleaned` segment on disk, to be
 * discarded) or just after its commit point (a `.swap` beside the old segments, to be completed),
 * after letting `skip` earlier groups through so the kill also meets a log already partly cleaned.
 */
const KILL_POINTS: { point: CleanerPausePoint; skip: number }[] = [
  { point: 'before-swap', skip: 0 },
  { point: 'before-swap', skip: 3 },
  { point: 'swap-committed', skip: 1 },
];

interface Latest {
  offset: number;
  value: string;
}

/** Produces a round of updates over every key, then filler that rolls the segment so all of it is cleanable. */
async function produceRound(client: RawClient, round: number, expected: Map<string, Latest>): Promise<void> {
  for (let first = 0; first < RECORDS_PER_ROUND; first += PER_BATCH) {
    const records = Array.from({ length: PER_BATCH }, (_, index) => ({ key: Buffer.from(`key-${(first + index) % KEYS}`), value: Buffer.from(`r${round}-${first + index}-${'v'.repeat(30)}`) }));
    // One key written once per batch: no later record supersedes it, so every segment holds records
    // compaction must keep, and losing any segment (or a cleaned one) cannot go unnoticed.
    records.push({ key: Buffer.from(`once-${round}-${first}`), value: Buffer.from(`only-${round}-${first}`) });
    const baseOffset = await produceOk(client, TOPIC, 0, buildRecordBatchSync(records, { compression: first % (2 * PER_BATCH) === 0 ? CompressionType.none : CompressionType.gzip }));
    records.forEach((record, index) => expected.set(record.key.toString(), { offset: baseOffset + index, value: record.value.toString() }));
  }
  for (let filler = 0; filler < 2; filler += 1) {
    await produceOk(client, TOPIC, 0, buildRecordBatchSync(Array.from({ length: 20 }, (_, index) => ({ key: Buffer.from(`filler-${round}-${filler}-${index}`), value: Buffer.alloc(1000, 0x66) }))));
  }
}

/** A broker whose cleaner will hold at `point` once `skip` earlier groups have passed it. */
function startPausing(dataDir: string, killPoint: { point: CleanerPausePoint; skip: number }): Promise<BrokerProcess> {
  return BrokerProcess.start(dataDir, BROKER_ARGS, undefined, { [CLEANER_PAUSE_ENV]: `${killPoint.point}:${killPoint.skip}` });
}

/**
 * Waits until the child reports its cleaner held at `point`, and checks the temporary segment that
 * point promises is on disk: the complete `.log.cleaned` before the swap, the `.log.swap` after
 * the commit point, beside the old segment it replaces.
 */
async function waitForPause(broker: BrokerProcess, partitionDir: string, point: CleanerPausePoint): Promise<string> {
  const paused = await waitFor(`the cleaner to pause at ${point}`, () => CLEANER_PAUSED_LINE.exec(broker.log) ?? undefined, 60_000);
  assert.equal(paused[1], point);
  assert.equal(paused[2], TOPIC);
  const baseOffset = Number(paused[4]);
  const names = await readdir(partitionDir);
  const temporary = offsetFileName(baseOffset, '.log') + (point === 'before-swap' ? '.cleaned' : '.swap');
  assert.ok(names.includes(temporary), `${temporary} is on disk while the cleaner is held (have ${names.filter((name) => TEMPORARY.test(name)).join(', ')})`);
  assert.ok(names.includes(offsetFileName(baseOffset, '.log')), `the old segment at ${baseOffset} is still in place`);
  return temporary;
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
    const partitionDir = join(dataDir, `${TOPIC}-0`);
    assert.equal(KILL_POINTS.length, ROUNDS);
    broker = await startPausing(dataDir, KILL_POINTS[0]!);
    const admin = await RawClient.connect(broker.host, broker.port);
    await createTopic(admin, TOPIC, 1, { 'cleanup.policy': 'compact', 'segment.bytes': '32768', 'min.cleanable.dirty.ratio': '0.01' });
    await admin.close();
    for (let round = 1; round <= ROUNDS; round += 1) {
      const killPoint = KILL_POINTS[round - 1]!;
      if (round > 1) {
        assert.equal((await broker.kill('SIGTERM')).exitCode, 0);
        broker = await startPausing(dataDir, killPoint);
      }
      const client = await RawClient.connect(broker.host, broker.port);
      // Appends never wait for the cleaner, so the round completes even if it is already held.
      await produceRound(client, round, expected);
      const temporary = await waitForPause(broker, partitionDir, killPoint.point);
      const killed = await broker.kill('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      // The dead process's files are what it left: the held segment is still there, so the kill
      // landed at the pause point and not after the cleaner moved on.
      assert.ok((await readdir(partitionDir)).includes(temporary), `round ${round}: ${temporary} is on disk after the kill`);
      await client.waitForClose(5_000);
      broker = await BrokerProcess.start(dataDir, VERIFY_ARGS);
      const swaps = broker.log.split('completed an interrupted segment swap').length - 1;
      context.diagnostic(`round ${round}: killed with the cleaner held at ${killPoint.point} (${temporary} on disk); ${swaps} swaps completed at restart`);
      // A `.swap` is past the commit point: recovery must finish it; a `.cleaned` is discarded.
      assert.equal(swaps, killPoint.point === 'swap-committed' ? 1 : 0, `round ${round}: interrupted swaps completed at restart`);
      await verify(broker, dataDir, expected, `round ${round}`);
    }
    // The restarted cleaner finishes the job: one record per key in the end.
    assert.equal((await broker.kill('SIGTERM')).exitCode, 0);
    broker = await BrokerProcess.start(dataDir, BROKER_ARGS);
    const client = await RawClient.connect(broker.host, broker.port);
    try {
      let keyed = 0;
      await waitFor(
        `compaction to converge after the crashes (${KEYS} keyed records)`,
        async () => {
          keyed = (await readAll(client, TOPIC, 0)).flatMap((batch) => batch.records).filter((record) => record.key!.toString().startsWith('key-')).length;
          return keyed === KEYS ? true : undefined;
        },
        30_000,
      ).catch((error: Error) => assert.fail(`${error.message}; last read ${keyed} keyed records`));
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
