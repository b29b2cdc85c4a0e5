// DeleteGroups (key 42), versions 0-2.
// Deletes empty groups with their committed offsets (tombstones in `__consumer_offsets`);
// NON_EMPTY_GROUP while members are active, GROUP_ID_NOT_FOUND for unknown groups.
// Authorizes DELETE on each group, as Kafka's KafkaApis: the refused ones answer
// GROUP_AUTHORIZATION_FAILED after the others' results, as Kafka lists them.
// Version notes: v2 flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DeleteGroupsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const deleteGroupsHandler = defineHandler({
  api: DeleteGroupsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, { broker, connection }) {
    const allowed = request.groupsNames.filter((groupId) => broker.authorization.group(connection, AclOperation.DELETE, groupId));
    const refused = request.groupsNames.filter((groupId) => !allowed.includes(groupId));
    const results = await broker.groupCoordinator.deleteGroups(allowed);
    return { throttleTimeMs: 0, results: [...results, ...refused.map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }))] };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) };
  },
});
