// Torn and corrupted files on a real disk: a broker writes several segments, stops, the test
// damages one file (a torn tail, flipped bytes in a batch, a missing or garbage index, garbage
// checkpoints, a garbage meta.properties), and the broker restarts on what is left. It must not
// crash, must log a warning naming what it repaired, and every batch it serves afterwards must
// carry a valid CRC; records before the damage stay readable and new writes are accepted.
//
// What a damaged batch may cost is bounded by what recovery does: it validates the segments from
// the recovery point and truncates at the first invalid batch (dropping any later segment). So the
// records served after recovery are exactly the records written before the damaged batch, byte
// for byte and at their offsets (no duplicate, no reordering, no hole), and the records lost are
// at least those of the damaged batch and at most those of the damaged batch and every batch after
// it in its segment (here the active one, so the end of the log). Damage that recovery repairs
// without truncating (indexes, checkpoints) loses nothing. CORRUPT_TAMPER=duplicate or
// lose-one-more alters the served records before the checks, to show they fail.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, readdir, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { NodeFileSystem } from '../../src/node/node-file-system.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { FetchApi } from '../../src/protocol/messages/index.js';
import { hasValidCrc, readBaseOffset, readLastOffset } from '../../src/protocol/records/batch-header.js';
import { recordBatchSpans } from '../../src/protocol/records/record-batch.js';
import { History } from '../../src/testing/history.js';
import { checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
import { createTopic, readToEnd, seededRandom, startRawProducer, withTimeout } from '../../src/testing/workload.js';
import { fetchRequest } from '../integration/helpers.js';
import { runCli } from '../support/crash-broker-process.js';
import { FaultBroker, fetchAllRecords, prefixViolations, recordsInSegments, recordsOfBatches, type StoredRecord } from '../support/fault-memory-broker.js';

const TOPIC = 'damaged';
const PARTITIONS = [0];
const CLEAN_SHUTDOWN_MARKER = '.kafka_cleanshutdown';

interface Damaged {
  broker: FaultBroker;
  history: History;
  dataDir: string;
  partitionDir: string;
  /** Segment files of the partition, oldest first. */
  segments: string[];
  /** Every record on disk before the damage, in offset order. */
  written: StoredRecord[];
  /** The damaged batch, if the damage hits one: its records, and those from it to its segment's end. */
  damagedBatch?: { firstOffset: number; records: number; recordsToSegmentEnd: number };
}

const TAMPER = process.env.CORRUPT_TAMPER as 'duplicate' | 'lose-one-more' | undefined;

/** Test-only: alters what the broker served, as a broker bug would, so the checks must fail. */
function tamper(served: StoredRecord[]): StoredRecord[] {
  if (TAMPER === 'duplicate' && served.length > 0) return [...served, { ...served[0]!, offset: served.at(-1)!.offset + 1 }];
  if (TAMPER === 'lose-one-more') return served.slice(0, -1);
  return served;
}

/** Records `damagedBatch` for the batch of `segment` (its bytes before the damage) holding byte `position`. */
function markDamagedBatch(damaged: Damaged, segment: string, bytes: Buffer, position: number): void {
  const spans = [...recordBatchSpans(bytes)];
  const index = spans.findIndex((span) => position >= span.position && position < span.position + span.sizeInBytes);
  assert.ok(index >= 0, `byte ${position} of ${segment} lies in a batch`);
  const batch = spans[index]!;
  const firstOffset = readBaseOffset(bytes, batch.position);
  damaged.damagedBatch = {
    firstOffset,
    records: recordsOfBatches(bytes.subarray(batch.position, batch.position + batch.sizeInBytes)).length,
    recordsToSegmentEnd: recordsOfBatches(bytes.subarray(batch.position)).length,
  };
}

/**
 * Served records after recovery against the written ones: exactly a prefix (byte for byte), and,
 * for a damaged batch, losing at least that batch and at most it and the rest of its segment;
 * without one, losing nothing.
 */
function assertBoundedLoss(damaged: Damaged, served: StoredRecord[]): void {
  const { written, damagedBatch } = damaged;
  assert.deepEqual(prefixViolations(written, served), [], 'the served records are a prefix of the written ones');
  const lost = written.length - served.length;
  if (damagedBatch === undefined) {
    assert.equal(lost, 0, 'nothing is lost');
    return;
  }
  const before = written.filter((record) => record.offset < damagedBatch.firstOffset).length;
  assert.ok(lost >= damagedBatch.records, `the damaged batch (${damagedBatch.records} records at offset ${damagedBatch.firstOffset}) is not served: lost ${lost}`);
  assert.ok(
    lost <= damagedBatch.recordsToSegmentEnd,
    `lost ${lost} of ${written.length} records, more than the damaged batch and the rest of its segment held (${damagedBatch.recordsToSegmentEnd})`,
  );
  assert.equal(served.length, before, 'truncated exactly at the damaged batch');
}

/** A stopped broker whose partition holds several small segments of acknowledged records. */
async function writeSegments(seed: number): Promise<Damaged> {
  const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-damaged-'));
  const broker = new FaultBroker(new NodeFileSystem(), {}, dataDir);
  await broker.start();
  const history = new History();
  await createTopic(broker.address, TOPIC, 1, { 'segment.bytes': '4096' });
  const producer = await startRawProducer(history, { address: broker.address, process: 'writer', topic: TOPIC, partitions: PARTITIONS, acks: -1, random: seededRandom(seed), maxBatches: 60, maxPaddingBytes: 200, pipelineDepth: 2 });
  await withTimeout(producer.done, 20_000, 'writing segments');
  assert.deepEqual(producer.errors, []);
  await broker.stop();
  const partitionDir = join(dataDir, `${TOPIC}-0`);
  const segments = (await readdir(partitionDir)).filter((name) => name.endsWith('.log')).sort().map((name) => join(partitionDir, name));
  assert.ok(segments.length >= 3, `several segments were written (${segments.length})`);
  const files = new Map(await Promise.all(segments.map(async (path) => [path, await readFile(path)] as const)));
  const written = recordsInSegments(files, partitionDir);
  assert.equal(written.length, producer.acknowledgedRecords, 'every acknowledged record is on disk');
  return { broker, history, dataDir, partitionDir, segments, written };
}

/** Restarts, reads everything with CRC checks, writes once more; returns the check of the history. */
async function restartAndRead(damaged: Damaged): Promise<ReturnType<typeof checkQueueHistory>> {
  const { broker, history } = damaged;
  broker.lines.length = 0;
  await broker.start();
  try {
    const read = await readToEnd(history, { address: broker.address, process: 'reader', topic: TOPIC, partitions: PARTITIONS });
    assert.deepEqual(read.corruptBatches, [], `no corrupt batch is served; broker log:\n${broker.logText}`);
    const recovered = await fetchAllRecords(broker.address, TOPIC, 0);
    assert.equal(recovered.errorCode, 0, 'the recovered log serves from its start');
    assertBoundedLoss(damaged, tamper(recovered.records));
    const producer = await startRawProducer(history, { address: broker.address, process: 'after', topic: TOPIC, partitions: PARTITIONS, acks: -1, random: seededRandom(5), maxBatches: 5 });
    await withTimeout(producer.done, 10_000, 'writing after the repair');
    assert.deepEqual(producer.errors, [], 'the repaired log accepts writes');
    await readToEnd(history, { address: broker.address, process: 'reader', topic: TOPIC, partitions: PARTITIONS });
    // New writes continue right after the recovered records, which stay as they were.
    const after = await fetchAllRecords(broker.address, TOPIC, 0);
    assert.deepEqual(prefixViolations(after.records, recovered.records), [], 'the recovered records are unchanged by new writes');
    const appended = after.records.slice(recovered.records.length);
    assert.equal(appended.length, producer.acknowledgedRecords);
    appended.forEach((record, index) => assert.equal(record.offset, (recovered.records.at(-1)?.offset ?? -1) + 1 + index, 'new records follow the recovered ones without a gap'));
    assert.ok(appended.every((record) => record.value?.toString().startsWith('after-')), 'only the new writes follow');
    return checkQueueHistory(history, { finalReadComplete: true });
  } finally {
    await broker.stop();
  }
}

async function withDamage(seed: number, damage: (damaged: Damaged) => Promise<void>, check: (damaged: Damaged, result: ReturnType<typeof checkQueueHistory>) => void): Promise<void> {
  const damaged = await writeSegments(seed);
  try {
    await damage(damaged);
    check(damaged, await restartAndRead(damaged));
  } finally {
    await rm(damaged.dataDir, { recursive: true, force: true });
  }
}

const CORRUPT_MESSAGE = 2;

/** One Fetch (v12) of the damaged partition from `offset`. */
async function fetchPartition(connection: KafkaConnection, offset: number): Promise<{ errorCode: number; records: Buffer | null }> {
  const response = await connection.send(FetchApi, 12, fetchRequest(TOPIC, [{ partition: 0, fetchOffset: offset }], { minBytes: 0, maxBytes: 8 * 1024 * 1024 }));
  const data = response.responses[0]?.partitions[0];
  assert.ok(data, 'the fetch answers the partition');
  return { errorCode: data.errorCode, records: (data.records as Buffer | null) ?? null };
}

function flipByte(bytes: Buffer, position: number): void {
  bytes[position] = bytes[position]! ^ 0x5a;
}

/** A crash leaves no clean-shutdown marker, so the next start recovers. */
async function forgetCleanShutdown(damaged: Damaged): Promise<void> {
  await unlink(join(damaged.dataDir, CLEAN_SHUTDOWN_MARKER)).catch(() => {});
}

function assertOnly(result: ReturnType<typeof checkQueueHistory>, kinds: string[]): void {
  const unexpected = result.anomalies.filter((anomaly) => !kinds.includes(anomaly.kind));
  assert.deepEqual(unexpected, [], formatQueueReport(result));
}

/**
 * The anomalies a truncation at the damaged batch explains, and no other: acknowledged records
 * from it on lost, and their offsets reused by the writes after the repair. Never a duplicate.
 */
function assertOnlyTruncation(damaged: Damaged, result: ReturnType<typeof checkQueueHistory>): void {
  assertOnly(result, ['lost-write', 'inconsistent-offsets']);
  const from = damaged.damagedBatch!.firstOffset;
  for (const anomaly of result.anomalies) {
    const offset = Number(/offset (\d+)/.exec(anomaly.message)?.[1] ?? Number.NaN);
    assert.ok(offset >= from, `${anomaly.kind} at offset ${offset}, below the damaged batch at ${from}: ${anomaly.message}`);
  }
}

function assertWarned(damaged: Damaged, pattern: RegExp): void {
  assert.ok(damaged.broker.logged(pattern).some((entry) => entry.level === 'warn' || entry.level === 'error'), `a warning matching ${pattern}; log:\n${damaged.broker.logText}`);
}

describe('torn and corrupted files', { timeout: 120_000 }, () => {
  it('a torn tail of the active segment is truncated with a warning', async () => {
    await withDamage(
      1,
      async (damaged) => {
        await forgetCleanShutdown(damaged);
        const active = damaged.segments.at(-1)!;
        const bytes = await readFile(active);
        markDamagedBatch(damaged, active, bytes, bytes.length - 7);
        await truncate(active, bytes.length - 7);
      },
      (damaged, result) => {
        assertWarned(damaged, /truncating log segment at a torn or corrupt batch/);
        // The torn batch's records are gone (they were damaged on disk), nothing else.
        assert.equal(result.counts['lost-write'], damaged.damagedBatch!.records, formatQueueReport(result));
        assertOnlyTruncation(damaged, result);
      },
    );
  });

  it('flipped bytes in a batch of the active segment: truncated there after a crash, never served', async () => {
    await withDamage(
      2,
      async (damaged) => {
        await forgetCleanShutdown(damaged);
        const active = damaged.segments.at(-1)!;
        const bytes = await readFile(active);
        markDamagedBatch(damaged, active, bytes, Math.floor(bytes.length / 2));
        flipByte(bytes, Math.floor(bytes.length / 2));
        await writeFile(active, bytes);
      },
      (damaged, result) => {
        assertWarned(damaged, /truncating log segment at a torn or corrupt batch/);
        assertOnlyTruncation(damaged, result);
      },
    );
  });

  // Segments below the recovery point are not re-validated at start-up, so Fetch checks every
  // batch it reads from disk: the corrupt one is never served, the good ones before it are, a read
  // starting at it gets CORRUPT_MESSAGE, and the error is logged once for the segment.
  it('flipped bytes in an older, flushed segment are never served', async () => {
    const damaged = await writeSegments(3);
    const { broker } = damaged;
    try {
      const file = damaged.segments[0]!;
      const bytes = await readFile(file);
      const spans = [...recordBatchSpans(bytes)];
      const last = spans.at(-1)!;
      assert.ok(spans.length >= 2, 'the damaged segment holds batches before the corrupt one');
      flipByte(bytes, bytes.length - 20);
      assert.ok(bytes.length - 20 > last.position + 61, 'the flip lands in the last batch, past its header');
      await writeFile(file, bytes);
      const corrupt = bytes.subarray(last.position, last.position + last.sizeInBytes);
      const corruptOffset = readBaseOffset(corrupt);
      assert.ok(!hasValidCrc(corrupt), 'the flip broke the batch CRC');
      const nextSegmentBase = Number(/(\d+)\.log$/.exec(damaged.segments[1]!)![1]);

      broker.lines.length = 0;
      await broker.start();
      const connection = await KafkaConnection.open(connectTcp, broker.address, 'corrupt-reader');
      try {
        const responses: Buffer[] = [];
        const fetch = async (offset: number) => {
          const fetched = await fetchPartition(connection, offset);
          if (fetched.records) responses.push(fetched.records);
          return fetched;
        };
        // From the start: the batches before the corrupt one, all valid, ending right before it.
        const first = await fetch(0);
        assert.equal(first.errorCode, 0);
        const served = [...recordBatchSpans(first.records ?? Buffer.alloc(0))];
        assert.equal(served.length, spans.length - 1, 'every batch before the corrupt one is served');
        for (const span of served) assert.ok(hasValidCrc(first.records!, span.position));
        assert.equal(readLastOffset(first.records!, served.at(-1)!.position) + 1, corruptOffset);
        // Byte for byte the written records before the corrupt batch, and none from it on.
        const servedRecords = tamper(recordsOfBatches(first.records!));
        assert.deepEqual(prefixViolations(damaged.written, servedRecords), [], 'served from the start: a prefix of the written records');
        assert.equal(servedRecords.length, damaged.written.filter((record) => record.offset < corruptOffset).length, 'every record before the corrupt batch, nothing after');
        // At the corrupt batch, however often a consumer polls: CORRUPT_MESSAGE and no records.
        for (let poll = 0; poll < 5; poll += 1) {
          const atCorrupt = await fetch(corruptOffset);
          assert.equal(atCorrupt.errorCode, CORRUPT_MESSAGE);
          assert.equal(atCorrupt.records?.length ?? 0, 0);
        }
        // Later segments stay readable.
        const later = await fetch(nextSegmentBase);
        assert.equal(later.errorCode, 0);
        assert.ok((later.records?.length ?? 0) > 0);
        for (const span of recordBatchSpans(later.records!)) assert.ok(hasValidCrc(later.records!, span.position));
        const writtenLater = damaged.written.filter((record) => record.offset >= nextSegmentBase);
        assert.deepEqual(prefixViolations(writtenLater, recordsOfBatches(later.records!, nextSegmentBase)), [], 'the later segment serves what was written');
        for (const response of responses) assert.equal(response.indexOf(corrupt), -1, 'the corrupt batch is in no fetch response');
      } finally {
        connection.close();
      }
      const errors = broker.logged(/corrupt batch in a log segment/).filter((entry) => entry.level === 'error');
      assert.equal(errors.length, 1, `logged once for the segment; log:\n${broker.logText}`);
      assert.ok(errors[0]!.line.includes(file) && errors[0]!.line.includes(`offset=${corruptOffset}`) && /position=\d+/.test(errors[0]!.line), errors[0]!.line);
    } finally {
      await broker.stop();
      await rm(damaged.dataDir, { recursive: true, force: true });
    }
  });

  it('missing .index and .timeindex files are rebuilt with a warning', async () => {
    await withDamage(
      4,
      async (damaged) => {
        for (const segment of damaged.segments) {
          await unlink(segment.replace(/\.log$/, '.index')).catch(() => {});
          await unlink(segment.replace(/\.log$/, '.timeindex')).catch(() => {});
        }
      },
      (damaged, result) => {
        assertWarned(damaged, /rebuilding segment indexes/);
        assert.ok(result.valid, formatQueueReport(result));
      },
    );
  });

  it('garbage .index and .timeindex files are rebuilt with a warning', async () => {
    await withDamage(
      5,
      async (damaged) => {
        const random = seededRandom(55);
        const garbage = Buffer.from(Array.from({ length: 96 }, () => Math.floor(random() * 256)));
        for (const segment of damaged.segments) {
          await writeFile(segment.replace(/\.log$/, '.index'), garbage);
          await appendFile(segment.replace(/\.log$/, '.timeindex'), garbage.subarray(0, 5));
        }
      },
      (damaged, result) => {
        assertWarned(damaged, /rebuilding segment indexes/);
        assert.ok(result.valid, formatQueueReport(result));
      },
    );
  });

  it('garbage checkpoint files are treated as absent with a warning', async () => {
    await withDamage(
      6,
      async (damaged) => {
        for (const name of ['recovery-point-offset-checkpoint', 'log-start-offset-checkpoint', 'replication-offset-checkpoint']) {
          await writeFile(join(damaged.dataDir, name), '0\n2\ndamaged 0 banana\n');
        }
        await writeFile(join(damaged.partitionDir, 'leader-epoch-checkpoint'), '\u0000\u0001garbage');
        await forgetCleanShutdown(damaged);
      },
      (damaged, result) => {
        assertWarned(damaged, /corrupt checkpoint file, treating it as absent/);
        assert.ok(result.valid, formatQueueReport(result));
      },
    );
  });

  it('a garbage meta.properties stops start-up with a message naming the file, never a crash', async () => {
    const damaged = await writeSegments(7);
    try {
      await writeFile(join(damaged.dataDir, 'meta.properties'), '\u0000\u00ff\u0013not properties at all');
      const result = await runCli(['start', '--port', '0', '--data-dir', damaged.dataDir]);
      assert.notEqual(result.exitCode, 0);
      assert.equal(result.signal, null, 'an orderly exit, not a signal');
      assert.match(result.stderr, /meta\.properties is missing cluster\.id or node\.id/);
      assert.doesNotMatch(result.stderr, /^\s+at /m, 'a message, not a stack trace');
    } finally {
      await rm(damaged.dataDir, { recursive: true, force: true });
    }
  });
});
