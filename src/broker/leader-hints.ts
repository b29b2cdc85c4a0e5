// KIP-951: a partition answered NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carries the leader
// and leader epoch this broker's image knows (Produce v10+, Fetch v12+), and the response lists
// where those leaders listen (on the listener the client used), so a client re-routes at once
// instead of refreshing its metadata first.
import { ErrorCode } from '../base/error-codes.js';
import { advertisedBrokers } from './advertised-brokers.js';
import type { BrokerServices } from './broker-services.js';

export interface LeaderHint {
  leaderId: number;
  leaderEpoch: number;
}

export interface NodeEndpointHint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Whether a partition error code is one KIP-951 adds the current leader to. */
export function wantsLeaderHint(errorCode: number): boolean {
  return errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || errorCode === ErrorCode.FENCED_LEADER_EPOCH;
}

/** The leader of `topic`-`partitionIndex` as this broker's image knows it ({-1, -1} when unknown). */
export function leaderHint(broker: BrokerServices, topic: string, partitionIndex: number): LeaderHint {
  const partition = broker.image.topic(topic)?.partitions.get(partitionIndex);
  return partition ? { leaderId: partition.leader, leaderEpoch: partition.leaderEpoch } : { leaderId: -1, leaderEpoch: -1 };
}

/** Where the brokers `nodeIds` listen on `listenerName` (unknown or fenced ones are left out). */
export function nodeEndpointHints(broker: BrokerServices, listenerName: string, nodeIds: ReadonlySet<number>): NodeEndpointHint[] {
  if (nodeIds.size === 0) return [];
  return advertisedBrokers(broker.image, listenerName)
    .filter((advertised) => nodeIds.has(advertised.nodeId))
    .map(({ nodeId, host, port, rack }) => ({ nodeId, host, port, rack }));
}
