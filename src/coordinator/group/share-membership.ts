// ShareGroupHeartbeat (KIP-932, Kafka 4.2) over one share group: members join with epoch 0 and a
// member id of their own, leave with -1, and otherwise heartbeat with their epoch. A change of
// membership, subscription or subscribed topics bumps the group epoch; the "simple" assignor then
// computes the target assignment, and the member takes its target at once. Only partitions whose
// share-partition state was initialized are assignable: a heartbeat asks the share-state persister
// to initialize the subscribed partitions it has not yet initialized, and waits for the answer
// (Conveyor's choice; Kafka answers first and assigns them on a later heartbeat), so a new group's
// first heartbeat already carries its partitions. Every change is written to `__consumer_offsets`
// before the member hears of it; a member silent for its session timeout is removed.
import type { Clock } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import type { ShareStateKey, ShareStatePersister } from '../share/share-state-persister.js';
import { type TopicPartitions, fromTopicPartitions, samePartitions } from './consumer-group.js';
import type { OffsetsRecord } from './group-records.js';
import { type AssignableTopics, type ShareAssignorMember, simpleAssign } from './share-assignor.js';
import { MAX_SHARE_MEMBER_ID_LENGTH, ShareGroupMember, type ShareGroupModel, addPartition, metadataHash, removePartition } from './share-group.js';
import {
  shareCurrentAssignmentRecord,
  shareGroupEpochRecord,
  shareGroupTombstones,
  shareMemberMetadataRecord,
  shareMemberTombstones,
  shareStatePartitionsRecord,
  shareTargetAssignmentEpochRecord,
  shareTargetAssignmentMemberRecord,
} from './share-group-records.js';

export const SHARE_JOIN_MEMBER_EPOCH = 0;
export const SHARE_LEAVE_MEMBER_EPOCH = -1;

export interface ShareHeartbeatInput {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  /** Null: unchanged. */
  rackId: string | null;
  /** Null: unchanged (a full request sends them). */
  subscribedTopicNames: string[] | null;
  clientId: string;
  clientHost: string;
}

export interface ShareHeartbeatOutcome {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

export function shareHeartbeatError(errorCode: number, errorMessage: string | null = null): ShareHeartbeatOutcome {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

/** The request checks Kafka makes before it looks at the group: INVALID_REQUEST with a reason. */
export function shareHeartbeatRequestProblem(input: ShareHeartbeatInput): string | undefined {
  // Kafka's KafkaApis checks the member id first (empty, or longer than a printed Uuid), then the coordinator the rest.
  if (input.memberId === '' || input.memberId.length > MAX_SHARE_MEMBER_ID_LENGTH) return 'Invalid member id in the request.';
  if (input.groupId === '') return "GroupId can't be empty.";
  if (input.rackId === '') return "RackId can't be empty.";
  if (input.memberEpoch === SHARE_JOIN_MEMBER_EPOCH) {
    if (input.subscribedTopicNames === null || input.subscribedTopicNames.length === 0) return 'SubscribedTopicNames must be set in first request.';
  } else if (input.memberEpoch < SHARE_LEAVE_MEMBER_EPOCH) {
    return 'MemberEpoch is invalid.';
  }
  return undefined;
}

export interface ShareMembershipConfig {
  /** group.share.session.timeout.ms */
  sessionTimeoutMs: number;
  /** group.share.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
  /** group.share.max.size */
  maxSize: number;
  /** group.share.initialize.retry.interval.ms: how long an unanswered initialization waits before it is asked again. */
  initializeRetryIntervalMs: number;
}

/** Kafka 4.2's defaults. */
export function defaultShareConfig(): ShareMembershipConfig {
  return { sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000, maxSize: 200, initializeRetryIntervalMs: 30_000 };
}

/** Per-group overrides (the group configs share.session.timeout.ms and share.heartbeat.interval.ms). */
export type ShareGroupConfigLookup = (groupId: string) => { sessionTimeoutMs?: number; heartbeatIntervalMs?: number };

/** Share-state error codes that mean the state is gone already: a deletion has nothing left to do. */
const ALREADY_DELETED = new Set<number>([ErrorCode.GROUP_ID_NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);

function partitionId(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

/** What share membership needs from the coordinator: time, logging, and durable writes to the group's partition. */
export interface ShareGroupContext {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Appends `records` to the group's `__consumer_offsets` partition; NONE once durable. */
  store(groupId: string, records: OffsetsRecord[]): Promise<number>;
}

export class ShareGroupMembership {
  constructor(
    private readonly context: ShareGroupContext,
    private readonly image: MetadataImage,
    private readonly config: ShareMembershipConfig,
    private readonly persister: ShareStatePersister | undefined,
    private readonly groupConfig: ShareGroupConfigLookup | undefined,
    /** Whether the coordinator still holds this very model (not unloaded, deleted or replaced). */
    private readonly isLive: (model: ShareGroupModel) => boolean,
  ) {}

  heartbeatIntervalMs(groupId: string): number {
    return this.groupConfig?.(groupId).heartbeatIntervalMs ?? this.config.heartbeatIntervalMs;
  }

  sessionTimeoutMs(groupId: string): number {
    return this.groupConfig?.(groupId).sessionTimeoutMs ?? this.config.sessionTimeoutMs;
  }

  async heartbeat(model: ShareGroupModel, input: ShareHeartbeatInput): Promise<ShareHeartbeatOutcome> {
    if (input.memberEpoch === SHARE_LEAVE_MEMBER_EPOCH) return this.leave(model, input);
    const joining = input.memberEpoch === SHARE_JOIN_MEMBER_EPOCH;
    let member = model.members.get(input.memberId);
    const isNew = member === undefined;
    if (member === undefined) {
      if (!joining) return shareHeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${input.memberId} is not a member of group ${input.groupId}.`);
      if (model.members.size >= this.config.maxSize) return shareHeartbeatError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The share group has reached its maximum capacity of ${this.config.maxSize} members.`);
      member = new ShareGroupMember(input.memberId);
    } else if (!joining) {
      const fenced = fencedProblem(member, input.memberEpoch);
      if (fenced !== undefined) return shareHeartbeatError(ErrorCode.FENCED_MEMBER_EPOCH, fenced);
    }
    const before = member.assigned;
    const records: OffsetsRecord[] = [];
    const update = updateMember(member, input);
    if (isNew) model.members.set(member.memberId, member);
    if (update.changed || isNew) records.push(shareMemberMetadataRecord(model.groupId, member.memberId, member));
    this.dropDeletedTopics(model, records);
    this.maybeBumpGroupEpoch(model, update.subscriptionChanged || isNew, records);
    if (model.groupEpoch > model.assignmentEpoch) records.push(...this.computeTargetAssignment(model));
    this.takeTarget(model, member, records);
    this.scheduleSessionExpiry(model, member);
    const pending = this.partitionsToInitialize(model, records);
    if (records.length > 0) {
      const errorCode = await this.context.store(model.groupId, records);
      if (errorCode !== ErrorCode.NONE) return shareHeartbeatError(errorCode);
    }
    if (pending.length > 0) {
      const errorCode = await this.initialize(model, pending, member);
      if (errorCode !== ErrorCode.NONE) return shareHeartbeatError(errorCode);
    }
    const full = input.subscribedTopicNames !== null;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.heartbeatIntervalMs(model.groupId),
      assignment: joining || full || !samePartitions(before, member.assigned) ? fromTopicPartitions(member.assigned) : null,
    };
  }

  /** The subscribed topics that exist now, by id. */
  private subscribedTopics(names: Iterable<string>): { topicId: string; name: string; numPartitions: number }[] {
    const topics: { topicId: string; name: string; numPartitions: number }[] = [];
    for (const name of names) {
      const topic = this.image.topic(name);
      if (topic !== undefined) topics.push({ topicId: topic.topicId, name, numPartitions: topic.partitions.size });
    }
    return topics;
  }

  /** Deleted topics leave the partition metadata (their ids never come back). */
  private dropDeletedTopics(model: ShareGroupModel, records: OffsetsRecord[]): void {
    let changed = false;
    for (const map of [model.initialized, model.initializing]) {
      for (const topicId of [...map.keys()]) {
        if (this.image.topicsById.has(topicId)) continue;
        for (const partition of map.get(topicId)!.partitions) model.initializingSinceMs.delete(partitionId(topicId, partition));
        map.delete(topicId);
        changed = true;
      }
    }
    if (changed) records.push(shareStatePartitionsRecord(model.groupId, model));
  }

  /**
   * The group epoch moves when a member joined or changed its subscription, when the subscribed
   * topics' metadata hash changed, or when initialized partitions of subscribed topics are missing
   * from the target assignment (after a load, say).
   */
  private maybeBumpGroupEpoch(model: ShareGroupModel, subscriptionChanged: boolean, records: OffsetsRecord[]): void {
    const hash = metadataHash(this.subscribedTopics(model.subscribedTopicNames()));
    if (!subscriptionChanged && hash === model.metadataHash && !this.initializedAssignmentPending(model)) return;
    model.groupEpoch++;
    model.metadataHash = hash;
    records.push(shareGroupEpochRecord(model.groupId, { epoch: model.groupEpoch, metadataHash: hash }));
  }

  private initializedAssignmentPending(model: ShareGroupModel): boolean {
    if (model.members.size === 0) return false;
    const targeted = new Set<string>();
    for (const target of model.targetAssignment.values()) for (const [topicId, partitions] of target) for (const partition of partitions) targeted.add(partitionId(topicId, partition));
    for (const topic of this.subscribedTopics(model.subscribedTopicNames())) {
      for (const partition of model.initialized.get(topic.topicId)?.partitions ?? []) {
        if (partition < topic.numPartitions && !targeted.has(partitionId(topic.topicId, partition))) return true;
      }
    }
    return false;
  }

  /** Runs the simple assignor over the initialized partitions; the records of every changed target, then the epoch. */
  private computeTargetAssignment(model: ShareGroupModel): OffsetsRecord[] {
    const assignable = new Map<string, number[]>();
    const members: ShareAssignorMember[] = [];
    for (const member of model.members.values()) {
      const subscribed = new Set<string>();
      for (const topic of this.subscribedTopics(member.subscribedTopicNames)) {
        subscribed.add(topic.topicId);
        if (assignable.has(topic.topicId)) continue;
        const initialized = model.initialized.get(topic.topicId)?.partitions ?? new Set<number>();
        assignable.set(topic.topicId, [...initialized].filter((partition) => partition < topic.numPartitions));
      }
      members.push({ memberId: member.memberId, subscribedTopicIds: subscribed, assignment: model.targetAssignment.get(member.memberId) ?? new Map() });
    }
    const target = simpleAssign(members, assignable as AssignableTopics);
    const records: OffsetsRecord[] = [];
    for (const { memberId } of members) {
      const next: TopicPartitions = target.get(memberId) ?? new Map();
      const previous = model.targetAssignment.get(memberId);
      if (previous === undefined || !samePartitions(previous, next)) records.push(shareTargetAssignmentMemberRecord(model.groupId, memberId, next));
      model.targetAssignment.set(memberId, next);
    }
    model.assignmentEpoch = model.groupEpoch;
    records.push(shareTargetAssignmentEpochRecord(model.groupId, model.assignmentEpoch));
    this.context.logger.debug('computed share group target assignment', { group: model.groupId, epoch: model.assignmentEpoch, members: members.length, topics: assignable.size });
    return records;
  }

  /** No revocation in a share group: the member moves to the target epoch with its target, limited to its subscription. */
  private takeTarget(model: ShareGroupModel, member: ShareGroupMember, records: OffsetsRecord[]): void {
    const subscribed = new Set(this.subscribedTopics(member.subscribedTopicNames).map(({ topicId }) => topicId));
    const target = model.targetAssignment.get(member.memberId) ?? new Map<string, Set<number>>();
    const next: TopicPartitions = new Map([...target].filter(([topicId]) => subscribed.has(topicId)));
    if (member.memberEpoch === model.assignmentEpoch && samePartitions(member.assigned, next)) return;
    if (member.memberEpoch !== model.assignmentEpoch) member.previousMemberEpoch = member.memberEpoch;
    member.memberEpoch = model.assignmentEpoch;
    member.assigned = next;
    records.push(shareCurrentAssignmentRecord(model.groupId, member.memberId, member));
  }

  /**
   * Every partition of the subscribed topics (not only the assigned ones) that is neither
   * initialized nor recently asked for goes into InitializingTopics; the caller then asks the
   * persister. Entries asked for longer ago than the retry interval are asked again.
   */
  private partitionsToInitialize(model: ShareGroupModel, records: OffsetsRecord[]): { topicId: string; topicName: string; partition: number }[] {
    const nowMs = this.context.clock.nowMs();
    const pending: { topicId: string; topicName: string; partition: number }[] = [];
    for (const topic of this.subscribedTopics(model.subscribedTopicNames())) {
      for (let partition = 0; partition < topic.numPartitions; partition++) {
        if (model.isInitialized(topic.topicId, partition)) continue;
        const since = model.initializingSinceMs.get(partitionId(topic.topicId, partition));
        if (model.isInitializing(topic.topicId, partition) && since !== undefined && nowMs - since < this.config.initializeRetryIntervalMs) continue;
        pending.push({ topicId: topic.topicId, topicName: topic.name, partition });
      }
    }
    if (pending.length === 0) return pending;
    for (const { topicId, topicName, partition } of pending) {
      addPartition(model.initializing, topicId, topicName, partition);
      model.initializingSinceMs.set(partitionId(topicId, partition), nowMs);
    }
    records.push(shareStatePartitionsRecord(model.groupId, model));
    return pending;
  }

  /**
   * Asks the persister to initialize `pending` at the group epoch with start offset -1 (decided by
   * share.auto.offset.reset at first read). The ones that succeed become initialized and assignable:
   * the group epoch moves and `member` takes its new target. The ones that fail stay initializing
   * and are asked again once the retry interval passed.
   */
  private async initialize(model: ShareGroupModel, pending: { topicId: string; topicName: string; partition: number }[], member: ShareGroupMember): Promise<number> {
    const stateEpoch = model.groupEpoch;
    const persister = this.persister;
    const results = await Promise.all(
      pending.map(async (entry) => {
        if (persister === undefined) return { entry, errorCode: ErrorCode.NONE };
        const key: ShareStateKey = { groupId: model.groupId, topicId: entry.topicId, partition: entry.partition };
        const result = await persister.initialize(key, stateEpoch, -1);
        return { entry, errorCode: result.errorCode };
      }),
    );
    if (!this.isLive(model)) return ErrorCode.NONE;
    let initialized = 0;
    let failed = 0;
    for (const { entry, errorCode } of results) {
      if (errorCode !== ErrorCode.NONE) {
        // As Kafka's uninitializeShareGroupState: no longer initializing, so the next heartbeat
        // asks again (the retry interval is for an initialization that got no answer at all).
        this.context.logger.warn('initializing share-partition state failed', { group: model.groupId, topicId: entry.topicId, partition: entry.partition, errorCode });
        removePartition(model.initializing, entry.topicId, entry.partition);
        model.initializingSinceMs.delete(partitionId(entry.topicId, entry.partition));
        failed++;
        continue;
      }
      // The topic went while the persister answered: nothing to record for it.
      if (!this.image.topicsById.has(entry.topicId)) continue;
      removePartition(model.initializing, entry.topicId, entry.partition);
      model.initializingSinceMs.delete(partitionId(entry.topicId, entry.partition));
      addPartition(model.initialized, entry.topicId, entry.topicName, entry.partition);
      initialized++;
    }
    if (initialized === 0) return failed === 0 ? ErrorCode.NONE : this.context.store(model.groupId, [shareStatePartitionsRecord(model.groupId, model)]);
    const records: OffsetsRecord[] = [shareStatePartitionsRecord(model.groupId, model)];
    model.groupEpoch++;
    records.push(shareGroupEpochRecord(model.groupId, { epoch: model.groupEpoch, metadataHash: model.metadataHash }));
    records.push(...this.computeTargetAssignment(model));
    if (model.members.get(member.memberId) === member) this.takeTarget(model, member, records);
    return this.context.store(model.groupId, records);
  }

  scheduleSessionExpiry(model: ShareGroupModel, member: ShareGroupMember): void {
    member.cancelSessionTimer?.();
    member.cancelSessionTimer = this.context.clock.schedule(this.sessionTimeoutMs(model.groupId), () => {
      member.cancelSessionTimer = undefined;
      if (model.members.get(member.memberId) !== member || !this.isLive(model)) return;
      this.context.logger.info('share group member session expired', { group: model.groupId, member: member.memberId });
      void this.fence(model, member);
    });
  }

  /** Takes a member out (leave, session expiry): its target goes and the group epoch moves. */
  private fence(model: ShareGroupModel, member: ShareGroupMember): Promise<number> {
    model.removeMember(member.memberId);
    model.groupEpoch++;
    return this.context.store(model.groupId, [...shareMemberTombstones(model.groupId, member.memberId), shareGroupEpochRecord(model.groupId, { epoch: model.groupEpoch, metadataHash: model.metadataHash })]);
  }

  private async leave(model: ShareGroupModel, input: ShareHeartbeatInput): Promise<ShareHeartbeatOutcome> {
    const member = model.members.get(input.memberId);
    if (member === undefined) return shareHeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${input.memberId} is not a member of group ${input.groupId}.`);
    const errorCode = await this.fence(model, member);
    if (errorCode !== ErrorCode.NONE) return shareHeartbeatError(errorCode);
    return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: member.memberId, memberEpoch: SHARE_LEAVE_MEMBER_EPOCH, heartbeatIntervalMs: this.heartbeatIntervalMs(model.groupId), assignment: null };
  }

  /** After a load: every restored member gets a session to heartbeat within. */
  restore(model: ShareGroupModel): void {
    for (const member of model.members.values()) this.scheduleSessionExpiry(model, member);
  }

  /**
   * DeleteGroups of an empty share group: its share-partition states go first (a failure leaves the
   * group in place for a retry), then the group's records.
   */
  async delete(model: ShareGroupModel): Promise<number> {
    if (this.persister !== undefined) {
      const keys: ShareStateKey[] = [];
      for (const map of [model.initialized, model.initializing]) {
        for (const [topicId, { partitions }] of map) for (const partition of partitions) keys.push({ groupId: model.groupId, topicId, partition });
      }
      const persister = this.persister;
      const results = await Promise.all(keys.map((key) => persister.delete(key)));
      const failed = results.find(({ errorCode }) => errorCode !== ErrorCode.NONE && !ALREADY_DELETED.has(errorCode));
      if (failed !== undefined) return failed.errorCode;
    }
    return this.context.store(model.groupId, shareGroupTombstones(model.groupId));
  }
}

/** A known member's epoch is fenced unless it is current, or the previous one with a response lost on the way. */
function fencedProblem(member: ShareGroupMember, epoch: number): string | undefined {
  if (epoch > member.memberEpoch) {
    return `The share group member has a greater member epoch (${epoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`;
  }
  if (epoch < member.memberEpoch && epoch !== member.previousMemberEpoch) {
    return `The share group member has a smaller member epoch (${epoch}) than the one known by the group coordinator (${member.memberEpoch}), and it does not match the previous member epoch (${member.previousMemberEpoch}). The member must abandon all its partitions and rejoin.`;
  }
  return undefined;
}

/** Applies the request's fields (null ones are unchanged); what changed. */
function updateMember(member: ShareGroupMember, input: ShareHeartbeatInput): { changed: boolean; subscriptionChanged: boolean } {
  let changed = false;
  if (input.rackId !== null && input.rackId !== member.rackId) {
    member.rackId = input.rackId;
    changed = true;
  }
  if (input.clientId !== member.clientId || input.clientHost !== member.clientHost) {
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    changed = true;
  }
  let subscriptionChanged = false;
  if (input.subscribedTopicNames !== null) {
    const names = [...new Set(input.subscribedTopicNames)].sort();
    if (names.join('\u0000') !== member.subscribedTopicNames.join('\u0000')) {
      member.subscribedTopicNames = names;
      subscriptionChanged = true;
      changed = true;
    }
  }
  return { changed, subscriptionChanged };
}
