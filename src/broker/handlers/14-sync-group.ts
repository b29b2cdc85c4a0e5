// SyncGroup (key 14), versions 0-5.
// Members of a generation collect their assignment: the leader's request carries every member's
// assignment, which is written to `__consumer_offsets` before anyone is answered; followers wait
// (parked in the coordinator) until then. ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// REBALANCE_IN_PROGRESS and FENCED_INSTANCE_ID as Kafka.
// Version notes: v3+ group.instance.id; v5+ protocol type and name, checked against the group's
// (INCONSISTENT_GROUP_PROTOCOL) and echoed.
// Authorizes READ on the group, as Kafka's KafkaApis: else GROUP_AUTHORIZATION_FAILED.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { SyncGroupApi } from '../../protocol/messages/index.js';
import { waitingRemotely } from '../metrics/broker-metrics.js';
import { defineHandler } from './handler.js';

const EMPTY = Buffer.alloc(0);

export const syncGroupHandler = defineHandler({
  api: SyncGroupApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker, connection, timer }) {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return syncError(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    // Waiting for the rest of the rebalance is remote time, as Kafka counts a response completed by a callback.
    const outcome = await waitingRemotely(timer, broker.groupCoordinator.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      protocolType: request.protocolType ?? null,
      protocolName: request.protocolName ?? null,
      // Copied: the group keeps assignments beyond this request's buffer.
      assignments: request.assignments.map(({ memberId, assignment }) => ({ memberId, assignment: Buffer.from(assignment) })),
    }));
    return { throttleTimeMs: 0, ...outcome };
  },
  errorResponse(_request, errorCode) {
    return syncError(errorCode);
  },
});

function syncError(errorCode: number) {
  return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}
