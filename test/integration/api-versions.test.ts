// ApiVersions over TCP: every version the broker claims is answered, a too-high version gets the
// KIP-511 v0 answer, and the advertised ranges cover what real clients need (PROTOCOL-NOTES 1.3).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ApiKey, ApiVersionsApi, type ApiVersionsResponse } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { type TestBroker, startTestBroker } from './helpers.js';

function range(response: ApiVersionsResponse, apiKey: number): { minVersion: number; maxVersion: number } | undefined {
  return response.apiKeys.find((entry) => entry.apiKey === apiKey);
}

function assertContains(response: ApiVersionsResponse, apiKey: number, versions: number[]): void {
  const entry = range(response, apiKey);
  assert.ok(entry, `api key ${apiKey} is advertised`);
  for (const version of versions) {
    assert.ok(entry.minVersion <= version && version <= entry.maxVersion, `api key ${apiKey} range ${entry.minVersion}-${entry.maxVersion} contains v${version}`);
  }
}

describe('ApiVersions', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  for (const version of [0, 1, 2, 3, 4]) {
    it(`answers v${version} with no error and lists itself`, async () => {
      const response = await broker.client.request(ApiVersionsApi, version, { clientSoftwareName: 'conveyor-test', clientSoftwareVersion: '1.0.0' });
      assert.equal(response.errorCode, ErrorCode.NONE);
      const own = range(response, ApiKey.ApiVersions);
      assert.deepEqual(own && { min: own.minVersion, max: own.maxVersion }, { min: 0, max: 4 });
      const keys = response.apiKeys.map((entry) => entry.apiKey);
      assert.deepEqual(keys, [...keys].sort((a, b) => a - b), 'api keys are sorted');
      assert.equal(new Set(keys).size, keys.length, 'no api key is listed twice');
    });
  }

  it('answers v99 in v0 format with UNSUPPORTED_VERSION and only its own entry', async () => {
    const client = broker.client;
    const correlationId = client.takeCorrelationId();
    const writer = new Writer();
    writer.writeInt32(0);
    writer.writeInt16(ApiKey.ApiVersions);
    writer.writeInt16(99);
    writer.writeInt32(correlationId);
    writer.writeNullableString('future-client');
    writer.writeEmptyTaggedFields();
    // A v3-shaped body: compact strings and a tag buffer, which a v0 reader must not care about.
    writer.writeCompactString('future-client');
    writer.writeCompactString('9.9.9');
    writer.writeEmptyTaggedFields();
    const frame = writer.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    const response = client.expectResponse(correlationId, (reader: Reader) => ApiVersionsApi.decodeResponse(reader, 0), 0);
    client.sendRaw(frame);
    const body = await response;
    assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(body.apiKeys, [{ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 4 }]);
    assert.equal(client.isClosed, false, 'the connection stays open after the v0 answer');
    const again = await client.request(ApiVersionsApi, 3, { clientSoftwareName: 'future-client', clientSoftwareVersion: '1' });
    assert.equal(again.errorCode, ErrorCode.NONE);
  });

  it('advertises the ranges real clients need', async () => {
    const response = await broker.client.request(ApiVersionsApi, 3, { clientSoftwareName: 'conveyor-test', clientSoftwareVersion: '1.0.0' });
    assertContains(response, ApiKey.ApiVersions, [0, 1, 2, 3]);
    assertContains(response, ApiKey.Produce, [3, 7, 11]);
    assertContains(response, ApiKey.Fetch, [4, 11, 12, 17]);
    assertContains(response, ApiKey.Metadata, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assertContains(response, ApiKey.ListOffsets, [1, 2]);
    assertContains(response, ApiKey.CreateTopics, [3, 4, 7]);
    assertContains(response, ApiKey.DeleteTopics, [1, 3, 6]);
    assertContains(response, ApiKey.CreatePartitions, [0, 1, 3]);
    assertContains(response, ApiKey.DescribeCluster, [1]);
    // Group, coordinator and producer-id APIs are not required yet; once advertised, librdkafka
    // 2.0.2 only enables its features if the range starts at v0 (PROTOCOL-NOTES 3.4).
    for (const apiKey of [ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup, ApiKey.InitProducerId]) {
      const entry = range(response, apiKey);
      if (entry) assert.equal(entry.minVersion, 0, `api key ${apiKey} is advertised from v0`);
    }
    const offsetForLeaderEpoch = range(response, ApiKey.OffsetForLeaderEpoch);
    if (offsetForLeaderEpoch) assert.ok(offsetForLeaderEpoch.maxVersion >= 3, 'OffsetForLeaderEpoch is left out or served at v3+');
  });
});
