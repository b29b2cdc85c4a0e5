// Idempotent produce at the protocol level: InitProducerId hands out ids that are never reused,
// retried duplicates of the last five batches get their original offsets (also pipelined, after a
// clean restart and after SIGKILL), gaps get OUT_OF_ORDER_SEQUENCE_NUMBER, unknown producers
// UNKNOWN_PRODUCER_ID, and older epochs INVALID_PRODUCER_EPOCH.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { InitProducerIdApi } from '../../src/protocol/messages/index.js';
import { BrokerProcess } from '../support/crash-broker-process.js';
import { RawClient } from '../support/raw-client.js';
import { batchOf, createTopic, produce, readAll, startTestBroker, temporaryDirectory } from './helpers.js';

async function initProducerId(client: RawClient): Promise<{ producerId: number; producerEpoch: number }> {
  const response = await client.request(InitProducerIdApi, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  assert.equal(response.errorCode, ErrorCode.NONE);
  return { producerId: Number(response.producerId), producerEpoch: response.producerEpoch };
}

function idempotentBatch(producerId: number, producerEpoch: number, baseSequence: number, count: number): Buffer {
  const values = Array.from({ length: count }, (_, index) => `record-${baseSequence + index}`);
  return batchOf(values, { producerId, producerEpoch, baseSequence });
}

async function produceBatch(client: RawClient, topic: string, batch: Buffer): Promise<{ errorCode: number; baseOffset: number }> {
  const result = await produce(client, topic, 0, Buffer.from(batch), { acks: -1 });
  return { errorCode: result.errorCode, baseOffset: Number(result.baseOffset) };
}

async function recordValues(client: RawClient, topic: string): Promise<string[]> {
  const batches = await readAll(client, topic, 0);
  return batches.flatMap((batch) => batch.records.map((record) => record.value!.toString()));
}

describe('idempotent producer', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('duplicates keep their offsets, gaps and unknown producers are refused, and it all survives a restart', async () => {
    const directory = await temporaryDirectory();
    cleanups.push(directory.remove);
    let broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
    await createTopic(broker.client, 'idem', 1);
    const { producerId, producerEpoch } = await initProducerId(broker.client);
    const first = idempotentBatch(producerId, producerEpoch, 0, 5);
    const second = idempotentBatch(producerId, producerEpoch, 5, 5);
    assert.deepEqual(await produceBatch(broker.client, 'idem', first), { errorCode: ErrorCode.NONE, baseOffset: 0 });
    assert.deepEqual(await produceBatch(broker.client, 'idem', first), { errorCode: ErrorCode.NONE, baseOffset: 0 });
    // Pipelined retries of the same batch on one connection, as a client retrying after a timeout sends them.
    const pipelined = await Promise.all([second, second, second].map((batch) => produceBatch(broker.client, 'idem', batch)));
    assert.deepEqual(pipelined.map((result) => result.baseOffset), [5, 5, 5]);
    const gap = await produceBatch(broker.client, 'idem', idempotentBatch(producerId, producerEpoch, 20, 1));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const unknown = await produceBatch(broker.client, 'idem', idempotentBatch(producerId + 500, 0, 7, 1));
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_PRODUCER_ID);
    assert.equal((await recordValues(broker.client, 'idem')).length, 10);

    await broker.close();
    broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
    cleanups.push(() => broker.close());
    assert.deepEqual(await produceBatch(broker.client, 'idem', second), { errorCode: ErrorCode.NONE, baseOffset: 5 });
    assert.deepEqual(await produceBatch(broker.client, 'idem', idempotentBatch(producerId, producerEpoch, 10, 2)), { errorCode: ErrorCode.NONE, baseOffset: 10 });
    const values = await recordValues(broker.client, 'idem');
    assert.deepEqual(values, Array.from({ length: 12 }, (_, index) => `record-${index}`));
    const next = await initProducerId(broker.client);
    assert.ok(next.producerId > producerId, `producer id ${next.producerId} was handed out again after a restart`);
    // A newer epoch of the same producer id fences the older one.
    const bumped = await produceBatch(broker.client, 'idem', idempotentBatch(producerId, producerEpoch + 1, 0, 1));
    assert.equal(bumped.errorCode, ErrorCode.NONE);
    const stale = await produceBatch(broker.client, 'idem', idempotentBatch(producerId, producerEpoch, 12, 1));
    assert.equal(stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  test('deduplication survives SIGKILL of a CLI-started broker (producer state rebuilt from the log)', async () => {
    const directory = await temporaryDirectory();
    cleanups.push(directory.remove);
    let process = await BrokerProcess.start(directory.path);
    cleanups.push(async () => void (await process.kill()));
    let client = await RawClient.connect(process.host, process.port);
    await createTopic(client, 'idem-kill', 1);
    const { producerId, producerEpoch } = await initProducerId(client);
    const batches = Array.from({ length: 8 }, (_, index) => idempotentBatch(producerId, producerEpoch, index * 3, 3));
    for (const batch of batches) assert.equal((await produceBatch(client, 'idem-kill', batch)).errorCode, ErrorCode.NONE);
    await client.close();
    await process.kill('SIGKILL');

    process = await BrokerProcess.start(directory.path);
    client = await RawClient.connect(process.host, process.port);
    try {
      // The last five batches are retried after the crash: each is recognised, nothing is written twice.
      for (const [index, batch] of batches.entries()) {
        if (index < 3) continue;
        assert.deepEqual(await produceBatch(client, 'idem-kill', batch), { errorCode: ErrorCode.NONE, baseOffset: index * 3 });
      }
      assert.equal((await produceBatch(client, 'idem-kill', idempotentBatch(producerId, producerEpoch, 24, 1))).baseOffset, 24);
      assert.equal((await recordValues(client, 'idem-kill')).length, 25);
      const next = await initProducerId(client);
      assert.ok(next.producerId > producerId, 'producer ids are never reused after a crash');
    } finally {
      await client.close();
    }
  });
});
