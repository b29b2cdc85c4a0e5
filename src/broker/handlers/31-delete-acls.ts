// DeleteAcls (key 31), versions 1-3 (v0 removed in Kafka 4.0, KIP-896): removes every ACL each
// filter matches, decided by the active controller (forwarded there) and committed as
// RemoveAccessControlEntryRecords; each filter's result lists the ACLs it matched. Needs ALTER on
// the cluster (else every filter gets CLUSTER_AUTHORIZATION_FAILED); without an authorizer,
// SECURITY_DISABLED. A filter with an UNKNOWN code gets INVALID_DeleteAclsRequestUEST (Kafka's messages).
// Version notes: v1 adds the pattern type filter; v2 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation, aclFilterOf } from '../../metadata/acl.js';
import { DeleteAclsApi, type DeleteAclsRequest, type DeleteAclsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const deleteAclsHandler = defineHandler({
  api: DeleteAclsApi,
  minVersion: 1,
  maxVersion: 3,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.enabled) return refusedFilters(request, ErrorCode.SECURITY_DISABLED);
    if (!broker.authorization.cluster(connection, AclOperation.ALTER)) {
      return refusedFilters(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    const results = await broker.controller.deleteAcls(request.filters.map(aclFilterOf));
    return {
      throttleTimeMs: 0,
      filterResults: results.map(({ errorCode, errorMessage, matching }) => ({
        errorCode,
        errorMessage,
        matchingAcls: matching.map(({ id: _id, ...acl }) => ({ errorCode: ErrorCode.NONE, errorMessage: null, ...acl })),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return refusedFilters(request, errorCode);
  },
});

function refusedFilters(request: DeleteAclsRequest, errorCode: number): DeleteAclsResponse {
  const errorMessage = errorCode === ErrorCode.SECURITY_DISABLED ? 'No Authorizer is configured.' : null;
  return { throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) };
}
