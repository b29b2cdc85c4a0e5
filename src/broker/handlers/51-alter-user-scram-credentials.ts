// AlterUserScramCredentials (key 51), version 0 (flexible): adds, replaces and deletes users'
// SCRAM credentials (KIP-554), decided by the active controller (forwarded there) and committed as
// UserScramCredentialRecord / RemoveUserScramCredentialRecord. The client sends a salt and the
// salted password; the record keeps only the stored and server keys derived from them. Each user
// is one result; see src/metadata/scram-credentials.ts for the checks and their error codes.
// Needs ALTER on the cluster, as Kafka's ControllerApis: else every user named answers
// CLUSTER_AUTHORIZATION_FAILED, once each, sorted (Kafka's error response), and nothing changes.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { AlterUserScramCredentialsApi, type AlterUserScramCredentialsRequest, type AlterUserScramCredentialsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const alterUserScramCredentialsHandler = defineHandler({
  api: AlterUserScramCredentialsApi,
  minVersion: 0,
  maxVersion: 0,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.ALTER)) return errorBody(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const results = await broker.controller.alterUserScramCredentials(request.deletions, request.upsertions);
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return errorBody(request, errorCode);
  },
});

function errorBody(request: AlterUserScramCredentialsRequest, errorCode: number): AlterUserScramCredentialsResponse {
  const users = new Set([...request.deletions, ...request.upsertions].map(({ name }) => name));
  return { throttleTimeMs: 0, results: [...users].sort().map((user) => ({ user, errorCode, errorMessage: null })) };
}
