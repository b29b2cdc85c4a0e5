// JoinGroup (key 11), versions 0-9.
// Adds or re-admits a member to a classic group through the group coordinator; the response waits
// (a parked request completed by the coordinator's events) until the join phase of the rebalance
// ends, then carries the generation, chosen protocol, leader and, for the leader, every member's
// metadata. INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED,
// UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID as Kafka.
// Version notes: v0 has no rebalance timeout (the session timeout is used); v4+ a new dynamic
// member first gets MEMBER_ID_REQUIRED with its id (never below v4: kafka-python sends v2); v5+
// group.instance.id; v7+ protocol type in the response; v9 SkipAssignment.
// Authorizes READ on the group, as Kafka's KafkaApis: else GROUP_AUTHORIZATION_FAILED with no
// member id (Kafka's JoinGroupRequest.getErrorResponse).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { JoinGroupApi, type JoinGroupResponse } from '../../protocol/messages/index.js';
import { waitingRemotely } from '../metrics/broker-metrics.js';
import { defineHandler } from './handler.js';

export const joinGroupHandler = defineHandler({
  api: JoinGroupApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, { broker, apiVersion, clientId, connection, timer }) {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return joinError(ErrorCode.GROUP_AUTHORIZATION_FAILED, '', apiVersion);
    // Waiting for the rest of the rebalance is remote time, as Kafka counts a response completed by a callback.
    const outcome = await waitingRemotely(timer, broker.groupCoordinator.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      requireKnownMemberId: apiVersion >= 4,
      clientId: clientId ?? '',
      clientHost: `/${connection.remoteAddress}`,
      rebalanceTimeoutMs: apiVersion >= 1 && request.rebalanceTimeoutMs !== undefined ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocolType: request.protocolType,
      // The request is a view of the socket's buffer; the group keeps the metadata, so copy it.
      protocols: request.protocols.map(({ name, metadata }) => ({ name, metadata: Buffer.from(metadata) })),
    }));
    return {
      throttleTimeMs: 0,
      errorCode: outcome.errorCode,
      generationId: outcome.generationId,
      protocolType: outcome.protocolType,
      // Nullable only from v7; older versions send an empty name with errors.
      protocolName: apiVersion >= 7 ? outcome.protocolName : (outcome.protocolName ?? ''),
      leader: outcome.leaderId,
      skipAssignment: outcome.skipAssignment,
      memberId: outcome.memberId,
      members: outcome.members,
    };
  },
  errorResponse(request, errorCode, { apiVersion }) {
    return joinError(errorCode, request.memberId, apiVersion);
  },
});

function joinError(errorCode: number, memberId: string, apiVersion: number): JoinGroupResponse {
  return { throttleTimeMs: 0, errorCode, generationId: -1, protocolType: null, protocolName: apiVersion >= 7 ? null : '', leader: '', skipAssignment: false, memberId, members: [] };
}
