// DeleteGroups (key 42), versions 0-2.
// Deletes empty groups with their committed offsets (tombstones in `__consumer_offsets`);
// NON_EMPTY_GROUP while members are active, GROUP_ID_NOT_FOUND for unknown groups.
// Version notes: v2 flexible.
import { DeleteGroupsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const deleteGroupsHandler = defineHandler({
  api: DeleteGroupsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, { broker }) {
    const results = await broker.groupCoordinator.deleteGroups(request.groupsNames);
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) };
  },
});
