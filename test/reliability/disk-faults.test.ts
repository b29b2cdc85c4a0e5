// A full disk and a read-only data directory, through the memory file system's capacity and fault
// injection: produce gets KAFKA_STORAGE_ERROR, the broker stays up and keeps serving reads and
// metadata, the cause is logged, writing resumes once the disk is writable again, and the history
// of the whole run (acknowledged, refused and later records) has no anomaly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import type { MemoryFileOperation } from '../../src/base/memory-file-system.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { MetadataApi } from '../../src/protocol/messages/index.js';
import { History } from '../../src/testing/history.js';
import { checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
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
  const connection = await KafkaConnection.open(broker.address, 'metadata-check');
  try {
    const response = await withTimeout(connection.send(MetadataApi, 12, { topics: [{ name: TOPIC }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }), 5_000, 'Metadata');
    assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE);
  } finally {
    connection.close();
  }
}

/** Acknowledged data, then the fault: refused with KAFKA_STORAGE_ERROR, reads still served; then recovery. */
/** Returns how many refused records readers saw anyway (written, then refused at fsync). */
async function runDiskFault(inject: (broker: MemoryBroker) => void, heal: (broker: MemoryBroker) => void, cause: RegExp, topicConfigs: Record<string, string> = {}): Promise<number> {
  const history = new History();
  const broker = await startMemoryBroker();
  try {
    await createTopic(broker.address, TOPIC, PARTITIONS.length, topicConfigs);
    const before = await produceBatches(history, broker, 'before', 20, 1);
    assert.deepEqual(before.errors, []);

    inject(broker);
    const during = await produceBatches(history, broker, 'during', 10, 2);
    assert.equal(during.acknowledged, 0, 'nothing is acknowledged while the disk cannot take it');
    assert.equal(during.errors.length, 10);
    for (const error of during.errors) assert.match(error, new RegExp(`error ${ErrorCode.KAFKA_STORAGE_ERROR}\\b`), 'KAFKA_STORAGE_ERROR');
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
    assert.ok(result.valid, formatQueueReport(result));
    return result.stats.distinctRead - (before.acknowledged + afterwards.acknowledged);
  } finally {
    await broker.stop().catch(() => {});
  }
}

const WRITES: readonly MemoryFileOperation[] = ['write', 'truncate', 'writeFile', 'rename', 'unlink', 'mkdir'];

describe('disk faults', { timeout: 60_000 }, () => {
  it('a full disk: KAFKA_STORAGE_ERROR, reads served, writes resume when space returns', async () => {
    const refusedButServed = await runDiskFault(
      (broker) => broker.fs.setCapacityBytes(broker.fs.usedBytes),
      (broker) => broker.fs.setCapacityBytes(Number.POSITIVE_INFINITY),
      /ENOSPC/,
    );
    assert.equal(refusedButServed, 0, 'refused records are not in the log');
  });

  it('a read-only data directory: KAFKA_STORAGE_ERROR, reads served, writes resume once writable', async () => {
    const refusedButServed = await runDiskFault(
      (broker) => broker.fs.setFaultInjector((operation) => (WRITES.includes(operation) ? 'EROFS' : undefined)),
      (broker) => broker.fs.setFaultInjector(undefined),
      /EROFS/,
    );
    assert.equal(refusedButServed, 0, 'refused records are not in the log');
  });

  // Known gap (docs/reliability.md): the records were written before the fsync failed, so they
  // stay in the log and are served although their producer was told KAFKA_STORAGE_ERROR; Kafka
  // instead takes the log directory offline on a failed fsync.
  it('failing fsyncs (EIO) with flush.messages=1: refused, never acknowledged, then resumed', async (context) => {
    const refusedButServed = await runDiskFault(
      (broker) => broker.fs.setFaultInjector((operation) => (operation === 'sync' ? 'EIO' : undefined)),
      (broker) => broker.fs.setFaultInjector(undefined),
      /EIO/,
      { 'flush.messages': '1' },
    );
    context.diagnostic(`${refusedButServed} records refused at fsync were served to readers afterwards`);
  });
});
