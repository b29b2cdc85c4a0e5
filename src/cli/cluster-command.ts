// `conveyor cluster describe`: the cluster id, the controller, every broker with its endpoint, and
// the metadata quorum as Kafka's `kafka-metadata-quorum.sh describe --status` and `--replication`
// show it: the leader, its epoch, the high watermark, the largest follower lag, the voters and
// observers, and per replica its log end offset, lag and last fetch and caught-up times.
//
// Brokers come from DescribeCluster v2 with IncludeFencedBrokers (KIP-1073), so fenced brokers are
// listed too, marked; from Metadata (unfenced ones only) when the broker does not serve v2.
import type { Command } from 'commander';
import { ErrorCode } from '../base/error-codes.js';
import { type ClusterClient, KafkaResponseError, ToolError } from '../client/cluster-client.js';
import { DescribeClusterApi, DescribeQuorumApi, type DescribeQuorumResponse, type MetadataResponse } from '../protocol/messages/index.js';
import { registerControllerCommands } from './controller-commands.js';
import { type ToolOptions, print, table, toolOptions, withAdmin } from './output.js';

const METADATA_TOPIC = '__cluster_metadata';
const METADATA_PARTITION = 0;
/** Before asking the controller Metadata names after a NOT_LEADER_OR_FOLLOWER, time for an election to settle. */
const RETRY_DELAY_MS = 500;

type DescribeQuorumResponsePartitionData = DescribeQuorumResponse['topics'][number]['partitions'][number];
type ReplicaState = DescribeQuorumResponsePartitionData['currentVoters'][number];

interface BrokerRow {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** null when the broker answered without DescribeCluster v2 (only unfenced brokers listed). */
  fenced: boolean | null;
}

type ReplicaStatus = 'Leader' | 'Follower' | 'Observer';

interface ReplicaRow {
  nodeId: number;
  status: ReplicaStatus;
  logEndOffset: number;
  /** The leader's log end offset minus this replica's. */
  lag: number;
  /** Wall-clock milliseconds, or null when the leader has no fetch from it yet. */
  lastFetchTimestamp: number | null;
  lastCaughtUpTimestamp: number | null;
  /** How long before this tool's answer, or null with the timestamp. */
  lastFetchMsAgo: number | null;
  lastCaughtUpMsAgo: number | null;
}

export interface QuorumDescription {
  /** The node that answered DescribeQuorum. */
  describedBy: number;
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  maxFollowerLag: number;
  /** -1 when unknown, as Kafka prints it. */
  maxFollowerLagTimeMs: number;
  currentVoters: number[];
  currentObservers: number[];
  replicas: ReplicaRow[];
}

export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('inspect the cluster and change its controllers');
  registerControllerCommands(cluster);
  toolOptions(cluster.command('describe').description('cluster id, controller, brokers and the metadata quorum (leader, epoch, voters, lag)')).action((options: ToolOptions) =>
    withAdmin(options, async (admin) => {
      const metadata = await admin.cluster.metadata([]);
      const brokers = await brokerRows(admin.cluster, metadata);
      let quorum: QuorumDescription | null = null;
      let quorumError: string | null = null;
      try {
        quorum = await describeQuorum(admin.cluster, metadata);
      } catch (error) {
        if (!(error instanceof ToolError)) throw error;
        quorumError = error.message;
        process.exitCode = 1;
      }
      const described = { clusterId: metadata.clusterId ?? null, controllerId: metadata.controllerId ?? -1, brokers, quorum, ...(quorumError === null ? {} : { quorumError }) };
      print(options, described, () =>
        [
          `Cluster id: ${described.clusterId}`,
          `Controller: ${described.controllerId}`,
          table([['NODE', 'HOST', 'PORT', 'RACK', 'FENCED'], ...brokers.map((broker) => [broker.nodeId, broker.host, broker.port, broker.rack, broker.fenced === null ? '?' : broker.fenced ? 'yes' : 'no'])]),
          '',
          quorum === null ? `Metadata quorum: cannot describe it: ${quorumError}` : quorumText(quorum),
        ].join('\n'),
      );
    }),
  );
}

/** Every registered broker, fenced ones marked (DescribeCluster v2), else Metadata's unfenced ones. */
async function brokerRows(cluster: ClusterClient, metadata: MetadataResponse): Promise<BrokerRow[]> {
  const byId = (a: BrokerRow, b: BrokerRow) => a.nodeId - b.nodeId;
  if ((await cluster.versionOf(DescribeClusterApi.apiKey)) >= 2) {
    const described = await cluster.request(DescribeClusterApi, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true }, { minVersion: 2 });
    if (described.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(described.errorCode, 'DescribeCluster', described.errorMessage);
    return described.brokers.map((broker) => ({ nodeId: broker.brokerId, host: broker.host, port: broker.port, rack: broker.rack, fenced: broker.isFenced ?? false })).sort(byId);
  }
  return metadata.brokers.map((broker) => ({ nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack ?? null, fenced: null })).sort(byId);
}

/**
 * DescribeQuorum from the active controller, which Metadata names as the controller id. A node
 * that does not lead the quorum answers NOT_LEADER_OR_FOLLOWER without naming the leader (its
 * partition fields are zero defaults, as in Kafka), so the tool asks Metadata again, once, and
 * tries the controller it names then.
 */
export async function describeQuorum(cluster: ClusterClient, metadata: MetadataResponse): Promise<QuorumDescription> {
  let target = metadata.controllerId ?? -1;
  let current = metadata;
  for (let attempt = 1; ; attempt++) {
    if (target < 0) throw new ToolError('the cluster names no active controller (is the metadata quorum electing a leader?)');
    const address = addressIn(current, target);
    const response = await cluster.request(DescribeQuorumApi, { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION }] }] }, { address, maxVersion: 2 });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, `DescribeQuorum to node ${target}`, response.errorMessage);
    const partition = response.topics.find((topic) => topic.topicName === METADATA_TOPIC)?.partitions.find((entry) => entry.partitionIndex === METADATA_PARTITION);
    if (partition === undefined) throw new ToolError(`node ${target} answered DescribeQuorum without ${METADATA_TOPIC}-${METADATA_PARTITION}`);
    if (partition.errorCode === ErrorCode.NONE) return quorumFrom(target, partition, Date.now());
    if (partition.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER || attempt > 1) {
      throw new KafkaResponseError(partition.errorCode, `DescribeQuorum to node ${target}`, partition.errorMessage);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    current = await cluster.metadata([]);
    target = current.controllerId ?? -1;
  }
}

function addressIn(metadata: MetadataResponse, nodeId: number): string {
  const broker = metadata.brokers.find((entry) => entry.nodeId === nodeId);
  if (broker === undefined) throw new ToolError(`the active controller, node ${nodeId}, is not among the brokers in the cluster metadata`);
  return broker.host.includes(':') ? `[${broker.host}]:${broker.port}` : `${broker.host}:${broker.port}`;
}

/** Kafka's MetadataQuorumCommand figures: lag against the leader's log end, the laggiest voter. */
function quorumFrom(describedBy: number, partition: DescribeQuorumResponsePartitionData, nowMs: number): QuorumDescription {
  const byId = (a: ReplicaState, b: ReplicaState) => a.replicaId - b.replicaId;
  const voters = [...partition.currentVoters].sort(byId);
  const observers = [...partition.observers].sort(byId);
  const leader = voters.find((voter) => voter.replicaId === partition.leaderId);
  const leaderEnd = Number(leader?.logEndOffset ?? BigInt(partition.highWatermark));
  const timestamp = (value: bigint | undefined) => (value === undefined || value < 0n ? null : Number(value));
  const ago = (value: number | null) => (value === null ? null : Math.max(0, nowMs - value));
  const row = (replica: ReplicaState, status: ReplicaStatus): ReplicaRow => {
    const lastFetchTimestamp = timestamp(replica.lastFetchTimestamp);
    const lastCaughtUpTimestamp = timestamp(replica.lastCaughtUpTimestamp);
    return {
      nodeId: replica.replicaId,
      status,
      logEndOffset: Number(replica.logEndOffset),
      lag: leaderEnd - Number(replica.logEndOffset),
      lastFetchTimestamp,
      lastCaughtUpTimestamp,
      lastFetchMsAgo: ago(lastFetchTimestamp),
      lastCaughtUpMsAgo: ago(lastCaughtUpTimestamp),
    };
  };
  const laggiest = voters.reduce<ReplicaState | undefined>((worst, voter) => (worst === undefined || voter.logEndOffset < worst.logEndOffset ? voter : worst), undefined);
  let maxFollowerLagTimeMs = -1;
  if (leader !== undefined && laggiest !== undefined) {
    const leaderCaughtUp = timestamp(leader.lastCaughtUpTimestamp);
    const laggiestCaughtUp = timestamp(laggiest.lastCaughtUpTimestamp);
    if (laggiest === leader || laggiest.logEndOffset === leader.logEndOffset) maxFollowerLagTimeMs = 0;
    else if (leaderCaughtUp !== null && laggiestCaughtUp !== null) maxFollowerLagTimeMs = leaderCaughtUp - laggiestCaughtUp;
  }
  return {
    describedBy,
    leaderId: partition.leaderId,
    leaderEpoch: partition.leaderEpoch,
    highWatermark: Number(partition.highWatermark),
    maxFollowerLag: laggiest === undefined ? 0 : leaderEnd - Number(laggiest.logEndOffset),
    maxFollowerLagTimeMs,
    currentVoters: voters.map((voter) => voter.replicaId),
    currentObservers: observers.map((observer) => observer.replicaId),
    replicas: [
      ...(leader === undefined ? [] : [row(leader, 'Leader')]),
      ...voters.filter((voter) => voter !== leader).map((voter) => row(voter, 'Follower')),
      ...observers.map((observer) => row(observer, 'Observer')),
    ],
  };
}

function quorumText(quorum: QuorumDescription): string {
  const ago = (ms: number | null) => (ms === null ? 'never' : `${ms} ms ago`);
  const status = table([
    ['LeaderId:', quorum.leaderId],
    ['LeaderEpoch:', quorum.leaderEpoch],
    ['HighWatermark:', quorum.highWatermark],
    ['MaxFollowerLag:', quorum.maxFollowerLag],
    ['MaxFollowerLagTimeMs:', quorum.maxFollowerLagTimeMs],
    ['CurrentVoters:', `[${quorum.currentVoters.join(',')}]`],
    ['CurrentObservers:', `[${quorum.currentObservers.join(',')}]`],
  ]);
  const replication = table([
    ['NODE', 'STATUS', 'LOG END OFFSET', 'LAG', 'LAST FETCH', 'LAST CAUGHT UP'],
    ...quorum.replicas.map((replica) => [replica.nodeId, replica.status, replica.logEndOffset, replica.lag, ago(replica.lastFetchMsAgo), ago(replica.lastCaughtUpMsAgo)]),
  ]);
  return [`Metadata quorum (${METADATA_TOPIC}-${METADATA_PARTITION}, described by node ${quorum.describedBy}):`, status, '', replication].join('\n');
}
