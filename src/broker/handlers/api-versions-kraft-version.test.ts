// ApiVersions advertises the kraft.version feature as Kafka 3.9+ does (KIP-853): supported 0-1,
// finalized 1 for a quorum whose voters the metadata log records (dynamic), 0 for static voters.
// The answer goes through the v3 and v4 codecs (features are tagged fields) and back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiVersionsApi, type ApiVersionsResponse } from '../../protocol/messages/index.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import { apiVersionsHandler } from './18-api-versions.js';
import type { RequestContext } from './handler.js';

function answer(kraftVersion: number, highWatermark: number, version: number): ApiVersionsResponse {
  const context = { broker: { supportedApis: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], quorum: { raft: { kraftVersion, highWatermark } } } } as unknown as RequestContext;
  const response = apiVersionsHandler.handle({ clientSoftwareName: 'test', clientSoftwareVersion: '1' }, context) as ApiVersionsResponse;
  const writer = new Writer();
  ApiVersionsApi.encodeResponse(writer, version, response);
  return ApiVersionsApi.decodeResponse(new Reader(writer.toBuffer()), version);
}

describe('ApiVersions kraft.version feature', () => {
  for (const version of [3, 4]) {
    it(`v${version}: supported 0-1; finalized 1 for a dynamic quorum, 0 for static voters`, () => {
      const dynamic = answer(1, 12, version);
      assert.deepEqual(dynamic.supportedFeatures, [{ name: 'kraft.version', minVersion: 0, maxVersion: 1 }]);
      assert.deepEqual(dynamic.finalizedFeatures, [{ name: 'kraft.version', minVersionLevel: 1, maxVersionLevel: 1 }]);
      assert.equal(dynamic.finalizedFeaturesEpoch, 11n);
      const staticVoters = answer(0, 3, version);
      assert.deepEqual(staticVoters.supportedFeatures, [{ name: 'kraft.version', minVersion: 0, maxVersion: 1 }]);
      assert.deepEqual(staticVoters.finalizedFeatures, [{ name: 'kraft.version', minVersionLevel: 0, maxVersionLevel: 0 }]);
    });
  }
});
