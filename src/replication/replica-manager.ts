// The replica manager owns the partitions this broker hosts: it creates and deletes their logs as
// the metadata image says, appends produced batches, and tells listeners when a partition's high
// watermark moves so waiting fetches can complete.
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import type { LogConfig } from '../log/log-config.js';
import type { LogManager } from '../log/log-manager.js';
import type { IsrManager } from './isr-manager.js';
import { Partition, partitionKey, type ReplicaAssignment } from './partition.js';

export type HighWatermarkListener = (partition: Partition) => void;
/** Told when this broker starts or stops leading a hosted partition (or a new leader epoch of it). */
export type LeadershipListener = (partition: Partition, leads: boolean) => void;

interface CommitWaiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}
/** Told when a hosted replica becomes a follower of another leader, or stops following. */
export type FollowListener = (partition: Partition) => void;

/**
 * How a move of a replica between log directories (moveReplica) ended: in the directory asked for,
 * where it was (it was there already, or the move was given up), or left to a later request.
 */
export type ReplicaMoveOutcome = 'moved' | 'stayed' | 'replaced';

/** The latest move asked for a replica (AlterReplicaLogDirs) and its end. */
interface ReplicaMove {
  readonly logDir: string;
  done: Promise<ReplicaMoveOutcome>;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly listeners: HighWatermarkListener[] = [];
  private readonly followListeners: FollowListener[] = [];
  private readonly leadershipListeners: LeadershipListener[] = [];
  private readonly placedListeners: ((partition: Partition) => void)[] = [];
  private readonly commitWaiters = new Map<Partition, CommitWaiter[]>();
  /** Replicas whose log directory failed: not hosted again until a restart (Kafka's offline replicas). */
  private readonly offline = new Set<string>();
  /** Replicas being moved between log directories: the latest move asked for each. */
  private readonly moves = new Map<string, ReplicaMove>();
  /** Proposes ISR changes for the partitions led here (a cluster; a single node's ISR never changes). */
  isrManager: IsrManager | undefined;

  constructor(
    readonly logManager: LogManager,
    private readonly logger: Logger,
    private readonly localBrokerId = -1,
  ) {}

  /** The partition if this broker leads it (what produce, consumer fetches and offsets need). */
  get(topic: string, partitionIndex: number): Partition | undefined {
    const partition = this.partitions.get(partitionKey(topic, partitionIndex));
    return partition?.isLeader ? partition : undefined;
  }

  /** The replica this broker hosts, leader or follower. */
  replica(topic: string, partitionIndex: number): Partition | undefined {
    return this.partitions.get(partitionKey(topic, partitionIndex));
  }

  /** Every replica hosted here, leaders and followers. */
  all(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  onHighWatermarkChange(listener: HighWatermarkListener): void {
    this.listeners.push(listener);
  }

  onFollowChange(listener: FollowListener): void {
    this.followListeners.push(listener);
  }

  onLeadershipChange(listener: LeadershipListener): void {
    this.leadershipListeners.push(listener);
  }

  /** Told when a replica is hosted on a log here: a new one, one opened at start, or one moved to another log directory. */
  onReplicaPlaced(listener: (partition: Partition) => void): void {
    this.placedListeners.push(listener);
  }

  /**
   * Resolves once the high watermark of `partition`, led here, has passed `offset` (every in-sync
   * replica has it); rejects with NOT_LEADER_OR_FOLLOWER if this broker stops leading it first,
   * or REQUEST_TIMED_OUT after `timeoutMs`. What the coordinators' own writes wait for.
   */
  whenCommitted(partition: Partition, offset: number, timeoutMs: number, clock: Clock): Promise<void> {
    if (partition.highWatermark > offset) return Promise.resolve();
    if (!partition.isLeader || this.replica(partition.topic, partition.partitionIndex) !== partition) return Promise.reject(notLeader(partition));
    return new Promise<void>((resolve, reject) => {
      let waiters = this.commitWaiters.get(partition);
      if (!waiters) this.commitWaiters.set(partition, (waiters = []));
      const cancel = clock.schedule(timeoutMs, () => {
        const list = this.commitWaiters.get(partition);
        if (list) list.splice(list.indexOf(waiter), 1);
        reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `${partition.topic}-${partition.partitionIndex} did not commit offset ${offset} within ${timeoutMs} ms`));
      });
      const waiter: CommitWaiter = {
        offset,
        resolve: () => {
          cancel();
          resolve();
        },
        reject: (error) => {
          cancel();
          reject(error);
        },
      };
      waiters.push(waiter);
    });
  }

  /**
   * Hosts a replica of a partition as the image assigns it: opens or creates its log and takes
   * the assignment (leader or follower, epoch, ISR). A new leader epoch starts at the log end.
   */
  async host(topic: string, partitionIndex: number, topicId: string, assignment: ReplicaAssignment, config: Partial<LogConfig>, nowMs: number): Promise<Partition> {
    if (this.isOffline(topic, partitionIndex)) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${topic}-${partitionIndex} is in a failed log directory`);
    let partition = this.replica(topic, partitionIndex);
    const fresh = !partition || partition.topicId !== topicId;
    if (!partition || fresh) {
      const log = await this.logManager.createLog(topic, partitionIndex, config);
      // A log opened at start-up took the broker defaults; the topic's own settings apply from here.
      this.logManager.updateConfig(topic, partitionIndex, config);
      partition = new Partition(topic, partitionIndex, topicId, log, this.localBrokerId);
      this.partitions.set(partition.key, partition);
      for (const listener of this.placedListeners) listener(partition);
    }
    const wasLeader = partition.isLeader;
    const before = partition.assignment;
    if (assignment.leaderId === this.localBrokerId) partition.log.leaderEpochCache.assign(assignment.leaderEpoch, partition.log.nextOffset);
    partition.assign(assignment, nowMs);
    const epochChanged = before.leaderId !== assignment.leaderId || before.leaderEpoch !== assignment.leaderEpoch;
    const followChanged = fresh ? !partition.isLeader : wasLeader !== partition.isLeader || epochChanged;
    if (followChanged) for (const listener of this.followListeners) listener(partition);
    if (fresh ? partition.isLeader : wasLeader !== partition.isLeader || (partition.isLeader && epochChanged)) {
      for (const listener of this.leadershipListeners) listener(partition, partition.isLeader);
    }
    this.notify(partition);
    return partition;
  }

  /**
   * A follower fetched a partition led here at `fetchOffset` (its log end): moves the high
   * watermark (waking what waits on it) and proposes the follower for the ISR once it caught up.
   */
  followerFetched(partition: Partition, replicaId: number, fetchOffset: number, nowMs: number, brokerEpoch = -1): void {
    if (partition.updateFollower(replicaId, fetchOffset, nowMs, brokerEpoch)) this.notify(partition);
    this.isrManager?.check(partition);
  }

  /** A single node's partition: this broker leads it and is its whole ISR. */
  becomeLeader(topic: string, partitionIndex: number, topicId: string, leaderEpoch: number, config: Partial<LogConfig>): Promise<Partition> {
    const self = [this.localBrokerId];
    return this.host(topic, partitionIndex, topicId, { leaderId: this.localBrokerId, leaderEpoch, partitionEpoch: 0, replicas: self, isr: self }, config, 0);
  }

  /** Deletes the logs of a topic that the metadata log removed. */
  async deleteTopic(topic: string): Promise<void> {
    const doomed = [...this.partitions.values()].filter((partition) => partition.topic === topic);
    for (const partition of doomed) await this.removeReplica(partition);
    if (doomed.length > 0) this.logger.info('deleted topic logs', { topic, partitions: doomed.length });
  }

  /**
   * Stops hosting a replica and deletes its log: its topic is gone, or a reassignment moved the
   * partition off this broker. Whatever waits on it (fetches, acks=all produces, the fetcher, the
   * coordinators) hears that this broker no longer leads or follows it.
   */
  async removeReplica(partition: Partition): Promise<void> {
    if (!this.#stopHosting(partition)) return;
    await this.logManager.deleteLog(partition.topic, partition.partitionIndex).catch((error: unknown) => {
      // Its log directory failed meanwhile (taken offline, reported to the controller): the files
      // stay there, and the next start deletes them. A fault of that directory, not of the rest.
      if (!(error instanceof KafkaError && error.errorCode === ErrorCode.KAFKA_STORAGE_ERROR)) throw error;
      this.logger.warn('the log of a removed replica stays in its failed log directory', { topic: partition.topic, partition: partition.partitionIndex, error: error.message });
    });
  }

  /** Forgets a hosted replica and tells whatever waits on it that it is neither led nor followed here. */
  #stopHosting(partition: Partition): boolean {
    if (this.partitions.get(partition.key) !== partition) return false;
    this.partitions.delete(partition.key);
    if (!partition.isLeader) for (const listener of this.followListeners) listener(partition);
    else for (const listener of this.leadershipListeners) listener(partition, false);
    this.notify(partition);
    return true;
  }

  /**
   * The log directory `dir` failed (Kafka's log-dir failure): this broker stops leading and
   * following every partition in it at once, so coordinators resign, waiting produces and fetches
   * are answered and the fetchers stop; the logs stay on disk, untouched. Until a restart those
   * partitions are offline here (requests for them answer KAFKA_STORAGE_ERROR) while the
   * controller moves their leadership to other replicas. Returns the partitions taken offline.
   */
  takeLogDirOffline(dir: string): Partition[] {
    for (const log of this.logManager.logs()) if (this.logManager.logDirOf(log.topic, log.partition) === dir) this.offline.add(partitionKey(log.topic, log.partition));
    const lost = [...this.partitions.values()].filter((partition) => this.offline.has(partition.key));
    for (const partition of lost) this.#stopHosting(partition);
    if (lost.length > 0) this.logger.error('log directory failed: partitions offline on this broker', { dir, partitions: lost.map((partition) => partition.key) });
    return lost;
  }

  /**
   * Moves a hosted replica's log to another of this broker's log directories (AlterReplicaLogDirs).
   * The replica serves while its log is copied (LogManager.moveLog); for the last records and the
   * swap it stops being led or followed here (clients and followers retry, as after a leader
   * move), then is hosted again with the assignment it had.
   *
   * As Kafka's ReplicaManager.alterReplicaLogDirs: asked again for the directory a move under way
   * is taking the replica to, nothing changes; asked for another directory, the move under way is
   * given up (its copy removed, LogManager.cancelMove) and, unless the directory asked for is the
   * one the replica is in (which cancels the move), a new move starts from there once it has
   * ended. Moves of one replica run one after another, the latest request winning.
   */
  moveReplica(topic: string, partitionIndex: number, logDir: string, nowMs: number): Promise<ReplicaMoveOutcome> {
    const key = partitionKey(topic, partitionIndex);
    const pending = this.moves.get(key);
    if (pending?.logDir === logDir) return pending.done;
    const move: ReplicaMove = { logDir, done: Promise.resolve<ReplicaMoveOutcome>('stayed') };
    this.moves.set(key, move);
    move.done = (async (): Promise<ReplicaMoveOutcome> => {
      if (pending !== undefined) {
        await this.logManager.cancelMove(topic, partitionIndex);
        await pending.done.catch(() => {});
      }
      // A later request took this one's place before it could start.
      if (this.moves.get(key) !== move) return 'replaced';
      return this.#moveHosted(topic, partitionIndex, logDir, nowMs);
    })().finally(() => {
      if (this.moves.get(key) === move) this.moves.delete(key);
    });
    return move.done;
  }

  /** Whether a move of this replica between log directories was asked for and has not ended. */
  isMoving(topic: string, partitionIndex: number): boolean {
    return this.moves.has(partitionKey(topic, partitionIndex));
  }

  async #moveHosted(topic: string, partitionIndex: number, logDir: string, nowMs: number): Promise<ReplicaMoveOutcome> {
    const partition = this.replica(topic, partitionIndex);
    if (partition === undefined) throw new KafkaError(ErrorCode.REPLICA_NOT_AVAILABLE, `${topic}-${partitionIndex} is not hosted here`);
    if (this.logManager.logDirOf(topic, partitionIndex) === logDir) return 'stayed';
    const { topicId } = partition;
    const config = partition.log.config;
    let assignment = partition.assignment;
    try {
      const moved = await this.logManager.moveLog(topic, partitionIndex, logDir, () => {
        // The assignment as it is now: a metadata change during the copy applied to this replica.
        assignment = partition.assignment;
        this.#stopHosting(partition);
      });
      // Given up (a later request) unless it reached the directory asked for.
      return this.logManager.logDirOf(topic, partitionIndex) === logDir && this.logManager.get(topic, partitionIndex) === moved ? 'moved' : 'replaced';
    } finally {
      // Hosted again wherever the log is now (where it was, if the move failed), unless its directory failed meanwhile.
      // (A metadata change during the move hosted it already, with the newer assignment.)
      const rehost = this.replica(topic, partitionIndex) === undefined && !this.isOffline(topic, partitionIndex) && this.logManager.get(topic, partitionIndex) !== undefined;
      if (rehost) await this.host(topic, partitionIndex, topicId, assignment, config, nowMs);
    }
  }

  /** Whether the replica of this partition is in a failed log directory. */
  isOffline(topic: string, partitionIndex: number): boolean {
    return this.offline.has(partitionKey(topic, partitionIndex));
  }

  /** Appends a validated batch and wakes waiters once the high watermark has moved. */
  async append(partition: Partition, batch: Buffer, appendTimeMs: number) {
    const result = await partition.append(batch, appendTimeMs);
    this.notify(partition);
    return result;
  }

  /** Tells waiting fetches and produces that `partition` moved (appended, committed, or changed role). */
  notify(partition: Partition): void {
    const waiters = this.commitWaiters.get(partition);
    if (waiters) {
      const led = partition.isLeader && this.replica(partition.topic, partition.partitionIndex) === partition;
      const settled = waiters.filter((waiter) => !led || partition.highWatermark > waiter.offset);
      if (settled.length === waiters.length) this.commitWaiters.delete(partition);
      else this.commitWaiters.set(partition, waiters.filter((waiter) => !settled.includes(waiter)));
      for (const waiter of settled) {
        if (led) waiter.resolve();
        else waiter.reject(notLeader(partition));
      }
    }
    for (const listener of this.listeners) listener(partition);
  }
}

function notLeader(partition: Partition): KafkaError {
  return new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `${partition.topic}-${partition.partitionIndex} is no longer led here`);
}
