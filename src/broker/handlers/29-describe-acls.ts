// DescribeAcls (key 29), versions 1-3 (v0 removed in Kafka 4.0, KIP-896): the ACLs a filter
// matches, from this broker's image, grouped by resource pattern. Needs DESCRIBE on the cluster
// (else CLUSTER_AUTHORIZATION_FAILED); without an authorizer, SECURITY_DISABLED as in Kafka. A
// filter with an UNKNOWN code is INVALID_REQUEST (Kafka fails to parse it).
// Version notes: v1 adds the pattern type filter (LITERAL, PREFIXED, ANY, MATCH); v2 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation, type AclBinding, aclFilterOf, filterProblem } from '../../metadata/acl.js';
import { DescribeAclsApi, type DescribeAclsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

function groupedByResource(acls: readonly AclBinding[]): DescribeAclsResponse['resources'] {
  const byResource = new Map<string, DescribeAclsResponse['resources'][number]>();
  for (const { resourceType, resourceName, patternType, principal, host, operation, permissionType } of acls) {
    const key = JSON.stringify([resourceType, resourceName, patternType]);
    let resource = byResource.get(key);
    if (!resource) {
      resource = { resourceType, resourceName, patternType, acls: [] };
      byResource.set(key, resource);
    }
    resource.acls.push({ principal, host, operation, permissionType });
  }
  return [...byResource.values()];
}

export const describeAclsHandler = defineHandler({
  api: DescribeAclsApi,
  minVersion: 1,
  maxVersion: 3,
  handle(request, { broker, connection }) {
    const authorizer = broker.authorization.authorizer;
    const answer = (errorCode: number, errorMessage: string | null, resources: DescribeAclsResponse['resources'] = []) => ({ throttleTimeMs: 0, errorCode, errorMessage, resources });
    if (authorizer === undefined) return answer(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!broker.authorization.cluster(connection, AclOperation.DESCRIBE)) {
      return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
    }
    const filter = aclFilterOf(request);
    const problem = filterProblem(filter);
    if (problem) return answer(problem.errorCode, problem.message);
    return answer(ErrorCode.NONE, null, groupedByResource(authorizer.findAcls(filter)));
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, resources: [] };
  },
});
