// DescribeUserScramCredentials (key 50), version 0 (flexible): the SCRAM credentials users have,
// from this broker's metadata image, as mechanism and iteration count (never a salt or a key).
// No users (null or empty) lists every user with a credential; a named user without one gets
// RESOURCE_NOT_FOUND and a user named twice DUPLICATE_RESOURCE, each in its own result, as Kafka
// answers. See src/metadata/scram-credentials.ts.
// Needs DESCRIBE on the cluster, as Kafka's KafkaApis: else CLUSTER_AUTHORIZATION_FAILED ("Cluster
// authorization failed.") at the top and in one result per user named, whose user name Kafka's
// error response leaves empty.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { describeScramCredentials } from '../../metadata/scram-credentials.js';
import { DescribeUserScramCredentialsApi, type DescribeUserScramCredentialsRequest, type DescribeUserScramCredentialsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const describeUserScramCredentialsHandler = defineHandler({
  api: DescribeUserScramCredentialsApi,
  minVersion: 0,
  maxVersion: 0,
  handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.DESCRIBE)) return errorBody(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    const results = describeScramCredentials(broker.image, request.users?.map(({ name }) => name) ?? null);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, results: [] };
  },
});

/** Kafka's error response (DescribeUserScramCredentialsRequest.getErrorResponse): a result per user named, without its name. */
function errorBody(request: DescribeUserScramCredentialsRequest, errorCode: number, errorMessage: string): DescribeUserScramCredentialsResponse {
  return { throttleTimeMs: 0, errorCode, errorMessage, results: (request.users ?? []).map(() => ({ user: '', errorCode, errorMessage, credentialInfos: [] })) };
}
