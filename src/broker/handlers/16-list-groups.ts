// ListGroups (key 16), versions 0-5.
// The groups this broker coordinates with their protocol type (and state, v4+).
// Version notes: v4+ StatesFilter (case-insensitive, empty means all) and GroupState; v5+
// TypesFilter (case-insensitive) and GroupType: "classic", or "consumer" for KIP-848 groups.
// Authorizes as Kafka's KafkaApis: DESCRIBE on the cluster lists every group; without it only the
// groups the principal may DESCRIBE are listed (both checked without logging a denial).
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import { ListGroupsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const listGroupsHandler = defineHandler({
  api: ListGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  handle(request, { broker, connection }) {
    const listed = broker.groupCoordinator.listGroups(request.statesFilter ?? [], request.typesFilter ?? []);
    const { authorization } = broker;
    const describesCluster = authorization.authorize(connection, AclOperation.DESCRIBE, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, false);
    const visible = describesCluster ? listed.groups : listed.groups.filter((group) => authorization.group(connection, AclOperation.DESCRIBE, group.groupId, false));
    return {
      throttleTimeMs: 0,
      errorCode: listed.errorCode,
      groups: visible.map((group) => ({ groupId: group.groupId, protocolType: group.protocolType, groupState: group.state, groupType: group.type })),
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, groups: [] };
  },
});
