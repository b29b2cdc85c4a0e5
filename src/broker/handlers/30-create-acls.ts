// CreateAcls (key 30), versions 1-3 (v0 removed in Kafka 4.0, KIP-896): adds ACLs, decided by the
// active controller (forwarded there) and committed as AccessControlEntryRecords; an ACL identical
// to one present succeeds without a new record. Needs ALTER on the cluster (else every creation
// gets CLUSTER_AUTHORIZATION_FAILED); without an authorizer, SECURITY_DISABLED. Each creation is
// checked on its own (src/metadata/acl.ts: INVALID_CreateAclsRequestUEST with Kafka's messages).
// Version notes: v1 adds the resource pattern type; v2 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { CreateAclsApi, type CreateAclsRequest, type CreateAclsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const createAclsHandler = defineHandler({
  api: CreateAclsApi,
  minVersion: 1,
  maxVersion: 3,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.enabled) return refusedCreations(request, ErrorCode.SECURITY_DISABLED);
    if (!broker.authorization.cluster(connection, AclOperation.ALTER)) {
      return refusedCreations(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    const results = await broker.controller.createAcls(
      request.creations.map(({ resourceType, resourceName, resourcePatternType, principal, host, operation, permissionType }) => ({
        resourceType,
        resourceName,
        patternType: resourcePatternType ?? 3,
        principal,
        host,
        operation,
        permissionType,
      })),
    );
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return refusedCreations(request, errorCode);
  },
});

function refusedCreations(request: CreateAclsRequest, errorCode: number): CreateAclsResponse {
  const errorMessage = errorCode === ErrorCode.SECURITY_DISABLED ? 'No Authorizer is configured.' : null;
  return { throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage })) };
}
