// Fetches send segment bytes from reused read buffers (src/log/read-buffer-pool.ts), and recent
// batches from reused tail-cache chunks (src/log/tail-cache.ts); both are given back only once a
// response has been written to its socket. Here one client asks for about 16 MiB in one fetch and
// stops reading its socket, so most of that response waits in the broker's write queue, while
// other work makes the broker reuse memory: another client reading every partition again and
// again (read buffers), or a producer appending enough to evict every cached batch (tail-cache
// chunks). Every batch either client receives must be exactly the batch produced, with a valid CRC.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeResponseHeader, responseHeaderVersion } from '../../src/protocol/headers.js';
import { FetchApi, type FetchResponse } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { hasValidCrc } from '../../src/protocol/records/batch-header.js';
import { buildRecordBatchSync, decodeRecordBatchesSync } from '../../src/protocol/records/record-batch.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { type TestBroker, createTopic, fetchPartition, fetchRequest, produceOk, startTestBroker, temporaryDirectory, uniqueTopic, waitFor, withoutStampedFields } from './helpers.js';

const PARTITIONS = 16;
const BATCHES_PER_PARTITION = 8;
const RECORDS_PER_BATCH = 250;
const FETCH_VERSION = 12;

/** Splits a partition's records into whole batches and checks each against the one produced at its offset. */
function checkBatches(records: Buffer, expected: Map<number, Buffer>, where: string): number {
  let checked = 0;
  let position = 0;
  while (position + 12 <= records.length) {
    const size = 12 + records.readInt32BE(position + 8);
    if (position + size > records.length) break; // a partial batch at the end is allowed
    const batch = records.subarray(position, position + size);
    const baseOffset = Number(batch.readBigInt64BE(0));
    assert.ok(hasValidCrc(batch), `${where}: CRC of the batch at offset ${baseOffset}`);
    assert.ok(withoutStampedFields(batch).equals(expected.get(baseOffset)!), `${where}: the batch at offset ${baseOffset} as produced`);
    position += size;
    checked += 1;
  }
  return checked;
}

/** A client that sends one fetch and does not read its socket until `readResponse`. */
async function stalledFetch(broker: TestBroker, topic: string, partitions: { partition: number; fetchOffset: number }[]): Promise<{ readResponse(): Promise<FetchResponse> }> {
  const socket = connect({ host: broker.running.host, port: broker.running.port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.pause();
  socket.write(encodeRequestFrame(FetchApi, FETCH_VERSION, 1, fetchRequest(topic, partitions, { maxBytes: 64 * 1024 * 1024, partitionMaxBytes: 1024 * 1024 })));
  // The broker writes what the socket takes and queues the rest: wait until more than 1 MiB of the
  // response waits in the broker (it must, since the client reads nothing), however long that takes.
  await waitFor(() => broker.running.broker.connectionStats().some((stats) => stats.queuedResponseBytes > 1024 * 1024), 'part of the big response to wait in the broker');
  return {
    async readResponse() {
      const chunks: Buffer[] = [];
      let received = 0;
      let frameBytes = Number.POSITIVE_INFINITY;
      await new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (frameBytes === Number.POSITIVE_INFINITY && received >= 4) frameBytes = 4 + Buffer.concat(chunks).readInt32BE(0);
          if (received >= frameBytes) resolve();
        });
        socket.once('error', reject);
        socket.once('close', () => reject(new Error(`connection closed after ${received} of ${frameBytes} response bytes`)));
        socket.resume();
      });
      socket.destroy();
      const reader = new Reader(Buffer.concat(chunks).subarray(4, frameBytes));
      decodeResponseHeader(reader, responseHeaderVersion(FetchApi.apiKey, FETCH_VERSION));
      return FetchApi.decodeResponse(reader, FETCH_VERSION) as FetchResponse;
    },
  };
}

/** Checks every partition of a stalled response; returns the whole batches it held. */
function checkStalledResponse(response: FetchResponse, produced: Map<number, Buffer>[]): number {
  let checked = 0;
  for (const partition of response.responses[0]!.partitions) {
    assert.equal(partition.errorCode, 0);
    checked += checkBatches(partition.records!, produced[partition.partitionIndex]!, `stalled response, partition ${partition.partitionIndex}`);
  }
  return checked;
}

describe('fetches from reused read buffers', () => {
  let broker: TestBroker;
  let dataDir: { path: string; remove(): Promise<void> };
  const topic = uniqueTopic('pooled');
  /** Per partition: base offset → the batch as produced (stamped fields zeroed). */
  const produced: Map<number, Buffer>[] = [];

  before(async () => {
    dataDir = await temporaryDirectory();
    broker = await startTestBroker({ storage: 'disk', dataDir: dataDir.path });
    await createTopic(broker.client, topic, PARTITIONS);
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      const batches = new Map<number, Buffer>();
      for (let index = 0; index < BATCHES_PER_PARTITION; index += 1) {
        // Random values: bytes of one batch showing up in another cannot go unnoticed.
        const batch = buildRecordBatchSync(Array.from({ length: RECORDS_PER_BATCH }, (_, record) => ({ key: Buffer.from(`${partition}-${index}-${record}`), value: randomBytes(1000) })));
        const baseOffset = await produceOk(broker.client, topic, partition, batch);
        batches.set(baseOffset, withoutStampedFields(batch));
      }
      produced.push(batches);
    }
  });

  after(async () => {
    await broker?.close();
    await dataDir?.remove();
  });

  it('a response waiting in the write queue keeps its bytes while other fetches reuse buffers', async () => {
    // The stalled client: one fetch of every partition from the start (1 MiB each), then no reads.
    const stalled = await stalledFetch(broker, topic, Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, fetchOffset: 0 })));

    // Meanwhile every partition is read three times over, from several offsets.
    let readByOthers = 0;
    for (let round = 0; round < 3; round += 1) {
      for (let partition = 0; partition < PARTITIONS; partition += 1) {
        let offset = 0;
        while (offset < BATCHES_PER_PARTITION * RECORDS_PER_BATCH) {
          const data = await fetchPartition(broker.client, topic, partition, offset, { partitionMaxBytes: 700 * 1024 });
          const decoded = [...decodeRecordBatchesSync(data.records!)];
          readByOthers += checkBatches(data.records!, produced[partition]!, `partition ${partition} at ${offset}`);
          const last = decoded.at(-1)!;
          offset = last.baseOffset + last.lastOffsetDelta + 1;
        }
      }
    }
    assert.ok(readByOthers >= 3 * PARTITIONS * BATCHES_PER_PARTITION);

    // Now the stalled client reads its response: every batch in it must still be the one produced.
    const inStalled = checkStalledResponse(await stalled.readResponse(), produced);
    assert.ok(inStalled >= PARTITIONS * 3, `${inStalled} whole batches in the stalled response`);
  });

  it('a response waiting in the write queue keeps its cached batches while new appends reuse tail-cache chunks', async () => {
    // Batches of about 20 KiB, three to a tail-cache chunk; the cache keeps about 1 MiB per partition.
    const cachedTopic = uniqueTopic('cached');
    await createTopic(broker.client, cachedTopic, PARTITIONS);
    const cachedProduced: Map<number, Buffer>[] = Array.from({ length: PARTITIONS }, () => new Map());
    const produceSmall = async (batchesPerPartition: number) => {
      for (let partition = 0; partition < PARTITIONS; partition += 1) {
        for (let index = 0; index < batchesPerPartition; index += 1) {
          const batch = buildRecordBatchSync(Array.from({ length: 20 }, () => ({ value: randomBytes(1000) })));
          cachedProduced[partition]!.set(await produceOk(broker.client, cachedTopic, partition, batch), withoutStampedFields(batch));
        }
      }
    };
    await produceSmall(60);
    const fetchFrom = Array.from({ length: PARTITIONS }, (_, partition) => {
      const cachedFrom = broker.running.broker.services.replicaManager.get(cachedTopic, partition)!.log.cachedFromOffset;
      assert.ok(cachedFrom !== undefined && cachedFrom > 0, `partition ${partition} has a tail cache that starts past the log start`);
      return { partition, fetchOffset: cachedFrom };
    });
    const stalled = await stalledFetch(broker, cachedTopic, fetchFrom);

    // Twice the cache's size of new batches per partition: every chunk the stalled response refers
    // to is evicted, and every unpinned chunk is reused for the new batches.
    await produceSmall(120);
    for (const { partition, fetchOffset } of fetchFrom) {
      const cachedFrom = broker.running.broker.services.replicaManager.get(cachedTopic, partition)!.log.cachedFromOffset!;
      assert.ok(cachedFrom > fetchOffset + 60 * 20, `partition ${partition}: the batches sent to the stalled client left the cache`);
    }

    const inStalled = checkStalledResponse(await stalled.readResponse(), cachedProduced);
    assert.ok(inStalled >= PARTITIONS * 30, `${inStalled} whole batches in the stalled response`);
  });
});
