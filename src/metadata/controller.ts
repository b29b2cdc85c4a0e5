// The controller decides metadata changes: each operation reads the image, computes the records
// that express the change and the response, and changes state only by appending those records to
// the metadata quorum, which replays them into the image (DESIGN.md decision 5). Operations run one
// at a time, so each one sees the records of every operation before it.
import { ConfigError } from '../base/config-def.js';
import type { Clock, RandomSource } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import { randomUuid } from '../base/uuid.js';
import { type MetadataImage, type PartitionImage, type TopicImage, replicaDirectory } from './metadata-image.js';
import { DirectoryId, defaultDirectory, isReservedDirectoryId } from './directory-id.js';
import { effectiveMinIsr, electFromEligible, nextEligibleLeaders, sameMembers, uncleanCandidates } from './eligible-leaders.js';
import {
  type AppendedRecord,
  type BrokerEndpoint,
  ConfigResourceType,
  type MetadataRecord,
  type PartitionChangeRecord,
  type PartitionRecord,
} from './metadata-record.js';
import {
  type ConfigResourceChange,
  type ConfigResourceResult,
  type ConfigSchema,
  alteredOverrides,
  checkTopicConsistency,
  configRecords,
} from './config-changes.js';
import { type ReplicaSetChange, cancelReassignment, completedReassignment, isReassigning, originalReplicas, startReassignment, targetReplicas } from './reassignment.js';
import type { AclBindingFilter, NewAclBinding } from './acl.js';
import { type AclCreateResult, type AclDeleteResult, aclCreations, aclDeletions } from './acl-changes.js';
import { type ScramAlterResult, type ScramDeletion, type ScramUpsertion, scramCredentialChanges } from './scram-credentials.js';
import { type QuotaAlteration, type QuotaAlterResult, clientQuotaChanges } from './client-quotas.js';
import { validateTopicConfig } from './topic-config.js';
import { internalTopics, topicNameProblem } from './topic-name.js';

/** Where committed records go: a quorum of one on a single node, Raft in a cluster. */
export interface MetadataQuorum {
  /**
   * Resolves once this node is the active controller and its image holds everything committed
   * before its term; rejects with NOT_CONTROLLER elsewhere. Every operation starts with it, so
   * decisions are made from the committed image of the current term.
   */
  ensureActive(): Promise<void>;
  /**
   * Appends records durably as one atomic batch and replays them into the image before resolving;
   * rejects with NOT_CONTROLLER if this node is no longer the active controller of the term that
   * `ensureActive` saw.
   */
  append(records: AppendedRecord[]): Promise<void>;
  /** The offset after the last record applied to the image (the loader's next offset). */
  readonly appliedOffset: number;
  /**
   * The offset of the last record applied that changed the image, NoOpRecords aside (what a broker
   * must have applied to count as caught up); without it, the last record applied.
   */
  readonly lastChangeOffset?: number;
  /**
   * The last offset of the last batch applied that changed a broker's registration (registered,
   * fenced with the leadership moves in that batch, unfenced, directories); without it,
   * `lastChangeOffset`.
   */
  registrationChangeOffset?(brokerId: number): number;
  /**
   * Whether this node is, right now, the active controller of the term `ensureActive` last
   * confirmed (so the image holds everything committed before the term); without it, never (every
   * operation then waits its turn).
   */
  readonly confirmedActive?: boolean;
}

export interface ControllerOptions {
  image: MetadataImage;
  quorum: MetadataQuorum;
  /** Times the idle interval after which the active controller appends a NoOpRecord. */
  clock: Clock;
  random: RandomSource;
  defaultNumPartitions: number;
  defaultReplicationFactor: number;
  /**
   * The broker on this controller's own node (combined mode), if any: its metadata is this very
   * image, caught up by definition, so its registration is unfenced in the same batch.
   */
  localBrokerId?: number;
  /** unclean.leader.election.enable of this node's configuration: the default below topic and cluster-wide dynamic configs. */
  uncleanLeaderElectionEnable?: boolean;
  /** min.insync.replicas of this node's configuration: the default below topic and cluster-wide dynamic configs (1 if absent). */
  minInsyncReplicas?: number;
  /** Where the controller notes reassignments it starts and completes. */
  logger?: Logger;
  /** Hears of every unclean election this controller decides (as its records are appended): acknowledged records may be lost. */
  onUncleanElection?: (topic: string, partitionId: number, leader: number, lostIsr: readonly number[]) => void;
}

/**
 * Brokers' sessions as the active controller keeps them (Kafka's BrokerHeartbeatManager): the
 * heartbeats arrive outside the controller, so its caller keeps them and answers for them.
 */
export interface BrokerSessions {
  /** Whether the broker's current session is alive: heard from within broker.session.timeout.ms. */
  isAlive(brokerId: number): boolean;
  /** A registration starts the broker's session afresh. */
  start(brokerId: number): void;
}

/** A broker's heartbeat as the controller reads it (Kafka's BrokerHeartbeatRequest). */
export interface BrokerHeartbeat {
  brokerId: number;
  brokerEpoch: number;
  /** The offset of the last metadata record the broker has applied (-1: none). */
  currentMetadataOffset: number;
  /** The broker asks to stay (or become) fenced: it is not ready to serve. */
  wantFence: boolean;
  wantShutDown: boolean;
  /** The ids of the broker's log directories that failed (KIP-858; absent: none). */
  offlineLogDirs?: readonly string[];
}

/** One replica's directory as its broker reports it (AssignReplicasToDirs, 73). */
export interface DirectoryAssignment {
  topicId: string;
  partitionId: number;
  directoryId: string;
}

export interface HeartbeatResult {
  /**
   * Whether the broker had applied every change to the metadata committed before its heartbeat
   * came (NoOpRecords aside); unfencing needs less: its own registration applied.
   */
  isCaughtUp: boolean;
  isFenced: boolean;
  shouldShutDown: boolean;
}

export interface CreateTopicRequest {
  name: string;
  /** -1 for the broker default. */
  numPartitions: number;
  /** -1 for the broker default. */
  replicationFactor: number;
  /** Manual replica assignment per partition; empty for automatic placement. */
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
  topicId: string | null;
  numPartitions: number;
  replicationFactor: number;
}

/** ElectLeaders' election types. */
export const ElectionType = { preferred: 0, unclean: 1 } as const;

/** One partition's ISR as its leader proposes it (AlterPartition, 56). */
export interface IsrChange {
  topicId: string;
  partitionId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  /** The proposed ISR, each member with the broker epoch the leader saw (-1: not checked). */
  isr: { brokerId: number; brokerEpoch: number }[];
}

/** The partition's state after an AlterPartition, or why the change was refused. */
export interface IsrChangeResult {
  errorCode: number;
  leaderId: number;
  leaderEpoch: number;
  isr: number[];
  partitionEpoch: number;
}

export interface PartitionOutcome {
  partitionId: number;
  errorCode: number;
  errorMessage: string | null;
}

export interface TopicPartitionsOutcome {
  topic: string;
  partitions: PartitionOutcome[];
}

/** One partition's wanted replica set for AlterPartitionReassignments (null replicas: cancel). */
export interface PartitionReassignment {
  partitionId: number;
  replicas: number[] | null;
}

/**
 * How far behind this controller's committed metadata a heartbeating broker may be and still count
 * as caught up (Controller.isCaughtUp), its own registration's changes aside, which it must always
 * have applied.
 */
export const CAUGHT_UP_LAG_MS = 1_000;

/** The largest partition count one request may create, so a client cannot make us allocate without bound. */
export const MAX_PARTITIONS_PER_TOPIC = 100_000;

function topicError(name: string, errorCode: number, errorMessage: string | null): TopicResult {
  return { name, errorCode, errorMessage, topicId: null, numPartitions: -1, replicationFactor: -1 };
}

function errorOf(name: string, error: unknown): TopicResult {
  if (error instanceof KafkaError) return topicError(name, error.errorCode, error.message);
  if (error instanceof ConfigError) return topicError(name, ErrorCode.INVALID_CONFIG, error.message);
  throw error;
}

export class Controller {
  private readonly options: ControllerOptions;
  private queue: Promise<unknown> = Promise.resolve();
  /** Each broker's registration epoch and the metadata offset it must reach to be unfenced. */
  private readonly registrationOffsets = new Map<number, { brokerEpoch: number; offset: number }>();
  /** When this controller last appended (monotonic ms); -Infinity before its first append. */
  private lastAppendMs = Number.NEGATIVE_INFINITY;

  constructor(options: ControllerOptions) {
    this.options = options;
  }

  get image(): MetadataImage {
    return this.options.image;
  }

  /** Appends through the quorum, noting when (metadata.max.idle.interval.ms counts from the last one). */
  private async append(records: AppendedRecord[]): Promise<void> {
    await this.options.quorum.append(records);
    this.lastAppendMs = this.options.clock.monotonicMs();
    const { lastChangeOffset } = this.options.quorum;
    if (lastChangeOffset !== undefined && lastChangeOffset !== this.changeSamples.at(-1)?.offset) this.changeSamples.push({ atMs: this.lastAppendMs, offset: lastChangeOffset });
    this.changeCommittedBefore(this.lastAppendMs - CAUGHT_UP_LAG_MS); // drops the samples no longer needed
  }

  /**
   * Kafka's metadata.max.idle.interval.ms on the active controller: appends a NoOpRecord when this
   * controller has appended nothing for `maxIdleMs`, so the high watermark moves and followers and
   * observers see that they are caught up. Resolves with how long until the next one would be due;
   * rejects with NOT_CONTROLLER on any node that is not the active controller.
   */
  appendNoOpIfIdle(maxIdleMs: number): Promise<number> {
    return this.serialize(async () => {
      const idleMs = this.options.clock.monotonicMs() - this.lastAppendMs;
      if (idleMs < maxIdleMs) return maxIdleMs - idleMs;
      await this.append([{ type: 'NoOp' }]);
      return maxIdleMs;
    });
  }

  /** Runs `operation` after every earlier one has committed: one owner of the decision. */
  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const active = async () => {
      await this.options.quorum.ensureActive();
      return operation();
    };
    const result = this.queue.then(active, active);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Reserves the next block of producer ids with a ProducerIdsRecord (Kafka's AllocateProducerIds):
   * the image's nextProducerId only grows, so no id is handed out twice, even across restarts.
   */
  allocateProducerIds(brokerId: number, blockSize: number): Promise<{ firstProducerId: number; size: number }> {
    return this.serialize(async () => {
      const firstProducerId = this.image.nextProducerId;
      const brokerEpoch = this.image.brokers.get(brokerId)?.brokerEpoch ?? 0;
      await this.append([{ type: 'ProducerIds', brokerId, brokerEpoch, nextProducerId: firstProducerId + blockSize }]);
      return { firstProducerId, size: blockSize };
    });
  }

  /**
   * Registers a broker (Kafka's BrokerRegistration): a new broker epoch and a RegisterBrokerRecord
   * with the incarnation id the broker chose at start, fenced, as Kafka registers every broker. The
   * broker is unfenced by a heartbeat once it has applied the metadata up to this registration, so
   * a restarted broker never serves on metadata older than its own registration.
   *
   * With `sessions`, a new incarnation (another incarnation id) of a broker whose registration is
   * unfenced and whose session is alive is refused with DUPLICATE_BROKER_REGISTRATION, as Kafka's
   * ClusterControlManager refuses it: two processes must not share a broker id. The same
   * incarnation registering again is accepted, and so is a new one once the old session expired or
   * the old registration was fenced (a controlled shutdown fences it). An accepted registration
   * starts a new session before anything is appended, within this serialized operation, so no
   * session check sees the old incarnation's last heartbeat for the new registration.
   */
  registerBroker(brokerId: number, incarnationId: string, endpoints: BrokerEndpoint[], rack: string | null, sessions?: BrokerSessions, previousBrokerEpoch = -1, logDirs: readonly string[] = []): Promise<number> {
    return this.changingRegistration(brokerId, () => this.serialize(async () => {
      const previous = this.image.brokers.get(brokerId);
      if (sessions && previous && !previous.fenced && previous.incarnationId !== incarnationId && sessions.isAlive(brokerId)) {
        throw new KafkaError(ErrorCode.DUPLICATE_BROKER_REGISTRATION, `broker ${brokerId} is registered by another incarnation (${previous.incarnationId}) whose session is alive`);
      }
      this.checkLogDirs(brokerId, logDirs);
      sessions?.start(brokerId);
      const brokerEpoch = (previous?.brokerEpoch ?? 0) + 1;
      const local = brokerId === this.options.localBrokerId;
      // A broker that did not record a clean shutdown of its registered epoch may have lost
      // unsynced writes: it is no longer an eligible leader of any partition (KIP-966).
      const uncleanShutdown = previous !== undefined && previousBrokerEpoch !== previous.brokerEpoch ? this.uncleanShutdownRecords(brokerId) : [];
      const registration: MetadataRecord = { type: 'RegisterBroker', brokerId, incarnationId, brokerEpoch, endpoints, rack, fenced: true, ...(logDirs.length > 0 ? { logDirs: [...logDirs] } : {}) };
      if (uncleanShutdown.length > 0) {
        this.options.logger?.info('broker restarted after an unclean shutdown: no longer an eligible leader', { brokerId, partitions: uncleanShutdown.length });
        await this.append([registration, ...uncleanShutdown]);
        if (local) await this.append(this.unfenceRecords(brokerId, brokerEpoch));
      } else {
        // The records Kafka writes (fenced, then unfenced once caught up); for this node's own
        // broker both go in one batch, which saves a single node's start a commit.
        await this.append([registration, ...(local ? this.unfenceRecords(brokerId, brokerEpoch) : [])]);
      }
      // Every record of the batch is applied once append resolves: the registration is at or below
      // the last applied offset, which the broker must reach before it is unfenced.
      this.registrationOffsets.set(brokerId, { brokerEpoch, offset: this.options.quorum.appliedOffset - 1 });
      return brokerEpoch;
    }));
  }

  /**
   * A registration's log directories as Kafka's ClusterControlManager checks them
   * (INVALID_REGISTRATION): no reserved id (DirectoryId's), none twice, none that another broker
   * has registered online. None at all is accepted: such a broker's replicas are MIGRATING
   * (Kafka refuses it once its metadata version assigns directories; Conveyor's brokers that do
   * not report their directories keep working as before).
   */
  private checkLogDirs(brokerId: number, logDirs: readonly string[]): void {
    if (logDirs.some(isReservedDirectoryId)) throw new KafkaError(ErrorCode.INVALID_REGISTRATION, 'Reserved directory ID in request');
    if (new Set(logDirs).size !== logDirs.length) throw new KafkaError(ErrorCode.INVALID_REGISTRATION, 'Duplicate directory ID in request');
    for (const directory of logDirs) {
      for (const other of this.image.brokers.values()) {
        if (other.brokerId !== brokerId && other.logDirs.includes(directory)) {
          throw new KafkaError(ErrorCode.INVALID_REGISTRATION, `Broker ${other.brokerId} is already registered with directory ${directory}`);
        }
      }
    }
  }

  /** The directory a new replica on `brokerId` starts in (Kafka's defaultDir). */
  private defaultDir(brokerId: number): string {
    return defaultDirectory(this.image.brokers.get(brokerId)?.logDirs);
  }

  /**
   * Whether `brokerId` may lead `partition` (Kafka's LeaderAcceptor): unfenced, and its replica's
   * directory online on it.
   */
  private canLead(partition: PartitionImage, brokerId: number): boolean {
    return this.image.brokers.get(brokerId)?.fenced === false && this.image.replicaOnline(partition, brokerId);
  }

  /**
   * The offset a broker's metadata must reach before it may be unfenced: its registration's, as
   * this controller appended it; for a registration of an earlier term (another controller appended
   * it), the last offset applied now, which is later than the registration (Kafka's rule allows
   * a later offset: the broker only waits a little longer).
   */
  private registrationOffset(brokerId: number, brokerEpoch: number): number {
    const known = this.registrationOffsets.get(brokerId);
    if (known?.brokerEpoch === brokerEpoch) return known.offset;
    const offset = this.options.quorum.appliedOffset - 1;
    this.registrationOffsets.set(brokerId, { brokerEpoch, offset });
    return offset;
  }

  /**
   * A broker's heartbeat (Kafka's BrokerHeartbeat) on the active controller, with Kafka's state
   * changes: a fenced broker is unfenced once its metadata offset has reached its registration and
   * it does not ask to stay fenced, and then leads again the partitions that had no leader and
   * count it in their ISR; an unfenced broker that asks to be fenced is fenced; one that asks to
   * shut down is fenced and its partitions' leadership moves to another live ISR member (or none)
   * before it exits: Kafka's controlled shutdown.
   */
  brokerHeartbeat(heartbeat: BrokerHeartbeat): Promise<HeartbeatResult> {
    const answered = this.answerWithoutChange(heartbeat);
    if (answered) return Promise.resolve(answered);
    return this.changingRegistration(heartbeat.brokerId, () =>
      this.serialize(async () => {
        const { brokerId, brokerEpoch, wantFence, wantShutDown } = heartbeat;
        const broker = this.image.brokers.get(brokerId);
        if (!broker) throw new KafkaError(ErrorCode.BROKER_ID_NOT_REGISTERED, `broker ${brokerId} is not registered`);
        if (broker.brokerEpoch !== brokerEpoch) throw new KafkaError(ErrorCode.STALE_BROKER_EPOCH, `broker ${brokerId} epoch ${brokerEpoch} is not the registered ${broker.brokerEpoch}`);
        const isCaughtUp = this.isCaughtUp(heartbeat);
        // Directories newly reported offline are handled first (Kafka does it in the same batch,
        // after the state change), so that an unfencing below never elects a replica on one.
        const offlineRecords = this.offlineDirRecords(brokerId, brokerEpoch, heartbeat.offlineLogDirs ?? []);
        if (offlineRecords.length > 0) await this.append(offlineRecords);
        const reachedRegistration = heartbeat.currentMetadataOffset >= this.registrationOffset(brokerId, brokerEpoch);
        if (wantShutDown) {
          if (!broker.fenced) await this.append(this.fenceRecords(brokerId, brokerEpoch));
          return { isCaughtUp, isFenced: true, shouldShutDown: true };
        }
        if (broker.fenced) {
          if (wantFence || !reachedRegistration) return { isCaughtUp, isFenced: true, shouldShutDown: false };
          await this.append(this.unfenceRecords(brokerId, brokerEpoch));
          return { isCaughtUp, isFenced: false, shouldShutDown: false };
        }
        if (wantFence) {
          await this.append(this.fenceRecords(brokerId, brokerEpoch));
          return { isCaughtUp, isFenced: true, shouldShutDown: false };
        }
        return { isCaughtUp, isFenced: false, shouldShutDown: false };
      }),
    );
  }

  /**
   * The answer to a heartbeat that changes nothing, at once rather than behind the operations
   * waiting for their commits (which, one commit each, can hold it past the broker's heartbeat
   * interval while leaders' ISR changes pour in; Kafka's controller answers such a heartbeat in
   * its event queue without a write). Only from an unfenced broker of the registered epoch that
   * asks for no change (no fence, no shutdown, no directory newly offline), on the active
   * controller of a confirmed term, and with no operation under way that may change that broker's
   * registration (a fencing of it must be in the answer): then the committed image answers as the
   * queue would, whatever else is still on its way. Otherwise undefined: the heartbeat waits its turn.
   */
  private answerWithoutChange(heartbeat: BrokerHeartbeat): HeartbeatResult | undefined {
    const { brokerId, brokerEpoch, wantFence, wantShutDown } = heartbeat;
    if (this.options.quorum.confirmedActive !== true || wantFence || wantShutDown || this.registrationChanges.has(brokerId)) return undefined;
    const broker = this.image.brokers.get(brokerId);
    if (!broker || broker.brokerEpoch !== brokerEpoch || broker.fenced) return undefined;
    const offline = heartbeat.offlineLogDirs ?? [];
    if (broker.logDirs.some((directory) => offline.includes(directory))) return undefined;
    return { isCaughtUp: this.isCaughtUp(heartbeat), isFenced: false, shouldShutDown: false };
  }

  /**
   * Kafka's IsCaughtUp, "approximately caught up with the latest metadata", as Conveyor needs it:
   * the broker has applied its own registration's last change, so it knows whether it was fenced
   * and the leadership moves in that fencing's batch (a broker back from a pause is unfenced once
   * it reaches its registration, Kafka's rule, possibly before it has applied the fencing made
   * while it was away), and every change this controller had committed CAUGHT_UP_LAG_MS before
   * (its lag is bounded). Not every change committed so far: a broker's metadata arrives a fetch
   * after the commit, and a busy controller commits leaders' ISR changes many times a second, so a
   * live broker would hardly ever count as caught up. Until an answer says it is, a broker does
   * not trust its own image (ControllerChannel.mayBeStale).
   */
  private isCaughtUp(heartbeat: BrokerHeartbeat): boolean {
    const { quorum } = this.options;
    const ownChange = quorum.registrationChangeOffset?.(heartbeat.brokerId) ?? quorum.lastChangeOffset ?? quorum.appliedOffset - 1;
    return heartbeat.currentMetadataOffset >= Math.max(ownChange, this.changeCommittedBefore(this.options.clock.monotonicMs() - CAUGHT_UP_LAG_MS));
  }

  /**
   * The last change this controller had committed at `atMs` (-1: none it knows of that early):
   * from the samples its appends leave, one per append, none older than needed.
   */
  private changeCommittedBefore(atMs: number): number {
    const samples = this.changeSamples;
    while (samples.length > 1 && samples[1]!.atMs <= atMs) samples.shift();
    return samples.length > 0 && samples[0]!.atMs <= atMs ? samples[0]!.offset : -1;
  }

  /** When this controller's appends committed and the last change each left in the image, oldest first. */
  private readonly changeSamples: { atMs: number; offset: number }[] = [];

  /** Brokers with an operation queued or under way that may change their registration, and how many. */
  private readonly registrationChanges = new Map<number, number>();

  /** Runs `operation`, which may change `brokerId`'s registration, with the broker counted in registrationChanges meanwhile. */
  private async changingRegistration<T>(brokerId: number, operation: () => Promise<T>): Promise<T> {
    this.registrationChanges.set(brokerId, (this.registrationChanges.get(brokerId) ?? 0) + 1);
    try {
      return await operation();
    } finally {
      const left = this.registrationChanges.get(brokerId)! - 1;
      if (left === 0) this.registrationChanges.delete(brokerId);
      else this.registrationChanges.set(brokerId, left);
    }
  }

  /**
   * AlterPartition from a partition leader (Kafka's ReplicationControlManager rules): the sender
   * must be registered with `brokerEpoch` and lead the partition in `leaderEpoch`
   * (FENCED_LEADER_EPOCH otherwise), the proposal must be made against the current partition epoch
   * (INVALID_UPDATE_VERSION), keep the leader and name only assigned replicas (INVALID_REQUEST),
   * and every member must be unfenced in the broker epoch the leader saw (INELIGIBLE_REPLICA). A
   * valid change is committed as a PartitionChange before the answer, which carries the new state.
   */
  alterPartition(brokerId: number, brokerEpoch: number, changes: readonly IsrChange[]): Promise<IsrChangeResult[]> {
    return this.serialize(async () => {
      const sender = this.image.brokers.get(brokerId);
      if (!sender || sender.brokerEpoch !== brokerEpoch) throw new KafkaError(ErrorCode.STALE_BROKER_EPOCH, `broker ${brokerId} epoch ${brokerEpoch} is not the registered one`);
      const records: MetadataRecord[] = [];
      const results = changes.map((change): IsrChangeResult => {
        const partition = this.image.topicsById.get(change.topicId)?.partitions.get(change.partitionId);
        if (!partition) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, leaderId: -1, leaderEpoch: -1, isr: [], partitionEpoch: -1 };
        const state = (errorCode: number, isr = partition.isr, partitionEpoch = partition.partitionEpoch): IsrChangeResult => ({ errorCode, leaderId: partition.leader, leaderEpoch: partition.leaderEpoch, isr: [...isr], partitionEpoch });
        if (partition.leader !== brokerId) return state(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        if (change.leaderEpoch !== partition.leaderEpoch) return state(ErrorCode.FENCED_LEADER_EPOCH);
        if (change.partitionEpoch !== partition.partitionEpoch) return state(ErrorCode.INVALID_UPDATE_VERSION);
        const isr = change.isr.map((member) => member.brokerId);
        if (!isr.includes(brokerId) || isr.some((id) => !partition.replicas.includes(id)) || new Set(isr).size !== isr.length) return state(ErrorCode.INVALID_REQUEST);
        const ineligible = change.isr.some(({ brokerId: id, brokerEpoch: seen }) => !this.image.isrEligible(id, seen));
        if (ineligible && isr.some((id) => !partition.isr.includes(id))) return state(ErrorCode.INELIGIBLE_REPLICA);
        if (isr.length === partition.isr.length && isr.every((id) => partition.isr.includes(id))) return state(ErrorCode.NONE);
        // The last target replica of a reassignment in sync completes it, in the same change.
        const topic = this.image.topicsById.get(change.topicId)!;
        const completed = completedReassignment(partition, isr, (id) => this.canLead(partition, id));
        if (completed) {
          this.options.logger?.info('partition reassignment completed', { topic: topic.name, partition: change.partitionId, replicas: completed.replicas.join(','), leader: completed.leader });
          records.push(this.changeRecord(topic, partition, completed)!);
          return { errorCode: ErrorCode.NONE, leaderId: completed.leader, leaderEpoch: partition.leaderEpoch + (completed.leader === partition.leader ? 0 : 1), isr: completed.isr, partitionEpoch: partition.partitionEpoch + 1 };
        }
        records.push(this.changeRecord(topic, partition, { leader: partition.leader, isr })!);
        return state(ErrorCode.NONE, isr, partition.partitionEpoch + 1);
      });
      if (records.length > 0) await this.append(records);
      return results;
    });
  }

  /**
   * Fences a broker whose session expired (no heartbeat for broker.session.timeout.ms), unless
   * `stillSilent` says, when the operation's turn comes, that it has been heard from since.
   */
  fenceBroker(brokerId: number, stillSilent: () => boolean = () => true): Promise<void> {
    return this.changingRegistration(brokerId, () =>
      this.serialize(async () => {
        const broker = this.image.brokers.get(brokerId);
        if (!broker || broker.fenced || !stillSilent()) return;
        await this.append(this.fenceRecords(brokerId, broker.brokerEpoch));
      }),
    );
  }

  /**
   * A fenced broker leaves every ISR, the last member too (KIP-966: it becomes an eligible leader
   * replica, so it can lead again), and hands leadership to a live ISR member, else to a live
   * eligible leader replica, else (unclean.leader.election.enable) to any live replica, else to none.
   */
  private fenceRecords(brokerId: number, brokerEpoch: number): MetadataRecord[] {
    const records: MetadataRecord[] = [{ type: 'FenceBroker', brokerId, brokerEpoch }];
    for (const topic of this.image.topicsByName.values()) {
      for (const partition of topic.partitions.values()) {
        if (partition.leader !== brokerId && !partition.isr.includes(brokerId)) continue;
        const record = this.replicaOutRecord(topic, partition, brokerId);
        if (record) records.push(record);
      }
    }
    return records;
  }

  /**
   * `brokerId`'s replica of `partition` can no longer serve (its broker is fenced, or its
   * directory is offline): it leaves the ISR (into the ELR where KIP-966 puts it) and, if it led,
   * leadership moves to a live ISR member, else to a live eligible leader replica, else
   * (unclean.leader.election.enable) to any live replica, else to none. Kafka's
   * generateLeaderAndIsrUpdates with the broker to remove. `directories` sets replicas' directories
   * in the same change.
   */
  private replicaOutRecord(topic: TopicImage, partition: PartitionImage, brokerId: number, directories?: ReadonlyMap<number, string>): PartitionChangeRecord | undefined {
    const live = (id: number) => id !== brokerId && this.canLead(partition, id);
    const isr = partition.isr.filter((id) => id !== brokerId);
    let next: { leader: number; isr: number[]; directories?: ReadonlyMap<number, string> } = { leader: partition.leader, isr, directories };
    let unclean = false;
    if (partition.leader === brokerId) {
      const clean = isr.find(live);
      const eligible = clean === undefined ? electFromEligible({ ...partition, ...this.eligibleLeaders(topic, partition, isr) }, live) : undefined;
      const uncleanly = clean === undefined && eligible === undefined ? this.uncleanElection(topic.name, partition, live) : undefined;
      unclean = uncleanly !== undefined;
      next = { ...(clean !== undefined ? { leader: clean, isr } : (eligible ?? uncleanly ?? { leader: -1, isr })), directories };
    }
    return this.changeRecord(topic, partition, next, { unclean });
  }

  /**
   * Kafka's handleDirectoriesOffline: of `offlineDirs` (a heartbeat's), those the broker has
   * registered online are newly offline. Every partition with the broker's replica in one of them
   * loses that replica as a fenced broker's partitions do (replicaOutRecord), and a
   * BrokerRegistrationChangeRecord lists the directories still online, so no later election picks
   * a replica on an offline directory (a new registration lists the broker's directories afresh).
   * No records when none is newly offline. When every directory is offline Kafka writes an empty
   * list, which changes nothing on replay; Conveyor writes no record then (its broker, like Kafka's,
   * should stop when it has no log directory left).
   */
  private offlineDirRecords(brokerId: number, brokerEpoch: number, offlineDirs: readonly string[]): MetadataRecord[] {
    const broker = this.image.brokers.get(brokerId);
    const newlyOffline = broker?.logDirs.filter((directory) => offlineDirs.includes(directory)) ?? [];
    if (!broker || newlyOffline.length === 0) return [];
    const records: MetadataRecord[] = [];
    for (const topic of this.image.topicsByName.values()) {
      for (const partition of topic.partitions.values()) {
        const directory = replicaDirectory(partition, brokerId);
        if (directory === undefined || !newlyOffline.includes(directory)) continue;
        const record = this.replicaOutRecord(topic, partition, brokerId);
        if (record) records.push(record);
      }
    }
    const online = broker.logDirs.filter((directory) => !offlineDirs.includes(directory));
    if (online.length > 0) records.push({ type: 'BrokerRegistrationChange', brokerId, brokerEpoch, logDirs: online });
    this.options.logger?.warn('log directories marked offline', { brokerId, offline: newlyOffline.join(','), online: online.join(','), partitions: records.length - (online.length > 0 ? 1 : 0) });
    return records;
  }

  /**
   * AssignReplicasToDirs (Kafka's handleAssignReplicasToDirs): the broker, registered with
   * `brokerEpoch` (else STALE_BROKER_EPOCH for the whole request), says in which of its
   * directories each of its replicas lives. Each assignment answers UNKNOWN_TOPIC_ID,
   * UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER when the broker is not a replica, or NONE
   * once a PartitionChangeRecord sets the broker's entry of the partition's directories (none when
   * it already is). A replica assigned to a directory that is not online on the broker is offline:
   * in the same change it leaves the ISR and leadership as on a failed directory. Results are in
   * the order of `assignments`; of two for one partition, the later one counts.
   */
  assignReplicasToDirs(brokerId: number, brokerEpoch: number, assignments: readonly DirectoryAssignment[]): Promise<number[]> {
    return this.serialize(async () => {
      const broker = this.image.brokers.get(brokerId);
      if (!broker) throw new KafkaError(ErrorCode.STALE_BROKER_EPOCH, `No broker registration found for broker id ${brokerId}`);
      if (broker.brokerEpoch !== brokerEpoch) throw new KafkaError(ErrorCode.STALE_BROKER_EPOCH, `Expected broker epoch ${broker.brokerEpoch}, but got broker epoch ${brokerEpoch}`);
      const chosen = new Map<string, { topic: TopicImage; partition: PartitionImage; directoryId: string }>();
      const results = assignments.map(({ topicId, partitionId, directoryId }) => {
        const topic = this.image.topicsById.get(topicId);
        if (!topic) return ErrorCode.UNKNOWN_TOPIC_ID;
        const partition = topic.partitions.get(partitionId);
        if (!partition) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        if (!partition.replicas.includes(brokerId)) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
        const key = `${topicId}:${partitionId}`;
        chosen.delete(key);
        chosen.set(key, { topic, partition, directoryId });
        return ErrorCode.NONE;
      });
      const records: MetadataRecord[] = [];
      for (const { topic, partition, directoryId } of chosen.values()) {
        const directories = new Map([[brokerId, directoryId]]);
        const record = this.image.hasOnlineDir(brokerId, directoryId)
          ? this.changeRecord(topic, partition, { leader: partition.leader, isr: partition.isr, directories })
          : this.replicaOutRecord(topic, partition, brokerId, directories);
        if (record) records.push(record);
      }
      if (records.length > 0) await this.append(records);
      return results;
    });
  }

  /**
   * An unfenced broker leads the leaderless partitions it may lead: as an ISR member, as an
   * eligible leader replica, or uncleanly where enabled. It becomes their ISR alone unless it was
   * in the ISR.
   */
  private unfenceRecords(brokerId: number, brokerEpoch: number): MetadataRecord[] {
    const records: MetadataRecord[] = [{ type: 'UnfenceBroker', brokerId, brokerEpoch }];
    for (const topic of this.image.topicsByName.values()) {
      for (const partition of topic.partitions.values()) {
        if (partition.leader !== -1 || !partition.replicas.includes(brokerId)) continue;
        // A replica on a directory that is offline cannot lead (Kafka's LeaderAcceptor).
        const live = (id: number) => (id === brokerId || this.image.brokers.get(id)?.fenced === false) && this.image.replicaOnline(partition, id);
        if (!live(brokerId)) continue;
        if (partition.isr.includes(brokerId)) {
          records.push(this.changeRecord(topic, partition, { leader: brokerId, isr: partition.isr })!);
          continue;
        }
        const eligible = electFromEligible(partition, live);
        if (eligible !== undefined) {
          const record = this.changeRecord(topic, partition, eligible);
          if (record) records.push(record);
          continue;
        }
        // A replica outside the ISR and ELR comes back to a leaderless partition: it may lead only uncleanly.
        const unclean = this.uncleanElection(topic.name, partition, (id) => id === brokerId);
        if (unclean !== undefined) records.push(this.changeRecord(topic, partition, unclean, { unclean: true })!);
      }
    }
    return records;
  }

  /** The partitions where `brokerId` is an eligible leader replica lose it (into the last known ELR): it shut down uncleanly. */
  private uncleanShutdownRecords(brokerId: number): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const topic of this.image.topicsByName.values()) {
      for (const partition of topic.partitions.values()) {
        if (!partition.eligibleLeaderReplicas.includes(brokerId)) continue;
        const record = this.changeRecord(topic, partition, { leader: partition.leader, isr: partition.isr }, { uncleanShutdown: brokerId });
        if (record) records.push(record);
      }
    }
    return records;
  }

  /** The topic's min.insync.replicas (topic config, then the cluster-wide dynamic default, then this node's), capped at `replicas`. */
  private minIsr(topic: string, replicas: readonly number[]): number {
    const name = 'min.insync.replicas';
    const value = this.image.resourceConfigs(ConfigResourceType.topic, topic).get(name) ?? this.image.resourceConfigs(ConfigResourceType.broker, '').get(name);
    const configured = value === undefined ? (this.options.minInsyncReplicas ?? 1) : Number(value);
    return effectiveMinIsr(Number.isSafeInteger(configured) ? configured : 1, replicas);
  }

  /** The ELR and last known ELR `partition` has once its ISR is `isr`. */
  private eligibleLeaders(topic: TopicImage, partition: PartitionImage, isr: readonly number[], replicas = partition.replicas, removing = partition.removingReplicas, uncleanShutdown = -1) {
    return nextEligibleLeaders(partition, isr, replicas, this.minIsr(topic.name, replicas.filter((id) => !removing.includes(id))), uncleanShutdown);
  }

  /**
   * The PartitionChange taking `partition` to `next` (its leader, ISR, and for a reassignment its
   * replica lists), with the eligible leader replicas the new ISR leaves (KIP-966; an unclean
   * election drops them, its ISR having lost what they vouched for); undefined if nothing changes.
   */
  private changeRecord(
    topic: TopicImage,
    partition: PartitionImage,
    next: { leader: number; isr: number[]; replicas?: number[]; addingReplicas?: number[]; removingReplicas?: number[]; directories?: ReadonlyMap<number, string> },
    options: { unclean?: boolean; uncleanShutdown?: number } = {},
  ): PartitionChangeRecord | undefined {
    const replicas = next.replicas ?? partition.replicas;
    const eligible = options.unclean
      ? { eligibleLeaderReplicas: [], lastKnownElr: [] }
      : this.eligibleLeaders(topic, partition, next.isr, replicas, next.removingReplicas ?? partition.removingReplicas, options.uncleanShutdown);
    const leaderChanged = next.leader !== -2 && next.leader !== partition.leader;
    const record: PartitionChangeRecord = { type: 'PartitionChange', topicId: topic.topicId, partitionId: partition.partitionId, leader: leaderChanged ? next.leader : -2, isr: [...next.isr] };
    let changed = leaderChanged || next.isr.length !== partition.isr.length || next.isr.some((id) => !partition.isr.includes(id));
    if (next.replicas !== undefined) {
      Object.assign(record, { replicas: [...next.replicas], addingReplicas: [...(next.addingReplicas ?? [])], removingReplicas: [...(next.removingReplicas ?? [])] });
      changed = true;
    }
    if (!sameMembers(eligible.eligibleLeaderReplicas, partition.eligibleLeaderReplicas) || !sameMembers(eligible.lastKnownElr, partition.lastKnownElr)) {
      Object.assign(record, eligible);
      changed = true;
    }
    // Each replica's directory (Kafka's PartitionChangeBuilder): as `next` sets it, else as it was,
    // else (a replica being added) its broker's default directory.
    const directories = replicas.map((id) => next.directories?.get(id) ?? replicaDirectory(partition, id) ?? this.defaultDir(id));
    if (directories.length !== partition.directories.length || directories.some((directory, index) => directory !== partition.directories[index])) {
      record.directories = directories;
      changed = true;
    }
    return changed ? record : undefined;
  }

  /**
   * The unclean election of a partition with no live in-sync replica, if `unclean.leader.election.enable`
   * holds for its topic (topic config, then the cluster-wide dynamic default, then this node's
   * configuration) and a replica is `live`: that replica leads with an ISR of itself alone, and
   * whatever only the lost ISR had is gone. Undefined otherwise (the partition waits for its ISR).
   */
  private uncleanElection(topic: string, partition: PartitionImage, live: (id: number) => boolean): { leader: number; isr: number[] } | undefined {
    if (!this.uncleanElectionEnabled(topic)) return undefined;
    const leader = uncleanCandidates(partition).find((id) => live(id) && !partition.isr.includes(id) && !partition.eligibleLeaderReplicas.includes(id));
    if (leader === undefined) return undefined;
    this.options.onUncleanElection?.(topic, partition.partitionId, leader, [...partition.isr, ...partition.eligibleLeaderReplicas.filter((id) => !partition.isr.includes(id))]);
    return { leader, isr: [leader] };
  }

  private uncleanElectionEnabled(topic: string): boolean {
    const name = 'unclean.leader.election.enable';
    const value = this.image.resourceConfigs(ConfigResourceType.topic, topic).get(name) ?? this.image.resourceConfigs(ConfigResourceType.broker, '').get(name);
    return value === undefined ? this.options.uncleanLeaderElectionEnable === true : value === 'true';
  }

  /**
   * Kafka's automatic preferred leader election (auto.leader.rebalance.enable, as KRaft's
   * controller does it: every partition whose preferred replica, the first assigned, is an unfenced
   * ISR member but does not lead gets it back as leader; leader.imbalance.per.broker.percentage
   * is not consulted, as in KRaft). Resolves to the partitions whose leader moved.
   */
  async balanceLeaders(): Promise<number> {
    const results = await this.electLeaders(ElectionType.preferred, null);
    return results.reduce((moved, topic) => moved + topic.partitions.filter((result) => result.errorCode === ErrorCode.NONE).length, 0);
  }

  createTopics(requests: CreateTopicRequest[], validateOnly: boolean): Promise<TopicResult[]> {
    return this.serialize(async () => {
      const records: MetadataRecord[] = [];
      const results: TopicResult[] = [];
      const duplicates = duplicateNames(requests);
      for (const request of requests) {
        if (duplicates.has(request.name)) {
          results.push(duplicateError(request.name));
          continue;
        }
        try {
          const planned = this.planTopic(request);
          results.push(planned.result);
          if (!validateOnly) records.push(...planned.records);
        } catch (error) {
          results.push(errorOf(request.name, error));
        }
      }
      return this.appendOrRefuse(records, results);
    });
  }

  /**
   * Appends the records of one user operation, or, when they are too large for one metadata batch,
   * refuses every part of it that would have succeeded with POLICY_VIOLATION, as Kafka's controller
   * refuses an excessively large operation, instead of failing the whole request as an unknown
   * error. Nothing is appended then.
   */
  private async appendOrRefuse(records: MetadataRecord[], results: TopicResult[]): Promise<TopicResult[]> {
    const refused = await this.appendUnlessTooLarge(records);
    if (refused === undefined) return results;
    return results.map((result) => (result.errorCode === ErrorCode.NONE ? topicError(result.name, ErrorCode.POLICY_VIOLATION, refused) : result));
  }

  /** Appends `records`; if they are too large for one metadata batch, appends nothing and returns why. */
  private async appendUnlessTooLarge(records: MetadataRecord[]): Promise<string | undefined> {
    if (records.length === 0) return undefined;
    try {
      await this.append(records);
      return undefined;
    } catch (error) {
      if (!(error instanceof KafkaError) || (error.errorCode !== ErrorCode.MESSAGE_TOO_LARGE && error.errorCode !== ErrorCode.RECORD_LIST_TOO_LARGE)) throw error;
      return `Unable to perform excessively large batch operation: ${records.length} metadata records do not fit in one batch of the metadata log (${error.message})`;
    }
  }

  /**
   * ElectLeaders (Kafka's controller rules). Preferred: not needed while the first replica leads;
   * else the first replica leads if it is in the ISR and unfenced (PREFERRED_LEADER_NOT_AVAILABLE
   * if not). Unclean: not needed while the partition has a leader; else an unfenced ISR member
   * leads, or failing that any unfenced replica, which becomes the whole ISR (records may be lost:
   * that is what unclean means); ELIGIBLE_LEADERS_NOT_AVAILABLE if none is unfenced. `partitions`
   * null means every partition, and then only the partitions an election was needed for are listed.
   */
  electLeaders(electionType: number, partitions: { topic: string; partitionIds: number[] }[] | null): Promise<TopicPartitionsOutcome[]> {
    return this.serialize(async () => {
      const records: MetadataRecord[] = [];
      const elected = new Set<string>();
      const outcome = (topic: string, partitionId: number): PartitionOutcome => {
        const topicImage = this.image.topic(topic);
        const partition = topicImage?.partitions.get(partitionId);
        if (!topicImage || !partition) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `no partition ${topic}-${partitionId}` };
        // A partition named twice is elected once.
        const key = `${topicImage.topicId}:${partitionId}`;
        if (elected.has(key)) return { partitionId, errorCode: ErrorCode.NONE, errorMessage: null };
        const change = this.election(electionType, partition);
        if ('errorCode' in change) return { partitionId, ...change };
        elected.add(key);
        const { unclean, ...next } = change;
        const record = this.changeRecord(topicImage, partition, next, { unclean });
        if (record) records.push(record);
        return { partitionId, errorCode: ErrorCode.NONE, errorMessage: null };
      };
      let results: TopicPartitionsOutcome[];
      if (partitions === null) {
        results = [...this.image.topicsByName.values()]
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((topic) => ({
            topic: topic.name,
            partitions: [...topic.partitions.keys()].map((partitionId) => outcome(topic.name, partitionId)).filter((result) => result.errorCode !== ErrorCode.ELECTION_NOT_NEEDED),
          }));
      } else {
        results = partitions.map(({ topic, partitionIds }) => ({ topic, partitions: partitionIds.map((partitionId) => outcome(topic, partitionId)) }));
      }
      const refused = await this.appendUnlessTooLarge(records);
      if (refused === undefined) return results;
      return results.map(({ topic, partitions: each }) => ({
        topic,
        partitions: each.map((result) => (result.errorCode === ErrorCode.NONE ? { ...result, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: refused } : result)),
      }));
    });
  }

  /** The new leader and ISR an election gives `partition`, or why there is none. */
  private election(electionType: number, partition: PartitionImage): { leader: number; isr: number[]; unclean?: boolean } | { errorCode: number; errorMessage: string | null } {
    const unfenced = (id: number) => this.canLead(partition, id);
    if (electionType === ElectionType.preferred) {
      const preferred = partition.replicas[0]!;
      if (partition.leader === preferred) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null };
      if (partition.isr.includes(preferred) && unfenced(preferred)) return { leader: preferred, isr: partition.isr };
      return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: `preferred leader ${preferred} is not an unfenced member of the ISR [${partition.isr.join(',')}]` };
    }
    if (partition.leader >= 0) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null };
    const clean = partition.isr.find(unfenced);
    if (clean !== undefined) return { leader: clean, isr: partition.isr };
    const eligible = electFromEligible(partition, unfenced);
    if (eligible !== undefined) return eligible;
    const unclean = uncleanCandidates(partition).find(unfenced);
    if (unclean !== undefined) return { leader: unclean, isr: [unclean], unclean: true };
    return { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: `no replica of [${partition.replicas.join(',')}] is unfenced` };
  }

  /**
   * AlterPartitionReassignments (KIP-455, checked as Kafka's controller checks it): an unknown
   * topic or partition answers UNKNOWN_TOPIC_OR_PARTITION; an empty replica list, a replica listed
   * twice or a broker that is not registered answers INVALID_REPLICA_ASSIGNMENT; a change of replica
   * count when `allowReplicationFactorChange` is false answers INVALID_REPLICATION_FACTOR; a cancel
   * with no reassignment in progress answers NO_REASSIGNMENT_IN_PROGRESS. A valid target starts the
   * move (src/metadata/reassignment.ts): the new replicas are added and catch up, and the
   * reassignment completes when they are all in sync (`alterPartition`); a target equal to the
   * replicas before the move cancels it. Every change is committed before the answer.
   */
  alterPartitionReassignments(topics: { topic: string; partitions: PartitionReassignment[] }[], allowReplicationFactorChange: boolean): Promise<TopicPartitionsOutcome[]> {
    return this.serialize(async () => {
      const records: MetadataRecord[] = [];
      const named = new Set<string>();
      const results = topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map(({ partitionId, replicas }): PartitionOutcome => {
          // Each change is planned from the image before this request: a second one for a partition would undo the first.
          const key = `${topic}:${partitionId}`;
          if (named.has(key)) return { partitionId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `${topic}-${partitionId} is named more than once` };
          const planned = this.reassignment(topic, partitionId, replicas, allowReplicationFactorChange);
          if ('errorCode' in planned) return { partitionId, ...planned };
          named.add(key);
          if (planned.change) records.push(planned.change);
          return { partitionId, errorCode: ErrorCode.NONE, errorMessage: null };
        }),
      }));
      const refused = await this.appendUnlessTooLarge(records);
      if (refused === undefined) return results;
      return results.map(({ topic, partitions: each }) => ({
        topic,
        partitions: each.map((result) => (result.errorCode === ErrorCode.NONE ? { ...result, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: refused } : result)),
      }));
    });
  }

  private reassignment(topic: string, partitionId: number, target: number[] | null, allowReplicationFactorChange: boolean): { change: MetadataRecord | undefined } | { errorCode: number; errorMessage: string | null } {
    const failure = (errorCode: number, errorMessage: string) => ({ errorCode, errorMessage });
    const topicImage = this.image.topic(topic);
    const partition = topicImage?.partitions.get(partitionId);
    if (topicImage === undefined || partition === undefined) return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${topic}-${partitionId}`);
    const unfenced = (id: number) => this.canLead(partition, id);
    const change = (planned: ReplicaSetChange | string | undefined) => {
      if (typeof planned === 'string') return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${topic}-${planned}`);
      if (planned === undefined) return { change: undefined };
      this.options.logger?.info('partition reassignment', { topic, partition: partitionId, from: partition.replicas.join(','), to: planned.replicas.join(','), adding: planned.addingReplicas.join(','), removing: planned.removingReplicas.join(',') });
      return { change: this.changeRecord(topicImage, partition, planned) };
    };
    if (target === null) {
      if (!isReassigning(partition)) return failure(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, `no reassignment of ${topic}-${partitionId} is in progress`);
      return change(cancelReassignment(partition, unfenced));
    }
    if (target.length === 0) return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'the replica list is empty');
    const seen = new Set<number>();
    for (const brokerId of [...target].sort((a, b) => a - b)) {
      if (!this.image.brokers.has(brokerId)) return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `broker ${brokerId} is not registered`);
      if (seen.has(brokerId)) return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `broker ${brokerId} is listed more than once`);
      seen.add(brokerId);
    }
    const original = originalReplicas(partition);
    if (!allowReplicationFactorChange && target.length !== original.length) {
      return failure(ErrorCode.INVALID_REPLICATION_FACTOR, `the reassignment changes the replication factor from ${original.length} to ${target.length}`);
    }
    return change(startReassignment(partition, target, unfenced));
  }

  /** ListPartitionReassignments: the reassignments in progress, of every partition (null) or of those named (unknown ones left out). */
  listPartitionReassignments(topics: { topic: string; partitionIds: number[] }[] | null): { topic: string; partitions: { partitionId: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[] }[] {
    const wanted = topics ?? [...this.image.topicsByName.values()].map((topic) => ({ topic: topic.name, partitionIds: [...topic.partitions.keys()] }));
    const listed = [];
    for (const { topic, partitionIds } of wanted) {
      const partitions = [];
      for (const partitionId of partitionIds) {
        const partition = this.image.partition(topic, partitionId);
        if (partition && isReassigning(partition)) partitions.push({ partitionId, replicas: [...partition.replicas], addingReplicas: [...partition.addingReplicas], removingReplicas: [...partition.removingReplicas] });
      }
      if (partitions.length > 0) listed.push({ topic, partitions });
    }
    return listed;
  }

  private planTopic(request: CreateTopicRequest): { records: MetadataRecord[]; result: TopicResult } {
    const { name } = request;
    const nameProblem = topicNameProblem(name);
    if (nameProblem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.image.topic(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${name}' already exists`);
    for (const config of request.configs) validateTopicConfig(config.name, config.value);
    checkTopicConsistency(new Map(request.configs.map(({ name: key, value }) => [key, value ?? ''])));
    const assignment = this.planAssignment(request);
    const topicId = randomUuid(this.options.random);
    const records: MetadataRecord[] = [{ type: 'Topic', name, topicId }];
    assignment.forEach((replicas, partitionId) => records.push(this.partitionRecord(topicId, partitionId, replicas)));
    for (const config of request.configs) {
      records.push({ type: 'Config', resourceType: ConfigResourceType.topic, resourceName: name, name: config.name, value: config.value });
    }
    const result = { name, errorCode: ErrorCode.NONE, errorMessage: null, topicId, numPartitions: assignment.length, replicationFactor: assignment[0]?.length ?? 0 };
    return { records, result };
  }

  private planAssignment(request: CreateTopicRequest): number[][] {
    if (request.assignments.length > 0) {
      if (request.numPartitions !== -1 || request.replicationFactor !== -1) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, 'give either replica assignments or partition count and replication factor, not both');
      }
      const sorted = [...request.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
      sorted.forEach((entry, index) => {
        if (entry.partitionIndex !== index) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions must be numbered 0 to N-1');
      });
      return sorted.map((entry) => this.checkedReplicas(entry.brokerIds));
    }
    const numPartitions = request.numPartitions === -1 ? this.options.defaultNumPartitions : request.numPartitions;
    const replicationFactor = request.replicationFactor === -1 ? this.options.defaultReplicationFactor : request.replicationFactor;
    if (numPartitions < 1) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at least 1, got ${numPartitions}`);
    if (numPartitions > MAX_PARTITIONS_PER_TOPIC) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at most ${MAX_PARTITIONS_PER_TOPIC}`);
    return this.placeReplicas(0, numPartitions, replicationFactor);
  }

  private checkedReplicas(brokerIds: number[]): number[] {
    if (brokerIds.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'a partition needs at least one replica');
    if (new Set(brokerIds).size !== brokerIds.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'duplicate broker in replica assignment');
    for (const brokerId of brokerIds) {
      if (!this.image.brokers.has(brokerId)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `unknown broker ${brokerId} in replica assignment`);
    }
    return brokerIds;
  }

  /** Round-robin placement over the live brokers, each partition's leader on the next broker. */
  /**
   * Replica placement over the unfenced brokers, rack by rack: the brokers are listed alternating
   * their racks (broker.rack; brokers without one form a rack of their own), partition p's replica
   * r goes to entry (p + r) of that list, so leaders spread evenly and a partition's replicas land
   * on as many racks as there are, up to its replication factor (Kafka's rack-aware placement).
   */
  private placeReplicas(firstPartition: number, count: number, replicationFactor: number): number[][] {
    const brokerIds = rackAlternated([...this.image.brokers.values()].filter((broker) => !broker.fenced));
    if (replicationFactor < 1) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor must be at least 1, got ${replicationFactor}`);
    if (replicationFactor > brokerIds.length) {
      throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${replicationFactor} is larger than the ${brokerIds.length} available broker(s)`);
    }
    const assignment: number[][] = [];
    for (let partitionId = firstPartition; partitionId < firstPartition + count; partitionId++) {
      const replicas: number[] = [];
      for (let replica = 0; replica < replicationFactor; replica++) replicas.push(brokerIds[(partitionId + replica) % brokerIds.length]!);
      assignment.push(replicas);
    }
    return assignment;
  }

  /**
   * AlterConfigs and IncrementalAlterConfigs: each resource's new overrides are validated as a
   * whole and committed as ConfigRecords; a failing resource leaves the others unaffected.
   */
  alterConfigs(changes: ConfigResourceChange[], validateOnly: boolean, schema: ConfigSchema): Promise<ConfigResourceResult[]> {
    return this.serialize(async () => {
      const records: MetadataRecord[] = [];
      const keys = changes.map((change) => `${change.resourceType}:${change.resourceName}`);
      const results = changes.map((change, index): ConfigResourceResult => {
        const result = { resourceType: change.resourceType, resourceName: change.resourceName, errorCode: ErrorCode.NONE, errorMessage: null };
        if (keys.indexOf(keys[index]!) !== keys.lastIndexOf(keys[index]!)) {
          return { ...result, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'resource appears more than once in the request' };
        }
        try {
          this.checkConfigResource(change.resourceType, change.resourceName);
          const before = this.image.resourceConfigs(change.resourceType, change.resourceName);
          records.push(...configRecords(change.resourceType, change.resourceName, before, alteredOverrides(before, change, schema)));
          return result;
        } catch (error) {
          const failed = errorOf(change.resourceName, error);
          return { ...result, errorCode: failed.errorCode, errorMessage: failed.errorMessage };
        }
      });
      if (!validateOnly && records.length > 0) await this.append(records);
      return results;
    });
  }

  /** AlterUserScramCredentials (KIP-554): each user's changes committed together, or refused (src/metadata/scram-credentials.ts). */
  alterUserScramCredentials(deletions: readonly ScramDeletion[], upsertions: readonly ScramUpsertion[]): Promise<ScramAlterResult[]> {
    return this.serialize(async () => {
      const { records, results } = scramCredentialChanges(this.image, deletions, upsertions);
      if (records.length > 0) await this.append(records);
      return results;
    });
  }

  /**
   * AlterClientQuotas (KIP-546): each entity's changes committed together, or refused; with
   * `validateOnly` the same answers and nothing committed. No entries: answered at once, as Kafka's
   * QuorumController does (src/metadata/client-quotas.ts).
   */
  alterClientQuotas(entries: readonly QuotaAlteration[], validateOnly: boolean): Promise<QuotaAlterResult[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return this.serialize(async () => {
      const { records, results } = clientQuotaChanges(this.image, entries);
      if (!validateOnly && records.length > 0) await this.append(records);
      return results;
    });
  }

  /** CreateAcls: each binding checked, and created unless an identical ACL exists (src/metadata/acl-changes.ts). */
  createAcls(bindings: readonly NewAclBinding[]): Promise<AclCreateResult[]> {
    return this.serialize(async () => {
      const { records, results } = aclCreations(this.image, bindings, () => randomUuid(this.options.random));
      if (records.length > 0) await this.append(records);
      return results;
    });
  }

  /** DeleteAcls: every ACL each filter matches is removed. */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeleteResult[]> {
    return this.serialize(async () => {
      const { records, results } = aclDeletions(this.image, filters);
      if (records.length > 0) await this.append(records);
      return results;
    });
  }

  private checkConfigResource(resourceType: number, resourceName: string): void {
    if (resourceType === ConfigResourceType.topic) {
      if (!this.image.topic(resourceName)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${resourceName}' does not exist`);
      return;
    }
    if (resourceType === ConfigResourceType.broker) {
      // '' is the cluster-wide default every broker falls back to.
      if (resourceName === '' || (/^\d+$/.test(resourceName) && this.image.brokers.has(Number(resourceName)))) return;
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `unknown broker '${resourceName}': give a node id or '' for the cluster default`);
    }
    if (resourceType === ConfigResourceType.group) {
      // Any group id, existing or not, as Kafka; only the empty name is refused (Kafka's words).
      if (resourceName === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Default group resources are not allowed.');
      return;
    }
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `unsupported config resource type ${resourceType}`);
  }

  deleteTopics(topics: { name: string | null; topicId: string | null }[]): Promise<TopicResult[]> {
    return this.serialize(async () => {
      const records: MetadataRecord[] = [];
      const results: TopicResult[] = [];
      for (const { name, topicId } of topics) {
        const topic = name !== null && name !== '' ? this.image.topic(name) : topicId ? this.image.topicsById.get(topicId) : undefined;
        if (!topic) {
          const errorCode = name ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID;
          results.push(topicError(name ?? '', errorCode, 'topic does not exist'));
          continue;
        }
        if (records.some((record) => record.type === 'RemoveTopic' && record.topicId === topic.topicId)) continue;
        records.push({ type: 'RemoveTopic', topicId: topic.topicId });
        results.push({ name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null, topicId: topic.topicId, numPartitions: topic.partitions.size, replicationFactor: -1 });
      }
      if (records.length > 0) await this.append(records);
      return results;
    });
  }

  createPartitions(
    requests: { name: string; count: number; assignments: number[][] | null }[],
    validateOnly: boolean,
  ): Promise<TopicResult[]> {
    return this.serialize(async () => {
      const records: MetadataRecord[] = [];
      const results: TopicResult[] = [];
      const duplicates = duplicateNames(requests);
      for (const request of requests) {
        if (duplicates.has(request.name)) {
          results.push(duplicateError(request.name));
          continue;
        }
        try {
          const planned = this.planPartitions(request);
          if (!validateOnly) records.push(...planned);
          results.push({ ...topicError(request.name, ErrorCode.NONE, null), numPartitions: request.count });
        } catch (error) {
          results.push(errorOf(request.name, error));
        }
      }
      return this.appendOrRefuse(records, results);
    });
  }

  private planPartitions(request: { name: string; count: number; assignments: number[][] | null }): MetadataRecord[] {
    const topic = this.image.topic(request.name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${request.name}' does not exist`);
    if (internalTopics.has(topic.name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `cannot add partitions to internal topic ${topic.name}`);
    const current = topic.partitions.size;
    if (request.count <= current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `topic '${topic.name}' has ${current} partitions; the new count ${request.count} must be larger`);
    }
    if (request.count > MAX_PARTITIONS_PER_TOPIC) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at most ${MAX_PARTITIONS_PER_TOPIC}`);
    const added = request.count - current;
    // Partition 0's factor, counting the replicas it keeps if it is being moved.
    const first = topic.partitions.get(0);
    const replicationFactor = first ? targetReplicas(first).length : 1;
    let assignment: number[][];
    if (request.assignments) {
      if (request.assignments.length !== added) {
        throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `expected ${added} replica assignments, got ${request.assignments.length}`);
      }
      assignment = request.assignments.map((brokerIds) => this.checkedReplicas(brokerIds));
    } else {
      assignment = this.placeReplicas(current, added, replicationFactor);
    }
    return assignment.map((replicas, index) => this.partitionRecord(topic.topicId, current + index, replicas));
  }

  /** A new partition's record: its first replica leads, every replica in sync and in its broker's default directory. */
  private partitionRecord(topicId: string, partitionId: number, replicas: number[]): PartitionRecord {
    const record: PartitionRecord = { type: 'Partition', topicId, partitionId, replicas, isr: [...replicas], leader: replicas[0]!, leaderEpoch: 0, partitionEpoch: 0 };
    const directories = replicas.map((id) => this.defaultDir(id));
    // Every one MIGRATING is what a record without directories means (how replay reads it back).
    if (directories.some((directory) => directory !== DirectoryId.MIGRATING)) record.directories = directories;
    return record;
  }
}

/** Names that appear more than once in one request: Kafka refuses every occurrence. */
function duplicateNames(requests: { name: string }[]): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const { name } of requests) (seen.has(name) ? duplicates : seen).add(name);
  return duplicates;
}

function duplicateError(name: string): TopicResult {
  return topicError(name, ErrorCode.INVALID_REQUEST, `topic '${name}' appears more than once in the request`);
}

/**
 * Broker ids with their racks alternating (the first broker of each rack, then the second of each,
 * ...), racks and the brokers within each in id order; without racks, simply in id order.
 */
export function rackAlternated(brokers: readonly { brokerId: number; rack: string | null }[]): number[] {
  const byRack = new Map<string, number[]>();
  for (const broker of [...brokers].sort((a, b) => a.brokerId - b.brokerId)) {
    const key = broker.rack ?? '';
    const list = byRack.get(key);
    if (list) list.push(broker.brokerId);
    else byRack.set(key, [broker.brokerId]);
  }
  const racks = [...byRack.keys()].sort().map((rack) => byRack.get(rack)!);
  const alternated: number[] = [];
  for (let index = 0; alternated.length < brokers.length; index++) {
    for (const rack of racks) if (index < rack.length) alternated.push(rack[index]!);
  }
  return alternated;
}
