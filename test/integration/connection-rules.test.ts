// Connection-level rules over real TCP: which requests close a connection (unknown api keys,
// unsupported versions, garbage and oversized frames), and which are tolerated (trailing bytes);
// pipelined responses come back in request order, and acks=0 produce requests get no response.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ApiKey, ApiVersionsApi, FetchApi, MetadataApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { encodeHeaderOnlyFrame } from '../support/raw-client.js';
import { type TestBroker, batchOf, createTopic, fetchPartition, fetchRequest, readAll, startTestBroker, uniqueTopic, valuesOf } from './helpers.js';

describe('connection rules', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  async function assertServed(label: string): Promise<void> {
    const client = await broker.connect();
    const response = await client.request(ApiVersionsApi, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    assert.equal(response.errorCode, ErrorCode.NONE, `${label}: a fresh connection is still served`);
  }

  it('closes the connection on an unknown api key, and keeps serving a second connection', async () => {
    const doomed = await broker.connect();
    const bystander = await broker.connect();
    await bystander.request(ApiVersionsApi, 0, {});
    doomed.sendRaw(encodeHeaderOnlyFrame(9999, 0, doomed.takeCorrelationId()));
    await doomed.waitForClose(5_000);
    const response = await bystander.request(MetadataApi, 1, { topics: null });
    assert.ok(response.brokers.length >= 1, 'the second connection is still served');
  });

  it('closes the connection on an api key the broker knows but does not serve', async () => {
    const client = await broker.connect();
    const advertised = await client.request(ApiVersionsApi, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    const served = new Set(advertised.apiKeys.map((entry) => entry.apiKey));
    const notServed = Object.values(ApiKey).find((apiKey) => !served.has(apiKey));
    assert.ok(notServed !== undefined, 'some known api key is not served');
    client.sendRaw(encodeHeaderOnlyFrame(notServed, 0, client.takeCorrelationId(), Buffer.alloc(16)));
    await client.waitForClose(5_000);
    await assertServed(`after api key ${notServed}`);
  });

  it('closes the connection on an unsupported Metadata version (v13) and on Produce v2', async () => {
    const first = await broker.connect();
    first.sendRaw(encodeHeaderOnlyFrame(ApiKey.Metadata, 13, first.takeCorrelationId()));
    await first.waitForClose(5_000);
    const second = await broker.connect();
    second.sendRaw(encodeHeaderOnlyFrame(ApiKey.Produce, 2, second.takeCorrelationId()));
    await second.waitForClose(5_000);
    await assertServed('after unsupported versions');
  });

  it('closes the connection on a frame too short for a request header', async () => {
    const client = await broker.connect();
    client.sendRaw(Buffer.from([0, 0, 0, 3, 0xde, 0xad, 0xbe]));
    await client.waitForClose(5_000);
  });

  it('closes the connection on a malformed body (Metadata v1 claiming topics it does not carry)', async () => {
    const client = await broker.connect();
    // Header v1 then a topics array of 5 entries with no bytes behind it.
    client.sendRaw(encodeHeaderOnlyFrame(ApiKey.Metadata, 1, client.takeCorrelationId(), Buffer.from([0, 0, 0, 5])));
    await client.waitForClose(5_000);
    await assertServed('after a malformed body');
  });

  it('closes the connection on random garbage', async () => {
    const client = await broker.connect();
    const garbage = Buffer.alloc(64);
    for (let index = 0; index < garbage.length; index++) garbage[index] = (index * 73 + 11) & 0xff;
    garbage.writeInt32BE(60, 0);
    garbage.writeInt16BE(ApiKey.CreateTopics, 4);
    garbage.writeInt16BE(4, 6);
    client.sendRaw(garbage);
    await client.waitForClose(5_000);
  });

  it('closes the connection on an oversized or negative frame size without waiting for the bytes', async () => {
    const oversized = await broker.connect();
    oversized.sendRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 18, 0, 0]));
    await oversized.waitForClose(5_000);
    const aboveLimit = await broker.connect();
    const size = Buffer.alloc(4);
    size.writeInt32BE(104_857_600 + 1, 0);
    aboveLimit.sendRaw(size);
    await aboveLimit.waitForClose(5_000);
    const negative = await broker.connect();
    negative.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await negative.waitForClose(5_000);
    await assertServed('after oversized frames');
  });

  it('ignores trailing bytes after a request body', async () => {
    const client = await broker.connect();
    const first = await client.request(MetadataApi, 1, { topics: null }, { trailingBytes: Buffer.from([0]) });
    assert.ok(first.brokers.length >= 1);
    const flexible = await client.request(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { trailingBytes: Buffer.from([0, 1, 2, 3]) });
    assert.ok(flexible.brokers.length >= 1);
    const next = await client.request(ApiVersionsApi, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    assert.equal(next.errorCode, ErrorCode.NONE);
    assert.equal(client.isClosed, false);
  });

  it('answers pipelined requests in order even when the first is a long-polling fetch', async () => {
    const topic = uniqueTopic('pipeline');
    await createTopic(broker.client, topic);
    const client = await broker.connect();
    const startedAt = performance.now();
    const fetch = client.send(FetchApi, 12, fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 400, minBytes: 1 }));
    const meta = client.send(MetadataApi, 12, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const versions = client.send(ApiVersionsApi, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    const [fetched, described, listed] = await Promise.all([fetch.response, meta.response, versions.response]);
    assert.deepEqual(client.receivedOrder, [fetch.correlationId, meta.correlationId, versions.correlationId]);
    assert.equal(fetched.responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
    assert.equal(described.topics[0]?.errorCode, ErrorCode.NONE);
    assert.equal(listed.errorCode, ErrorCode.NONE);
    assert.ok(performance.now() - startedAt >= 300, 'the fetch did wait, so the later requests really were queued behind it');
  });

  it('sends no response to Produce with acks=0; the next response carries its own correlation id', async () => {
    const topic = uniqueTopic('acks0');
    await createTopic(broker.client, topic);
    const client = await broker.connect();
    const produced = client.send(
      ProduceApi,
      9,
      { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batchOf(['fire', 'forget']) }] }] },
      { expectResponse: false },
    );
    const meta = client.send(MetadataApi, 1, { topics: [{ name: topic }] });
    const described = await meta.response;
    assert.equal(described.topics[0]?.name, topic);
    assert.deepEqual(client.receivedOrder, [meta.correlationId]);
    assert.notEqual(produced.correlationId, meta.correlationId);
    assert.deepEqual(valuesOf(await readAll(client, topic, 0)), ['fire', 'forget']);
    const data = await fetchPartition(client, topic, 0, 0);
    assert.equal(data.highWatermark, 2n);
  });

  it('closes the connection when an acks=0 produce fails, since there is no response to carry the error', async () => {
    const client = await broker.connect();
    client.send(
      ProduceApi,
      9,
      { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: uniqueTopic('missing'), partitionData: [{ index: 0, records: batchOf(['lost']) }] }] },
      { expectResponse: false },
    );
    await client.waitForClose(5_000);
  });
});
