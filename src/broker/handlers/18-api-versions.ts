// ApiVersions (key 18), versions 0-4.
// Lists every API and version range this broker serves, derived from the handler registry.
// Version notes: clients send it first with any version; a version above 4 is answered by the
// dispatcher in v0 with UNSUPPORTED_VERSION (KIP-511). The response header is always v0.
// One feature is advertised, as Kafka 3.9+ does: kraft.version (KIP-853), supported 0-1, finalized
// at 1 when the metadata quorum's voters are recorded in its log (controller.quorum.bootstrap.servers,
// or a static quorum after its first voter change), else 0 (static controller.quorum.voters).
// transaction.version is not advertised, so Java 4 clients stay on transactions v1.
import { ErrorCode } from '../../base/error-codes.js';
import { KRAFT_VERSION } from '../../quorum/voter-set.js';
import { ApiVersionsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const apiVersionsHandler = defineHandler({
  api: ApiVersionsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(_request, context) {
    const raft = context.broker.quorum.raft;
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: context.broker.supportedApis.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
      throttleTimeMs: 0,
      ...quorumFeatures(raft),
    };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, apiKeys: [], throttleTimeMs: 0 };
  },
});

/**
 * ApiVersions v3+ (tagged fields): the features this node supports and the cluster's finalized
 * levels, the epoch being the metadata offset they were read at (Kafka's image offset). Broker and
 * controller listeners answer alike.
 */
export function quorumFeatures(raft: { readonly kraftVersion: number; readonly highWatermark: number }) {
  const level = raft.kraftVersion;
  return {
    supportedFeatures: [{ name: 'kraft.version', minVersion: 0, maxVersion: KRAFT_VERSION }],
    finalizedFeaturesEpoch: BigInt(Math.max(raft.highWatermark - 1, -1)),
    finalizedFeatures: [{ name: 'kraft.version', minVersionLevel: level, maxVersionLevel: level }],
  };
}
