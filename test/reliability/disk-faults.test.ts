// A full disk, a read-only data directory and failing fsyncs, through the memory file system's
// capacity and fault injection: produce gets KAFKA_STORAGE_ERROR, the broker stays up and keeps
// serving metadata, the cause is logged, and the history of the whole run (acknowledged, refused
// and later records) has no anomaly: in particular no read of a refused record. A full or
// read-only disk undoes the failed write and keeps serving reads, and writing resumes once the
// disk takes writes again; a failed fsync takes the log offline (reads and writes answer
// KAFKA_STORAGE_ERROR, as Kafka's offline log dir) until the broker restarts.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import type { MemoryFileOperation } from '../../src/base/memory-file-system.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { MetadataApi } from '../../src/protocol/messages/index.js';
import { History } from '../../src/testing/history.js';
import { anomaliesOf, type CheckResult, checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
import { createTopic, readToEnd, seededRandom, startRawProducer, withTimeout } from '../../src/testing/workload.js';
import { type MemoryBroker, startMemoryBroker } from '../support/fault-memory-broker.js';

const TOPIC = 'disk';
const PARTITIONS = [0, 1];

async function produceBatches(history: History, broker: MemoryBroker, process: string, batches: number, seed: number): Promise<{ acknowledged: number; errors: readonly string[] }> {
  const producer = await startRawProducer(history, { address: broker.address, process, topic: TOPIC, partitions: PARTITIONS, acks: -1, random: seededRandom(seed), maxBatches: batches, pipelineDepth: 2 });
  await withTimeout(producer.done, 20_000, `${process} producing`);
  return { acknowledged: producer.acknowledgedRecords, errors: producer.errors };
}

async function assertServesMetadata(broker: MemoryBroker): Promise<void> {
  const connection = await KafkaConnection.open(connectTcp, broker.address, 'metadata-check');
  try {
    const response = await withTimeout(connection.send(MetadataApi, 12, { topics: [{ name: TOPIC }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }), 5_000, 'Metadata');
    assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE);
  } finally {
    connection.close();
  }
}

function assertStorageErrors(errors: readonly string[], count: number, what: string): void {
  assert.equal(errors.length, count, `${what}: every batch refused`);
  for (const error of errors) assert.match(error, new RegExp(`error ${ErrorCode.KAFKA_STORAGE_ERROR}\\b`), `${what}: KAFKA_STORAGE_ERROR`);
}

/** No refused record was served (the checker's read-of-failed-write), and nothing else is wrong. */
function assertNothingRefusedServed(result: CheckResult): void {
  assert.deepEqual(anomaliesOf(result, 'read-of-failed-write').map((anomaly) => anomaly.message), [], formatQueueReport(result));
  assert.ok(result.valid, formatQueueReport(result));
}

/** Acknowledged data, then the fault: refused with KAFKA_STORAGE_ERROR, reads still served; then recovery. */
async function runDiskFault(inject: (broker: MemoryBroker) => void, heal: (broker: MemoryBroker) => void, cause: RegExp): Promise<void> {
  const history = new History();
  const broker = await startMemoryBroker();
  try {
    await createTopic(broker.address, TOPIC, PARTITIONS.length);
    const before = await produceBatches(history, broker, 'before', 20, 1);
    assert.deepEqual(before.errors, []);

    inject(broker);
    const during = await produceBatches(history, broker, 'during', 10, 2);
    assert.equal(during.acknowledged, 0, 'nothing is acknowledged while the disk cannot take it');
    assertStorageErrors(during.errors, 10, 'during the fault');
    assert.ok(broker.logged(cause).some((entry) => entry.level === 'error' || entry.level === 'warn'), `the cause is logged; log:\n${broker.lines.map((entry) => entry.line).join('\n')}`);
    await assertServesMetadata(broker);
    const readDuring = await readToEnd(history, { address: broker.address, process: 'reader-during', topic: TOPIC, partitions: PARTITIONS });
    assert.ok([...readDuring.records.values()].reduce((sum, count) => sum + count, 0) >= before.acknowledged, 'reads are served during the fault');

    heal(broker);
    const afterwards = await produceBatches(history, broker, 'after', 20, 3);
    assert.deepEqual(afterwards.errors, [], 'writing resumes once the disk is writable');
    const read = await readToEnd(history, { address: broker.address, process: 'reader', topic: TOPIC, partitions: PARTITIONS });
    assert.deepEqual(read.corruptBatches, []);
    const result = checkQueueHistory(history, { finalReadComplete: true });
    assertNothingRefusedServed(result);
    assert.equal(result.stats.distinctRead, before.acknowledged + afterwards.acknowledged, 'exactly the acknowledged records are in the log');
  } finally {
    await broker.stop().catch(() => {});
  }
}

/**
 * Failing fsyncs with flush.messages=1: the first append to each partition is written, its fsync
 * fails, the log goes offline and the append is refused; every later append and every read of that
 * partition answers KAFKA_STORAGE_ERROR, also after the disk works again. A restart recovers the
 * logs: every acknowledged record is there and writing resumes.
 */
async function runFailingFsyncs(context: TestContext): Promise<void> {
  const history = new History();
  const broker = await startMemoryBroker();
  try {
    await createTopic(broker.address, TOPIC, PARTITIONS.length, { 'flush.messages': '1' });
    const before = await produceBatches(history, broker, 'before', 20, 1);
    assert.deepEqual(before.errors, []);

    broker.fs.setFaultInjector((operation) => (operation === 'sync' ? 'EIO' : undefined));
    const during = await produceBatches(history, broker, 'during', 10, 2);
    const offline = { address: broker.address, topic: TOPIC, partitions: PARTITIONS, stopAtErrorCodes: [ErrorCode.KAFKA_STORAGE_ERROR] };
    const readDuring = await readToEnd(history, { ...offline, process: 'reader-during' });
    await assertServesMetadata(broker);
    broker.fs.setFaultInjector(undefined);
    const afterHeal = await produceBatches(history, broker, 'after-heal', 10, 3);
    const readAfterHeal = await readToEnd(history, { ...offline, process: 'reader-after-heal' });
    // The history first: had a refused batch been written and its high watermark moved (the fault
    // this test exists for), the readers above would have polled it.
    assertNothingRefusedServed(checkQueueHistory(history));

    assert.equal(during.acknowledged, 0, 'nothing is acknowledged while fsyncs fail');
    assertStorageErrors(during.errors, 10, 'during the fault');
    assert.ok(broker.logged(/EIO/).some((entry) => entry.level === 'error'), `the cause is logged; log:\n${broker.logText}`);
    assert.ok(broker.logged(/log is offline: an fsync failed/).length >= PARTITIONS.length, `each log goes offline; log:\n${broker.logText}`);
    const storageError = new Map(PARTITIONS.map((partition) => [partition, ErrorCode.KAFKA_STORAGE_ERROR]));
    assert.deepEqual(readDuring.partitionErrors, storageError, 'reads of an offline log answer KAFKA_STORAGE_ERROR');
    assert.equal(afterHeal.acknowledged, 0, 'an offline log stays offline until the broker restarts');
    assertStorageErrors(afterHeal.errors, 10, 'after the disk works again');
    assert.deepEqual(readAfterHeal.partitionErrors, storageError);

    await broker.stop();
    assert.ok(broker.logged(/could not close log cleanly/).length >= PARTITIONS.length, 'an offline log is not closed cleanly');
    await broker.start();
    const restarted = await produceBatches(history, broker, 'after-restart', 20, 4);
    assert.deepEqual(restarted.errors, [], 'writing resumes after a restart');
    const read = await readToEnd(history, { address: broker.address, process: 'reader', topic: TOPIC, partitions: PARTITIONS });
    assert.deepEqual(read.corruptBatches, []);
    // After the restart, a batch refused at its fsync is back if the disk kept it, as in Kafka (it
    // was written, only its fsync failed): across a restart such a refusal is indeterminate.
    const final = new History();
    for (const event of history.events) final.add(event.type === 'send' && event.process === 'during' ? { ...event, outcome: 'unknown' } : event);
    const result = checkQueueHistory(final, { finalReadComplete: true });
    assertNothingRefusedServed(result);
    const returned = final.events.filter((event) => event.type === 'poll' && event.process === 'reader' && event.value.startsWith('during-')).length;
    context.diagnostic(`${returned} records refused at a failed fsync were back after the restart; ${formatQueueReport(result)}`);
  } finally {
    await broker.stop().catch(() => {});
  }
}

const WRITES: readonly MemoryFileOperation[] = ['write', 'truncate', 'writeFile', 'rename', 'unlink', 'mkdir'];

describe('disk faults', { timeout: 60_000 }, () => {
  it('a full disk: KAFKA_STORAGE_ERROR, reads served, writes resume when space returns', async () => {
    await runDiskFault(
      (broker) => broker.fs.setCapacityBytes(broker.fs.usedBytes),
      (broker) => broker.fs.setCapacityBytes(Number.POSITIVE_INFINITY),
      /ENOSPC/,
    );
  });

  it('a read-only data directory: KAFKA_STORAGE_ERROR, reads served, writes resume once writable', async () => {
    await runDiskFault(
      (broker) => broker.fs.setFaultInjector((operation) => (WRITES.includes(operation) ? 'EROFS' : undefined)),
      (broker) => broker.fs.setFaultInjector(undefined),
      /EROFS/,
    );
  });

  it('failing fsyncs (EIO) with flush.messages=1: refused, never served, the log offline until a restart', async (context) => {
    await runFailingFsyncs(context);
  });
});
