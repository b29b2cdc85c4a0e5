// The transaction coordinator over in-memory ports: what its start does with a transaction a stop
// caught between prepare and complete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
import { patchBaseOffsetAndEpoch, readLastOffsetDelta } from '../../protocol/records/batch-header.js';
import { ManualClock } from '../../testing/log-support.js';
import { TransactionCoordinator } from './transaction-coordinator.js';
import type { TransactionMarker, TransactionMarkerWriter, TransactionStatePartitions } from './transaction-ports.js';

class MemoryStateLog implements TransactionStatePartitions {
  readonly logs = new Map<number, Buffer[]>();
  numPartitions(): number {
    return 4;
  }
  async ensureTopic(): Promise<boolean> {
    return true;
  }
  isHosted(): boolean {
    return true;
  }
  leaderEpoch(): number {
    return 0;
  }
  async append(partition: number, batch: Buffer): Promise<void> {
    const log = this.logs.get(partition) ?? [];
    const copy = Buffer.from(batch);
    patchBaseOffsetAndEpoch(copy, 0, this.#end(log), 0);
    log.push(copy);
    this.logs.set(partition, log);
  }
  async read(partition: number, fromOffset: number): Promise<{ chunks: Buffer[]; highWatermark: number }> {
    const log = this.logs.get(partition) ?? [];
    return { chunks: fromOffset === 0 ? log : [], highWatermark: this.#end(log) };
  }
  #end(log: readonly Buffer[]): number {
    return log.reduce((next, stored) => next + readLastOffsetDelta(stored) + 1, 0);
  }
}

/** Markers that wait until the test lets them through. */
class HeldMarkers implements TransactionMarkerWriter {
  readonly written: TransactionMarker[] = [];
  #release: () => void = () => {};
  readonly #released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  async writeMarker(marker: TransactionMarker): Promise<boolean> {
    await this.#released;
    this.written.push(marker);
    return true;
  }
  release(): void {
    this.#release();
  }
}

function coordinator(stateLog: TransactionStatePartitions, markers: TransactionMarkerWriter, mayBeStale?: () => boolean): TransactionCoordinator {
  let nextProducerId = 1000;
  return new TransactionCoordinator({
    clock: new ManualClock(),
    logger: silentLogger,
    config: { transactionStateLogNumPartitions: 4, transactionMaxTimeoutMs: 900_000, transactionalIdExpirationMs: 604_800_000, abortTimedOutTransactionsIntervalMs: 10_000 },
    stateLog,
    markers,
    producerIds: { allocateBlock: async () => ({ firstProducerId: (nextProducerId += 1000), size: 1000 }) },
    partitionExists: () => true,
    ...(mayBeStale ? { mayBeStale } : {}),
  });
}

test('start replays a commit caught between prepare and markers without waiting for them; interruptedFinished waits', async () => {
  const stateLog = new MemoryStateLog();
  const first = coordinator(stateLog, new HeldMarkers());
  await first.start();
  const producer = await first.initProducerId({ transactionalId: 'held', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  assert.equal(producer.errorCode, ErrorCode.NONE);
  assert.deepEqual(await first.addPartitions('held', producer.producerId, producer.producerEpoch, [{ topic: 'orders', partition: 0 }]), [ErrorCode.NONE]);
  // The first coordinator stops right after its PrepareCommit record is durable.
  let prepared = () => {};
  const reachedPrepare = new Promise<void>((resolve) => {
    prepared = resolve;
  });
  first.setTestHooks({ afterPrepare: () => (prepared(), new Promise<void>(() => {})) });
  void first.endTransaction('held', producer.producerId, producer.producerEpoch, true);
  await reachedPrepare;
  first.stop();

  // Its successor's markers cannot be written yet (in a cluster: the partition's followers fetch
  // from this broker only once it serves, after start).
  const markers = new HeldMarkers();
  const second = coordinator(stateLog, markers);
  await second.start();
  assert.equal((await second.describe('held')).state, 'PrepareCommit', 'replayed, not finished');
  let finished = false;
  const waiting = second.interruptedFinished().then(() => {
    finished = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(finished, false, 'interruptedFinished waits for the markers');
  markers.release();
  await waiting;
  assert.deepEqual(markers.written.map(({ topic, partition, committed }) => ({ topic, partition, committed })), [{ topic: 'orders', partition: 0, committed: true }]);
  assert.equal((await second.describe('held')).state, 'CompleteCommit');
  second.stop();
});

test('a coordinator that may be cut off from the controller answers from none of its state: NOT_COORDINATOR, and no verdict on a produce', async () => {
  let stale = false;
  const markers = new HeldMarkers();
  markers.release();
  const node = coordinator(new MemoryStateLog(), markers, () => stale);
  await node.start();
  const producer = await node.initProducerId({ transactionalId: 'cut-off', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  assert.deepEqual(await node.addPartitions('cut-off', producer.producerId, producer.producerEpoch, [{ topic: 'orders', partition: 0 }]), [ErrorCode.NONE]);
  assert.equal(await node.endTransaction('cut-off', producer.producerId, producer.producerEpoch, false), ErrorCode.NONE);
  // Its state says the transaction ended: a batch for it now is refused while the state is to be trusted...
  assert.equal(await node.verifyPartition('cut-off', producer.producerId, producer.producerEpoch, 'orders', 0), ErrorCode.INVALID_TXN_STATE);
  // ...but cut off, another coordinator may have started the next transaction: retriable answers only.
  stale = true;
  assert.equal(await node.verifyPartition('cut-off', producer.producerId, producer.producerEpoch, 'orders', 0), ErrorCode.NOT_ENOUGH_REPLICAS);
  assert.equal(await node.endTransaction('cut-off', producer.producerId, producer.producerEpoch, false), ErrorCode.NOT_COORDINATOR);
  assert.deepEqual(await node.addPartitions('cut-off', producer.producerId, producer.producerEpoch, [{ topic: 'orders', partition: 1 }]), [ErrorCode.NOT_COORDINATOR]);
  assert.equal((await node.describe('cut-off')).errorCode, ErrorCode.NOT_COORDINATOR);
  stale = false;
  assert.equal((await node.describe('cut-off')).state, 'CompleteAbort');
  node.stop();
});

test("a commit's offsets marker is written only after its records' markers: the group's offsets become stable after the records are committed", async () => {
  const written: string[] = [];
  let releaseRecords = () => {};
  const recordsHeld = new Promise<void>((resolve) => {
    releaseRecords = resolve;
  });
  const markers: TransactionMarkerWriter = {
    async writeMarker(marker) {
      if (marker.topic === 'changelog') await recordsHeld;
      written.push(`${marker.topic}-${marker.partition}`);
      return true;
    },
  };
  const node = coordinator(new MemoryStateLog(), markers);
  await node.start();
  const producer = await node.initProducerId({ transactionalId: 'ordered', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  assert.deepEqual(await node.addPartitions('ordered', producer.producerId, producer.producerEpoch, [{ topic: 'changelog', partition: 0 }, { topic: 'output', partition: 1 }]), [ErrorCode.NONE, ErrorCode.NONE]);
  assert.equal(await node.addOffsetsPartition('ordered', producer.producerId, producer.producerEpoch, '__consumer_offsets', 3), ErrorCode.NONE);
  const ended = node.endTransaction('ordered', producer.producerId, producer.producerEpoch, true);
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(written, ['output-1'], 'the offsets marker waits while a record partition has none yet');
  releaseRecords();
  assert.equal(await ended, ErrorCode.NONE);
  assert.deepEqual(written, ['output-1', 'changelog-0', '__consumer_offsets-3']);
  node.stop();
});
