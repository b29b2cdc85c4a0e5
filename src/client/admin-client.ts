// Admin operations for the command-line tools over the Kafka protocol: topics (create, list,
// describe with offsets, grow, delete), configs (describe, incremental alter, several resources
// at once), records (delete below an offset), offsets by time, the cluster's brokers, the
// producers a partition keeps state for, partition reassignments (start, cancel, list) and each
// broker's log directories (describe, move replicas between them). Partition requests go to
// leaders; reassignments and config changes go to any broker, which forwards them to the active
// controller; log directory requests go to the broker whose directories they are about. SCRAM
// users (KIP-554): a password is salted here, as Kafka's admin client does, and only the salted
// password travels. ACLs (CreateAcls, DescribeAcls, DeleteAcls) in Kafka's numeric codes (the
// resource type, pattern type, operation and permission type of src/metadata/acl.ts, which the
// CLI parses names with); they go to any broker, which forwards changes to the controller.
import { randomBytes } from 'node:crypto';
import { ErrorCode, errorName } from '../base/error-codes.js';
import { saltedPassword, scramMechanismByName, scramMechanismByType } from '../base/scram.js';
import {
  AlterUserScramCredentialsApi,
  DescribeUserScramCredentialsApi,
  AlterPartitionReassignmentsApi,
  CreateAclsApi,
  DeleteAclsApi,
  DescribeAclsApi,
  AlterReplicaLogDirsApi,
  CreatePartitionsApi,
  CreateTopicsApi,
  DeleteRecordsApi,
  DeleteTopicsApi,
  DescribeClusterApi,
  DescribeConfigsApi,
  DescribeLogDirsApi,
  DescribeProducersApi,
  IncrementalAlterConfigsApi,
  ListOffsetsApi,
  ListPartitionReassignmentsApi,
  ZERO_UUID,
} from '../protocol/messages/index.js';
import { type ClusterClient, KafkaResponseError, ToolError } from './cluster-client.js';

export const ConfigResource = { topic: 2, broker: 4, group: 32 } as const;
export const AlterOperation = { set: 0, delete: 1, append: 2, subtract: 3 } as const;
export const OffsetSpec = { latest: -1, earliest: -2 } as const;

/** Kafka's ConfigSource codes by name, for people. */
export const configSourceNames: Readonly<Record<number, string>> = {
  0: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
  7: 'DYNAMIC_CLIENT_METRICS_CONFIG',
  8: 'DYNAMIC_GROUP_CONFIG',
};

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface TopicInfo {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionInfo[];
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: string;
  readOnly: boolean;
  sensitive: boolean;
  synonyms: { name: string; value: string | null; source: string }[];
}

export interface PartitionOffsets {
  partition: number;
  earliest: number;
  latest: number;
}

/** One idempotent or transactional producer a partition keeps state for (DescribeProducers). */
export interface ProducerStateInfo {
  producerId: number;
  producerEpoch: number;
  /** -1 when the partition has no sequence of this producer (only a transaction marker). */
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  /** -1 when the producer has no transaction open in the partition. */
  currentTransactionStartOffset: number;
}

/** A registered broker; `fenced` is null when the cluster could only list its unfenced brokers. */
export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  fenced: boolean | null;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A partition's wanted replica set for AlterPartitionReassignments; null replicas cancel a move in progress. */
export interface ReassignmentTarget extends TopicPartition {
  replicas: number[] | null;
}

/** One partition's answer: errorCode 0 (error null) on success, else Kafka's error name and the broker's message. */
export interface PartitionResult extends TopicPartition {
  errorCode: number;
  error: string | null;
  message: string | null;
}

/** A reassignment in progress (ListPartitionReassignments): the replica set during the move, and which are added and removed. */
export interface OngoingReassignment extends TopicPartition {
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

/** One log directory of a broker (DescribeLogDirs); a failed one has errorCode KAFKA_STORAGE_ERROR and no partitions. */
export interface LogDirInfo {
  path: string;
  errorCode: number;
  error: string | null;
  partitions: LogDirPartition[];
  /** The volume's total and usable bytes (DescribeLogDirs v4+); -1 when the broker does not say. */
  totalBytes: number;
  usableBytes: number;
}

/** A replica in a log directory; `future` marks the copy a move between directories is building there. */
export interface LogDirPartition extends TopicPartition {
  size: number;
  offsetLag: number;
  future: boolean;
}

/** A replica to move to another log directory of its broker (AlterReplicaLogDirs). */
export interface ReplicaLogDirMove extends TopicPartition {
  logDir: string;
}

/** Config changes of one resource for incrementalAlterConfigs. */
export interface ConfigResourceChanges {
  resourceType: number;
  resourceName: string;
  changes: { name: string; operation: number; value: string | null }[];
}

/** One resource's answer to incrementalAlterConfigs. */
export interface ConfigResourceResult {
  resourceType: number;
  resourceName: string;
  errorCode: number;
  error: string | null;
  message: string | null;
}

export interface ScramUpsertion {
  user: string;
  /** SCRAM-SHA-256 or SCRAM-SHA-512. */
  mechanism: string;
  password: string;
  iterations: number;
}

export interface ScramDeletion {
  user: string;
  mechanism: string;
}

export interface UserResult {
  user: string;
  errorCode: number;
  error: string | null;
  message: string | null;
}

export interface ScramUserInfo extends UserResult {
  credentials: { mechanism: string; iterations: number }[];
}

/** One ACL in Kafka's codes: a resource pattern and an access control entry. */
export interface AclBindingInfo {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** The filter of DescribeAcls and DeleteAcls: a null string matches any, and so do the ANY codes (1); patternType MATCH (2) matches what applies to a name. */
export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/** The broker's answer to one ACL creation, or to one deleted ACL: errorCode 0 (error null) on success. */
export interface AclResult {
  errorCode: number;
  error: string | null;
  message: string | null;
}

/** One DeleteAcls filter's answer: a filter-wide error, or the ACLs it matched, each deleted or not. */
export interface AclDeletionResult extends AclResult {
  matching: (AclBindingInfo & AclResult)[];
}

function aclResult(errorCode: number, message: string | null): AclResult {
  return { errorCode, error: errorCode === ErrorCode.NONE ? null : errorName(errorCode), message };
}

/** An ACL filter in the fields DescribeAcls and DeleteAcls carry it in. */
function wireFilter(filter: AclFilter) {
  const { resourceType, resourceName, patternType, principal, host, operation, permissionType } = filter;
  return { resourceTypeFilter: resourceType, resourceNameFilter: resourceName, patternTypeFilter: patternType, principalFilter: principal, hostFilter: host, operation, permissionType };
}

/** ListOffsets attempts, 50 ms apart, while a new leader's offsets are not available yet (a fetch round or two). */
const OFFSET_NOT_AVAILABLE_ATTEMPTS = 100;

export class AdminClient {
  constructor(readonly cluster: ClusterClient) {}

  async listTopics(includeInternal = false): Promise<TopicInfo[]> {
    const metadata = await this.cluster.metadata(null);
    return metadata.topics
      .filter((topic) => topic.errorCode === ErrorCode.NONE && topic.name !== null && (includeInternal || !topic.isInternal))
      .map(topicInfo)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async describeTopic(name: string): Promise<TopicInfo> {
    const metadata = await this.cluster.metadata([name]);
    const topic = metadata.topics[0];
    if (!topic) throw new ToolError(`no metadata for topic '${name}'`);
    if (topic.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(topic.errorCode, `topic '${name}'`);
    return topicInfo(topic);
  }

  async createTopic(name: string, options: { partitions?: number; replicationFactor?: number; configs?: Record<string, string>; validateOnly?: boolean }): Promise<void> {
    const response = await this.cluster.request(CreateTopicsApi, {
      topics: [{
        name,
        numPartitions: options.partitions ?? -1,
        replicationFactor: options.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(options.configs ?? {}).map(([key, value]) => ({ name: key, value })),
      }],
      timeoutMs: 30_000,
      validateOnly: options.validateOnly ?? false,
    }, { minVersion: 4 });
    const result = response.topics[0];
    if (result && result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `creating topic '${name}'`, result.errorMessage);
  }

  async deleteTopic(name: string): Promise<void> {
    const response = await this.cluster.request(DeleteTopicsApi, { topics: [{ name, topicId: ZERO_UUID }], topicNames: [name], timeoutMs: 30_000 });
    const result = response.responses[0];
    if (result && result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `deleting topic '${name}'`, result.errorMessage);
  }

  async createPartitions(name: string, count: number): Promise<void> {
    const response = await this.cluster.request(CreatePartitionsApi, { topics: [{ name, count, assignments: null }], timeoutMs: 30_000, validateOnly: false });
    const result = response.results[0];
    if (result && result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `adding partitions to '${name}'`, result.errorMessage);
  }

  async describeConfigs(resourceType: number, resourceName: string, keys: string[] | null = null): Promise<ConfigEntry[]> {
    const response = await this.cluster.request(DescribeConfigsApi, {
      resources: [{ resourceType, resourceName, configurationKeys: keys }],
      includeSynonyms: true,
      includeDocumentation: false,
    }, { minVersion: 1 });
    const result = response.results[0];
    if (!result) throw new ToolError('the broker described no configs');
    if (result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `describing configs of ${resourceLabel(resourceType, resourceName)}`, result.errorMessage);
    return result.configs.map((config) => ({
      name: config.name,
      value: config.value,
      source: configSourceNames[config.configSource ?? 0] ?? String(config.configSource),
      readOnly: config.readOnly,
      sensitive: config.isSensitive,
      synonyms: (config.synonyms ?? []).map((synonym) => ({ name: synonym.name, value: synonym.value, source: configSourceNames[synonym.source] ?? String(synonym.source) })),
    }));
  }

  async alterConfigs(resourceType: number, resourceName: string, changes: { name: string; operation: number; value: string | null }[], validateOnly = false): Promise<void> {
    const response = await this.cluster.request(IncrementalAlterConfigsApi, {
      resources: [{ resourceType, resourceName, configs: changes.map(({ name, operation, value }) => ({ name, configOperation: operation, value })) }],
      validateOnly,
    });
    const result = response.responses[0];
    if (result && result.errorCode !== ErrorCode.NONE) {
      throw new KafkaResponseError(result.errorCode, `altering configs of ${resourceLabel(resourceType, resourceName)}`, result.errorMessage);
    }
  }

  /**
   * Changes configs of several resources in one IncrementalAlterConfigs request (BROKER resources
   * are named by node id, '' for the cluster-wide default); every resource's result, failures
   * included, for the caller to report.
   */
  async incrementalAlterConfigs(resources: readonly ConfigResourceChanges[], validateOnly = false): Promise<ConfigResourceResult[]> {
    if (resources.length === 0) return [];
    const response = await this.cluster.request(IncrementalAlterConfigsApi, {
      resources: resources.map(({ resourceType, resourceName, changes }) => ({
        resourceType,
        resourceName,
        configs: changes.map(({ name, operation, value }) => ({ name, configOperation: operation, value })),
      })),
      validateOnly,
    });
    return resources.map(({ resourceType, resourceName }) => {
      const result = response.responses.find((entry) => entry.resourceType === resourceType && entry.resourceName === resourceName);
      if (!result) return { resourceType, resourceName, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, error: errorName(ErrorCode.UNKNOWN_SERVER_ERROR), message: 'the broker did not answer for this resource' };
      return { resourceType, resourceName, errorCode: result.errorCode, error: result.errorCode === ErrorCode.NONE ? null : errorName(result.errorCode), message: result.errorMessage };
    });
  }

  /** Adds, replaces and deletes SCRAM credentials (AlterUserScramCredentials): one result per user named. */
  async alterUserScramCredentials(upsertions: readonly ScramUpsertion[], deletions: readonly ScramDeletion[]): Promise<UserResult[]> {
    const type = (name: string) => {
      const mechanism = scramMechanismByName(name);
      if (!mechanism) throw new ToolError(`unknown SCRAM mechanism '${name}': SCRAM-SHA-256 or SCRAM-SHA-512`);
      return mechanism;
    };
    const response = await this.cluster.request(AlterUserScramCredentialsApi, {
      deletions: deletions.map(({ user, mechanism }) => ({ name: user, mechanism: type(mechanism).type })),
      upsertions: upsertions.map(({ user, mechanism, password, iterations }) => {
        const salt = randomBytes(32);
        return { name: user, mechanism: type(mechanism).type, iterations, salt, saltedPassword: saltedPassword(type(mechanism), password, salt, iterations) };
      }),
    });
    return response.results.map(({ user, errorCode, errorMessage }) => ({ user, errorCode, error: errorCode === ErrorCode.NONE ? null : errorName(errorCode), message: errorMessage }));
  }

  /** The SCRAM credentials of `users` (every user with one when null): mechanisms and iterations, never keys. */
  async describeUserScramCredentials(users: readonly string[] | null): Promise<ScramUserInfo[]> {
    const response = await this.cluster.request(DescribeUserScramCredentialsApi, { users: users === null ? null : users.map((name) => ({ name })) });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, 'describing SCRAM users', response.errorMessage);
    return response.results.map(({ user, errorCode, errorMessage, credentialInfos }) => ({
      user,
      errorCode,
      error: errorCode === ErrorCode.NONE ? null : errorName(errorCode),
      message: errorMessage,
      credentials: credentialInfos.map(({ mechanism, iterations }) => ({ mechanism: scramMechanismByType(mechanism)?.name ?? `mechanism ${mechanism}`, iterations })),
    }));
  }

  /** Creates `acls` (CreateAcls, v1+ for pattern types): one result per ACL, in order. */
  async createAcls(acls: readonly AclBindingInfo[]): Promise<AclResult[]> {
    if (acls.length === 0) return [];
    const response = await this.cluster.request(CreateAclsApi, {
      creations: acls.map(({ resourceType, resourceName, patternType, principal, host, operation, permissionType }) => ({
        resourceType,
        resourceName,
        resourcePatternType: patternType,
        principal,
        host,
        operation,
        permissionType,
      })),
    }, { minVersion: 1 });
    return acls.map((_, index) => {
      const result = response.results[index];
      return result ? aclResult(result.errorCode, result.errorMessage) : aclResult(ErrorCode.UNKNOWN_SERVER_ERROR, 'the broker did not answer for this ACL');
    });
  }

  /** The ACLs `filter` matches (DescribeAcls, v1+); a refusal (no authorizer, not authorized, a bad filter) throws. */
  async describeAcls(filter: AclFilter): Promise<AclBindingInfo[]> {
    const response = await this.cluster.request(DescribeAclsApi, wireFilter(filter), { minVersion: 1 });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, 'describing ACLs', response.errorMessage);
    return response.resources.flatMap(({ resourceType, resourceName, patternType, acls }) =>
      acls.map(({ principal, host, operation, permissionType }) => ({ resourceType, resourceName, patternType: patternType ?? 3, principal, host, operation, permissionType })),
    );
  }

  /** Deletes the ACLs each filter matches (DeleteAcls, v1+): one result per filter, in order. */
  async deleteAcls(filters: readonly AclFilter[]): Promise<AclDeletionResult[]> {
    if (filters.length === 0) return [];
    const response = await this.cluster.request(DeleteAclsApi, { filters: filters.map(wireFilter) }, { minVersion: 1 });
    return filters.map((_, index) => {
      const result = response.filterResults[index];
      if (!result) return { ...aclResult(ErrorCode.UNKNOWN_SERVER_ERROR, 'the broker did not answer for this filter'), matching: [] };
      return {
        ...aclResult(result.errorCode, result.errorMessage),
        matching: result.matchingAcls.map((acl) => ({
          resourceType: acl.resourceType,
          resourceName: acl.resourceName,
          patternType: acl.patternType ?? 3,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permissionType,
          ...aclResult(acl.errorCode, acl.errorMessage),
        })),
      };
    });
  }

  /**
   * Every registered broker by node id, fenced ones (stopped, or not yet caught up) marked, from
   * DescribeCluster v2 (KIP-1073); from a broker without it, Metadata's unfenced brokers.
   */
  async describeBrokers(): Promise<BrokerInfo[]> {
    const byId = (a: BrokerInfo, b: BrokerInfo) => a.nodeId - b.nodeId;
    if ((await this.cluster.versionOf(DescribeClusterApi.apiKey)) >= 2) {
      const described = await this.cluster.request(DescribeClusterApi, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true }, { minVersion: 2 });
      if (described.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(described.errorCode, 'describing the cluster', described.errorMessage);
      return described.brokers.map((broker) => ({ nodeId: broker.brokerId, host: broker.host, port: broker.port, rack: broker.rack, fenced: broker.isFenced ?? false })).sort(byId);
    }
    const metadata = await this.cluster.metadata([]);
    return metadata.brokers.map((broker) => ({ nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack ?? null, fenced: null })).sort(byId);
  }

  /**
   * Starts moving partitions to new replica sets, or cancels moves in progress (null replicas),
   * with AlterPartitionReassignments; each partition's result. A request-wide error throws.
   */
  async alterPartitionReassignments(targets: readonly ReassignmentTarget[], timeoutMs = 30_000): Promise<PartitionResult[]> {
    if (targets.length === 0) return [];
    const byTopic = new Map<string, { partitionIndex: number; replicas: number[] | null }[]>();
    for (const { topic, partition, replicas } of targets) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partitionIndex: partition, replicas }]);
    const response = await this.cluster.request(AlterPartitionReassignmentsApi, {
      timeoutMs,
      allowReplicationFactorChange: true,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, 'reassigning partitions', response.errorMessage);
    return targets.map(({ topic, partition }) => {
      const result = response.responses.find((entry) => entry.name === topic)?.partitions.find((entry) => entry.partitionIndex === partition);
      if (!result) return { topic, partition, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, error: errorName(ErrorCode.UNKNOWN_SERVER_ERROR), message: 'the broker did not answer for this partition' };
      return { topic, partition, errorCode: result.errorCode, error: result.errorCode === ErrorCode.NONE ? null : errorName(result.errorCode), message: result.errorMessage };
    });
  }

  /** The reassignments in progress: all of them (null), or those of the given partitions, sorted by topic and partition. */
  async listPartitionReassignments(partitions: readonly TopicPartition[] | null = null, timeoutMs = 30_000): Promise<OngoingReassignment[]> {
    let topics: { name: string; partitionIndexes: number[] }[] | null = null;
    if (partitions !== null) {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
      if (topics.length === 0) return [];
    }
    const response = await this.cluster.request(ListPartitionReassignmentsApi, { timeoutMs, topics });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, 'listing partition reassignments', response.errorMessage);
    return response.topics
      .flatMap(({ name, partitions: ongoing }) =>
        ongoing.map(({ partitionIndex, replicas, addingReplicas, removingReplicas }) => ({ topic: name, partition: partitionIndex, replicas, addingReplicas, removingReplicas })),
      )
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /**
   * The log directories of broker `brokerId` with the replicas in each (Kafka's
   * Admin.describeLogDirs for one broker): those of `partitions`, or all of them when null (an
   * empty list describes the directories alone). A request-wide error throws.
   */
  async describeLogDirs(brokerId: number, partitions: readonly TopicPartition[] | null = null): Promise<LogDirInfo[]> {
    let topics: { topic: string; partitions: number[] }[] | null = null;
    if (partitions !== null) {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      topics = [...byTopic].map(([topic, indexes]) => ({ topic, partitions: indexes }));
    }
    const response = await this.cluster.request(DescribeLogDirsApi, { topics }, { address: await this.cluster.addressOf(brokerId), minVersion: 1 });
    if ((response.errorCode ?? ErrorCode.NONE) !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode!, `describing the log directories of broker ${brokerId}`);
    return response.results.map((result) => ({
      path: result.logDir,
      errorCode: result.errorCode,
      error: result.errorCode === ErrorCode.NONE ? null : errorName(result.errorCode),
      partitions: result.topics.flatMap(({ name, partitions: described }) =>
        described.map((partition) => ({ topic: name, partition: partition.partitionIndex, size: Number(partition.partitionSize), offsetLag: Number(partition.offsetLag), future: partition.isFutureKey })),
      ),
      totalBytes: Number(result.totalBytes ?? -1n),
      usableBytes: Number(result.usableBytes ?? -1n),
    }));
  }

  /**
   * Asks broker `brokerId` to move its replicas of `moves` to the given log directories (Kafka's
   * Admin.alterReplicaLogDirs for one broker); each replica's result. NONE means the move has
   * started (or the replica is there already); REPLICA_NOT_AVAILABLE that the broker does not
   * host the replica (yet).
   */
  async alterReplicaLogDirs(brokerId: number, moves: readonly ReplicaLogDirMove[]): Promise<PartitionResult[]> {
    if (moves.length === 0) return [];
    const byDir = new Map<string, Map<string, number[]>>();
    for (const { topic, partition, logDir } of moves) {
      const topics = byDir.get(logDir) ?? new Map<string, number[]>();
      topics.set(topic, [...(topics.get(topic) ?? []), partition]);
      byDir.set(logDir, topics);
    }
    const response = await this.cluster.request(AlterReplicaLogDirsApi, {
      dirs: [...byDir].map(([path, topics]) => ({ path, topics: [...topics].map(([name, partitions]) => ({ name, partitions })) })),
    }, { address: await this.cluster.addressOf(brokerId), minVersion: 1 });
    return moves.map(({ topic, partition }) => {
      const result = response.results.find((entry) => entry.topicName === topic)?.partitions.find((entry) => entry.partitionIndex === partition);
      if (!result) return { topic, partition, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, error: errorName(ErrorCode.UNKNOWN_SERVER_ERROR), message: 'the broker did not answer for this replica' };
      return { topic, partition, errorCode: result.errorCode, error: result.errorCode === ErrorCode.NONE ? null : errorName(result.errorCode), message: null };
    });
  }

  /** Moves a partition's log start offset to `offset` (-1: the high watermark); returns the new low watermark. */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    const address = await this.leaderAddress(topic, partition);
    const response = await this.cluster.request(DeleteRecordsApi, {
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset: BigInt(offset) }] }],
      timeoutMs: 30_000,
    }, { address });
    const result = response.topics[0]?.partitions[0];
    if (!result) throw new ToolError('the broker answered for no partition');
    if (result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `deleting records of ${topic}-${partition} below ${offset}`);
    return Number(result.lowWatermark);
  }

  /**
   * The offset for `timestamp` (OffsetSpec or milliseconds) in each partition; -1 when none. With
   * `readCommitted`, latest is the last stable offset (ListOffsets v2+), as a read_committed consumer's end.
   */
  async listOffsets(topic: TopicInfo, timestamp: number, readCommitted = false): Promise<Map<number, number>> {
    const offsets = new Map<number, number>();
    for (const [leader, partitions] of groupByLeader(topic.partitions)) {
      for (let attempt = 0; ; attempt++) {
        const response = await this.cluster.request(ListOffsetsApi, {
          replicaId: -1,
          isolationLevel: readCommitted ? 1 : 0,
          topics: [{ name: topic.name, partitions: partitions.map((partition) => ({ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: BigInt(timestamp), maxNumOffsets: 1 })) }],
          timeoutMs: 30_000,
        }, { address: await this.cluster.addressOf(leader), minVersion: readCommitted ? 2 : 1 });
        const results = response.topics[0]?.partitions ?? [];
        // A leader elected a moment ago answers OFFSET_NOT_AVAILABLE until its high watermark reaches its epoch's start (KIP-207): ask again shortly.
        if (results.some((result) => result.errorCode === ErrorCode.OFFSET_NOT_AVAILABLE) && attempt < OFFSET_NOT_AVAILABLE_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        for (const result of results) {
          if (result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `offsets of ${topic.name}-${result.partitionIndex}`);
          offsets.set(result.partitionIndex, Number(result.offset ?? -1n));
        }
        break;
      }
    }
    return offsets;
  }

  async partitionOffsets(topic: TopicInfo): Promise<PartitionOffsets[]> {
    const earliest = await this.listOffsets(topic, OffsetSpec.earliest);
    const latest = await this.listOffsets(topic, OffsetSpec.latest);
    return topic.partitions.map(({ partition }) => ({ partition, earliest: earliest.get(partition) ?? -1, latest: latest.get(partition) ?? -1 }));
  }

  /**
   * The active producers of one partition, asked of its leader or of the replica on `brokerId`
   * (Kafka's Admin.describeProducers).
   */
  async describeProducers(topic: string, partition: number, brokerId?: number): Promise<ProducerStateInfo[]> {
    const address = brokerId === undefined ? await this.leaderAddress(topic, partition) : await this.cluster.addressOf(brokerId);
    const response = await this.cluster.request(DescribeProducersApi, { topics: [{ name: topic, partitionIndexes: [partition] }] }, { address });
    const result = response.topics.find((entry) => entry.name === topic)?.partitions.find((entry) => entry.partitionIndex === partition);
    if (!result) throw new ToolError('the broker answered for no partition');
    if (result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `describing producers of ${topic}-${partition}`, result.errorMessage);
    return result.activeProducers.map((producer) => ({
      producerId: Number(producer.producerId),
      producerEpoch: producer.producerEpoch,
      lastSequence: producer.lastSequence,
      lastTimestamp: Number(producer.lastTimestamp),
      coordinatorEpoch: producer.coordinatorEpoch,
      currentTransactionStartOffset: Number(producer.currentTxnStartOffset),
    }));
  }

  private async leaderAddress(topic: string, partition: number): Promise<string> {
    const info = await this.describeTopic(topic);
    const found = info.partitions.find((candidate) => candidate.partition === partition);
    if (!found) throw new ToolError(`topic '${topic}' has no partition ${partition} (it has ${info.partitions.length})`);
    return this.cluster.addressOf(found.leader);
  }
}

function topicInfo(topic: { name: string | null; topicId?: string; isInternal?: boolean; partitions: { partitionIndex: number; leaderId: number; leaderEpoch?: number; replicaNodes: number[]; isrNodes: number[] }[] }): TopicInfo {
  return {
    name: topic.name ?? '',
    topicId: topic.topicId ?? '',
    internal: topic.isInternal ?? false,
    partitions: topic.partitions
      .map((partition) => ({ partition: partition.partitionIndex, leader: partition.leaderId, leaderEpoch: partition.leaderEpoch ?? -1, replicas: partition.replicaNodes, isr: partition.isrNodes }))
      .sort((a, b) => a.partition - b.partition),
  };
}

/** Partition numbers grouped by their leader's node id. */
export function groupByLeader(partitions: readonly PartitionInfo[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const { partition, leader } of partitions) groups.set(leader, [...(groups.get(leader) ?? []), partition]);
  return groups;
}

function resourceLabel(resourceType: number, resourceName: string): string {
  if (resourceType === ConfigResource.topic) return `topic '${resourceName}'`;
  if (resourceType === ConfigResource.group) return `group '${resourceName}'`;
  return resourceName === '' ? 'the cluster-wide broker defaults' : `broker ${resourceName}`;
}
