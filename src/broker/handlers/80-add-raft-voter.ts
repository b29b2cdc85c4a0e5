// AddRaftVoter (key 80), version 0.
// Adds a voter to the metadata quorum (KIP-853). Only the quorum leader can, so a node of a
// cluster that is not the active controller forwards the request to it (an Envelope), as Kafka's
// brokers do; the leader then decides exactly as on its controller listener (the same
// `changeVoters` path): INVALID_REQUEST for a voter without a directory id (the zero uuid) or with
// a negative id, DUPLICATE_VOTER, REQUEST_TIMED_OUT while the new voter has not caught up as
// an observer or an earlier change has not committed, INCONSISTENT_CLUSTER_ID, and
// NOT_LEADER_OR_FOLLOWER if leadership moved meanwhile. Answered once the change has committed.
// Needs ALTER on the cluster, as Kafka's ControllerApis (checked where the request is handled, with
// the client's principal): else CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.", and
// the quorum is not touched; the controller listener checks the same on its own path.
// Version notes: v0 only (flexible); Kafka 4.2 adds v1 (KIP-1186), not served.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { AddRaftVoterApi } from '../../protocol/messages/index.js';
import { changeVoters } from '../controller-listener.js';
import { defineHandler } from './handler.js';

export const addRaftVoterHandler = defineHandler({
  api: AddRaftVoterApi,
  minVersion: 0,
  maxVersion: 0,
  forwardToController: true,
  handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.ALTER)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
    }
    return changeVoters(broker.quorum, AddRaftVoterApi.apiKey, request);
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null };
  },
});
