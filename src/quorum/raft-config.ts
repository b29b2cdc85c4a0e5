// The settings of one Raft node, with Kafka's defaults for the controller.quorum.* keys.
import { type VoterEndpoint, ZERO_UUID } from './voter-set.js';

export interface RaftConfig {
  readonly nodeId: number;
  /**
   * The directory.id of the metadata log's directory (KIP-853): with the node id, this replica's key.
   * The zero uuid when the directory has none.
   */
  readonly directoryId: string;
  /** The voter ids (controller.quorum.voters); a node not among them is an observer. */
  readonly voters: readonly number[];
  readonly clusterId: string;
  /** controller.quorum.election.timeout.ms: the base of the randomized election timeout. */
  readonly electionTimeoutMs: number;
  /** controller.quorum.fetch.timeout.ms: a follower without a successful fetch this long starts an election. */
  readonly fetchTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms: the most a lost election waits before the next. */
  readonly electionBackoffMaxMs: number;
  /** controller.quorum.request.timeout.ms: the deadline of each request to another node. */
  readonly requestTimeoutMs: number;
  /** controller.quorum.retry.backoff.ms: the wait before re-sending a failed request. */
  readonly retryBackoffMs: number;
  /** How long the leader holds a fetch that finds no new data. */
  readonly fetchMaxWaitMs: number;
  /** The most bytes one fetch response carries. */
  readonly fetchMaxBytes: number;
  /** The most bytes one FetchSnapshot response carries. */
  readonly fetchSnapshotMaxBytes: number;
  /** The most records one leader batch carries (an append needing more is refused). */
  readonly maxBatchRecords: number;
  /** The most bytes one leader batch carries, about (Kafka's KRaft: 8 MiB). */
  readonly maxBatchBytes: number;
  /** Appends waiting to commit on the leader, at most (more are refused). */
  readonly maxPendingAppends: number;
  /**
   * The transport ids of controller.quorum.bootstrap.servers (Kafka numbers them -2, -3, ...): where
   * a node that knows no voter asks for the leader.
   */
  readonly bootstrapIds: readonly number[];
  /** This node's controller listener endpoints, which it names as leader (Fetch's NodeEndpoints). */
  readonly selfEndpoints: readonly VoterEndpoint[];
  /** The static voters' endpoints (controller.quorum.voters), written into the first VotersRecord. */
  readonly staticEndpoints: ReadonlyMap<number, readonly VoterEndpoint[]>;
}

export const RAFT_CONFIG_DEFAULTS = {
  directoryId: ZERO_UUID as string,
  electionTimeoutMs: 1000,
  fetchTimeoutMs: 2000,
  electionBackoffMaxMs: 1000,
  requestTimeoutMs: 2000,
  retryBackoffMs: 20,
  fetchMaxWaitMs: 500,
  fetchMaxBytes: 8 * 1024 * 1024,
  fetchSnapshotMaxBytes: 8 * 1024 * 1024,
  maxBatchRecords: 100_000,
  maxBatchBytes: 8 * 1024 * 1024,
  maxPendingAppends: 10_000,
  bootstrapIds: [] as readonly number[],
  selfEndpoints: [] as readonly VoterEndpoint[],
  staticEndpoints: new Map<number, readonly VoterEndpoint[]>() as ReadonlyMap<number, readonly VoterEndpoint[]>,
} as const;

/** The settings with Kafka's defaults; a directory id left out or undefined (a directory without one) is the zero uuid. */
export function raftConfig(settings: Pick<RaftConfig, 'nodeId' | 'voters' | 'clusterId'> & Partial<Omit<RaftConfig, 'directoryId'>> & { directoryId?: string | undefined }): RaftConfig {
  return { ...RAFT_CONFIG_DEFAULTS, ...settings, directoryId: settings.directoryId ?? ZERO_UUID };
}
