// The generated API table: keys, version ranges and flexible versions as Kafka defines them,
// precise typing through apiDescriptor, and record batches written zero-copy through a codec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFetchResponse, type FetchResponse } from '../../src/protocol/messages/fetch.js';
import { ApiKey, apiDescriptor, apis, FetchApi, type FetchRequest } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer, ZERO_COPY_THRESHOLD_BYTES } from '../../src/protocol/primitives/writer.js';

describe('api table', () => {
  it('indexes every descriptor by its api key and name', () => {
    for (const [name, key] of Object.entries(ApiKey)) {
      const api = apis[key];
      assert.ok(api !== undefined, name);
      assert.equal(api.apiKey, key);
      assert.equal(api.name, name);
    }
    assert.equal(apis.filter((api) => api !== undefined).length, Object.keys(ApiKey).length);
    assert.equal(apiDescriptor(12345), undefined);
  });

  it('knows the flexible versions of the common APIs', () => {
    assert.equal(apiDescriptor(ApiKey.Produce).firstFlexibleVersion, 9);
    assert.equal(apiDescriptor(ApiKey.Fetch).firstFlexibleVersion, 12);
    assert.equal(apiDescriptor(ApiKey.Metadata).firstFlexibleVersion, 9);
    assert.equal(apiDescriptor(ApiKey.ApiVersions).firstFlexibleVersion, 3);
    assert.equal(apiDescriptor(ApiKey.ApiVersions).maxVersion, 4);
    assert.equal(apiDescriptor(ApiKey.SaslHandshake).firstFlexibleVersion, Infinity);
  });

  it('types descriptors by literal api key', () => {
    const fetch = apiDescriptor(ApiKey.Fetch);
    assert.equal(fetch, FetchApi);
    const writer = new Writer();
    const request: FetchRequest = { maxWaitMs: 500, minBytes: 1, topics: [] };
    fetch.encodeRequest(writer, 4, request);
    const decoded: FetchRequest = fetch.decodeRequest(new Reader(writer.toBuffer()), 4);
    assert.equal(decoded.maxWaitMs, 500);
    assert.equal(decoded.maxBytes, 0x7fffffff);
    assert.equal(decoded.replicaId, -1);
  });

  it('writes record batches given as chunks without copying them', () => {
    const batch = Buffer.alloc(ZERO_COPY_THRESHOLD_BYTES, 3);
    const response: FetchResponse<Buffer[]> = {
      responses: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 10n, records: [batch, batch] }] }],
    };
    const writer = new Writer();
    FetchApi.encodeResponse(writer, 16, response);
    const chunks = writer.finish();
    assert.equal(chunks.filter((chunk) => chunk === batch).length, 2);
    const decoded = decodeFetchResponse(new Reader(Buffer.concat(chunks)), 16);
    assert.deepEqual(decoded.responses[0]?.partitions[0]?.records, Buffer.concat([batch, batch]));
  });
});
