// Compressed batches are validated off the event loop (a batch may decompress to hundreds of MiB),
// yet every partition's appends still start in the order their requests arrived: an idempotent
// producer pipelining a large compressed batch and then a small uncompressed one must see them at
// consecutive offsets, never OUT_OF_ORDER_SEQUENCE_NUMBER; and a connection asking ApiVersions
// meanwhile is answered while the large batch decompresses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ApiVersionsApi, InitProducerIdApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { type TestBroker, createTopic, startTestBroker, uniqueTopic } from './helpers.js';

const MiB = 1024 * 1024;

describe('appends keep arrival order when a compressed batch is validated off the event loop', () => {
  let broker: TestBroker;
  const topic = uniqueTopic('order');
  before(async () => {
    broker = await startTestBroker();
    await createTopic(broker.client, topic, 1);
  });
  after(async () => {
    await broker.close();
  });

  const produceRequest = (records: Buffer, acks = 1) => ({ transactionalId: null, acks, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });

  it('a pipelined idempotent producer: gzip batch (64 MiB decompressed), then uncompressed batches, land in order', async () => {
    const init = await broker.client.request(InitProducerIdApi, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    assert.equal(init.errorCode, ErrorCode.NONE);
    const producer = { producerId: Number(init.producerId), producerEpoch: init.producerEpoch };
    const large = buildRecordBatchSync(
      Array.from({ length: 64 }, (_, index) => ({ key: Buffer.from(`big-${index}`), value: Buffer.alloc(MiB) })),
      { ...producer, baseSequence: 0, compression: CompressionType.gzip },
    );
    const small = (baseSequence: number) => buildRecordBatchSync([{ key: Buffer.from(`small-${baseSequence}`), value: Buffer.from('v') }], { ...producer, baseSequence });
    const sent = [
      broker.client.send(ProduceApi, 9, produceRequest(large)),
      broker.client.send(ProduceApi, 9, produceRequest(small(64))),
      broker.client.send(ProduceApi, 9, produceRequest(small(65))),
    ];
    // Another connection is answered while the large batch may still be decompressing.
    const other = await broker.connect();
    const versions = await other.request(ApiVersionsApi, 3, { clientSoftwareName: 'order-test', clientSoftwareVersion: '1' });
    assert.equal(versions.errorCode, ErrorCode.NONE);
    const results = await Promise.all(sent.map(async ({ response }) => (await response).responses[0]!.partitionResponses[0]!));
    assert.deepEqual(
      results.map(({ errorCode, baseOffset }) => ({ errorCode, baseOffset: Number(baseOffset) })),
      [
        { errorCode: ErrorCode.NONE, baseOffset: 0 },
        { errorCode: ErrorCode.NONE, baseOffset: 64 },
        { errorCode: ErrorCode.NONE, baseOffset: 65 },
      ],
    );
  });

  it('a corrupt compressed batch sent with acks=0 still closes the connection', async () => {
    const batch = buildRecordBatchSync([{ key: Buffer.from('k'), value: Buffer.alloc(4096, 7) }], { compression: CompressionType.gzip });
    // Damage the gzip stream after the header and fix nothing else: the CRC check would catch a
    // change the CRC covers, so rebuild the CRC over the damaged bytes to reach decompression.
    const damaged = Buffer.from(batch);
    damaged.fill(0xff, 61 + 10, 61 + 30);
    const { crc32c } = await import('../../src/base/crc32c.js');
    damaged.writeUInt32BE(crc32c(damaged.subarray(21)), 17);
    const client = await broker.connect();
    client.send(ProduceApi, 9, produceRequest(damaged, 0), { expectResponse: false });
    await client.waitForClose(10_000);
  });
});
