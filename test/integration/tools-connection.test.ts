// The tools' connection (`src/client/kafka-connection.ts`) against a real broker: a fetch response
// of many megabytes arrives in many socket reads and must come back whole, and pipelined requests
// must each get their own response.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { ApiVersionsApi, FetchApi } from '../../src/protocol/messages/index.js';
import { batchOf, createTopic, fetchRequest, produceOk, startTestBroker, uniqueTopic } from './helpers.js';

describe('tools connection', () => {
  it('reassembles a multi-megabyte fetch response and answers pipelined requests in order', async () => {
    const broker = await startTestBroker();
    const connection = await KafkaConnection.open(connectTcp, broker.running.bootstrapServers);
    try {
      const topic = uniqueTopic();
      await createTopic(broker.client, topic, 1);
      const batches: Buffer[] = [];
      for (let index = 0; index < 24; index++) {
        const batch = batchOf([Buffer.alloc(256 * 1024, index).toString('latin1')]);
        await produceOk(broker.client, topic, 0, batch);
        batches.push(batch);
      }
      const response = await connection.send(FetchApi, 12, fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }], { partitionMaxBytes: 64 * 1024 * 1024 }));
      const records = response.responses[0]!.partitions[0]!.records!;
      assert.ok(records.length > 6 * 1024 * 1024, `got ${records.length} bytes`);
      // Every stored batch is there, byte for byte apart from the offsets the broker assigned.
      let position = 0;
      for (const [index, batch] of batches.entries()) {
        const stored = records.subarray(position, position + batch.length);
        assert.equal(stored.length, batch.length, `batch ${index} length`);
        assert.ok(stored.subarray(61).equals(batch.subarray(61)), `batch ${index} records`);
        position += batch.length;
      }
      const versions = await Promise.all(Array.from({ length: 20 }, () => connection.send(ApiVersionsApi, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })));
      for (const answer of versions) assert.equal(answer.errorCode, 0);
    } finally {
      connection.close();
      await broker.close();
    }
  });
});
