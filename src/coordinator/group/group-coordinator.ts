// Kafka's classic group coordinator for the `__consumer_offsets` partitions this broker hosts: it
// owns the groups and their committed offsets, writes every change as records before answering,
// rebuilds its state by replaying those records when a partition loads, and expires the offsets of
// groups that stayed empty for offsets.retention.minutes. Sans-IO: time, randomness and the
// partitions come in as ports; the metadata image says which topics and partitions exist.
import type { Clock, RandomSource } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../metadata/topic-name.js';
import { readLastOffset } from '../../protocol/records/batch-header.js';
import { buildRecordBatchSync, decodeRecordBatchSync, recordBatchSpans } from '../../protocol/records/record-batch.js';
import { subscribedTopics } from './consumer-protocol.js';
import { type ConsumerGroupMember, ConsumerGroupModel, type TopicPartitions } from './consumer-group.js';
import { ConsumerGroupReplay, groupEpochRecord, targetAssignmentEpochRecord } from './consumer-group-records.js';
import { rangeAssignor, uniformAssignor } from './assignors.js';
import { ClassicMembersOfConsumerGroups } from './classic-members.js';
import { classicAssignment, classicMembersFromConsumerGroup, consumerGroupFromClassic, consumerGroupRecords, consumerGroupTombstones, downgradeEnabled, upgradeEnabled } from './group-migration.js';
import { ConsumerGroupMembership, type ConsumerHeartbeatInput, type ConsumerHeartbeatOutcome, type ConsumerMembershipConfig, heartbeatError, heartbeatRequestProblem } from './consumer-membership.js';
import { coordinatorAppendError } from '../append-errors.js';
import { EMPTY_ASSIGNMENT, Group, GroupMember, GroupState, type GroupStateName, type JoinOutcome, type SyncOutcome, offsetKey } from './group.js';
import type { GroupContext, GroupCoordinatorConfig } from './group-context.js';
import { GroupMembership, type JoinGroupInput, type MemberIdentity, type SyncGroupInput, joinError, syncError } from './group-membership.js';
import { offsetsPartitionFor } from './group-partition.js';
import { type CommittedOffset, type DecodedOffsetsRecord, type OffsetsRecord, decodeOffsetsRecord, groupMetadataRecord, offsetCommitRecord } from './group-records.js';
import type { OffsetsTopicPartitions } from './offsets-topic.js';
import { type PendingOffset, PendingTransactionalOffsets } from './transactional-offsets.js';
import { ControlRecordType, buildControlBatchSync, decodeEndTransactionMarker } from '../../protocol/records/control-record.js';
import type { ShareStatePersister } from '../share/share-state-persister.js';
import { ShareGroupModel } from './share-group.js';
import { ShareGroupReplay, decodeShareGroupRecord } from './share-group-records.js';
import { SIMPLE_ASSIGNOR_NAME } from './share-assignor.js';
import {
  type DeleteShareOffsetsResult,
  type PartitionEndOffsets,
  type ShareGroupOffsetsResult,
  type ShareOffsetsTopicRequest,
  deleteShareOffsets,
  describeShareOffsets,
  initializedPartitions,
  requestedPartitions,
} from './share-group-offsets.js';
import {
  type ShareGroupConfigLookup,
  ShareGroupMembership,
  type ShareHeartbeatInput,
  type ShareHeartbeatOutcome,
  type ShareMembershipConfig,
  defaultShareConfig,
  shareHeartbeatError,
  shareHeartbeatRequestProblem,
} from './share-membership.js';

export interface GroupCoordinatorOptions {
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  config: GroupCoordinatorConfig;
  /** KIP-848 consumer groups' settings; Kafka's defaults when absent. */
  consumerConfig?: ConsumerMembershipConfig;
  image: MetadataImage;
  partitions: OffsetsTopicPartitions;
  /** KIP-932 share groups' broker settings (group.share.*); Kafka 4.2's defaults for those absent. */
  shareConfig?: Partial<ShareMembershipConfig>;
  /** Per-group overrides of share.session.timeout.ms and share.heartbeat.interval.ms. */
  shareGroupConfig?: ShareGroupConfigLookup;
  /**
   * Where share groups initialize and delete their share-partition state. Without one, every
   * subscribed partition counts as initialized at once (nothing to initialize).
   */
  shareStatePersister?: ShareStatePersister;
}

export interface OffsetCommitInput {
  groupId: string;
  /** OffsetCommit's version: a KIP-848 member must commit with v9+ (its member epoch). */
  apiVersion?: number;
  /** -1 for commits from outside the group protocol (simple consumers, admin tools). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2-4 RetentionTimeMs; -1 for the broker's retention. */
  retentionTimeMs: number;
  offsets: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }[];
}

/** TxnOffsetCommit: offsets held until the producer's transaction commits. */
export interface TxnOffsetCommitInput {
  groupId: string;
  producerId: number;
  producerEpoch: number;
  /** -1 (v0-2, or no member) skips the member checks, as Kafka does. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  offsets: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }[];
}

export interface FetchedOffset {
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: { topic: string; partitions: FetchedOffset[] }[];
}

export interface GroupDescription {
  errorCode: number;
  /** DescribeGroups v6 (KIP-1043): why a group could not be described. */
  errorMessage?: string | null;
  groupId: string;
  state: GroupStateName;
  protocolType: string;
  protocolName: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  state: GroupStateName;
  /** ListGroups v5 GroupType. */
  type: 'classic' | 'consumer' | 'share';
}

/** One group as ShareGroupDescribe answers it; topic names are filled in from the metadata image. */
export interface ShareGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    assignment: { topicId: string; topicName: string; partitions: number[] }[];
  }[];
}

/** One group as ConsumerGroupDescribe answers it; topic names are filled in from the metadata image. */
export interface ConsumerGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: { topicId: string; topicName: string; partitions: number[] }[];
    targetAssignment: { topicId: string; topicName: string; partitions: number[] }[];
    /** Whether the member speaks the classic protocol inside the consumer group (ConsumerGroupDescribe v1's MemberType). */
    usesClassicProtocol: boolean;
  }[];
}

/** The member a KIP-848 OffsetFetch (v9+) names, checked when its group is a consumer group. */
export interface FetchingMember {
  memberId: string | null;
  memberEpoch: number;
}

export interface PartitionErrors {
  errorCode: number;
  topics: { topic: string; partitions: { partition: number; errorCode: number }[] }[];
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  /** KIP-932 share groups; their ids share one namespace with `groups` (an id is in one map at most). */
  private readonly shareGroups = new Map<string, ShareGroupModel>();
  private readonly loads = new Map<number, Promise<void>>();
  /** The load under way or done for each partition: a replay whose token was replaced restores nothing. */
  private readonly loadTokens = new Map<number, object>();
  private readonly pendingTransactionalOffsets = new PendingTransactionalOffsets();
  private readonly membership: GroupMembership;
  private readonly consumerMembership: ConsumerGroupMembership;
  private readonly classicMembers: ClassicMembersOfConsumerGroups;
  private readonly consumerConfig: ConsumerMembershipConfig;
  private readonly shareMembership: ShareGroupMembership;
  private readonly context: GroupContext;
  private cancelExpiry: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: GroupCoordinatorOptions) {
    this.context = {
      clock: options.clock,
      random: options.random,
      config: options.config,
      logger: options.logger,
      store: (group, records) => this.store(group, records),
    };
    this.membership = new GroupMembership(this.context);
    this.consumerConfig = options.consumerConfig ?? defaultConsumerConfig();
    this.consumerMembership = new ConsumerGroupMembership(this.context, options.image, this.consumerConfig);
    this.consumerMembership.downgrade = (group, model, member) => this.downgradeToClassic(group, model, member);
    this.classicMembers = new ClassicMembersOfConsumerGroups(this.context, options.image, this.consumerMembership, this.consumerConfig.maxSize);
    this.shareMembership = new ShareGroupMembership(
      { clock: options.clock, logger: options.logger, store: (groupId, records) => this.storeFor(groupId, records) },
      options.image,
      { ...defaultShareConfig(), ...options.shareConfig },
      options.shareStatePersister,
      options.shareGroupConfig,
      (model) => this.shareGroups.get(model.groupId) === model,
    );
  }

  /** Partitions of `__consumer_offsets` as the image has them; 0 before the topic exists. */
  numPartitions(): number {
    return this.options.image.topic(CONSUMER_OFFSETS_TOPIC)?.partitions.size ?? 0;
  }

  partitionFor(groupId: string): number {
    const count = this.numPartitions();
    return offsetsPartitionFor(groupId, count > 0 ? count : this.options.config.offsetsTopicNumPartitions);
  }

  /** Loads every hosted partition and starts the offset expiry sweep. */
  async start(): Promise<void> {
    for (let partition = 0; partition < this.numPartitions(); partition++) {
      if (this.options.partitions.isHosted(partition)) await this.load(partition);
    }
    this.scheduleExpiry();
  }

  /** Answers every parked request with NOT_COORDINATOR and stops all timers. */
  stop(): void {
    this.stopped = true;
    this.cancelExpiry?.();
    for (const group of this.groups.values()) this.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
    for (const model of this.shareGroups.values()) model.stopTimers();
  }

  private shutdownGroup(group: Group, errorCode: number): void {
    if (group.consumer !== undefined) this.consumerMembership.shutdown(group.consumer);
    else this.membership.shutdown(group, errorCode);
  }

  /**
   * Creates `__consumer_offsets` on first need (FindCoordinator, AddOffsetsToTxn, or any group
   * operation that reaches the coordinator before either): NONE once it exists.
   */
  async ensureOffsetsTopic(): Promise<number> {
    if (this.numPartitions() > 0) return ErrorCode.NONE;
    return (await this.options.partitions.ensureTopic()) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  /** Whether this broker coordinates `groupId` now, loading its partition on first use. */
  private async ready(groupId: string): Promise<number> {
    if (this.stopped) return ErrorCode.NOT_COORDINATOR;
    const exists = await this.ensureOffsetsTopic();
    if (exists !== ErrorCode.NONE) return exists;
    const partition = this.partitionFor(groupId);
    if (!this.options.partitions.isHosted(partition)) return ErrorCode.NOT_COORDINATOR;
    await this.load(partition);
    return ErrorCode.NONE;
  }

  private group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  private getOrCreateGroup(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new Group(groupId, this.options.clock.nowMs());
      this.groups.set(groupId, group);
    }
    return group;
  }

  // ---- Membership ----

  async joinGroup(input: JoinGroupInput): Promise<JoinOutcome> {
    if (input.groupId === '') return joinError(input.memberId, ErrorCode.INVALID_GROUP_ID);
    const ready = await this.ready(input.groupId);
    if (ready !== ErrorCode.NONE) return joinError(input.memberId, ready);
    const { groupMinSessionTimeoutMs, groupMaxSessionTimeoutMs } = this.options.config;
    if (input.sessionTimeoutMs < groupMinSessionTimeoutMs || input.sessionTimeoutMs > groupMaxSessionTimeoutMs) {
      return joinError(input.memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    // As Kafka: a share group's id cannot be joined with the classic protocol.
    if (this.shareGroups.has(input.groupId)) return joinError(input.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const existing = this.group(input.groupId);
    if (!existing && input.memberId !== '') return joinError(input.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    if (existing?.consumer !== undefined) {
      // A consumer group with members takes the classic member in (online migration); an empty
      // one goes back to the classic protocol (Kafka's downgrade of an empty group).
      if (existing.consumer.members.size > 0) return this.classicMembers.join(existing, existing.consumer, input);
      const converted = await this.convertToClassic(existing);
      if (converted !== ErrorCode.NONE) return joinError(input.memberId, converted);
    }
    const group = existing ?? this.getOrCreateGroup(input.groupId);
    const outcome = await this.membership.join(group, input);
    // A join that failed before anyone got in leaves nothing worth keeping.
    if (group.isEmpty && group.pendingMembers.size === 0 && group.is(GroupState.empty) && group.offsets.size === 0 && group.generationId === 0) this.groups.delete(group.groupId);
    return outcome;
  }

  async syncGroup(input: SyncGroupInput): Promise<SyncOutcome> {
    if (input.groupId === '') return syncError(ErrorCode.INVALID_GROUP_ID);
    const ready = await this.ready(input.groupId);
    if (ready !== ErrorCode.NONE) return syncError(ready);
    const group = this.group(input.groupId);
    if (!group) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.consumer !== undefined) return this.classicMembers.sync(group, group.consumer, input);
    return this.membership.sync(group, input);
  }

  async heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): Promise<number> {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return ready;
    const group = this.group(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.consumer !== undefined) return this.classicMembers.heartbeat(group, group.consumer, memberId, groupInstanceId, generationId);
    return this.membership.heartbeat(group, memberId, groupInstanceId, generationId);
  }

  /** LeaveGroup: a group-level error code and one code per leaving member. */
  async leaveGroup(groupId: string, members: readonly MemberIdentity[]): Promise<{ errorCode: number; memberErrors: number[] }> {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, memberErrors: members.map(() => ErrorCode.INVALID_GROUP_ID) };
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return { errorCode: ready, memberErrors: members.map(() => ready) };
    const group = this.group(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, memberErrors: members.map(() => ErrorCode.UNKNOWN_MEMBER_ID) };
    if (group.consumer !== undefined) return { errorCode: ErrorCode.NONE, memberErrors: await this.classicMembers.leave(group, group.consumer, members) };
    return { errorCode: ErrorCode.NONE, memberErrors: this.membership.leave(group, members) };
  }

  // ---- KIP-848 consumer groups ----

  async consumerGroupHeartbeat(input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatOutcome> {
    const invalid = heartbeatRequestProblem(input);
    if (invalid !== undefined) return heartbeatError(ErrorCode.INVALID_REQUEST, invalid);
    const refused = this.consumerMembership.subscriptionProblem(input);
    if (refused !== undefined) return heartbeatError(refused.errorCode, refused.message);
    const ready = await this.ready(input.groupId);
    if (ready !== ErrorCode.NONE) return heartbeatError(ready);
    if (this.shareGroups.has(input.groupId)) return heartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${input.groupId} is not a consumer group.`);
    let group = this.group(input.groupId);
    if (group === undefined || group.is(GroupState.dead)) {
      if (input.memberEpoch !== 0) return heartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${input.groupId} not found.`);
      group = this.getOrCreateGroup(input.groupId);
    }
    if (group.consumer === undefined) {
      const converted = group.isEmpty && group.pendingMembers.size === 0 && group.is(GroupState.empty) ? await this.convertToConsumer(group) : await this.upgradeToConsumer(group, input.memberEpoch);
      if (typeof converted === 'string') return heartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, converted);
      if (converted !== ErrorCode.NONE) return heartbeatError(converted);
      // Back to classic while the conversion was written (a fenced member's downgrade): the client retries.
      if (group.consumer === undefined) return heartbeatError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    }
    return this.consumerMembership.heartbeat(group, group.consumer, input);
  }

  /** An empty classic group becomes a consumer group, keeping its offsets (Kafka's upgrade of an empty group). */
  private async convertToConsumer(group: Group): Promise<number> {
    if (group.generationId > 0 || group.protocolType !== null) {
      const stored = await this.store(group, [groupMetadataRecord(group.groupId, null)]);
      if (stored !== ErrorCode.NONE) return stored;
    }
    if (group.consumer !== undefined) return ErrorCode.NONE;
    group.consumer = new ConsumerGroupModel();
    group.protocolType = 'consumer';
    group.protocolName = null;
    group.generationId = 0;
    group.leaderId = null;
    return ErrorCode.NONE;
  }

  /**
   * Kafka 4.0's online upgrade: a classic group with members, of protocol type consumer, becomes a
   * consumer group whose members keep speaking the classic protocol (group-migration.ts). Members
   * parked in a rebalance are told to rejoin; they do, into the consumer group. A string explains a
   * refusal (GROUP_ID_NOT_FOUND, as Kafka).
   */
  private async upgradeToConsumer(group: Group, memberEpoch: number): Promise<number | string> {
    const refused = `Group ${group.groupId} is not a consumer group`;
    if (memberEpoch !== 0) return refused;
    const policy = this.consumerConfig.migrationPolicy ?? 'bidirectional';
    if (!upgradeEnabled(policy)) return `${refused}: group.consumer.migration.policy is ${policy}, so a classic group with members cannot move to the consumer protocol.`;
    if (group.protocolType !== 'consumer') return `${refused}: its protocol type is ${group.protocolType ?? 'none'}, not consumer.`;
    // Kafka converts, then refuses the join and discards both: the same answer, without converting.
    if (group.members.size >= this.consumerConfig.maxSize) return ErrorCode.GROUP_MAX_SIZE_REACHED;
    const model = consumerGroupFromClassic(group, this.options.image);
    if (!(model instanceof ConsumerGroupModel)) return `Cannot upgrade the classic group ${group.groupId} to a consumer group: ${model.problem}.`;
    this.membership.shutdown(group, ErrorCode.REBALANCE_IN_PROGRESS);
    const records = [groupMetadataRecord(group.groupId, null), ...consumerGroupRecords(group.groupId, model)];
    group.members.clear();
    group.staticMembers.clear();
    group.consumer = model;
    group.protocolType = 'consumer';
    group.protocolName = null;
    group.generationId = 0;
    group.leaderId = null;
    this.consumerMembership.restore(group, model);
    this.options.logger.info('upgraded a classic group to a consumer group', { group: group.groupId, members: model.members.size, epoch: model.groupEpoch });
    return this.store(group, records);
  }

  /**
   * Kafka 4.0's online downgrade, when `leaving` goes and only classic members remain (and the
   * policy allows it): the group becomes a classic group at its group epoch, each member holding
   * its target assignment, and rebalances so they rejoin as a classic group. Undefined when the
   * member should simply be removed.
   */
  private downgradeToClassic(group: Group, model: ConsumerGroupModel, leaving: ConsumerGroupMember): Promise<number> | undefined {
    if (group.consumer !== model || !downgradeEnabled(this.consumerConfig.migrationPolicy ?? 'bidirectional')) return undefined;
    if (model.members.size <= 1 || !model.allMembersUseClassicProtocolExcept(leaving.memberId)) return undefined;
    if (model.members.size - 1 > this.options.config.groupMaxSize) return undefined;
    const remaining = [...model.members.values()].filter((member) => member.memberId !== leaving.memberId);
    // A classic group needs one protocol every member supports (JoinGroup's checks make one likely, not certain).
    const common = remaining.map((member) => new Set(member.classic!.supportedProtocols.map(({ name }) => name))).reduce((a, b) => new Set([...a].filter((name) => b.has(name))));
    if (common.size === 0) return undefined;
    const records = consumerGroupTombstones(group.groupId, model);
    const members = classicMembersFromConsumerGroup(model, leaving.memberId);
    this.consumerMembership.shutdown(model);
    group.consumer = undefined;
    group.generationId = model.groupEpoch;
    group.protocolType = 'consumer';
    group.leaderId = null;
    for (const member of members) group.addMember(member);
    group.protocolName = group.selectProtocol();
    for (const member of members) {
      member.assignment = classicAssignment(model.targetAssignment.get(member.memberId) ?? new Map(), member.metadataFor(group.protocolName), this.options.image);
    }
    group.state = GroupState.stable;
    group.currentStateTimestampMs = this.options.clock.nowMs();
    records.push(groupMetadataRecord(group.groupId, group.toMetadataValue()));
    for (const member of group.members.values()) this.membership.scheduleSessionExpiry(group, member);
    this.membership.maybePrepareRebalance(group, `downgrade of group ${group.groupId} from consumer to classic`);
    this.options.logger.info('downgraded a consumer group to a classic group', { group: group.groupId, members: members.length, generation: group.generationId });
    return this.store(group, records);
  }

  /** An empty consumer group becomes a classic group, keeping its offsets. */
  private async convertToClassic(group: Group): Promise<number> {
    const stored = await this.store(group, [groupEpochRecord(group.groupId, null), targetAssignmentEpochRecord(group.groupId, null)]);
    if (stored !== ErrorCode.NONE) return stored;
    if (group.consumer !== undefined) this.consumerMembership.shutdown(group.consumer);
    group.consumer = undefined;
    group.protocolType = null;
    group.state = GroupState.empty;
    return ErrorCode.NONE;
  }

  // ---- KIP-932 share groups ----

  /** ShareGroupHeartbeat v1: join (epoch 0), heartbeat, or leave (-1) a share group. */
  async shareGroupHeartbeat(input: ShareHeartbeatInput): Promise<ShareHeartbeatOutcome> {
    const invalid = shareHeartbeatRequestProblem(input);
    if (invalid !== undefined) return shareHeartbeatError(ErrorCode.INVALID_REQUEST, invalid);
    const ready = await this.ready(input.groupId);
    if (ready !== ErrorCode.NONE) return shareHeartbeatError(ready);
    let model = this.shareGroups.get(input.groupId);
    if (model === undefined) {
      if (this.group(input.groupId) !== undefined) return shareHeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${input.groupId} is not a share group.`);
      if (input.memberEpoch !== 0) return shareHeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Share group ${input.groupId} not found.`);
      model = new ShareGroupModel(input.groupId);
      this.shareGroups.set(input.groupId, model);
    }
    return this.shareMembership.heartbeat(model, input);
  }

  async shareGroupDescribe(groupIds: readonly string[]): Promise<ShareGroupDescription[]> {
    const results: ShareGroupDescription[] = [];
    for (const groupId of groupIds) results.push(await this.describeShareGroup(groupId));
    return results;
  }

  private async describeShareGroup(groupId: string): Promise<ShareGroupDescription> {
    const fail = (errorCode: number, errorMessage: string | null = null) => undescribedGroup(groupId, errorCode, errorMessage);
    if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return fail(ready);
    const model = this.shareGroups.get(groupId);
    if (model === undefined) {
      if (this.group(groupId) !== undefined) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a share group.`);
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: model.state,
      groupEpoch: model.groupEpoch,
      assignmentEpoch: model.assignmentEpoch,
      assignorName: SIMPLE_ASSIGNOR_NAME,
      members: [...model.members.values()].map((member) => ({
        memberId: member.memberId,
        rackId: member.rackId,
        memberEpoch: member.memberEpoch,
        clientId: member.clientId,
        clientHost: member.clientHost,
        subscribedTopicNames: member.subscribedTopicNames,
        assignment: this.namedPartitions(member.assigned),
      })),
    };
  }

  private namedPartitions(partitions: TopicPartitions): { topicId: string; topicName: string; partitions: number[] }[] {
    return [...partitions]
      .filter(([, set]) => set.size > 0)
      .map(([topicId, set]) => ({ topicId, topicName: this.options.image.topicsById.get(topicId)?.name ?? '', partitions: [...set].sort((a, b) => a - b) }))
      .sort((a, b) => a.topicName.localeCompare(b.topicName));
  }

  /**
   * DescribeShareGroupOffsets (KIP-932, KIP-1226) for one group: the named partitions, or with
   * `topics` null every partition the group initialized (none for a group that is not a share
   * group: Kafka 4.2 answers that empty, without an error). The start offsets come from the
   * share-state persister, the lag also needs `endOffsets` (share-group-offsets.ts).
   */
  async describeShareGroupOffsets(groupId: string, topics: readonly ShareOffsetsTopicRequest[] | null, endOffsets?: PartitionEndOffsets): Promise<ShareGroupOffsetsResult> {
    const sources = { image: this.options.image, persister: this.options.shareStatePersister, endOffsets };
    if (topics !== null) {
      // As Kafka: named partitions are read from the share coordinators without the group's state.
      const { known, unknown } = requestedPartitions(this.options.image, topics);
      return describeShareOffsets(sources, groupId, known, unknown);
    }
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return { groupId, errorCode: ready, errorMessage: null, topics: [] };
    return describeShareOffsets(sources, groupId, initializedPartitions(this.options.image, this.shareGroups.get(groupId)?.initialized));
  }

  /**
   * DeleteShareGroupOffsets (KIP-932): the share-partition states of `topicNames` for a share group
   * that has no members (GROUP_ID_NOT_FOUND for a missing group or one of another type,
   * NON_EMPTY_GROUP with members, as Kafka).
   */
  async deleteShareGroupOffsets(groupId: string, topicNames: readonly string[]): Promise<DeleteShareOffsetsResult> {
    const fail = (errorCode: number, errorMessage: string | null = null): DeleteShareOffsetsResult => ({ errorCode, errorMessage, responses: [] });
    if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return fail(ready);
    const model = this.shareGroups.get(groupId);
    if (model === undefined) return fail(ErrorCode.GROUP_ID_NOT_FOUND, this.group(groupId) !== undefined ? `Group ${groupId} is not a share group.` : `Group ${groupId} not found.`);
    if (model.members.size > 0) return fail(ErrorCode.NON_EMPTY_GROUP, `Share group ${groupId} is not empty.`);
    return deleteShareOffsets(model, this.options.image, this.options.shareStatePersister, topicNames, (records) => this.storeFor(groupId, records));
  }

  /** DeleteGroups of a share group: refused while it has members; its share-partition states go first. */
  private async deleteShareGroup(model: ShareGroupModel): Promise<number> {
    if (model.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    const deleted = await this.shareMembership.delete(model);
    if (deleted !== ErrorCode.NONE) return deleted;
    if (model.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    if (this.shareGroups.get(model.groupId) === model) this.shareGroups.delete(model.groupId);
    model.deleted = true;
    model.stopTimers();
    return ErrorCode.NONE;
  }

  async consumerGroupDescribe(groupIds: readonly string[]): Promise<ConsumerGroupDescription[]> {
    const results: ConsumerGroupDescription[] = [];
    for (const groupId of groupIds) results.push(await this.describeConsumerGroup(groupId));
    return results;
  }

  private async describeConsumerGroup(groupId: string): Promise<ConsumerGroupDescription> {
    const fail = (errorCode: number, errorMessage: string | null = null) => undescribedGroup(groupId, errorCode, errorMessage);
    if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return fail(ready);
    const group = this.group(groupId);
    if (this.shareGroups.has(groupId)) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
    if (group === undefined || group.is(GroupState.dead)) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
    const model = group.consumer;
    if (model === undefined) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
    const named = (partitions: TopicPartitions) =>
      [...partitions]
        .filter(([, set]) => set.size > 0)
        .map(([topicId, set]) => ({ topicId, topicName: this.options.image.topicsById.get(topicId)?.name ?? '', partitions: [...set].sort((a, b) => a - b) }))
        .sort((a, b) => a.topicName.localeCompare(b.topicName));
    const defaultAssignor = this.consumerMembership.defaultAssignorName;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: model.state,
      groupEpoch: model.groupEpoch,
      assignmentEpoch: model.assignmentEpoch,
      assignorName: model.preferredAssignor(defaultAssignor),
      members: [...model.members.values()].map((member) => ({
        memberId: member.memberId,
        instanceId: member.instanceId,
        rackId: member.rackId,
        memberEpoch: member.memberEpoch,
        clientId: member.clientId,
        clientHost: member.clientHost,
        subscribedTopicNames: member.subscribedTopicNames,
        subscribedTopicRegex: member.subscribedTopicRegex,
        assignment: named(member.assigned),
        targetAssignment: named(model.targetAssignment.get(member.memberId) ?? new Map()),
        usesClassicProtocol: member.usesClassicProtocol,
      })),
    };
  }

  /** Whether any member of a consumer group subscribes to `topic` (by name or regex). */
  private consumerGroupSubscribesTo(model: ConsumerGroupModel, topic: string): boolean {
    const topicId = this.options.image.topic(topic)?.topicId;
    for (const member of model.members.values()) {
      if (member.subscribedTopicNames.includes(topic)) return true;
      if (topicId !== undefined && member.subscribedTopicRegex !== null && this.consumerMembership.subscribedTopicIds(member).has(topicId)) return true;
    }
    return false;
  }

  // ---- Offsets ----

  /** OffsetCommit: one error code per offset, in request order. */
  async commitOffsets(input: OffsetCommitInput): Promise<number[]> {
    const all = (errorCode: number) => input.offsets.map(() => errorCode);
    // As Kafka, partitions that do not exist are answered before the coordinator: a commit with no
    // partition that exists never reaches a group, so it neither creates one nor checks generations.
    const unknown = input.offsets.map(({ topic, partition }) => this.options.image.partition(topic, partition) === undefined);
    if (unknown.every(Boolean)) return all(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const ready = await this.ready(input.groupId);
    if (ready !== ErrorCode.NONE) return all(ready);
    // As Kafka: a share group keeps no committed offsets (its progress is share-partition state).
    if (this.shareGroups.has(input.groupId)) return all(ErrorCode.GROUP_ID_NOT_FOUND);
    const existing = this.group(input.groupId);
    if (!existing && input.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
    const group = existing ?? this.getOrCreateGroup(input.groupId);
    const problem = this.commitProblem(group, input);
    if (problem !== ErrorCode.NONE) return all(problem);
    const member = group.members.get(input.memberId);
    if (member) this.membership.scheduleSessionExpiry(group, member);
    const consumerMember = group.consumer?.members.get(input.memberId);
    if (consumerMember) this.consumerMembership.scheduleSessionExpiry(group, group.consumer!, consumerMember);
    return this.storeOffsets(group, input);
  }

  private commitProblem(group: Group, input: OffsetCommitInput): number {
    if (group.is(GroupState.dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.consumer !== undefined) return consumerCommitProblem(group.consumer, input.memberId, input.generationId, input.apiVersion ?? 9, false);
    // Commits from outside the group protocol are accepted only while no member is active.
    if (input.generationId < 0 && group.is(GroupState.empty)) return ErrorCode.NONE;
    const problem = this.membership.memberProblem(group, input.memberId, input.groupInstanceId, input.generationId);
    if (problem !== ErrorCode.NONE) return problem;
    if (group.is(GroupState.completingRebalance)) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  private async storeOffsets(group: Group, input: OffsetCommitInput): Promise<number[]> {
    const nowMs = this.options.clock.nowMs();
    const errors: number[] = [];
    const records: OffsetsRecord[] = [];
    const accepted: { topic: string; partition: number; committed: CommittedOffset }[] = [];
    for (const entry of input.offsets) {
      const errorCode = this.offsetProblem(entry.topic, entry.partition, entry.metadata);
      errors.push(errorCode);
      if (errorCode !== ErrorCode.NONE) continue;
      const committed: CommittedOffset = {
        offset: entry.offset,
        leaderEpoch: entry.leaderEpoch,
        metadata: entry.metadata ?? '',
        commitTimestampMs: nowMs,
        expireTimestampMs: input.retentionTimeMs >= 0 ? nowMs + input.retentionTimeMs : -1,
      };
      accepted.push({ topic: entry.topic, partition: entry.partition, committed });
      records.push(offsetCommitRecord(group.groupId, entry.topic, entry.partition, committed));
    }
    if (records.length === 0) return errors;
    const stored = await this.store(group, records);
    if (stored !== ErrorCode.NONE) return errors.map((errorCode) => (errorCode === ErrorCode.NONE ? stored : errorCode));
    for (const { topic, partition, committed } of accepted) group.offsets.set(offsetKey(topic, partition), { topic, partition, committed });
    if (group.is(GroupState.dead)) this.groups.set(group.groupId, group);
    return errors;
  }

  /**
   * TxnOffsetCommit: writes the offsets as a transactional batch of the producer (no sequence, as
   * Kafka's coordinator writes it) and keeps them pending until the transaction's marker arrives.
   */
  async commitTransactionalOffsets(input: TxnOffsetCommitInput): Promise<number[]> {
    const all = (errorCode: number) => input.offsets.map(() => errorCode);
    const ready = await this.ready(input.groupId);
    if (ready !== ErrorCode.NONE) return all(ready);
    if (this.shareGroups.has(input.groupId)) return all(ErrorCode.GROUP_ID_NOT_FOUND);
    const group = this.group(input.groupId);
    if (input.generationId >= 0) {
      if (!group) return all(ErrorCode.ILLEGAL_GENERATION);
      const problem =
        group.consumer !== undefined
          ? consumerCommitProblem(group.consumer, input.memberId, input.generationId, Infinity, true)
          : this.membership.memberProblem(group, input.memberId, input.groupInstanceId, input.generationId);
      if (problem !== ErrorCode.NONE) return all(problem);
    }
    const nowMs = this.options.clock.nowMs();
    const errors = input.offsets.map((entry) => this.offsetProblem(entry.topic, entry.partition, entry.metadata));
    const pending: PendingOffset[] = [];
    input.offsets.forEach((entry, index) => {
      if (errors[index] !== ErrorCode.NONE) return;
      const committed: CommittedOffset = { offset: entry.offset, leaderEpoch: entry.leaderEpoch, metadata: entry.metadata ?? '', commitTimestampMs: nowMs, expireTimestampMs: -1 };
      pending.push({ type: 'offset', group: input.groupId, topic: entry.topic, partition: entry.partition, offset: committed });
    });
    if (pending.length === 0) return errors;
    const partition = this.partitionFor(input.groupId);
    const records = pending.map((entry) => offsetCommitRecord(entry.group, entry.topic, entry.partition, entry.offset));
    const batch = buildRecordBatchSync(records.map(({ key, value }) => ({ key, value, timestamp: nowMs })), {
      baseTimestamp: nowMs,
      producerId: input.producerId,
      producerEpoch: input.producerEpoch,
      transactional: true,
    });
    try {
      await this.options.partitions.append(partition, batch);
    } catch (error) {
      const errorCode = (error as { errorCode?: number }).errorCode === ErrorCode.INVALID_PRODUCER_EPOCH ? ErrorCode.PRODUCER_FENCED : coordinatorAppendError(error);
      return errors.map((code) => (code === ErrorCode.NONE ? errorCode : code));
    }
    if (!this.pendingTransactionalOffsets.add(input.producerId, partition, pending)) return all(ErrorCode.UNKNOWN_SERVER_ERROR);
    return errors;
  }

  /**
   * Writes a transaction marker to a `__consumer_offsets` partition (the transaction coordinator
   * calls this) and then commits or drops the producer's pending offsets there.
   */
  async writeTransactionMarker(partition: number, producerId: number, producerEpoch: number, committed: boolean, coordinatorEpoch: number): Promise<void> {
    const batch = buildControlBatchSync({
      type: committed ? ControlRecordType.commit : ControlRecordType.abort,
      producerId,
      producerEpoch,
      coordinatorEpoch,
      timestamp: this.options.clock.nowMs(),
    });
    await this.options.partitions.append(partition, batch);
    // A load of the partition under way (its leadership just moved here) has taken the
    // transaction's offsets as pending, and either replays this marker too or finishes before it:
    // waited for, so that the groups it restores cannot replace the offsets committed here (they
    // were once lost so, and a consumer of the group read the offset from before the transaction;
    // chaos campaign, 2026-12-07).
    await this.loads.get(partition)?.catch(() => undefined);
    const pending = this.pendingTransactionalOffsets.take(producerId, partition);
    if (!committed) return;
    for (const entry of pending) {
      const group = this.getOrCreateGroup(entry.group);
      const key = offsetKey(entry.topic, entry.partition);
      if (entry.offset === null) group.offsets.delete(key);
      else group.offsets.set(key, { topic: entry.topic, partition: entry.partition, committed: entry.offset });
    }
  }

  isOffsetsPartitionHosted(partition: number): boolean {
    return this.options.partitions.isHosted(partition);
  }

  private offsetProblem(topic: string, partition: number, metadata: string | null): number {
    if (this.options.image.partition(topic, partition) === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (metadata !== null && Buffer.byteLength(metadata) > this.options.config.offsetMetadataMaxBytes) return ErrorCode.OFFSET_METADATA_TOO_LARGE;
    return ErrorCode.NONE;
  }

  /**
   * OffsetFetch for `topics`, or every committed offset of the group when `topics` is null. With
   * `requireStable` (v7+, KIP-447), a partition that an open transaction holds an offset for
   * answers UNSTABLE_OFFSET_COMMIT instead of its committed offset, so a read_committed consumer
   * retries rather than starting from the offset the transaction is about to replace.
   */
  async fetchOffsets(groupId: string, topics: { topic: string; partitions: number[] }[] | null, requireStable = false, member?: FetchingMember): Promise<OffsetFetchResult> {
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return { errorCode: ready, topics: [] };
    if (this.shareGroups.has(groupId)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    const group = this.group(groupId);
    // OffsetFetch v9+ from a KIP-848 member: it must still be in the group at its epoch.
    if (group?.consumer !== undefined && member !== undefined && member.memberId !== null && member.memberEpoch >= 0) {
      const known = group.consumer.members.get(member.memberId);
      if (known === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, topics: [] };
      if (known.memberEpoch !== member.memberEpoch) return { errorCode: ErrorCode.STALE_MEMBER_EPOCH, topics: [] };
    }
    const stable = (topic: string, fetched: FetchedOffset): FetchedOffset =>
      requireStable && this.pendingTransactionalOffsets.hasPending(groupId, topic, fetched.partition) ? unstableOffset(fetched.partition) : fetched;
    if (topics === null) {
      const all = group ? allOffsets(group) : [];
      return { errorCode: ErrorCode.NONE, topics: all.map(({ topic, partitions }) => ({ topic, partitions: partitions.map((fetched) => stable(topic, fetched)) })) };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map((partition) => stable(topic, fetchedOffset(partition, group?.offsets.get(offsetKey(topic, partition))?.committed))),
      })),
    };
  }

  // ---- Administration ----

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const described: GroupDescription = { errorCode: ErrorCode.NONE, groupId, state: GroupState.dead, protocolType: '', protocolName: '', members: [] };
    if (groupId === '') return { ...described, errorCode: ErrorCode.INVALID_GROUP_ID };
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return { ...described, errorCode: ready };
    const group = this.group(groupId);
    // As Kafka 4: DescribeGroups describes classic groups (consumer groups have ConsumerGroupDescribe);
    // anything else is Dead, with GROUP_ID_NOT_FOUND and a message that v6+ carries (KIP-1043).
    if (this.shareGroups.has(groupId)) return { ...described, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a classic group.` };
    if (!group) return { ...described, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` };
    if (group.consumer !== undefined) return { ...described, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a classic group.` };
    const stable = group.is(GroupState.stable);
    return {
      ...described,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolName: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        metadata: stable && group.protocolName !== null ? member.metadataFor(group.protocolName) : EMPTY_ASSIGNMENT,
        assignment: stable ? member.assignment : EMPTY_ASSIGNMENT,
      })),
    };
  }

  /** Groups on hosted partitions, optionally only those in `states` (compared case-insensitively, as Kafka). */
  listGroups(states: readonly string[] = [], types: readonly string[] = []): { errorCode: number; groups: ListedGroup[] } {
    const wanted = new Set(states.map((state) => state.toLowerCase()));
    const wantedTypes = new Set(types.map((type) => type.toLowerCase()));
    const groups: ListedGroup[] = [];
    for (const group of this.groups.values()) {
      if (group.is(GroupState.dead)) continue;
      if (wanted.size > 0 && !wanted.has(group.state.toLowerCase())) continue;
      if (wantedTypes.size > 0 && !wantedTypes.has(group.type)) continue;
      groups.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state, type: group.type });
    }
    for (const model of this.shareGroups.values()) {
      if (wanted.size > 0 && !wanted.has(model.state.toLowerCase())) continue;
      if (wantedTypes.size > 0 && !wantedTypes.has('share')) continue;
      groups.push({ groupId: model.groupId, protocolType: 'share', state: model.state, type: 'share' });
    }
    return { errorCode: ErrorCode.NONE, groups };
  }

  async deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const results: { groupId: string; errorCode: number }[] = [];
    for (const groupId of groupIds) results.push({ groupId, errorCode: await this.deleteGroup(groupId) });
    return results;
  }

  private async deleteGroup(groupId: string): Promise<number> {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return ready;
    const share = this.shareGroups.get(groupId);
    if (share !== undefined) return this.deleteShareGroup(share);
    const group = this.group(groupId);
    if (!group || group.is(GroupState.dead)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.empty)) return ErrorCode.NON_EMPTY_GROUP;
    const records = [...group.offsets.values()].map(({ topic, partition }) => offsetCommitRecord(groupId, topic, partition, null));
    if (group.consumer !== undefined) records.push(targetAssignmentEpochRecord(groupId, null), groupEpochRecord(groupId, null));
    else records.push(groupMetadataRecord(groupId, null));
    const stored = await this.store(group, records);
    if (stored !== ErrorCode.NONE) return stored;
    if (!group.is(GroupState.empty)) return ErrorCode.NON_EMPTY_GROUP;
    this.markDead(group);
    return ErrorCode.NONE;
  }

  private markDead(group: Group): void {
    this.shutdownGroup(group, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    group.consumer = undefined;
    group.offsets.clear();
    group.transitionTo(GroupState.dead, this.options.clock.nowMs());
    this.groups.delete(group.groupId);
  }

  /** OffsetDelete: refuses offsets of topics the group's members still subscribe to. */
  async deleteOffsets(groupId: string, topics: { topic: string; partitions: number[] }[]): Promise<PartitionErrors> {
    const fail = (errorCode: number): PartitionErrors => ({ errorCode, topics: [] });
    if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const ready = await this.ready(groupId);
    if (ready !== ErrorCode.NONE) return fail(ready);
    if (this.shareGroups.has(groupId)) return fail(ErrorCode.GROUP_ID_NOT_FOUND);
    const group = this.group(groupId);
    if (!group || group.is(GroupState.dead)) return fail(ErrorCode.GROUP_ID_NOT_FOUND);
    const consumerGroup = group.protocolType === 'consumer' || group.protocolType === null || group.protocolType === '';
    if (!group.is(GroupState.empty) && !consumerGroup) return fail(ErrorCode.NON_EMPTY_GROUP);
    const records: OffsetsRecord[] = [];
    const deleted: string[] = [];
    const result: PartitionErrors = { errorCode: ErrorCode.NONE, topics: [] };
    for (const { topic, partitions } of topics) {
      const subscribed = group.consumer !== undefined ? this.consumerGroupSubscribesTo(group.consumer, topic) : !group.is(GroupState.empty) && group.isSubscribedTo(topic, subscribedTopics);
      result.topics.push({
        topic,
        partitions: partitions.map((partition) => {
          if (subscribed) return { partition, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          const key = offsetKey(topic, partition);
          if (group.offsets.has(key)) {
            records.push(offsetCommitRecord(groupId, topic, partition, null));
            deleted.push(key);
          }
          return { partition, errorCode: ErrorCode.NONE };
        }),
      });
    }
    if (records.length === 0) return result;
    const stored = await this.store(group, records);
    if (stored !== ErrorCode.NONE) return fail(stored);
    for (const key of deleted) group.offsets.delete(key);
    return result;
  }

  // ---- Records ----

  private store(group: Group, records: OffsetsRecord[]): Promise<number> {
    return this.storeFor(group.groupId, records);
  }

  private async storeFor(groupId: string, records: OffsetsRecord[]): Promise<number> {
    const partition = this.partitionFor(groupId);
    if (this.stopped || !this.options.partitions.isHosted(partition)) return ErrorCode.NOT_COORDINATOR;
    const nowMs = this.options.clock.nowMs();
    const batch = buildRecordBatchSync(
      records.map(({ key, value }) => ({ key, value, timestamp: nowMs })),
      { baseTimestamp: nowMs },
    );
    try {
      await this.options.partitions.append(partition, batch);
      return ErrorCode.NONE;
    } catch (error) {
      this.options.logger.warn('writing to __consumer_offsets failed', { group: groupId, partition, error });
      return coordinatorAppendError(error);
    }
  }

  private load(partition: number): Promise<void> {
    let loading = this.loads.get(partition);
    if (!loading) {
      const token = {};
      this.loadTokens.set(partition, token);
      loading = this.replay(partition, token);
      this.loads.set(partition, loading);
    }
    return loading;
  }

  /**
   * This broker no longer leads `partition` of `__consumer_offsets` (another broker coordinates its
   * groups now): the groups go, their waiting requests are answered NOT_COORDINATOR, and leading
   * it again loads them afresh from the log. A load still under way restores nothing.
   */
  unload(partition: number): void {
    this.loadTokens.delete(partition);
    if (!this.loads.delete(partition)) return;
    let unloaded = 0;
    for (const [groupId, group] of [...this.groups]) {
      if (this.partitionFor(groupId) !== partition) continue;
      this.shutdownGroup(group, ErrorCode.NOT_COORDINATOR);
      this.groups.delete(groupId);
      unloaded++;
    }
    for (const [groupId, model] of [...this.shareGroups]) {
      if (this.partitionFor(groupId) !== partition) continue;
      model.stopTimers();
      this.shareGroups.delete(groupId);
      unloaded++;
    }
    this.pendingTransactionalOffsets.dropPartition(partition);
    this.options.logger.info('unloaded __consumer_offsets partition', { partition, groups: unloaded });
  }

  /** Rebuilds the groups of one partition from its records: the last record per key wins. */
  private async replay(partition: number, token: object): Promise<void> {
    const offsets = new Map<string, Map<string, DecodedOffsetsRecord & { type: 'offset' }>>();
    const metadata = new Map<string, (DecodedOffsetsRecord & { type: 'group' })['metadata']>();
    const consumerGroups = new Map<string, ConsumerGroupReplay>();
    const shareGroups = new Map<string, ShareGroupReplay>();
    // Offsets of transactions with no marker yet: the coordinator's own once the groups are restored.
    const pending = new PendingTransactionalOffsets();
    let nextOffset = 0;
    let count = 0;
    for (;;) {
      const { chunks, highWatermark } = await this.options.partitions.read(partition, nextOffset);
      if (chunks.length === 0 || nextOffset >= highWatermark) break;
      for (const chunk of chunks) {
        for (const span of recordBatchSpans(chunk)) {
          const batch = decodeRecordBatchSync(chunk, span.position);
          nextOffset = Math.max(nextOffset, readLastOffset(chunk, span.position) + 1);
          if (batch.control) {
            this.replayTransactionMarker(partition, batch, offsets, pending);
            continue;
          }
          for (const record of batch.records) {
            if (record.key === null) continue;
            const share = decodeShareGroupRecord(record.key, record.value);
            if (share !== undefined) {
              count++;
              let replay = shareGroups.get(share.group);
              if (replay === undefined) shareGroups.set(share.group, (replay = new ShareGroupReplay()));
              replay.apply(share);
              continue;
            }
            const decoded = decodeOffsetsRecord(record.key, record.value);
            if (!decoded) continue;
            count++;
            if (batch.transactional && decoded.type === 'offset') pending.add(batch.producerId, partition, [decoded]);
            else if (decoded.type === 'group') metadata.set(decoded.group, decoded.metadata);
            else if (decoded.type === 'consumer') {
              let replay = consumerGroups.get(decoded.group);
              if (replay === undefined) consumerGroups.set(decoded.group, (replay = new ConsumerGroupReplay()));
              replay.apply(decoded.record);
            } else {
              let byPartition = offsets.get(decoded.group);
              if (!byPartition) offsets.set(decoded.group, (byPartition = new Map()));
              byPartition.set(offsetKey(decoded.topic, decoded.partition), decoded);
            }
          }
        }
      }
    }
    // Unloaded while replaying (leadership moved on): this broker no longer coordinates these groups.
    if (this.loadTokens.get(partition) !== token) return;
    this.pendingTransactionalOffsets.absorb(pending);
    const groupIds = new Set([...metadata.keys(), ...offsets.keys(), ...consumerGroups.keys()]);
    for (const groupId of groupIds) this.restoreGroup(groupId, metadata.get(groupId) ?? null, offsets.get(groupId), consumerGroups.get(groupId)?.restore());
    let restoredShareGroups = 0;
    for (const [groupId, replay] of shareGroups) {
      const model = replay.restore(groupId);
      // A group id holds one type at a time; a share group that outlived its classic namesake's records wins no tie here.
      if (model === undefined || this.groups.has(groupId)) continue;
      this.shareGroups.set(groupId, model);
      this.shareMembership.restore(model);
      restoredShareGroups++;
    }
    if (count > 0) this.options.logger.info('loaded __consumer_offsets partition', { partition, records: count, groups: groupIds.size + restoredShareGroups });
  }

  /** A marker in the replayed log: the producer's pending offsets before it commit or vanish. */
  private replayTransactionMarker(
    partition: number,
    batch: { producerId: number; records: { key: Buffer | null; value: Buffer | null }[] },
    offsets: Map<string, Map<string, DecodedOffsetsRecord & { type: 'offset' }>>,
    pending: PendingTransactionalOffsets,
  ): void {
    const record = batch.records[0];
    const marker = record === undefined ? null : decodeEndTransactionMarker(record);
    if (marker === null) return;
    const ended = pending.take(batch.producerId, partition);
    if (marker.type !== ControlRecordType.commit) return;
    for (const entry of ended) {
      let byPartition = offsets.get(entry.group);
      if (!byPartition) offsets.set(entry.group, (byPartition = new Map()));
      byPartition.set(offsetKey(entry.topic, entry.partition), entry);
    }
  }

  private restoreGroup(
    groupId: string,
    value: (DecodedOffsetsRecord & { type: 'group' })['metadata'],
    offsets: Map<string, DecodedOffsetsRecord & { type: 'offset' }> | undefined,
    consumer: ConsumerGroupModel | undefined,
  ): void {
    const live = [...(offsets?.values() ?? [])].filter((entry) => entry.offset !== null);
    if (value === null && live.length === 0 && consumer === undefined) return;
    const nowMs = this.options.clock.nowMs();
    const group = new Group(groupId, nowMs);
    for (const entry of live) group.offsets.set(offsetKey(entry.topic, entry.partition), { topic: entry.topic, partition: entry.partition, committed: entry.offset! });
    if (consumer !== undefined) {
      group.consumer = consumer;
      group.protocolType = 'consumer';
      this.consumerMembership.restore(group, consumer);
    } else if (value !== null) {
      group.generationId = value.generation;
      group.protocolType = value.protocolType === '' ? null : value.protocolType;
      group.protocolName = value.protocol;
      if (value.currentStateTimestamp !== undefined && value.currentStateTimestamp >= 0n) group.currentStateTimestampMs = Number(value.currentStateTimestamp);
      for (const stored of value.members) {
        const protocols = value.protocol === null ? [] : [{ name: value.protocol, metadata: stored.subscription }];
        const member = new GroupMember(
          stored.memberId,
          stored.groupInstanceId ?? null,
          stored.clientId,
          stored.clientHost,
          stored.rebalanceTimeout !== undefined && stored.rebalanceTimeout >= 0 ? stored.rebalanceTimeout : stored.sessionTimeout,
          stored.sessionTimeout,
          value.protocolType,
          protocols,
        );
        member.assignment = stored.assignment;
        group.addMember(member);
      }
      group.leaderId = value.leader;
      // A loaded group with members is Stable; they keep it only by heartbeating within their session timeouts.
      group.state = group.isEmpty ? GroupState.empty : GroupState.stable;
      for (const member of group.members.values()) this.membership.scheduleSessionExpiry(group, member);
    }
    this.groups.set(groupId, group);
  }

  // ---- Offset expiry ----

  private scheduleExpiry(): void {
    if (this.stopped) return;
    this.cancelExpiry = this.options.clock.schedule(this.options.config.offsetsRetentionCheckIntervalMs, () => {
      void this.expireOffsets().finally(() => this.scheduleExpiry());
    });
  }

  /**
   * Deletes offsets that outlived offsets.retention.minutes: for a consumer group counted from the
   * moment it became empty (never while it has members), for a standalone committer from the
   * commit; an explicit expire timestamp from OffsetCommit v2-4 wins. Empty groups left with no
   * offsets are removed.
   */
  async expireOffsets(): Promise<void> {
    const nowMs = this.options.clock.nowMs();
    for (const group of [...this.groups.values()]) {
      if (!group.is(GroupState.empty)) continue;
      const expired = [...group.offsets.entries()].filter(([, { committed }]) => this.isExpired(group, committed, nowMs));
      const records = expired.map(([, { topic, partition }]) => offsetCommitRecord(group.groupId, topic, partition, null));
      const removeGroup = expired.length === group.offsets.size;
      if (removeGroup && group.consumer !== undefined) records.push(targetAssignmentEpochRecord(group.groupId, null), groupEpochRecord(group.groupId, null));
      else if (removeGroup) records.push(groupMetadataRecord(group.groupId, null));
      if (records.length === 0) continue;
      if ((await this.store(group, records)) !== ErrorCode.NONE) continue;
      for (const [key] of expired) group.offsets.delete(key);
      if (removeGroup && group.is(GroupState.empty) && group.offsets.size === 0) this.markDead(group);
      this.options.logger.info('expired offsets', { group: group.groupId, offsets: expired.length, groupRemoved: removeGroup });
    }
  }

  private isExpired(group: Group, committed: CommittedOffset, nowMs: number): boolean {
    if (committed.expireTimestampMs >= 0) return nowMs >= committed.expireTimestampMs;
    const baseMs = group.protocolType === null ? committed.commitTimestampMs : group.currentStateTimestampMs;
    return nowMs - baseMs >= this.options.config.offsetsRetentionMs;
  }
}

function fetchedOffset(partition: number, committed: CommittedOffset | undefined): FetchedOffset {
  if (!committed) return { partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };
  return { partition, offset: committed.offset, leaderEpoch: committed.leaderEpoch, metadata: committed.metadata, errorCode: ErrorCode.NONE };
}

function unstableOffset(partition: number): FetchedOffset {
  return { partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT };
}

function allOffsets(group: Group): OffsetFetchResult['topics'] {
  const byTopic = new Map<string, FetchedOffset[]>();
  for (const { topic, partition, committed } of group.offsets.values()) {
    let partitions = byTopic.get(topic);
    if (!partitions) byTopic.set(topic, (partitions = []));
    partitions.push(fetchedOffset(partition, committed));
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a.partition - b.partition) }));
}

/**
 * The member checks of OffsetCommit and TxnOffsetCommit for a KIP-848 consumer group: commits from
 * outside the group (no member, epoch -1) only while it has no members; a member must commit with
 * OffsetCommit v9+ at its current epoch (STALE_MEMBER_EPOCH otherwise; ILLEGAL_GENERATION for a
 * transactional commit, whose response has no such code in older clients' eyes).
 */
function consumerCommitProblem(model: ConsumerGroupModel, memberId: string, memberEpoch: number, apiVersion: number, transactional: boolean): number {
  if (memberEpoch < 0 && memberId === '' && model.members.size === 0) return ErrorCode.NONE;
  const member = model.members.get(memberId);
  if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
  // A member speaking the classic protocol commits as classic members do: with its generation (its member epoch).
  if (!transactional && !member.usesClassicProtocol && apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
  if (memberEpoch !== member.memberEpoch) return transactional || member.usesClassicProtocol ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/** Kafka's defaults for consumer groups: 45 s sessions, 5 s heartbeats, the uniform then the range assignor. */
export function defaultConsumerConfig(): ConsumerMembershipConfig {
  return { sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000, maxSize: 2_147_483_647, assignors: [uniformAssignor, rangeAssignor] };
}

/** A ConsumerGroupDescribe / ShareGroupDescribe answer for a group that could not be described. */
function undescribedGroup(groupId: string, errorCode: number, errorMessage: string | null) {
  return { errorCode, errorMessage, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [] };
}
