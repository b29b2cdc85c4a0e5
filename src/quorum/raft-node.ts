// One node of the KRaft metadata quorum (KIP-595 with pre-vote, KIP-996): the election, the
// replication of __cluster_metadata-0 by fetching from the leader, and the high watermark. It is
// the counterpart of Kafka's KafkaRaftClient, written as a sans-IO core behind ports: time through
// Clock, randomness through RandomSource, the log through RaftLog, the quorum-state file through
// the file-system port and messages through Transport (DESIGN.md, the cluster).
//
// Every event (a request from another node, a response, a timer, an append) runs as one step on a
// serial queue, so steps never interleave even where they wait for the disk. A step that changes
// the epoch, the vote or the known leader persists the quorum-state file before it sends anything
// or answers, so no restart can vote twice in an epoch or go back to an older one. Role data lives
// in one class per role (unattached, prospective, candidate, leader, follower, resigned).
import type { Clock, RandomSource } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import { SerialQueue } from '../log/serial-queue.js';
import {
  type AddRaftVoterRequest,
  AddRaftVoterApi,
  type AddRaftVoterResponse,
  type RemoveRaftVoterRequest,
  RemoveRaftVoterApi,
  type RemoveRaftVoterResponse,
  type UpdateRaftVoterRequest,
  UpdateRaftVoterApi,
  type UpdateRaftVoterResponse,
  type BeginQuorumEpochRequest,
  BeginQuorumEpochApi,
  type BeginQuorumEpochResponse,
  type EndQuorumEpochRequest,
  EndQuorumEpochApi,
  type EndQuorumEpochResponse,
  type FetchRequest,
  FetchApi,
  type FetchResponse,
  type FetchSnapshotRequest,
  FetchSnapshotApi,
  type FetchSnapshotResponse,
  type VoteRequest,
  VoteApi,
  type VoteResponse,
} from '../protocol/messages/index.js';
import type { ApiDescriptor } from '../protocol/messages/index.js';
import type { RecordInput } from '../protocol/records/record.js';
import { type InboundRequest, type Transport, TransportError } from '../protocol/transport.js';
import { CandidateState } from './candidate-state.js';
import { FollowerState } from './follower-state.js';
import { LeaderState, type ReplicaPosition } from './leader-state.js';
import { leaderChangeRecord } from './leader-change.js';
import { ProspectiveState } from './prospective-state.js';
import { type ElectionState, NO_NODE, NO_VOTE, type QuorumStateFile, type ReplicaKey, isVoteFor } from './quorum-state-file.js';
import type { RaftConfig } from './raft-config.js';
import type { OffsetAndEpoch, RaftBatchInfo, RaftLog } from './raft-log.js';
import { ResignedState } from './resigned-state.js';
import { decodeSnapshot, decodeSnapshotFile, encodeSnapshot } from './snapshot-file.js';
import { sameSnapshot, type SnapshotStore } from './snapshot-store.js';
import { UnattachedState } from './unattached-state.js';
import { keyMatches, staticVoter, type Voter, type VoterEndpoint, votersRecord, ZERO_UUID } from './voter-set.js';

export const METADATA_TOPIC = '__cluster_metadata';
/** Kafka's fixed topic id of the metadata topic (Uuid(0, 1)). */
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';
const METADATA_PARTITION = 0;

const VOTE_VERSION = 2;
const BEGIN_QUORUM_EPOCH_VERSION = 1;
const END_QUORUM_EPOCH_VERSION = 1;
const FETCH_VERSION = 17;
const FETCH_SNAPSHOT_VERSION = 1;
const UPDATE_RAFT_VOTER_VERSION = 0;
/** Kafka's POSITION_OUT_OF_RANGE (a FetchSnapshot position past the snapshot's end); not in the shared error table. */
const POSITION_OUT_OF_RANGE = 99;
/** A batch's header and a record's framing, for the batch size estimate. */
const BATCH_OVERHEAD_BYTES = 61;
const RECORD_OVERHEAD_BYTES = 24;
/** Fetches a leader may hold at once (one per follower in a healthy quorum). */
const MAX_PARKED_FETCHES = 1024;

export type RaftRole = UnattachedState | ProspectiveState | CandidateState | LeaderState | FollowerState | ResignedState;

export interface ReplicaDescription {
  readonly replicaId: number;
  /** Its metadata log directory id (KIP-853), the zero uuid when unknown. */
  readonly directoryId: string;
  /** -1 until it fetched in this epoch. */
  readonly logEndOffset: number;
  /** Wall-clock ms, -1 for never. */
  readonly lastFetchTimestamp: number;
  readonly lastCaughtUpTimestamp: number;
}

export interface QuorumDescription {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly voters: readonly ReplicaDescription[];
  readonly observers: readonly ReplicaDescription[];
}

export interface RaftListener {
  /** The high watermark moved: offsets below it are committed. */
  onHighWatermark?(highWatermark: number): void;
  /** This node's role or epoch changed. */
  onRoleChange?(role: RaftRole): void;
  /**
   * A snapshot fetched from the leader replaced this node's log (it was too far behind): the state
   * machine must load it, as everything it held is older.
   */
  onSnapshotInstalled?(snapshot: OffsetAndEpoch): void;
  /** The voter set changed (KIP-853): a VotersRecord was appended, truncated away or installed. */
  onVotersChange?(voters: readonly Voter[]): void;
  /** A response named where a node listens (a leader's NodeEndpoints in Fetch, KIP-853). */
  onEndpoint?(nodeId: number, endpoint: VoterEndpoint): void;
}

export interface RaftNodeOptions {
  readonly config: RaftConfig;
  readonly log: RaftLog;
  /** The metadata log's snapshots; the log was opened from the newest one. */
  readonly snapshots: SnapshotStore;
  readonly stateFile: QuorumStateFile;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly listener?: RaftListener;
}

interface PendingCommit {
  readonly lastOffset: number;
  readonly resolve: (lastOffset: number) => void;
  readonly reject: (error: Error) => void;
}

interface ParkedFetch {
  readonly request: FetchRequest;
  readonly fromNodeId: number;
  readonly resolve: (response: FetchResponse) => void;
  readonly cancelTimer: () => void;
}

export class RaftNode {
  readonly #config: RaftConfig;
  readonly #log: RaftLog;
  readonly #snapshots: SnapshotStore;
  readonly #stateFile: QuorumStateFile;
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #logger: Logger;
  readonly #listener: RaftListener;
  readonly #steps = new SerialQueue();
  #role: RaftRole;
  /** Bumped at every transition: timers and responses of an older generation are ignored. */
  #generation = 0;
  #cancelTimers: (() => void)[] = [];
  #highWatermark = 0;
  /** Appends waiting for the next batch, each an atomic unit. */
  #pendingAppends: { records: readonly RecordInput[]; bytes: number; commit: PendingCommit }[] = [];
  #appendScheduled = false;
  #commits: PendingCommit[] = [];
  readonly #parked = new Set<ParkedFetch>();
  #closed = false;
  #closing = false;
  /** What the quorum-state file holds. */
  #persisted: ElectionState;
  /** The voter ids last acted on, to notice a change. */
  #knownVoters = '';
  #snapshotsInstalled = 0;
  /** When a follower last read each snapshot with FetchSnapshot (by end offset), on the leader. */
  readonly #snapshotReads = new Map<number, number>();
  /** The epoch in which this voter last told the leader its endpoints (UpdateRaftVoter). */
  #endpointsSentInEpoch = -1;

  private constructor(options: RaftNodeOptions, role: RaftRole, persisted: ElectionState) {
    this.#persisted = persisted;
    this.#config = options.config;
    this.#log = options.log;
    this.#snapshots = options.snapshots;
    this.#stateFile = options.stateFile;
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#random = options.random;
    this.#logger = options.logger;
    this.#listener = options.listener ?? {};
    this.#role = role;
  }

  /**
   * Starts a node from its quorum-state file: a node that led the stored epoch comes back
   * resigned (it may not lead that epoch twice), one that knew a leader follows it, any other is
   * unattached with the vote it cast.
   */
  static async start(options: RaftNodeOptions): Promise<RaftNode> {
    const stored = await options.stateFile.read();
    const { nodeId, voters } = options.config;
    let role: RaftRole;
    if (options.log.lastEpoch > stored.epoch) {
      // The log holds a batch of a later epoch than the file: this node led that epoch, as only a
      // leader writes batches of its epoch first (its state is written before its first batch, so
      // this means the file was lost or replaced). It must not vote for anyone else in it.
      options.logger.warn('the metadata log is ahead of the quorum-state file', { logEpoch: options.log.lastEpoch, fileEpoch: stored.epoch });
      role = new UnattachedState(options.log.lastEpoch, { id: nodeId, directoryId: options.config.directoryId });
    } else if (stored.leaderId === nodeId) role = new ResignedState(stored.epoch, nodeId, voters);
    else if (stored.leaderId !== NO_NODE) role = new FollowerState(stored.epoch, stored.leaderId, stored.voted, options.clock.monotonicMs());
    else role = new UnattachedState(stored.epoch, stored.voted);
    const node = new RaftNode(options, role, stored);
    // Snapshots before the log start were kept for followers fetching them when this node led.
    await options.snapshots.deleteBefore({ offset: options.log.startOffset, epoch: 0 });
    const snapshot = options.snapshots.latest;
    if (snapshot && !options.log.voterHistory.hasBefore(snapshot.offset)) {
      // The log before the snapshot is gone, and with it the VotersRecord in effect there.
      const { voters } = decodeSnapshotFile(await options.snapshots.readAll(snapshot));
      if (voters) options.log.voterHistory.prependBase(voters);
    }
    node.#knownVoters = votersKey(node.voterSet);
    await node.#steps.run(() => node.#enter(role));
    return node;
  }

  get nodeId(): number {
    return this.#config.nodeId;
  }

  get role(): RaftRole {
    return this.#role;
  }

  get epoch(): number {
    return this.#role.epoch;
  }

  get leaderId(): number {
    return 'leaderId' in this.#role ? this.#role.leaderId : NO_NODE;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  get log(): RaftLog {
    return this.#log;
  }

  /** How many snapshots this node fetched from a leader and installed since it started. */
  get snapshotsInstalled(): number {
    return this.#snapshotsInstalled;
  }

  /** The newest snapshot this node holds (the log starts at its end), if any. */
  get latestSnapshot(): OffsetAndEpoch | undefined {
    return this.#snapshots.latest;
  }

  /** The state machine's records in snapshot `snapshot`. */
  async readSnapshot(snapshot: OffsetAndEpoch): Promise<Buffer[]> {
    return decodeSnapshot(await this.#snapshots.readAll(snapshot));
  }

  /**
   * Writes a snapshot of the state machine at `endOffset` (everything below it applied; it must be
   * committed and end a batch), then drops the log before it (KIP-630). Returns its id, or
   * undefined when a snapshot at or past `endOffset` exists already.
   */
  createSnapshot(endOffset: number, values: readonly Buffer[]): Promise<OffsetAndEpoch | undefined> {
    return this.#run(async () => {
      const latest = this.#snapshots.latest;
      if (latest && latest.offset >= endOffset) return undefined;
      if (endOffset > this.#highWatermark) throw new Error(`a snapshot at ${endOffset} would hold uncommitted records (high watermark ${this.#highWatermark})`);
      const last = this.#log.batches().find((batch) => batch.lastOffset === endOffset - 1);
      if (!last) throw new Error(`a snapshot at ${endOffset} does not end a batch of the log`);
      const snapshot = { offset: endOffset, epoch: last.epoch };
      await this.#snapshots.write(snapshot, encodeSnapshot(snapshot, values, this.#clock.nowMs(), this.#log.voterHistory.at(endOffset)?.voters));
      const keepFrom = this.#oldestSnapshotToKeep(latest);
      if (keepFrom) {
        await this.#log.deleteBefore(keepFrom);
        await this.#snapshots.deleteBefore(keepFrom);
      }
      this.#logger.info('metadata snapshot written', { endOffset, epoch: snapshot.epoch, records: values.length });
      return snapshot;
    });
  }

  /** The current voter ids: the newest VotersRecord the log holds, else controller.quorum.voters. */
  get voters(): readonly number[] {
    return this.voterSet.map((voter) => voter.id);
  }

  get voterSet(): readonly Voter[] {
    return this.#log.voterHistory.latest()?.voters ?? this.#config.voters.map((id) => ({ ...staticVoter(id), endpoints: this.#config.staticEndpoints.get(id) ?? [] }));
  }

  /**
   * Whether this node is a voter: the voter set has an entry for its key (KIP-853: its id, and its
   * metadata log directory id unless the entry has the zero uuid). A voter whose disk was replaced
   * comes back with a new directory id and is only an observer until it is added again.
   */
  /**
   * The finalized kraft.version (KIP-853): 1 once the log or a snapshot holds a voter set (a dynamic
   * quorum, or a static one after its first voter change), 0 while the voters are the static
   * controller.quorum.voters.
   */
  get kraftVersion(): number {
    return this.#log.voterHistory.latest() === undefined ? 0 : 1;
  }

  get isVoter(): boolean {
    return this.voterSet.some((voter) => keyMatches(voter, this.#config.nodeId, this.#config.directoryId));
  }

  /** This node's directory id (the metadata log directory's directory.id). */
  get directoryId(): string {
    return this.#config.directoryId;
  }

  /** This node as a vote names it. */
  get #selfKey(): ReplicaKey {
    return { id: this.nodeId, directoryId: this.#config.directoryId };
  }

  /** The directory id the voter set records for voter `id` (the zero uuid when none or not a voter). */
  #voterDirectoryId(id: number): string {
    return this.voterSet.find((voter) => voter.id === id)?.directoryId ?? ZERO_UUID;
  }

  /** Kafka's isValidVoterKey: a request's voter key (absent for an id below 0) must name this replica. */
  #isValidVoterKey(voterId: number | undefined, directoryId: string | undefined): boolean {
    if (voterId === undefined || voterId < 0) return true;
    if (voterId !== this.nodeId) return false;
    return directoryId === undefined || directoryId === ZERO_UUID || directoryId === this.#config.directoryId;
  }

  /**
   * Adds a voter (KIP-853, AddRaftVoter) on the leader: it must be fetching and caught up with the
   * high watermark, no earlier change may be uncommitted, and the leader must have committed in its
   * epoch. The new set takes effect at once; resolves once the change is committed.
   */
  addVoter(voter: Voter): Promise<void> {
    return this.#changeVoters((current, role) => {
      if (current.some((existing) => existing.id === voter.id)) throw new KafkaError(ErrorCode.DUPLICATE_VOTER, `node ${voter.id} is a voter already`);
      const position = role.position(voter.id, voter.directoryId);
      const fresh = position !== undefined && this.#clock.monotonicMs() - position.lastFetchMs <= this.#config.fetchTimeoutMs;
      if (!position || !fresh || position.endOffset < this.#highWatermark) {
        throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `node ${voter.id} has not caught up with the metadata log (it must fetch as an observer first)`);
      }
      return [...current, voter];
    });
  }

  /** Removes a voter (KIP-853, RemoveRaftVoter) on the leader; a leader removing itself resigns once that commits. */
  removeVoter(voterId: number, directoryId?: string): Promise<void> {
    return this.#changeVoters((current) => {
      const found = current.find((voter) => voter.id === voterId && (directoryId === undefined || voter.directoryId === directoryId || voter.directoryId === ZERO_UUID));
      if (!found) throw new KafkaError(ErrorCode.VOTER_NOT_FOUND, `node ${voterId} is not a voter`);
      if (current.length === 1) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'the last voter cannot be removed');
      return current.filter((voter) => voter !== found);
    });
  }

  async #changeVoters(change: (current: Voter[], role: LeaderState) => Voter[] | null): Promise<void> {
    const { committed } = await this.#run(async () => {
      const role = this.#role;
      if (role.kind !== 'leader') throw this.#notLeader();
      if (this.#highWatermark <= role.epochStartOffset) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'the leader has not committed an entry of its epoch yet');
      const latest = this.#log.voterHistory.latest();
      if (latest && latest.offset >= this.#highWatermark) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'an earlier voter change is not committed yet');
      const next = change([...this.voterSet], role);
      if (next === null) return { committed: Promise.resolve(0) };
      const info = await this.#log.appendAsLeader([votersRecord(next, this.#clock.nowMs())], role.epoch, true);
      const committed = new Promise<number>((resolve, reject) => this.#commits.push({ lastOffset: info.lastOffset, resolve, reject }));
      this.#logger.info('voter set changed', { voters: next.map((voter) => voter.id).join(','), offset: info.baseOffset });
      this.#votersChanged();
      await this.#log.flush();
      if (this.#role === role) this.#localProgress(role);
      return { committed };
    });
    await committed;
  }

  /**
   * Records a voter's new endpoints (KIP-853, UpdateRaftVoter) on the leader, as a VotersRecord with
   * that voter's entry replaced; nothing is written when they are the ones the set holds already.
   */
  updateVoter(voterId: number, directoryId: string, endpoints: readonly VoterEndpoint[]): Promise<void> {
    return this.#changeVoters((current) => {
      const index = current.findIndex((voter) => voter.id === voterId && (voter.directoryId === directoryId || voter.directoryId === ZERO_UUID));
      if (index < 0) throw new KafkaError(ErrorCode.VOTER_NOT_FOUND, `node ${voterId} is not a voter`);
      if (sameEndpoints(current[index]!.endpoints, endpoints)) return null;
      return current.map((voter, at) => (at === index ? { ...voter, endpoints: [...endpoints] } : voter));
    });
  }

  /**
   * A voter of a dynamic set (one a VotersRecord names) whose recorded endpoints are not the ones it
   * listens on now (it restarted on another port) tells the leader, once per epoch it follows.
   */
  #maybeSendEndpoints(role: FollowerState): void {
    const own = this.voterSet.find((voter) => keyMatches(voter, this.nodeId, this.#config.directoryId));
    const endpoints = this.#config.selfEndpoints;
    if (!own || this.#log.voterHistory.latest() === undefined || endpoints.length === 0 || sameEndpoints(own.endpoints, endpoints)) return;
    if (this.#endpointsSentInEpoch === role.epoch) return;
    this.#endpointsSentInEpoch = role.epoch;
    const request: UpdateRaftVoterRequest = {
      clusterId: this.#config.clusterId,
      currentLeaderEpoch: role.epoch,
      voterId: this.nodeId,
      voterDirectoryId: this.#config.directoryId,
      listeners: endpoints.map(({ name, host, port }) => ({ name, host, port })),
      kRaftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 },
    };
    this.#send(role.leaderId, UpdateRaftVoterApi, UPDATE_RAFT_VOTER_VERSION, request, (response) => {
      if (response.errorCode !== ErrorCode.NONE) {
        // Try again at the next fetch (an earlier change pending, a leader not settled yet).
        this.#endpointsSentInEpoch = -1;
        this.#logger.info('the leader did not take this voter\'s endpoints yet', { errorCode: response.errorCode });
      }
    }, () => {
      this.#endpointsSentInEpoch = -1;
    });
  }

  /** Acts on a new voter set: the leader counts its majority over it; a node no longer voting stops electing. */
  #votersChanged(): void {
    const key = votersKey(this.voterSet);
    if (key === this.#knownVoters) return;
    this.#knownVoters = key;
    this.#listener.onVotersChange?.(this.voterSet);
    const role = this.#role;
    if (role.kind === 'leader') {
      if (role.setVoters(this.voterSet, this.#clock.monotonicMs())) this.#advanceHighWatermark(role.highWatermark);
      for (const voter of role.unacknowledged()) this.#beginQuorumEpoch(voter);
      this.#maybeResignRemoved(role);
    }
  }

  /** A leader that removed itself leads until that change commits, then resigns. */
  #maybeResignRemoved(role: LeaderState): void {
    const latest = this.#log.voterHistory.latest();
    if (this.isVoter || !latest || latest.offset >= this.#highWatermark) return;
    this.#schedule(0, async () => {
      if (this.#role !== role) return;
      this.#logger.info('this leader is no longer a voter; resigning', { epoch: role.epoch });
      await this.#transition(new ResignedState(role.epoch, this.nodeId, this.voters));
    });
  }

  /** The quorum as its leader sees it (DescribeQuorum), or undefined on any other node. */
  describe(): QuorumDescription | undefined {
    const role = this.#role;
    if (role.kind !== 'leader') return undefined;
    const now = this.#clock.nowMs();
    const replica = (replicaId: number, directoryId: string, position: ReplicaPosition): ReplicaDescription =>
      replicaId === this.nodeId && directoryId === this.#config.directoryId
        ? { replicaId, directoryId, logEndOffset: this.#log.endOffset, lastFetchTimestamp: now, lastCaughtUpTimestamp: now }
        : { replicaId, directoryId, logEndOffset: position.endOffset, lastFetchTimestamp: position.lastFetchTimestamp, lastCaughtUpTimestamp: position.lastCaughtUpTimestamp };
    const voters = this.voterSet;
    return {
      leaderId: this.nodeId,
      leaderEpoch: role.epoch,
      highWatermark: this.#highWatermark,
      voters: [...role.replicas].map(([id, position]) => {
        const entry = voters.find((voter) => voter.id === id)?.directoryId ?? ZERO_UUID;
        return replica(id, id === this.nodeId && entry === ZERO_UUID ? this.#config.directoryId : entry, position);
      }),
      observers: role.observers.map(({ key, position }) => replica(key.id, key.directoryId, position)),
    };
  }

  /**
   * Appends records on the leader as one atomic unit: they land in one batch, so they commit (or
   * are lost) together. Resolves with the last offset once committed. Rejects with
   * NOT_LEADER_OR_FOLLOWER on another node or if leadership is lost first (the records may then
   * still commit under a later leader: the outcome is unknown, as for any Kafka timeout), and with
   * RECORD_LIST_TOO_LARGE when they cannot fit in one batch.
   */
  append(records: readonly RecordInput[]): Promise<number> {
    if (this.#closed) return Promise.reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the quorum node is closed'));
    if (this.#role.kind !== 'leader') return Promise.reject(this.#notLeader());
    if (this.#pendingAppends.length + this.#commits.length >= this.#config.maxPendingAppends) {
      return Promise.reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'too many metadata appends are waiting to commit'));
    }
    if (records.length === 0) return Promise.resolve(this.#log.endOffset - 1);
    const bytes = records.reduce((sum, record) => sum + estimatedRecordBytes(record), BATCH_OVERHEAD_BYTES);
    if (bytes > this.#config.maxBatchBytes || records.length > this.#config.maxBatchRecords) {
      return Promise.reject(
        new KafkaError(ErrorCode.RECORD_LIST_TOO_LARGE, `${records.length} records of about ${bytes} bytes exceed one metadata batch (${this.#config.maxBatchRecords} records, ${this.#config.maxBatchBytes} bytes)`),
      );
    }
    return new Promise<number>((resolve, reject) => {
      this.#pendingAppends.push({ records, bytes, commit: { lastOffset: -1, resolve, reject } });
      if (!this.#appendScheduled) {
        this.#appendScheduled = true;
        this.#run(() => this.#writeAppends()).catch((error: unknown) => this.#stepFailed(error));
      }
    });
  }

  /** Serves a request from another node of the quorum. */
  async handle(request: InboundRequest): Promise<unknown> {
    switch (request.apiKey) {
      case VoteApi.apiKey:
        return this.#run(() => this.#handleVote(request.body as VoteRequest));
      case BeginQuorumEpochApi.apiKey:
        return this.#run(() => this.#handleBeginQuorumEpoch(request.body as BeginQuorumEpochRequest));
      case EndQuorumEpochApi.apiKey:
        return this.#run(() => this.#handleEndQuorumEpoch(request.body as EndQuorumEpochRequest));
      case AddRaftVoterApi.apiKey:
        return this.#handleAddVoter(request.body as AddRaftVoterRequest);
      case RemoveRaftVoterApi.apiKey:
        return this.#handleRemoveVoter(request.body as RemoveRaftVoterRequest);
      case UpdateRaftVoterApi.apiKey:
        return this.#handleUpdateVoter(request.body as UpdateRaftVoterRequest);
      case FetchSnapshotApi.apiKey:
        return this.#run(() => this.#handleFetchSnapshot(request.body as FetchSnapshotRequest, request.fromNodeId ?? -1));
      case FetchApi.apiKey: {
        // The step decides at once or parks the fetch; a parked one is answered outside the queue.
        const answer = await this.#run(async () => ({ response: this.#handleFetch(request.body as FetchRequest, request.fromNodeId ?? -1) }));
        return answer.response;
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `the quorum does not serve api key ${request.apiKey}`);
    }
  }

  /**
   * Stops the node. A leader resigns first and tells the voters (EndQuorumEpoch), waiting up to the
   * request timeout for them to acknowledge, so a successor is elected at once rather than after
   * the followers' fetch timeout.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing = true;
    let resigned: ResignedState | undefined;
    try {
      resigned = await this.#run(async () => {
        if (this.#role.kind !== 'leader') return undefined;
        const role = new ResignedState(this.#role.epoch, this.nodeId, this.voters);
        await this.#transition(role);
        return role;
      });
    } catch (error) {
      // A failed disk cannot record the resignation: stop anyway (the next start resigns).
      this.#logger.warn('resigning at shutdown failed', { error: String(error) });
    }
    if (resigned && resigned.unacknowledged.size > 0) {
      await new Promise<void>((resolve) => {
        const cancel = this.#clock.schedule(this.#config.requestTimeoutMs, resolve);
        resigned.onAllAcknowledged = () => {
          cancel();
          resolve();
        };
      });
    }
    this.kill();
    await this.#snapshots.close();
  }

  /** Whether the node was closed or killed (it takes part in the quorum no more). */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Stops at once, as a crash does: no step runs after this and nothing more is sent. */
  kill(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const cancel of this.#cancelTimers) cancel();
    this.#cancelTimers = [];
    this.#failPending(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the quorum node stopped'));
  }

  // ---- steps --------------------------------------------------------------------------------

  /** Runs `step` after every earlier step; nothing runs once the node is closed. */
  #run<T>(step: () => Promise<T>): Promise<T> {
    return this.#steps.run(async () => {
      if (this.#closed) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the quorum node is closed');
      return step();
    });
  }

  /** Runs a step caused by a timer or a response of `generation`, unless the node moved on. */
  #runIfCurrent(generation: number, step: () => Promise<void> | void): void {
    this.#run(async () => {
      if (generation === this.#generation) await step();
    }).catch((error: unknown) => this.#stepFailed(error));
  }

  #stepFailed(error: unknown): void {
    if (this.#closed) return;
    this.#logger.error('quorum step failed', { error: String(error) });
  }

  #schedule(delayMs: number, step: () => Promise<void> | void): void {
    const generation = this.#generation;
    this.#cancelTimers.push(this.#clock.schedule(delayMs, () => this.#runIfCurrent(generation, step)));
  }

  // ---- transitions --------------------------------------------------------------------------

  async #transition(role: RaftRole): Promise<void> {
    const after = this.#electionState(role);
    if (after.epoch < this.#role.epoch) throw new Error(`epoch would go back from ${this.#role.epoch} to ${after.epoch}`);
    for (const cancel of this.#cancelTimers) cancel();
    this.#cancelTimers = [];
    this.#generation++;
    const wasLeader = this.#role.kind === 'leader';
    this.#role = role;
    if (wasLeader) this.#failPending(this.#notLeader());
    this.#answerParkedFetches();
    // A pre-vote changes nothing durable (KIP-996); every other change is written before acting.
    const persisted = this.#persisted;
    let persisting: Promise<void> | undefined;
    // A quorum of one's candidacy is not written either: it wins at once, and its leader state,
    // written next, holds the same epoch and vote (one state write per start instead of two).
    const unwritten = role.kind === 'prospective' || (role.kind === 'candidate' && this.#isOnlyVoter);
    if (!unwritten && (after.epoch !== persisted.epoch || after.leaderId !== persisted.leaderId || after.voted.id !== persisted.voted.id || after.voted.directoryId !== persisted.voted.directoryId)) {
      persisting = this.#stateFile.write(after).then(() => {
        this.#persisted = after;
      });
      // A quorum of one tells no one of its vote or epoch, so the write of its new epoch and its
      // LeaderChange batch overlap: a crash leaves either or both, and start() resumes from the
      // newer epoch of the two. Every other transition is written before anything is sent.
      if (!(this.#isOnlyVoter && role.kind === 'leader')) {
        await persisting;
        persisting = undefined;
      }
    }
    this.#logger.info('quorum role', { role: role.kind, epoch: role.epoch, leaderId: this.leaderId, votedId: after.voted.id });
    await Promise.all([persisting, this.#enter(role)]);
  }

  #electionState(role: RaftRole): ElectionState {
    switch (role.kind) {
      case 'prospective':
        return { epoch: role.epoch, leaderId: NO_NODE, voted: role.voted };
      case 'resigned':
      case 'leader':
        return { epoch: role.epoch, leaderId: this.nodeId, voted: role.kind === 'leader' ? this.#selfKey : NO_VOTE };
      case 'follower':
        return { epoch: role.epoch, leaderId: role.leaderId, voted: role.voted };
      case 'candidate':
        return { epoch: role.epoch, leaderId: NO_NODE, voted: this.#selfKey };
      case 'unattached':
        return { epoch: role.epoch, leaderId: NO_NODE, voted: role.voted };
    }
  }

  /** Starts what the new role does: timers, requests, and for a leader its first entry. */
  async #enter(role: RaftRole): Promise<void> {
    this.#listener.onRoleChange?.(role);
    switch (role.kind) {
      case 'unattached':
        // A quorum of one has no one to pre-vote with: it stands at once.
        if (this.#isOnlyVoter) return this.#becomeCandidate();
        if (this.isVoter) this.#schedule(this.#electionTimeoutMs(), () => this.#startPreVote());
        else this.#discoverLeader();
        return;
      case 'prospective':
        this.#schedule(this.#electionTimeoutMs(), () => this.#electionLost());
        if (role.tally.won) return this.#becomeCandidate();
        for (const voter of role.tally.unanswered()) this.#requestVote(voter, true);
        return;
      case 'candidate':
        this.#schedule(this.#electionTimeoutMs(), () => this.#electionLost());
        if (role.tally.won) return this.#becomeLeader();
        for (const voter of role.tally.unanswered()) this.#requestVote(voter, false);
        return;
      case 'follower':
        this.#schedule(this.#config.fetchTimeoutMs, () => this.#checkFetchTimeout());
        this.#fetch();
        return;
      case 'resigned':
        if (this.#isOnlyVoter && !this.#closing) return this.#becomeCandidate();
        for (const voter of role.unacknowledged) this.#endQuorumEpoch(voter);
        this.#schedule(this.#electionTimeoutMs(), () => this.#startPreVote());
        return;
      case 'leader':
        return this.#startLeading(role);
    }
  }

  /** A quorum of one elects itself at once: there is no one to wait for. */
  get #isOnlyVoter(): boolean {
    return this.voters.length === 1 && this.isVoter;
  }

  #electionTimeoutMs(): number {
    return this.#config.electionTimeoutMs + this.#random.nextInt(this.#config.electionTimeoutMs + 1);
  }

  async #startPreVote(): Promise<void> {
    const role = this.#role;
    if (!this.isVoter) {
      // No longer (or not yet) a voter: look for the leader as an observer does.
      if (role.kind === 'unattached') this.#discoverLeader();
      else if (role.kind !== 'follower') await this.#transition(new UnattachedState(role.epoch, this.#electionState(role).voted));
      return;
    }
    const leaderId = role.kind === 'follower' ? role.leaderId : NO_NODE;
    await this.#transition(new ProspectiveState(role.epoch, this.#electionState(role).voted, leaderId, this.voters, this.nodeId));
  }

  async #becomeCandidate(): Promise<void> {
    const epoch = this.#role.epoch + 1;
    // A quorum of one has no one to ask: its own vote is the election (one write, not two).
    if (this.#isOnlyVoter) await this.#transition(new LeaderState(epoch, this.nodeId, this.voterSet, this.#log.endOffset, this.#clock.monotonicMs(), this.#config.directoryId));
    else await this.#transition(new CandidateState(epoch, this.voters, this.nodeId));
  }

  /** A pre-vote or election that did not win in time: wait a random backoff, then try again. */
  async #electionLost(): Promise<void> {
    const role = this.#role;
    if (role.kind === 'prospective' && role.leaderId !== NO_NODE) {
      // The old leader may be alive after all (this node was the one cut off): follow it again.
      await this.#transition(new FollowerState(role.epoch, role.leaderId, role.voted, this.#clock.monotonicMs()));
      return;
    }
    await this.#transition(new UnattachedState(role.epoch, this.#electionState(role).voted));
    // Replace the unattached role's full election timeout with the shorter backoff.
    for (const cancel of this.#cancelTimers) cancel();
    this.#cancelTimers = [];
    this.#schedule(1 + this.#random.nextInt(this.#config.electionBackoffMaxMs), () => this.#startPreVote());
  }

  async #becomeLeader(): Promise<void> {
    const epoch = this.#role.epoch;
    await this.#transition(new LeaderState(epoch, this.nodeId, this.voterSet, this.#log.endOffset, this.#clock.monotonicMs(), this.#config.directoryId));
  }

  async #startLeading(role: LeaderState): Promise<void> {
    const record = leaderChangeRecord(this.nodeId, this.voters, this.voters, this.#clock.nowMs());
    await this.#log.appendAsLeader([record], role.epoch, true);
    await this.#log.flush();
    if (this.#role !== role) return;
    this.#localProgress(role);
    for (const voter of role.unacknowledged()) this.#beginQuorumEpoch(voter);
    this.#schedule(this.#config.fetchTimeoutMs / 2, () => this.#checkQuorum());
  }

  /** The leader's own durable log end moved. */
  #localProgress(role: LeaderState): void {
    if (role.updateLocal(this.#log.flushedEndOffset, this.#clock.monotonicMs())) this.#advanceHighWatermark(role.highWatermark);
    this.#answerParkedFetches();
  }

  async #checkQuorum(): Promise<void> {
    const role = this.#role;
    if (role.kind !== 'leader') return;
    // Kafka resigns when no majority fetched within 1.5 fetch timeouts.
    if (!role.hasQuorum(this.#clock.monotonicMs(), this.#config.fetchTimeoutMs * 1.5)) {
      this.#logger.warn('quorum leader lost contact with a majority; resigning', { epoch: role.epoch });
      await this.#transition(new ResignedState(role.epoch, this.nodeId, this.voters));
      return;
    }
    const quiet = this.#clock.monotonicMs() - this.#config.fetchTimeoutMs / 2;
    for (const [voter, position] of role.replicas) {
      if (voter !== this.nodeId && position.lastFetchMs < quiet) this.#beginQuorumEpoch(voter);
    }
    this.#schedule(this.#config.fetchTimeoutMs / 2, () => this.#checkQuorum());
  }

  async #checkFetchTimeout(): Promise<void> {
    const role = this.#role;
    if (role.kind !== 'follower') return;
    const idleMs = this.#clock.monotonicMs() - role.lastFetchMs;
    if (idleMs < this.#config.fetchTimeoutMs) {
      this.#schedule(this.#config.fetchTimeoutMs - idleMs, () => this.#checkFetchTimeout());
      return;
    }
    if (this.isVoter) await this.#startPreVote();
    else await this.#transition(new UnattachedState(role.epoch, role.voted));
  }

  /**
   * What a message from another node says about epochs: a newer epoch (with its leader when known)
   * moves this node there; a leader of this epoch that this node did not know is followed.
   * Returns whether the message's epoch is current after that.
   */
  async #observe(epoch: number, leaderId: number): Promise<boolean> {
    const role = this.#role;
    if (epoch < role.epoch) return false;
    const now = this.#clock.monotonicMs();
    if (epoch > role.epoch) {
      if (leaderId !== NO_NODE && leaderId !== this.nodeId) await this.#transition(new FollowerState(epoch, leaderId, NO_VOTE, now));
      else await this.#transition(new UnattachedState(epoch, NO_VOTE));
      return true;
    }
    if (leaderId === NO_NODE || leaderId === this.nodeId) return true;
    if (role.kind === 'unattached' || role.kind === 'prospective' || role.kind === 'candidate') {
      await this.#transition(new FollowerState(epoch, leaderId, this.#electionState(role).voted, now));
    }
    return true;
  }

  // ---- votes ----------------------------------------------------------------------------------

  #requestVote(voter: number, preVote: boolean): void {
    const role = this.#role;
    const request: VoteRequest = {
      clusterId: this.#config.clusterId,
      voterId: voter,
      topics: [{
        topicName: METADATA_TOPIC,
        partitions: [{
          partitionIndex: METADATA_PARTITION,
          candidateEpoch: preVote ? role.epoch + 1 : role.epoch,
          candidateId: this.nodeId,
          candidateDirectoryId: this.#config.directoryId,
          voterDirectoryId: this.#voterDirectoryId(voter),
          lastOffsetEpoch: this.#log.lastEpoch,
          lastOffset: BigInt(this.#log.endOffset),
          preVote,
        }],
      }],
    };
    this.#send(voter, VoteApi, VOTE_VERSION, request, (response) => this.#onVoteResponse(voter, preVote, response));
  }

  async #onVoteResponse(voter: number, preVote: boolean, response: VoteResponse): Promise<void> {
    const partition = response.topics[0]?.partitions[0];
    if (response.errorCode !== ErrorCode.NONE || !partition) return this.#retry(() => this.#requestVote(voter, preVote));
    if (partition.errorCode !== ErrorCode.NONE && partition.errorCode !== ErrorCode.FENCED_LEADER_EPOCH) {
      return this.#retry(() => this.#requestVote(voter, preVote));
    }
    const role = this.#role;
    // A leader of this epoch that the voter knows is followed, unless it is the very leader this
    // prospective node gave up on (the voter just has not noticed yet that it is gone).
    const abandoned = role.kind === 'prospective' && partition.leaderId === role.leaderId;
    if (partition.leaderEpoch > role.epoch || (partition.leaderId !== NO_NODE && partition.leaderEpoch === role.epoch && !abandoned)) {
      await this.#observe(partition.leaderEpoch, partition.leaderId);
      if (this.#role !== role) return;
    }
    if (role.kind !== (preVote ? 'prospective' : 'candidate')) return;
    role.tally.record(voter, partition.voteGranted);
    if (role.tally.won) {
      if (role.kind === 'prospective') await this.#becomeCandidate();
      else await this.#becomeLeader();
    } else if (role.tally.lost) {
      await this.#electionLost();
    }
  }

  async #handleVote(request: VoteRequest): Promise<VoteResponse> {
    const partition = request.topics[0]?.partitions[0];
    if (!partition) return this.#voteAnswer(ErrorCode.INVALID_REQUEST, false);
    if (request.clusterId !== null && request.clusterId !== this.#config.clusterId) return this.#voteAnswer(ErrorCode.INCONSISTENT_CLUSTER_ID, false);
    const { candidateEpoch, candidateId } = partition;
    const candidate: ReplicaKey = { id: candidateId, directoryId: partition.candidateDirectoryId ?? ZERO_UUID };
    // No check of the candidate against this node's voter set (KIP-853, as Kafka): either side's set
    // may be stale; the candidate counts votes from its own set (it stands only while its own key is
    // a voter there), and the log rule keeps a removed node that missed its removal from winning.
    if (candidateEpoch < this.#role.epoch) return this.#voteAnswer(ErrorCode.FENCED_LEADER_EPOCH, false);
    const validKey = this.#isValidVoterKey(request.voterId, partition.voterDirectoryId);
    const upToDate = this.#logIsBehindOrEqual(partition.lastOffsetEpoch, Number(partition.lastOffset));
    if (partition.preVote) {
      if (!validKey) return this.#voteAnswer(ErrorCode.INVALID_VOTER_KEY, false);
      return this.#voteAnswer(ErrorCode.NONE, upToDate && this.#wouldVote(candidateEpoch, candidate));
    }
    if (candidateEpoch > this.#role.epoch) await this.#transition(new UnattachedState(candidateEpoch, NO_VOTE));
    // The request was meant for another replica (this node's disk was replaced, or it is another
    // node): Kafka answers INVALID_VOTER_KEY, after moving to the candidate's epoch.
    if (!validKey) return this.#voteAnswer(ErrorCode.INVALID_VOTER_KEY, false);
    const role = this.#role;
    const { voted } = this.#electionState(role);
    const canVote = role.kind === 'unattached' || role.kind === 'prospective' || role.kind === 'resigned' || (role.kind === 'candidate' && candidateId === this.nodeId);
    // A vote already cast in this epoch stands: for the same node with another directory (another
    // replica under the same id, KIP-853), the answer is no.
    const granted = upToDate && canVote && (voted.id === NO_NODE || isVoteFor(voted, candidate)) && this.leaderId === NO_NODE;
    if (granted && voted.id === NO_NODE) {
      // The vote is persisted (by the transition) before the answer leaves.
      await this.#transition(new UnattachedState(role.epoch, candidate));
    } else if (granted) {
      this.#restartElectionTimer();
    }
    return this.#voteAnswer(ErrorCode.NONE, granted);
  }

  /**
   * Whether this node would vote for `candidateId` in `epoch` (a pre-vote). A leader, and a
   * follower that fetched from its leader within the fetch timeout, say no: that is what keeps a
   * returning, cut-off node from deposing a healthy leader. A follower that has not heard from
   * its leader says yes, or a quorum whose leader died could never elect another.
   */
  #wouldVote(epoch: number, candidate: ReplicaKey): boolean {
    const role = this.#role;
    if (role.kind === 'leader') return false;
    if (role.kind === 'follower') {
      return !role.fetchedSuccessfully || this.#clock.monotonicMs() - role.lastFetchMs >= this.#config.fetchTimeoutMs;
    }
    if (epoch > role.epoch) return true;
    const { voted } = this.#electionState(role);
    return this.leaderId === NO_NODE && (voted.id === NO_NODE || isVoteFor(voted, candidate));
  }

  /** Raft's up-to-date rule: the candidate's last (epoch, offset) is at least this node's. */
  #logIsBehindOrEqual(lastEpoch: number, endOffset: number): boolean {
    const ownEpoch = this.#log.lastEpoch;
    return lastEpoch > ownEpoch || (lastEpoch === ownEpoch && endOffset >= this.#log.endOffset);
  }

  #restartElectionTimer(): void {
    if (this.#role.kind !== 'unattached') return;
    for (const cancel of this.#cancelTimers) cancel();
    this.#cancelTimers = [];
    this.#schedule(this.#electionTimeoutMs(), () => this.#startPreVote());
  }

  #voteAnswer(errorCode: number, voteGranted: boolean): VoteResponse {
    return {
      errorCode: ErrorCode.NONE,
      topics: [{
        topicName: METADATA_TOPIC,
        partitions: [{ partitionIndex: METADATA_PARTITION, errorCode, leaderId: this.leaderId, leaderEpoch: this.#role.epoch, voteGranted }],
      }],
    };
  }

  // ---- leader announcements ---------------------------------------------------------------------

  /**
   * Announces this leader to `voter`. Sent at election and then, as Kafka's leaders do, again to
   * any voter that has not fetched within half the fetch timeout: a voter that moved to a later
   * epoch without finding a leader (a lost election) answers with it, and this leader steps down
   * so a leader can be elected that every voter follows. One request per voter at a time.
   */
  #beginQuorumEpoch(voter: number): void {
    const role = this.#role;
    if (role.kind !== 'leader' || role.announcing.has(voter)) return;
    role.announcing.add(voter);
    const request: BeginQuorumEpochRequest = {
      clusterId: this.#config.clusterId,
      voterId: voter,
      topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION, voterDirectoryId: this.#voterDirectoryId(voter), leaderId: this.nodeId, leaderEpoch: role.epoch }] }],
    };
    const done = () => {
      role.announcing.delete(voter);
    };
    this.#send(
      voter,
      BeginQuorumEpochApi,
      BEGIN_QUORUM_EPOCH_VERSION,
      request,
      async (response: BeginQuorumEpochResponse) => {
        done();
        const partition = response.topics[0]?.partitions[0];
        if (partition && partition.leaderEpoch > role.epoch) {
          await this.#observe(partition.leaderEpoch, partition.leaderId);
          return;
        }
        if (response.errorCode === ErrorCode.NONE && partition?.errorCode === ErrorCode.NONE) {
          const position = role.replicas.get(voter);
          if (position) position.acknowledged = true;
        }
      },
      done,
    );
  }

  async #handleBeginQuorumEpoch(request: BeginQuorumEpochRequest): Promise<BeginQuorumEpochResponse> {
    const partition = request.topics[0]?.partitions[0];
    let errorCode: number = ErrorCode.NONE;
    if (!partition) errorCode = ErrorCode.INVALID_REQUEST;
    else if (request.clusterId !== null && request.clusterId !== this.#config.clusterId) errorCode = ErrorCode.INCONSISTENT_CLUSTER_ID;
    else if (partition.leaderEpoch < this.#role.epoch) errorCode = ErrorCode.FENCED_LEADER_EPOCH;
    else if (partition.leaderEpoch === this.#role.epoch && this.leaderId !== NO_NODE && this.leaderId !== partition.leaderId) {
      this.#logger.error('two leaders claim one epoch', { epoch: partition.leaderEpoch, known: this.leaderId, claimed: partition.leaderId });
      errorCode = ErrorCode.INVALID_REQUEST;
    } else {
      await this.#observe(partition.leaderEpoch, partition.leaderId);
      // As Kafka: the leader is followed, but a request meant for another replica (the voter set's
      // key for this id names another directory) is answered INVALID_VOTER_KEY, not acknowledged.
      if (!this.#isValidVoterKey(request.voterId, partition.voterDirectoryId)) errorCode = ErrorCode.INVALID_VOTER_KEY;
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: [{
        topicName: METADATA_TOPIC,
        partitions: [{ partitionIndex: METADATA_PARTITION, errorCode, leaderId: this.leaderId, leaderEpoch: this.#role.epoch }],
      }],
    };
  }

  #endQuorumEpoch(voter: number): void {
    const role = this.#role;
    const successors = this.voters.filter((id) => id !== this.nodeId);
    const request: EndQuorumEpochRequest = {
      clusterId: this.#config.clusterId,
      topics: [{
        topicName: METADATA_TOPIC,
        // v0 names the successors by id, v1 (KIP-853) as candidates; both are filled, the version sent picks.
        partitions: [{
          partitionIndex: METADATA_PARTITION,
          leaderId: this.nodeId,
          leaderEpoch: role.epoch,
          preferredSuccessors: successors,
          preferredCandidates: successors.map((candidateId) => ({ candidateId, candidateDirectoryId: this.voterSet.find((voter) => voter.id === candidateId)?.directoryId ?? ZERO_UUID })),
        }],
      }],
    };
    this.#send(voter, EndQuorumEpochApi, END_QUORUM_EPOCH_VERSION, request, async (response: EndQuorumEpochResponse) => {
      const current = this.#role;
      if (current.kind !== 'resigned') return;
      if (response.errorCode === ErrorCode.NONE) current.acknowledge(voter);
      else this.#retry(() => this.#endQuorumEpoch(voter));
    });
  }

  async #handleEndQuorumEpoch(request: EndQuorumEpochRequest): Promise<EndQuorumEpochResponse> {
    const partition = request.topics[0]?.partitions[0];
    let errorCode: number = ErrorCode.NONE;
    if (!partition) errorCode = ErrorCode.INVALID_REQUEST;
    else if (partition.leaderEpoch < this.#role.epoch) errorCode = ErrorCode.FENCED_LEADER_EPOCH;
    else if (partition.leaderEpoch > this.#role.epoch) await this.#observe(partition.leaderEpoch, NO_NODE);
    else if (this.#role.kind === 'follower' && this.#role.leaderId === partition.leaderId && this.isVoter) {
      // The leader stepped down: start a pre-vote soon, the preferred successors first.
      const candidates = partition.preferredCandidates?.length ? partition.preferredCandidates.map((candidate) => candidate.candidateId) : (partition.preferredSuccessors ?? []);
      await this.#leaderResigned(this.#role, Math.max(0, candidates.indexOf(this.nodeId)));
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: [{
        topicName: METADATA_TOPIC,
        partitions: [{ partitionIndex: METADATA_PARTITION, errorCode, leaderId: this.leaderId, leaderEpoch: this.#role.epoch }],
      }],
    };
  }

  /**
   * The leader this voter followed gave up its epoch (it said so with EndQuorumEpoch, or refused a
   * fetch as a resigned leader): it will never lead this epoch again, so wait for no fetch timeout
   * and start a pre-vote after a short delay that grows with `rank` (preferred successors first).
   */
  async #leaderResigned(role: FollowerState, rank: number): Promise<void> {
    await this.#transition(new UnattachedState(role.epoch, role.voted));
    for (const cancel of this.#cancelTimers) cancel();
    this.#cancelTimers = [];
    this.#schedule(rank * this.#config.retryBackoffMs * 5 + this.#random.nextInt(this.#config.retryBackoffMs + 1), () => this.#startPreVote());
  }

  // ---- observers ------------------------------------------------------------------------------

  /**
   * An observer (a node that is not a voter: a broker-only node) that knows no leader asks a voter
   * with a fetch at epoch -1, which any voter answers with the leader and epoch it knows, and
   * follows that leader; it asks the next voter after a backoff until one knows.
   */
  #discoverLeader(attempt = 0): void {
    const role = this.#role;
    if (role.kind !== 'unattached' || this.isVoter) return;
    // The voters this node knows of, else the bootstrap servers (a new controller, KIP-853).
    const known = this.voters.filter((id) => id !== this.nodeId);
    const voters = known.length > 0 ? known : this.#config.bootstrapIds;
    if (voters.length === 0) return;
    const voter = voters[(this.#random.nextInt(voters.length) + attempt) % voters.length]!;
    const request: FetchRequest = {
      clusterId: this.#config.clusterId,
      replicaState: { replicaId: this.nodeId, replicaEpoch: -1n },
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 0,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topicId: METADATA_TOPIC_ID, partitions: [{ partition: METADATA_PARTITION, currentLeaderEpoch: -1, fetchOffset: BigInt(this.#log.endOffset), lastFetchedEpoch: this.#log.lastEpoch, logStartOffset: BigInt(this.#log.startOffset), partitionMaxBytes: 0, replicaDirectoryId: this.#config.directoryId }] }],
      forgottenTopicsData: [],
      rackId: '',
    };
    const retry = () => this.#schedule(this.#config.retryBackoffMs * 5, () => this.#discoverLeader(attempt + 1));
    this.#send(
      voter,
      FetchApi,
      FETCH_VERSION,
      request,
      async (response: FetchResponse) => {
        this.#learnEndpoints(response);
        const leader = response.responses[0]?.partitions[0]?.currentLeader;
        if (leader && leader.leaderId >= 0 && leader.leaderEpoch >= this.#role.epoch) await this.#observe(leader.leaderEpoch, leader.leaderId);
        if (this.#role === role) retry();
      },
      retry,
    );
  }

  // ---- replication ----------------------------------------------------------------------------

  #fetch(): void {
    const role = this.#role;
    if (role.kind !== 'follower' || role.fetching) return;
    if (role.snapshot) return this.#fetchSnapshot(role);
    role.fetching = true;
    const request: FetchRequest = {
      clusterId: this.#config.clusterId,
      replicaState: { replicaId: this.nodeId, replicaEpoch: -1n },
      maxWaitMs: this.#config.fetchMaxWaitMs,
      minBytes: 0,
      maxBytes: this.#config.fetchMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topicId: METADATA_TOPIC_ID,
        partitions: [{
          partition: METADATA_PARTITION,
          currentLeaderEpoch: role.epoch,
          fetchOffset: BigInt(this.#log.endOffset),
          lastFetchedEpoch: this.#log.lastEpoch,
          logStartOffset: BigInt(this.#log.startOffset),
          partitionMaxBytes: this.#config.fetchMaxBytes,
          replicaDirectoryId: this.#config.directoryId,
        }],
      }],
      forgottenTopicsData: [],
      rackId: '',
    };
    this.#send(
      role.leaderId,
      FetchApi,
      FETCH_VERSION,
      request,
      async (response) => {
        role.fetching = false;
        await this.#onFetchResponse(role, response);
      },
      (error) => this.#onFetchFailure(role, error),
      this.#config.fetchMaxWaitMs + this.#config.requestTimeoutMs,
    );
  }

  /**
   * A Fetch or FetchSnapshot to the leader failed. If the leader now refuses connections (its
   * process is gone), start a pre-vote now rather than after the fetch timeout (pre-vote keeps this
   * safe: voters still hearing from a live leader say no); a random delay of up to a tenth of the
   * election backoff keeps the survivors from all standing at once and splitting votes.
   */
  #onFetchFailure(role: FollowerState, error: unknown): void {
    role.fetching = false;
    if (error instanceof TransportError && error.kind === 'unreachable' && role.fetchedSuccessfully && this.isVoter) {
      this.#schedule(this.#random.nextInt(Math.floor(this.#config.electionBackoffMaxMs / 10) + 1), () => this.#startPreVote());
      return;
    }
    this.#retry(() => this.#fetch());
  }

  /** Whether a response's current leader is news to this follower: a later epoch, or another leader of this one. */
  #namesOtherLeader(role: FollowerState, leader: { leaderId: number; leaderEpoch: number }): boolean {
    return leader.leaderEpoch > role.epoch || (leader.leaderEpoch === role.epoch && leader.leaderId !== role.leaderId && leader.leaderId !== NO_NODE);
  }

  async #onFetchResponse(role: FollowerState, response: FetchResponse): Promise<void> {
    this.#learnEndpoints(response);
    const partition = response.responses[0]?.partitions[0];
    if (!partition || (response.errorCode ?? ErrorCode.NONE) !== ErrorCode.NONE) return this.#retry(() => this.#fetch());
    if (partition.errorCode !== ErrorCode.NONE) {
      const leader = partition.currentLeader;
      if (leader && this.#namesOtherLeader(role, leader)) {
        await this.#observe(leader.leaderEpoch, leader.leaderId);
      } else if (partition.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && leader?.leaderEpoch === role.epoch && leader.leaderId === role.leaderId && this.isVoter) {
        // The leader itself says it no longer leads its epoch: it resigned (its EndQuorumEpoch may
        // still be on the way). Ranked after the preferred successors it would have named.
        await this.#leaderResigned(role, this.voters.filter((id) => id !== role.leaderId).indexOf(this.nodeId) + 1);
      } else {
        this.#retry(() => this.#fetch());
      }
      return;
    }
    role.lastFetchMs = this.#clock.monotonicMs();
    role.fetchedSuccessfully = true;
    if (this.isVoter) this.#maybeSendEndpoints(role);
    const snapshotId = partition.snapshotId;
    if (snapshotId && snapshotId.endOffset >= 0n) {
      // The leader no longer has the log from here: fetch its snapshot, then continue after it.
      // From its first byte: a part fetched from an earlier leader may differ (two nodes' snapshots
      // of one id hold the same state, not the same bytes), so chunks of two leaders never mix.
      role.snapshot = { offset: Number(snapshotId.endOffset), epoch: snapshotId.epoch };
      await this.#snapshots.abandonPartial();
      this.#fetch();
      return;
    }
    const diverging = partition.divergingEpoch;
    if (diverging && diverging.endOffset >= 0n) {
      // Keep what both logs agree on: up to where the diverging epoch ends in both.
      const own = this.#log.endOffsetForEpoch(diverging.epoch);
      const truncateTo = Math.min(Number(diverging.endOffset), own.offset < 0 ? this.#log.startOffset : own.offset);
      if (truncateTo < this.#highWatermark || truncateTo < this.#log.startOffset) {
        // Both are committed: a leader can never disagree with them (its log holds every committed entry).
        this.#logger.error('refusing to truncate below the high watermark or the snapshot', { truncateTo, highWatermark: this.#highWatermark, startOffset: this.#log.startOffset });
        return this.#retry(() => this.#fetch());
      }
      await this.#log.truncateTo(truncateTo);
      this.#votersChanged();
      this.#fetch();
      return;
    }
    const records = partition.records;
    if (records && records.length > 0) {
      await this.#log.appendAsFollower(records);
      this.#votersChanged();
      // Durable before the next fetch reports this position to the leader.
      await this.#log.flush();
    }
    const leaderHighWatermark = Number(partition.highWatermark);
    if (leaderHighWatermark >= 0) this.#advanceHighWatermark(Math.min(leaderHighWatermark, this.#log.endOffset));
    this.#fetch();
  }

  #learnEndpoints(response: FetchResponse): void {
    for (const { nodeId, host, port } of response.nodeEndpoints ?? []) {
      if (nodeId !== this.nodeId) this.#listener.onEndpoint?.(nodeId, { name: '', host, port });
    }
  }

  /** Where the known leader listens, for Fetch's NodeEndpoints (KIP-853). */
  #leaderEndpoints(): FetchResponse['nodeEndpoints'] {
    const leaderId = this.leaderId;
    if (leaderId === NO_NODE) return [];
    const endpoint = leaderId === this.nodeId ? this.#config.selfEndpoints[0] : this.voterSet.find((voter) => voter.id === leaderId)?.endpoints[0];
    return endpoint ? [{ nodeId: leaderId, host: endpoint.host, port: endpoint.port, rack: null }] : [];
  }

  /** Answers a fetch now, or parks it until there is something to send (returned as a promise). */
  #handleFetch(request: FetchRequest, fromNodeId: number): FetchResponse | Promise<FetchResponse> {
    const answer = this.#fetchAnswer(request, fromNodeId);
    if (answer === 'read') return this.#readAnswer(request, fromNodeId);
    if (answer !== 'wait') return answer;
    return new Promise<FetchResponse>((resolve) => {
      const parked: ParkedFetch = {
        request,
        fromNodeId,
        resolve,
        cancelTimer: this.#clock.schedule(request.maxWaitMs, () => this.#releaseParked(parked)),
      };
      this.#parked.add(parked);
    });
  }

  /**
   * An answer that needs no records (an error, a divergence, nothing new and no wait), or 'read'
   * when records are due, or 'wait' when the fetch should be parked for new data.
   */
  #fetchAnswer(request: FetchRequest, fromNodeId: number): FetchResponse | 'read' | 'wait' {
    const partition = request.topics[0]?.partitions[0];
    const role = this.#role;
    if (!partition) return this.#fetchError(ErrorCode.INVALID_REQUEST);
    if (request.clusterId !== undefined && request.clusterId !== null && request.clusterId !== this.#config.clusterId) {
      return this.#fetchError(ErrorCode.INCONSISTENT_CLUSTER_ID);
    }
    if (role.kind !== 'leader') return this.#fetchError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const requestEpoch = partition.currentLeaderEpoch ?? -1;
    if (requestEpoch < role.epoch) return this.#fetchError(ErrorCode.FENCED_LEADER_EPOCH);
    if (requestEpoch > role.epoch) return this.#fetchError(ErrorCode.UNKNOWN_LEADER_EPOCH);
    const fetchOffset = Number(partition.fetchOffset);
    const lastFetchedEpoch = partition.lastFetchedEpoch ?? -1;
    const replicaId = request.replicaState?.replicaId ?? request.replicaId ?? fromNodeId;
    // The replica's key (KIP-853): only a fetch from a voter's key counts toward the high watermark
    // and check-quorum; a replica of a voter's id with another directory is an observer.
    const replicaDirectoryId = partition.replicaDirectoryId ?? ZERO_UUID;
    const snapshot = this.#snapshotToSend(fetchOffset, lastFetchedEpoch);
    if (snapshot) {
      // Counts as contact for check-quorum, not as a position.
      role.updateReplica(replicaId, replicaDirectoryId, -1, this.#clock.monotonicMs(), this.#clock.nowMs(), this.#log.endOffset);
      return this.#fetchResponse(ErrorCode.NONE, null, undefined, snapshot);
    }
    if (fetchOffset > this.#log.startOffset) {
      const own = this.#log.endOffsetForEpoch(lastFetchedEpoch);
      if (own.epoch !== lastFetchedEpoch || own.offset < fetchOffset) {
        return this.#fetchResponse(ErrorCode.NONE, null, { epoch: own.epoch, endOffset: BigInt(own.offset < 0 ? this.#log.startOffset : own.offset) });
      }
    }
    // The follower holds everything below fetchOffset (it flushed before fetching).
    if (role.updateReplica(replicaId, replicaDirectoryId, fetchOffset, this.#clock.monotonicMs(), this.#clock.nowMs(), this.#log.endOffset)) {
      this.#advanceHighWatermark(role.highWatermark);
      // This very fetch moved the high watermark: answer it now, so the follower learns the new
      // commit point at once rather than when its next fetch times out.
      if (fetchOffset >= this.#log.flushedEndOffset) return this.#fetchResponse(ErrorCode.NONE, null);
    }
    if (fetchOffset < this.#log.flushedEndOffset) return 'read';
    return request.maxWaitMs > 0 && this.#parked.size < MAX_PARKED_FETCHES ? 'wait' : this.#fetchResponse(ErrorCode.NONE, null);
  }

  #readAnswer(request: FetchRequest, fromNodeId: number): Promise<FetchResponse> {
    // Reads run on the step queue so no truncation or append interleaves with them.
    return this.#run(async () => {
      const answer = this.#fetchAnswer({ ...request, maxWaitMs: 0 }, fromNodeId);
      if (answer !== 'read') return answer === 'wait' ? this.#fetchResponse(ErrorCode.NONE, null) : answer;
      const records = await this.#log.read(Number(request.topics[0]!.partitions[0]!.fetchOffset), this.#config.fetchMaxBytes);
      return this.#fetchResponse(ErrorCode.NONE, records.length > 0 ? records : null);
    }).catch(() => this.#fetchError(ErrorCode.NOT_LEADER_OR_FOLLOWER));
  }

  #releaseParked(parked: ParkedFetch): void {
    if (!this.#parked.delete(parked)) return;
    parked.cancelTimer();
    this.#readAnswer({ ...parked.request, maxWaitMs: 0 }, parked.fromNodeId).then(parked.resolve);
  }

  /** New data, a new high watermark or a new role: every parked fetch is answered now. */
  #answerParkedFetches(): void {
    for (const parked of [...this.#parked]) this.#releaseParked(parked);
  }

  #fetchError(errorCode: number): FetchResponse {
    return this.#fetchResponse(errorCode, null);
  }

  #fetchResponse(errorCode: number, records: Buffer | null, divergingEpoch?: { epoch: number; endOffset: bigint }, snapshot?: OffsetAndEpoch): FetchResponse {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      sessionId: 0,
      responses: [{
        topicId: METADATA_TOPIC_ID,
        partitions: [{
          partitionIndex: METADATA_PARTITION,
          errorCode,
          highWatermark: BigInt(this.#role.kind === 'leader' ? this.#role.highWatermark : -1),
          lastStableOffset: -1n,
          logStartOffset: BigInt(this.#log.startOffset),
          divergingEpoch: divergingEpoch ?? { epoch: -1, endOffset: -1n },
          currentLeader: { leaderId: this.leaderId, leaderEpoch: this.#role.epoch },
          snapshotId: snapshot ? { endOffset: BigInt(snapshot.offset), epoch: snapshot.epoch } : { endOffset: -1n, epoch: -1 },
          abortedTransactions: null,
          preferredReadReplica: -1,
          records,
        }],
      }],
      nodeEndpoints: this.#leaderEndpoints(),
    };
  }

  // ---- voter changes (KIP-853) ----------------------------------------------------------------

  async #handleAddVoter(request: AddRaftVoterRequest): Promise<AddRaftVoterResponse> {
    if (request.clusterId !== null && request.clusterId !== this.#config.clusterId) return voterChangeAnswer(new KafkaError(ErrorCode.INCONSISTENT_CLUSTER_ID, 'another cluster'));
    if (this.#role.kind !== 'leader') return voterChangeAnswer(this.#notLeader());
    // As Kafka's handleAddVoterRequest, after the cluster id and leadership: the new voter must be a
    // full replica key, a node id and a directory id (not the zero uuid), else INVALID_REQUEST.
    if (request.voterId < 0 || request.voterDirectoryId === ZERO_UUID) return voterChangeAnswer(new KafkaError(ErrorCode.INVALID_REQUEST, "Add voter request didn't include a valid voter"));
    const voter: Voter = { id: request.voterId, directoryId: request.voterDirectoryId, endpoints: request.listeners.map(({ name, host, port }) => ({ name, host, port })) };
    return voterChangeAnswer(await this.#withTimeout(this.addVoter(voter), request.timeoutMs));
  }

  async #handleRemoveVoter(request: RemoveRaftVoterRequest): Promise<RemoveRaftVoterResponse> {
    if (request.clusterId !== null && request.clusterId !== this.#config.clusterId) return voterChangeAnswer(new KafkaError(ErrorCode.INCONSISTENT_CLUSTER_ID, 'another cluster'));
    if (this.#role.kind !== 'leader') return voterChangeAnswer(this.#notLeader());
    // As Kafka's handleRemoveVoterRequest, after the cluster id and leadership: the voter must be
    // named by its full replica key, a node id and a directory id (not the zero uuid), else
    // INVALID_REQUEST; it does not match whatever directory the voter has.
    if (request.voterId < 0 || request.voterDirectoryId === ZERO_UUID) return voterChangeAnswer(new KafkaError(ErrorCode.INVALID_REQUEST, "Remove voter request didn't include a valid voter"));
    return voterChangeAnswer(await this.#withTimeout(this.removeVoter(request.voterId, request.voterDirectoryId), this.#config.requestTimeoutMs));
  }

  async #handleUpdateVoter(request: UpdateRaftVoterRequest): Promise<UpdateRaftVoterResponse> {
    const leader = this.#leaderEndpoints()?.[0];
    const answer = (errorCode: number): UpdateRaftVoterResponse => ({
      throttleTimeMs: 0,
      errorCode,
      currentLeader: { leaderId: this.leaderId, leaderEpoch: this.#role.epoch, host: leader?.host ?? '', port: leader?.port ?? -1 },
    });
    if (request.clusterId !== null && request.clusterId !== this.#config.clusterId) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID);
    if (this.#role.kind !== 'leader') return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (request.currentLeaderEpoch < this.#role.epoch) return answer(ErrorCode.FENCED_LEADER_EPOCH);
    if (request.currentLeaderEpoch > this.#role.epoch) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
    const endpoints = request.listeners.map(({ name, host, port }) => ({ name, host, port }));
    const outcome = await this.#withTimeout(this.updateVoter(request.voterId, request.voterDirectoryId, endpoints), this.#config.requestTimeoutMs);
    return answer(outcome === undefined ? ErrorCode.NONE : outcome instanceof KafkaError ? outcome.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR);
  }

  /** Settles with undefined on success, the error on failure, REQUEST_TIMED_OUT after `timeoutMs`. */
  #withTimeout(operation: Promise<void>, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve) => {
      const cancel = this.#clock.schedule(Math.max(1, timeoutMs), () => resolve(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'the voter change did not commit in time')));
      operation.then(
        () => {
          cancel();
          resolve(undefined);
        },
        (error: unknown) => {
          cancel();
          resolve(error);
        },
      );
    });
  }

  // ---- snapshots ------------------------------------------------------------------------------

  /**
   * The snapshot a follower fetching at (`fetchOffset`, `lastFetchedEpoch`) needs, as Kafka decides
   * it: when the log no longer starts where the follower's ends, or the follower's last epoch is
   * older than the snapshot the log starts from (its tail after that cannot be checked).
   */
  #snapshotToSend(fetchOffset: number, lastFetchedEpoch: number): OffsetAndEpoch | undefined {
    const start = this.#log.startOffset;
    const latest = this.#snapshots.latest;
    if (start === 0 || !latest) return undefined;
    const startEpoch = this.#epochAtStart();
    if (fetchOffset < start || lastFetchedEpoch < startEpoch || (fetchOffset === start && lastFetchedEpoch !== startEpoch)) return latest;
    return undefined;
  }

  /** The epoch of the snapshot the log starts from. */
  #epochAtStart(): number {
    return this.#snapshots.endingAt(this.#log.startOffset)?.epoch ?? -1;
  }

  /**
   * Where the log may start once a new snapshot is written: at the snapshot before it
   * (`previous`), or further back at one a follower is still fetching (read by FetchSnapshot within
   * controller.quorum.fetch.timeout.ms). Dropping the log at every snapshot, and with it the
   * snapshot a lagging follower was fetching, could send that follower to a newer snapshot again
   * and again, never finishing one when snapshots come faster than it fetches them (simulation seed
   * 600303). The follower finishing an older snapshot then fetches the log after it.
   */
  #oldestSnapshotToKeep(previous: OffsetAndEpoch | undefined): OffsetAndEpoch | undefined {
    const now = this.#clock.monotonicMs();
    let keep = previous;
    for (const [offset, readMs] of this.#snapshotReads) {
      const snapshot = this.#snapshots.endingAt(offset);
      if (!snapshot || now - readMs > this.#config.fetchTimeoutMs) {
        this.#snapshotReads.delete(offset);
        continue;
      }
      if (!keep || snapshot.offset < keep.offset) keep = snapshot;
    }
    return keep && keep.offset > this.#log.startOffset ? keep : undefined;
  }

  /** Serves a chunk of a snapshot to a follower (FetchSnapshot, KIP-630), on the leader only. */
  async #handleFetchSnapshot(request: FetchSnapshotRequest, fromNodeId: number): Promise<FetchSnapshotResponse> {
    const partition = request.topics[0]?.partitions[0];
    const role = this.#role;
    const answer = (errorCode: number, snapshot?: OffsetAndEpoch, size = -1, position = -1, bytes: Buffer | null = null): FetchSnapshotResponse => ({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      topics: [{
        name: METADATA_TOPIC,
        partitions: [{
          index: METADATA_PARTITION,
          errorCode,
          snapshotId: { endOffset: BigInt(snapshot?.offset ?? -1), epoch: snapshot?.epoch ?? -1 },
          currentLeader: { leaderId: this.leaderId, leaderEpoch: this.#role.epoch },
          size: BigInt(size),
          position: BigInt(position),
          unalignedRecords: bytes,
        }],
      }],
      nodeEndpoints: [],
    });
    if (!partition) return answer(ErrorCode.INVALID_REQUEST);
    if (request.clusterId !== undefined && request.clusterId !== null && request.clusterId !== this.#config.clusterId) return answer(ErrorCode.INCONSISTENT_CLUSTER_ID);
    if (role.kind !== 'leader') return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (partition.currentLeaderEpoch < role.epoch) return answer(ErrorCode.FENCED_LEADER_EPOCH);
    if (partition.currentLeaderEpoch > role.epoch) return answer(ErrorCode.UNKNOWN_LEADER_EPOCH);
    const snapshot = { offset: Number(partition.snapshotId.endOffset), epoch: partition.snapshotId.epoch };
    if (!this.#snapshots.has(snapshot)) return answer(ErrorCode.SNAPSHOT_NOT_FOUND, snapshot);
    role.updateReplica(request.replicaId >= 0 ? request.replicaId : fromNodeId, partition.replicaDirectoryId ?? ZERO_UUID, -1, this.#clock.monotonicMs(), this.#clock.nowMs(), this.#log.endOffset);
    this.#snapshotReads.set(snapshot.offset, this.#clock.monotonicMs());
    const size = await this.#snapshots.size(snapshot);
    const position = Number(partition.position);
    if (position < 0 || position >= size) return answer(POSITION_OUT_OF_RANGE, snapshot, size, position);
    const maxBytes = Math.max(1, Math.min(request.maxBytes, this.#config.fetchMaxBytes));
    return answer(ErrorCode.NONE, snapshot, size, position, await this.#snapshots.read(snapshot, position, maxBytes));
  }

  /** Fetches the next chunk of the snapshot the leader sent this follower to. */
  #fetchSnapshot(role: FollowerState): void {
    const snapshot = role.snapshot!;
    const partial = this.#snapshots.partial;
    const position = partial && sameSnapshot(partial.id, snapshot) ? partial.position : 0;
    role.fetching = true;
    const request: FetchSnapshotRequest = {
      clusterId: this.#config.clusterId,
      replicaId: this.nodeId,
      maxBytes: this.#config.fetchSnapshotMaxBytes,
      topics: [{
        name: METADATA_TOPIC,
        partitions: [{
          partition: METADATA_PARTITION,
          currentLeaderEpoch: role.epoch,
          snapshotId: { endOffset: BigInt(snapshot.offset), epoch: snapshot.epoch },
          position: BigInt(position),
          replicaDirectoryId: this.#config.directoryId,
        }],
      }],
    };
    this.#send(
      role.leaderId,
      FetchSnapshotApi,
      FETCH_SNAPSHOT_VERSION,
      request,
      async (response) => {
        role.fetching = false;
        await this.#onFetchSnapshotResponse(role, snapshot, position, response);
      },
      (error) => this.#onFetchFailure(role, error),
    );
  }

  async #onFetchSnapshotResponse(role: FollowerState, snapshot: OffsetAndEpoch, position: number, response: FetchSnapshotResponse): Promise<void> {
    const partition = response.topics[0]?.partitions[0];
    if (!partition || response.errorCode !== ErrorCode.NONE) return this.#retry(() => this.#fetch());
    if (partition.errorCode !== ErrorCode.NONE) {
      const leader = partition.currentLeader;
      if (leader && this.#namesOtherLeader(role, leader)) {
        await this.#observe(leader.leaderEpoch, leader.leaderId);
        return;
      }
      if (partition.errorCode === ErrorCode.SNAPSHOT_NOT_FOUND || partition.errorCode === POSITION_OUT_OF_RANGE) {
        // The leader took a newer snapshot (or this one changed): start over from a plain fetch.
        role.snapshot = undefined;
        await this.#snapshots.abandonPartial();
      }
      return this.#retry(() => this.#fetch());
    }
    role.lastFetchMs = this.#clock.monotonicMs();
    role.fetchedSuccessfully = true;
    const chunk = partition.unalignedRecords ?? Buffer.alloc(0);
    role.snapshotChunks++;
    const complete = await this.#snapshots.receive(snapshot, position, chunk, Number(partition.size));
    if (complete) {
      // The snapshot is durable; the log now continues from it, and it is committed by definition.
      await this.#log.resetTo(snapshot);
      await this.#snapshots.deleteBefore(snapshot);
      const { voters } = decodeSnapshotFile(await this.#snapshots.readAll(snapshot));
      if (voters) this.#log.voterHistory.prependBase(voters);
      this.#votersChanged();
      role.snapshot = undefined;
      this.#snapshotsInstalled++;
      this.#logger.info('installed a snapshot from the leader', { endOffset: snapshot.offset, epoch: snapshot.epoch });
      this.#listener.onSnapshotInstalled?.(snapshot);
      this.#advanceHighWatermark(snapshot.offset);
    } else if (chunk.length === 0) {
      return this.#retry(() => this.#fetch());
    }
    this.#fetch();
  }

  // ---- appends and commits ------------------------------------------------------------------

  /** Writes the waiting appends that fit in one batch (whole appends only), then flushes. */
  async #writeAppends(): Promise<void> {
    this.#appendScheduled = false;
    const role = this.#role;
    let records = 0;
    let bytes = BATCH_OVERHEAD_BYTES;
    let count = 0;
    for (const pending of this.#pendingAppends) {
      const fits = records + pending.records.length <= this.#config.maxBatchRecords && bytes + pending.bytes - BATCH_OVERHEAD_BYTES <= this.#config.maxBatchBytes;
      if (count > 0 && !fits) break;
      records += pending.records.length;
      bytes += pending.bytes - BATCH_OVERHEAD_BYTES;
      count++;
    }
    const group = this.#pendingAppends.splice(0, count);
    if (this.#pendingAppends.length > 0) {
      this.#appendScheduled = true;
      this.#run(() => this.#writeAppends()).catch((error: unknown) => this.#stepFailed(error));
    }
    if (group.length === 0) return;
    if (role.kind !== 'leader') {
      for (const { commit } of group) commit.reject(this.#notLeader());
      return;
    }
    let info: RaftBatchInfo;
    try {
      info = await this.#log.appendAsLeader(group.flatMap((pending) => pending.records), role.epoch);
    } catch (error) {
      for (const { commit } of group) commit.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let lastOffset = info.baseOffset - 1;
    for (const pending of group) {
      lastOffset += pending.records.length;
      this.#commits.push({ ...pending.commit, lastOffset });
    }
    await this.#log.flush();
    if (this.#role === role) this.#localProgress(role);
  }

  #advanceHighWatermark(offset: number): void {
    if (offset <= this.#highWatermark) return;
    this.#highWatermark = offset;
    while (this.#commits.length > 0 && this.#commits[0]!.lastOffset < offset) {
      const commit = this.#commits.shift()!;
      commit.resolve(commit.lastOffset);
    }
    this.#listener.onHighWatermark?.(offset);
    this.#answerParkedFetches();
    if (this.#role.kind === 'leader') this.#maybeResignRemoved(this.#role);
  }

  #failPending(error: Error): void {
    const pending = [...this.#commits, ...this.#pendingAppends.map((entry) => entry.commit)];
    this.#commits = [];
    this.#pendingAppends = [];
    for (const commit of pending) commit.reject(error);
  }

  #notLeader(): KafkaError {
    return new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `node ${this.nodeId} is not the quorum leader (leader ${this.leaderId}, epoch ${this.#role.epoch})`);
  }

  // ---- sending --------------------------------------------------------------------------------

  #retry(send: () => void): void {
    this.#schedule(this.#config.retryBackoffMs, send);
  }

  /**
   * Sends a request; its response runs as a step of the current generation (dropped if the node
   * moved on). A transport failure re-sends after the retry backoff unless `onFailure` decides.
   */
  // biome-ignore lint/suspicious/noExplicitAny: a sender encodes requests and decodes responses only.
  #send<Request, Response>(nodeId: number, api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request, onResponse: (response: Response) => Promise<void> | void, onFailure?: (error: unknown) => Promise<void> | void, timeoutMs = this.#config.requestTimeoutMs): void {
    if (this.#closed) return;
    const generation = this.#generation;
    const retry = onFailure ?? (() => this.#retry(() => this.#send(nodeId, api, version, request, onResponse, onFailure, timeoutMs)));
    this.#transport.send<Request, Response>(nodeId, api, version, request, timeoutMs).then(
      (response) => this.#runIfCurrent(generation, () => onResponse(response)),
      (error: unknown) => {
        if (!(error instanceof TransportError)) this.#logger.warn('quorum request failed', { to: nodeId, api: api.name, error: String(error) });
        this.#runIfCurrent(generation, () => retry(error));
      },
    );
  }
}

/** A voter set's identity for change detection: every entry's key, in order. */
function votersKey(voters: readonly Voter[]): string {
  return voters.map((voter) => `${voter.id}:${voter.directoryId}`).join(',');
}

function sameEndpoints(a: readonly VoterEndpoint[], b: readonly VoterEndpoint[]): boolean {
  const key = (list: readonly VoterEndpoint[]) => list.map(({ name, host, port }) => `${name}/${host}/${port}`).sort().join(',');
  return key(a) === key(b);
}

function voterChangeAnswer(error: unknown): AddRaftVoterResponse & RemoveRaftVoterResponse {
  if (error === undefined) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null };
  if (error instanceof KafkaError) return { throttleTimeMs: 0, errorCode: error.errorCode, errorMessage: error.message };
  return { throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: String(error) };
}

function estimatedRecordBytes(record: RecordInput): number {
  return RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
}
