// DescribeClientQuotas (key 48), versions 0-1: the client quotas (KIP-546) a filter matches, from
// this broker's metadata image. Each component names an entity type (user, client-id, ip) and how
// to match it: EXACT (0) a name, DEFAULT (1) the default entity, ANY (2) any name; `strict`
// leaves out entities with other types too. A bad filter (an entity type named twice or empty,
// ip with user or client-id, a match string where none belongs) is INVALID_REQUEST, an unknown
// entity type UNSUPPORTED_VERSION, with Kafka's message and no entries; see
// src/metadata/client-quotas.ts. Needs DESCRIBE_CONFIGS on the cluster, as Kafka's KafkaApis: else
// CLUSTER_AUTHORIZATION_FAILED with no message and no entries (Kafka's error response).
// Version notes: v1 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { describeClientQuotas } from '../../metadata/client-quotas.js';
import { DescribeClientQuotasApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const describeClientQuotasHandler = defineHandler({
  api: DescribeClientQuotasApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.DESCRIBE_CONFIGS)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null };
    }
    return { throttleTimeMs: 0, ...describeClientQuotas(broker.image, request.components, request.strict) };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, entries: null };
  },
});
