// ShareAcknowledge (key 79), versions 1-2: a share group member acknowledges records it acquired
// from partitions this broker leads, without fetching (KIP-932): accept, release (redelivered
// later), reject (never delivered again), gap (no record at that offset), and from v2 with
// IsRenewAck, renew (the acquisition lock starts over). It continues the member's share session
// (epoch N > 0) or closes it (-1: the acknowledgements are applied, then whatever the member still
// holds is released); epoch 0 is INVALID_SHARE_SESSION_EPOCH, as a session is opened by ShareFetch.
// Version notes: v0 was removed in Kafka 4.1 and is not served; v2 adds IsRenewAck and
// AcquisitionLockTimeoutMs. Per partition: INVALID_RECORD_STATE (an offset the member does not
// hold), INVALID_REQUEST (malformed batches), UNKNOWN_TOPIC_ID, NOT_LEADER_OR_FOLLOWER with the
// leader, TOPIC_AUTHORIZATION_FAILED.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ShareAcknowledgeApi, type ShareAcknowledgeResponse } from '../../protocol/messages/index.js';
import { applyAcknowledgements, byTopic, currentLeader, leaderEndpoints, partitionAcknowledgements, shareRequestProblem, shareSession } from '../share/share-requests.js';
import { SHARE_SESSION_CLOSE, SHARE_SESSION_OPEN, sessionPartitionKey } from '../share/share-sessions.js';
import { defineHandler } from './handler.js';

export const shareAcknowledgeHandler = defineHandler({
  api: ShareAcknowledgeApi,
  minVersion: 1,
  maxVersion: 2,
  async handle(request, { broker, apiVersion, connection }): Promise<ShareAcknowledgeResponse> {
    const problem = shareRequestProblem(request.groupId, request.memberId);
    if (problem !== undefined) return failure(ErrorCode.INVALID_REQUEST, problem);
    const groupId = request.groupId!;
    const memberId = request.memberId!;
    if (!broker.authorization.group(connection, AclOperation.READ, groupId)) return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const epoch = request.shareSessionEpoch;
    if (epoch === SHARE_SESSION_OPEN) return failure(ErrorCode.INVALID_SHARE_SESSION_EPOCH, 'ShareAcknowledge cannot open a share session');
    const session = shareSession(broker, groupId, memberId, epoch, connection);
    if (typeof session === 'number') return failure(session);
    const acknowledgements = request.topics.flatMap((topic) => topic.partitions.map((partition) => partitionAcknowledgements(topic.topicId, partition.partitionIndex, partition.acknowledgementBatches)));
    const allowRenew = apiVersion >= 2 && request.isRenewAck === true;
    const results = await applyAcknowledgements(broker, connection, groupId, memberId, acknowledgements, allowRenew);
    if (epoch === SHARE_SESSION_CLOSE) broker.sharePartitions.releaseSession(session);
    const leaders: { leaderId: number }[] = [];
    const responses = byTopic(acknowledgements, ({ topicId, partition }) => {
      const errorCode = results.get(sessionPartitionKey(topicId, partition)) ?? ErrorCode.NONE;
      const leader = currentLeader(broker, topicId, partition, errorCode);
      leaders.push(leader);
      return { partitionIndex: partition, errorCode, errorMessage: null, currentLeader: leader };
    });
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      acquisitionLockTimeoutMs: broker.sharePartitions.settings(groupId).recordLockDurationMs,
      responses,
      nodeEndpoints: leaderEndpoints(broker, connection.listenerName, leaders),
    };
  },
  errorResponse(_request, errorCode) {
    return failure(errorCode);
  },
});

function failure(errorCode: number, errorMessage: string | null = null): ShareAcknowledgeResponse {
  return { throttleTimeMs: 0, errorCode, errorMessage, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] };
}
