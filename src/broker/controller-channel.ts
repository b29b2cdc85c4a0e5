// How this node reaches the active controller for the requests a Kafka broker sends it
// (BrokerRegistration, AllocateProducerIds): the local controller when this node is the quorum
// leader, else the leader's controller listener through the Transport port. Each call retries
// NOT_CONTROLLER answers and transport failures (the leader moving or not elected yet) with a
// bounded backoff until its deadline; both requests are safe to repeat. A registration also
// retries DUPLICATE_BROKER_REGISTRATION, as Kafka's broker does: a process restarted at once
// after a kill -9 waits until the controller lets its previous incarnation's session expire.
// On the active controller it keeps the brokers' sessions (their last heartbeats). For log
// directories (KIP-858) it registers the broker's directory ids, reports failed ones in every
// heartbeat from the moment they fail, and sends the directory each replica was placed in
// (AssignReplicasToDirs, batched).
import { serializePrincipal } from './envelope-principal.js';
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import type { BrokerSessions, Controller, CreateTopicRequest, DirectoryAssignment, TopicResult } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import type { BrokerEndpoint } from '../metadata/metadata-record.js';
import {
  AlterPartitionApi,
  type AlterPartitionRequest,
  AssignReplicasToDirsApi,
  type AssignReplicasToDirsRequest,
  type AssignReplicasToDirsResponse,
  type AlterPartitionResponse,
  AllocateProducerIdsApi,
  type AllocateProducerIdsRequest,
  type AllocateProducerIdsResponse,
  BrokerHeartbeatApi,
  type BrokerHeartbeatRequest,
  type BrokerHeartbeatResponse,
  BrokerRegistrationApi,
  CreateTopicsApi,
  EnvelopeApi,
  type EnvelopeRequest,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  type BrokerRegistrationRequest,
  type BrokerRegistrationResponse,
} from '../protocol/messages/index.js';
import { type Transport, TransportError } from '../protocol/transport.js';
import type { RaftMetadataQuorum } from '../quorum/raft-metadata-quorum.js';
import { createTopicRequestsOf, createTopicsResponse } from './create-topics-response.js';

const REQUEST_TIMEOUT_MS = 5_000;
const RETRY_BACKOFF_MIN_MS = 50;
const RETRY_BACKOFF_MAX_MS = 1_000;
/** v2 and later carry the broker's log directory ids (KIP-858); v3 the previous broker epoch (KIP-966). */
const BROKER_REGISTRATION_VERSION = 4;
const ALLOCATE_PRODUCER_IDS_VERSION = 0;
const CREATE_TOPICS_VERSION = 7;
/** v1: with the ids of the broker's offline log directories (KIP-858). */
const BROKER_HEARTBEAT_VERSION = 1;
const ASSIGN_REPLICAS_TO_DIRS_VERSION = 0;
/** Kafka's AssignReplicasToDirsRequest.MAX_ASSIGNMENTS_PER_REQUEST. */
const MAX_ASSIGNMENTS_PER_REQUEST = 2250;
/** v3: topics by id, each new ISR member with the broker epoch the leader saw (KIP-903). */
const ALTER_PARTITION_VERSION = 3;
/** How soon a starting broker that is still fenced heartbeats again (Kafka's broker: 10 ms). */
const UNFENCE_RETRY_MS = 10;
/**
 * How soon a broker heartbeats again after an answer that it is unfenced but behind the metadata
 * (its image has not applied changes the controller had committed): it does not trust its image
 * until an answer says it has caught up (mayBeStale).
 */
const CATCH_UP_RETRY_MS = 50;
/** How many heartbeats a starting broker sends at most, UNFENCE_RETRY_MS apart, to be trusted before it serves (other brokers starting alongside keep changing the metadata). */
const CATCH_UP_TRIES_AT_START = 20;
/**
 * How long the active controller waits for a majority to confirm it still leads before it tells a
 * broker that it is caught up (a deposed controller that does not know it yet never can).
 */
const LEADERSHIP_CONFIRM_MS = 1_000;
const ENVELOPE_VERSION = 0;
/** How long a forwarded request may wait for an active controller to answer. */
const FORWARD_TIMEOUT_MS = 30_000;

/** The controller's side of the broker-to-controller requests (present once the node has started). */
export interface ControllerRequests {
  registerBroker(request: BrokerRegistrationRequest): Promise<BrokerRegistrationResponse>;
  allocateProducerIds(request: AllocateProducerIdsRequest): Promise<AllocateProducerIdsResponse>;
  createTopicsRequest(request: CreateTopicsRequest): Promise<CreateTopicsResponse>;
  brokerHeartbeatRequest(request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatResponse>;
  alterPartitionRequest(request: AlterPartitionRequest): Promise<AlterPartitionResponse>;
  assignReplicasToDirsRequest(request: AssignReplicasToDirsRequest): Promise<AssignReplicasToDirsResponse>;
}

/** One replica's directory waiting to be sent, and the call waiting for it. */
interface PendingAssignment {
  readonly topicId: string;
  readonly partitionIndex: number;
  readonly directoryId: string;
  readonly deadlineMs: number;
  readonly settle: (errorCode: number, detail?: string) => void;
}

/** Per-replica answers that mean the assignment no longer applies (Kafka's AssignmentsManager drops those as invalid). */
const OBSOLETE_ASSIGNMENT_ERRORS: readonly number[] = [ErrorCode.UNKNOWN_TOPIC_ID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NOT_LEADER_OR_FOLLOWER];

export interface ControllerChannelOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly quorum: RaftMetadataQuorum;
  readonly controller: Controller;
  readonly image: MetadataImage;
  readonly transport: Transport;
  /**
   * For registration and heartbeats only (Kafka's broker lifecycle channel), so a heartbeat never
   * waits behind requests that wait for commits (AlterPartition, CreateTopics, forwarded admin
   * requests): one held up past broker.session.timeout.ms would fence a live broker. `transport`
   * when absent.
   */
  readonly lifecycleTransport?: Transport;
  /** Whether this node is part of a multi-node quorum (else nothing is ever forwarded). */
  readonly clustered: boolean;
  /**
   * metadata.max.idle.interval.ms: 0 turns NoOpRecords off, as in Kafka, so none confirms a
   * heartbeat's "caught up" either (#stillLeads; a deposed controller's own broker may then be
   * trusted until the node learns that it no longer leads). 500 (Kafka's default) when absent.
   */
  readonly metadataMaxIdleIntervalMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class ControllerChannel implements ControllerRequests {
  constructor(private readonly options: ControllerChannelOptions) {}

  get #lifecycleTransport(): Transport {
    return this.options.lifecycleTransport ?? this.options.transport;
  }

  /**
   * Registers this broker with the active controller; resolves with its broker epoch.
   * `previousBrokerEpoch`: the epoch its last run recorded at a clean shutdown, or -1 (KIP-966).
   */
  async registerThisBroker(endpoints: BrokerEndpoint[], rack: string | null, incarnationId: string, deadlineMs: number, previousBrokerEpoch = -1, logDirs: string[] = []): Promise<number> {
    const request: BrokerRegistrationRequest = {
      brokerId: this.options.nodeId,
      clusterId: this.options.clusterId,
      incarnationId,
      listeners: endpoints.map(({ name, host, port, securityProtocol }) => ({ name, host, port, securityProtocol })),
      features: [],
      rack,
      isMigratingZkBroker: false,
      // The ids of its online log directories (KIP-858); none: its replicas are MIGRATING.
      logDirs: [...logDirs],
      previousBrokerEpoch: BigInt(previousBrokerEpoch),
    };
    const response = await this.#call(
      deadlineMs,
      () => this.registerBroker(request),
      (leaderId) => this.#lifecycleTransport.send(leaderId, BrokerRegistrationApi, BROKER_REGISTRATION_VERSION, request, REQUEST_TIMEOUT_MS),
      // The previous incarnation's session is still alive on the controller (this process
      // restarted before it expired): Kafka's broker retries until the controller lets it go.
      [ErrorCode.DUPLICATE_BROKER_REGISTRATION],
    );
    return Number(response.brokerEpoch);
  }

  /** A block of producer ids for this node's transaction coordinator, from the active controller. */
  async allocateBlock(blockSize: number, deadlineMs: number): Promise<{ firstProducerId: number; size: number }> {
    const brokerEpoch = BigInt(this.options.image.brokers.get(this.options.nodeId)?.brokerEpoch ?? -1);
    const request: AllocateProducerIdsRequest = { brokerId: this.options.nodeId, brokerEpoch };
    const response = await this.#call(deadlineMs, () => this.allocateProducerIds(request, blockSize), (leaderId) =>
      this.options.transport.send(leaderId, AllocateProducerIdsApi, ALLOCATE_PRODUCER_IDS_VERSION, request, REQUEST_TIMEOUT_MS),
    );
    return { firstProducerId: Number(response.producerIdStart), size: response.producerIdLen };
  }

  /**
   * Creates topics through the active controller (a client's CreateTopics on any broker, an
   * internal topic on first need): Kafka's brokers forward this to their controller too.
   */
  async createTopics(requests: CreateTopicRequest[], validateOnly: boolean, deadlineMs: number): Promise<TopicResult[]> {
    const wire: CreateTopicsRequest = {
      topics: requests.map((topic) => ({ ...topic, assignments: topic.assignments.map((assignment) => ({ ...assignment })), configs: topic.configs.map((config) => ({ ...config })) })),
      timeoutMs: REQUEST_TIMEOUT_MS,
      validateOnly,
    };
    const answer = await this.#call(
      deadlineMs,
      async () => ({ errorCode: ErrorCode.NONE, results: await this.options.controller.createTopics(requests, validateOnly) }),
      async (leaderId) => {
        const response = await this.options.transport.send(leaderId, CreateTopicsApi, CREATE_TOPICS_VERSION, wire, REQUEST_TIMEOUT_MS);
        const results: TopicResult[] = response.topics.map((topic) => ({
          name: topic.name,
          errorCode: topic.errorCode,
          errorMessage: topic.errorMessage ?? null,
          topicId: topic.errorCode === ErrorCode.NONE ? (topic.topicId ?? null) : null,
          numPartitions: topic.numPartitions ?? -1,
          replicationFactor: topic.replicationFactor ?? -1,
        }));
        const moved = results.length > 0 && results.every((result) => result.errorCode === ErrorCode.NOT_CONTROLLER);
        return { errorCode: moved ? ErrorCode.NOT_CONTROLLER : ErrorCode.NONE, results };
      },
    );
    return answer.results;
  }

  // ---- heartbeats and sessions -----------------------------------------------------------------

  /**
   * After registering, a broker is fenced until the active controller has seen it catch up with
   * the metadata up to its registration: it heartbeats at once and then every
   * UNFENCE_RETRY_MS (Kafka's broker does the same while it starts) until the controller unfences
   * it, so a start waits only for the metadata, not for a heartbeat interval; then until this node
   * has applied its own UnfenceBrokerRecord. No heartbeat at all when this node has applied that
   * record already. Rejects with REQUEST_TIMED_OUT if that has not happened by the deadline.
   */
  async awaitUnfenced(brokerEpoch: number, deadlineMs: number): Promise<void> {
    const { clock, image, nodeId } = this.options;
    // Unfenced in this node's own image too, so its Metadata answers list it.
    const unfencedHere = () => {
      const registration = image.brokers.get(nodeId);
      return registration?.brokerEpoch === brokerEpoch && !registration.fenced;
    };
    // The active controller's own broker is unfenced in its registration's batch, which this node
    // has applied once the registration returns: the committed metadata already says what the
    // heartbeat would ask (a single node's start, the controller's broker in a cluster).
    if (unfencedHere()) {
      // As an accepted heartbeat would: the node is not cut off (mayBeStale) while its first heartbeat is due.
      this.#lastAcceptedHeartbeatMs = clock.monotonicMs();
      return;
    }
    let response = await this.heartbeat(brokerEpoch, false, deadlineMs);
    while (response.isFenced || !unfencedHere()) {
      if (clock.monotonicMs() + UNFENCE_RETRY_MS > deadlineMs) {
        throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `broker ${nodeId} was not unfenced in time (metadata at ${this.#lastAppliedOffset()}, caught up: ${response.isCaughtUp})`);
      }
      await new Promise<void>((resolve) => clock.schedule(UNFENCE_RETRY_MS, resolve));
      if (response.isFenced) response = await this.heartbeat(brokerEpoch, false, deadlineMs);
    }
    // The answer that unfenced it found its image behind (other brokers registered meanwhile, or
    // its own unfencing): one more now that the image has caught up, so that it serves as a
    // coordinator from the start (mayBeStale) rather than from the next heartbeat on.
    for (let tries = 0; this.#behind && tries < CATCH_UP_TRIES_AT_START && clock.monotonicMs() + UNFENCE_RETRY_MS < deadlineMs; tries++) {
      if (tries > 0) await new Promise<void>((resolve) => clock.schedule(UNFENCE_RETRY_MS, resolve));
      await this.heartbeat(brokerEpoch, false, deadlineMs).catch(() => undefined);
    }
  }

  /**
   * Starts this broker's heartbeats to the active controller every broker.heartbeat.interval.ms
   * (the first one interval from now: the start-up heartbeats came just before), and, while this
   * node is the active controller, the check that fences brokers silent for
   * broker.session.timeout.ms. Returns a function that stops both.
   */
  startHeartbeats(brokerEpoch: (() => number) | undefined, intervalMs: number, sessionTimeoutMs: number): () => void {
    const { clock, logger } = this.options;
    this.#sessionTimeoutMs = sessionTimeoutMs;
    let stopped = false;
    let cancelBeat = () => {};
    let cancelCheck = () => {};
    const checkEveryMs = Math.max(100, Math.floor(intervalMs / 2));
    // This node stood still longer than this (paused, starved): its image may be that much behind.
    this.#stallMs = Math.max(2 * checkEveryMs, 1_000);
    this.#lastCheckMs = clock.monotonicMs();
    let beating = false;
    let beatAgain = false;
    const beat = () => {
      if (stopped || !brokerEpoch) return;
      beating = true;
      this.heartbeat(brokerEpoch(), false, clock.monotonicMs() + intervalMs)
        .catch((error: unknown) => logger.warn('broker heartbeat failed', { error: String(error) }))
        .finally(() => {
          beating = false;
          if (stopped) return;
          // News that came while this one was on its way (a directory failed) goes at once.
          cancelBeat = clock.schedule(beatAgain ? 0 : this.#nextBeatDelay(intervalMs), beat);
          beatAgain = false;
        });
    };
    // A heartbeat now rather than at the next interval (reportOfflineLogDirs).
    this.#beatNow = () => {
      if (stopped || !brokerEpoch) return;
      if (beating) {
        beatAgain = true;
        return;
      }
      cancelBeat();
      beat();
    };
    const check = () => {
      if (stopped) return;
      const now = clock.monotonicMs();
      const lastCheckMs = this.#lastCheckMs ?? now;
      if (now - lastCheckMs > this.#stallMs) {
        // Leaderships may have moved meanwhile, its own fencing aside (a pause shorter than the
        // session): its image is not trusted until a heartbeat sent from now on finds it caught up.
        this.#distrustBeforeMs = now;
        this.#lastAcceptedHeartbeatMs = Number.NEGATIVE_INFINITY;
        this.#beatNow?.();
      }
      if (now - lastCheckMs > sessionTimeoutMs / 2) {
        // This node itself stood still (paused, starved): the brokers' silence may be its own, so
        // their sessions start again rather than expire. A node paused while it was the active
        // controller wakes up believing it still is, until the quorum's next message says otherwise.
        logger.info('this node did not run for a while; broker sessions start again', { stalledMs: Math.round(now - lastCheckMs) });
        for (const brokerId of this.#sessions.keys()) this.#sessions.set(brokerId, now);
      }
      this.#lastCheckMs = now;
      // When this node stops trusting its image (its coordinators stand down) and trusts it again.
      const stale = brokerEpoch !== undefined && this.mayBeStale();
      if (stale !== this.#reportedStale) {
        this.#reportedStale = stale;
        if (stale) logger.warn('no heartbeat answered caught up within the session: this node\'s metadata may be stale, its coordinators stand down', { sinceLastCaughtUpMs: Number.isFinite(this.#lastAcceptedHeartbeatMs) ? Math.round(now - this.#lastAcceptedHeartbeatMs) : null });
        else logger.info('a heartbeat was answered caught up: this node\'s coordinators serve');
      }
      // One sweep at a time: a sweep waiting for its fence to commit must not queue the same fence again.
      if (!this.#sweeping) {
        this.#sweeping = true;
        this.#fenceExpired(sessionTimeoutMs)
          .catch((error: unknown) => logger.warn('fencing expired brokers failed', { error: String(error) }))
          .finally(() => {
            this.#sweeping = false;
          });
      }
      cancelCheck = clock.schedule(checkEveryMs, check);
    };
    if (brokerEpoch) cancelBeat = clock.schedule(this.#nextBeatDelay(intervalMs), beat);
    check();
    return () => {
      stopped = true;
      this.#beatNow = undefined;
      this.#lastCheckMs = undefined;
      cancelBeat();
      cancelCheck();
    };
  }

  /** Sends a heartbeat at once, while startHeartbeats runs. */
  #beatNow: (() => void) | undefined;
  /** The ids of this broker's log directories that failed, in every heartbeat from then on. */
  readonly #offlineLogDirs = new Set<string>();

  /**
   * Log directories of this broker failed (their `directory.id`s): from now on every heartbeat
   * names them (BrokerHeartbeat v1 offlineLogDirs, as Kafka's BrokerLifecycleManager does until
   * the broker restarts), and one goes at once, so the controller moves the leadership of the
   * partitions on them without waiting for the heartbeat interval. Ids already reported are
   * kept; a directory does not come back online before the broker registers again.
   */
  reportOfflineLogDirs(directoryIds: string[]): void {
    const before = this.#offlineLogDirs.size;
    for (const id of directoryIds) this.#offlineLogDirs.add(id);
    if (this.#offlineLogDirs.size === before) return;
    this.options.logger.warn('reporting offline log directories to the controller', { directories: [...this.#offlineLogDirs].join(',') });
    this.#beatNow?.();
  }

  /**
   * auto.leader.rebalance.enable: while this node is the active controller, every `intervalMs`
   * (leader.imbalance.check.interval.seconds) each partition gets its preferred replica back as
   * leader where that replica is an unfenced ISR member. Returns a function that stops it.
   */
  startLeaderBalancing(intervalMs: number): () => void {
    const { clock, quorum, controller, logger } = this.options;
    let stopped = false;
    let cancel = () => {};
    const tick = () => {
      if (stopped) return;
      const next = () => {
        if (!stopped) cancel = clock.schedule(intervalMs, tick);
      };
      if (!quorum.isActive) return next();
      controller.balanceLeaders().then(
        (moved) => {
          if (moved > 0) logger.info('moved leadership back to preferred replicas', { partitions: moved });
          next();
        },
        (error: unknown) => {
          if (!(error instanceof KafkaError && error.errorCode === ErrorCode.NOT_CONTROLLER)) logger.warn('balancing partition leaders failed', { error: String(error) });
          next();
        },
      );
    };
    cancel = clock.schedule(intervalMs, tick);
    return () => {
      stopped = true;
      cancel();
    };
  }

  /**
   * metadata.max.idle.interval.ms: while this node is the active controller, a NoOpRecord whenever
   * it has appended nothing for `maxIdleMs` (Controller.appendNoOpIfIdle), so followers' and
   * observers' fetches see the high watermark move; 0 never appends one. Returns a function that
   * stops it.
   */
  startIdleNoOps(maxIdleMs: number): () => void {
    if (maxIdleMs <= 0) return () => {};
    const { clock, quorum, controller, logger } = this.options;
    let stopped = false;
    let cancel = () => {};
    const next = (delayMs: number) => {
      if (!stopped) cancel = clock.schedule(Math.max(1, delayMs), tick);
    };
    const tick = () => {
      if (stopped) return;
      if (!quorum.isActive) return next(maxIdleMs);
      controller.appendNoOpIfIdle(maxIdleMs).then(next, (error: unknown) => {
        // Leadership moved meanwhile: the next active controller appends its own.
        if (!(error instanceof KafkaError && error.errorCode === ErrorCode.NOT_CONTROLLER)) logger.warn('appending a no-op record failed', { error: String(error) });
        next(maxIdleMs);
      });
    };
    next(maxIdleMs);
    return () => {
      stopped = true;
      cancel();
    };
  }

  /** The offset of the last metadata record this node has applied (-1: none), as a heartbeat reports it. */
  #lastAppliedOffset(): number {
    return this.options.quorum.appliedOffset - 1;
  }

  /**
   * One heartbeat to the active controller with this node's metadata offset; with `wantShutDown`,
   * Kafka's controlled shutdown.
   */
  async heartbeat(brokerEpoch: number, wantShutDown: boolean, deadlineMs: number): Promise<BrokerHeartbeatResponse> {
    const request: BrokerHeartbeatRequest = {
      brokerId: this.options.nodeId,
      brokerEpoch: BigInt(brokerEpoch),
      currentMetadataOffset: BigInt(this.#lastAppliedOffset()),
      wantFence: false,
      wantShutDown,
      offlineLogDirs: [...this.#offlineLogDirs],
    };
    // Each try waits no longer than the heartbeat's own deadline: a heartbeat stuck on a controller
    // that stopped answering (paused, cut off) would otherwise hold the next ones back while a new
    // active controller, whose sessions start when it takes over, fences this broker as silent.
    const { clock } = this.options;
    const sentAtMs = clock.monotonicMs();
    const response = await this.#call(deadlineMs, () => this.brokerHeartbeatRequest(request), (leaderId) =>
      this.#lifecycleTransport.send(leaderId, BrokerHeartbeatApi, BROKER_HEARTBEAT_VERSION, request, Math.max(1, Math.min(REQUEST_TIMEOUT_MS, deadlineMs - clock.monotonicMs()))),
    );
    const accepted = response.errorCode === ErrorCode.NONE && !response.isFenced;
    // Trusted from when the heartbeat left, not when its answer came: an answer read after a pause
    // says nothing about the pause. And only caught up: an unfenced broker may not yet have applied
    // its own fencing and the leadership moves made while it was away.
    if (accepted && response.isCaughtUp && sentAtMs >= this.#distrustBeforeMs) this.#lastAcceptedHeartbeatMs = Math.max(this.#lastAcceptedHeartbeatMs, sentAtMs);
    this.#behind = accepted && !response.isCaughtUp;
    return response;
  }

  #lastAcceptedHeartbeatMs = Number.NEGATIVE_INFINITY;
  /** Heartbeats sent before this node last stood still do not count (see startHeartbeats). */
  #distrustBeforeMs = Number.NEGATIVE_INFINITY;
  /** When startHeartbeats' periodic check last ran (undefined while it does not run). */
  #lastCheckMs: number | undefined;
  #stallMs = Number.POSITIVE_INFINITY;
  /** The last heartbeat's answer: unfenced, but this node's image was behind the controller's. */
  #behind = false;
  /** What the periodic check last logged of mayBeStale (a broker starts untrusted until a heartbeat says otherwise). */
  #reportedStale = true;

  #nextBeatDelay(intervalMs: number): number {
    return this.#behind ? Math.min(intervalMs, CATCH_UP_RETRY_MS) : intervalMs;
  }

  /**
   * Whether this broker may be out of touch: in a cluster, no heartbeat of it sent within
   * broker.session.timeout.ms has been accepted (unfenced) by an active controller with its image
   * caught up, so the controller may have fenced it and moved its leaderships without this node's
   * image knowing yet (it is cut off from the quorum, or was paused). Never on a single node, nor
   * before heartbeats start.
   */
  mayBeStale(): boolean {
    const timeoutMs = this.#sessionTimeoutMs;
    if (!this.options.clustered || timeoutMs === undefined) return false;
    const now = this.options.clock.monotonicMs();
    // The periodic check is overdue: this node has just come back from standing still, and a
    // request read before that check runs must not be answered from what it knew before.
    if (this.#lastCheckMs !== undefined && now - this.#lastCheckMs > this.#stallMs) return true;
    return now - this.#lastAcceptedHeartbeatMs > timeoutMs;
  }

  /** Brokers' last heartbeats, as this node saw them in the term it leads (monotonic ms). */
  readonly #sessions = new Map<number, number>();
  /** A fencing sweep is under way. */
  #sweeping = false;
  #sessionTerm = -1;
  /**
   * broker.session.timeout.ms, known from startHeartbeats on, when this node starts checking
   * sessions; until then (while its own node starts) it judges no session alive.
   */
  #sessionTimeoutMs: number | undefined;

  /** The sessions as a registration on the active controller asks about them. */
  readonly #brokerSessions: BrokerSessions = {
    isAlive: (brokerId) => this.#sessionAlive(brokerId),
    start: (brokerId) => this.#touchSession(brokerId),
  };

  /**
   * Whether a broker's session is alive on this active controller: heard from within
   * broker.session.timeout.ms. A broker not heard from in this term has a session that started
   * with the term, as Kafka's controller starts every registered broker's session when it becomes
   * active (#fenceExpired starts them the same way).
   */
  #sessionAlive(brokerId: number): boolean {
    const timeoutMs = this.#sessionTimeoutMs;
    if (timeoutMs === undefined) return false;
    this.#syncSessionTerm();
    const now = this.options.clock.monotonicMs();
    const last = this.#sessions.get(brokerId);
    if (last === undefined) {
      this.#sessions.set(brokerId, now);
      return true;
    }
    return now - last <= timeoutMs;
  }

  #touchSession(brokerId: number): void {
    this.#syncSessionTerm();
    this.#sessions.set(brokerId, this.options.clock.monotonicMs());
  }

  /** A new term as active controller starts every broker's session afresh (Kafka does the same). */
  #syncSessionTerm(): void {
    const term = this.options.quorum.raft.epoch;
    if (term === this.#sessionTerm) return;
    this.#sessionTerm = term;
    this.#sessions.clear();
  }

  async #fenceExpired(sessionTimeoutMs: number): Promise<void> {
    if (!this.options.quorum.isActive) return;
    this.#syncSessionTerm();
    const now = this.options.clock.monotonicMs();
    for (const broker of this.options.image.brokers.values()) {
      if (broker.fenced) continue;
      const last = this.#sessions.get(broker.brokerId);
      if (last === undefined) {
        this.#sessions.set(broker.brokerId, now);
        continue;
      }
      if (now - last <= sessionTimeoutMs) continue;
      this.options.logger.warn('fencing a broker whose session expired', { brokerId: broker.brokerId, silentMs: now - last });
      // Not if it is heard from before the fencing's turn comes (a heartbeat answered meanwhile
      // must not be followed by its fencing).
      await this.options.controller.fenceBroker(broker.brokerId, () => !this.#sessionAlive(broker.brokerId));
    }
  }

  /** Whether controller work is forwarded from here: a node of a cluster that is not the active controller. */
  get forwards(): boolean {
    return this.options.clustered && !this.options.quorum.isActive;
  }

  /**
   * Sends a client's request (its whole frame, its principal and address) to the active controller in an Envelope and
   * resolves with the controller's response frame; undefined if this node is the active
   * controller by now (the caller handles the request itself).
   */
  async forward(frame: Buffer, clientHost: string, principal: string): Promise<Buffer | undefined> {
    const request: EnvelopeRequest = { requestData: frame, requestPrincipal: serializePrincipal(principal), clientHostAddress: addressBytes(clientHost) };
    const deadlineMs = this.options.clock.monotonicMs() + FORWARD_TIMEOUT_MS;
    const answer = await this.#call(
      deadlineMs,
      async () => ({ errorCode: ErrorCode.NONE, responseData: undefined }),
      async (leaderId) => {
        const response = await this.options.transport.send(leaderId, EnvelopeApi, ENVELOPE_VERSION, request, REQUEST_TIMEOUT_MS);
        return { errorCode: response.errorCode, responseData: response.responseData ?? undefined };
      },
    );
    return answer.responseData;
  }

  // ---- the controller's side (this node is the active controller) ---------------------------------

  async createTopicsRequest(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    let results: TopicResult[];
    try {
      results = await this.options.controller.createTopics(
        createTopicRequestsOf(request),
        request.validateOnly ?? false,
      );
    } catch (error) {
      const errorCode = errorCodeOf(error);
      results = request.topics.map((topic) => ({ name: topic.name, errorCode, errorMessage: null, topicId: null, numPartitions: -1, replicationFactor: -1 }));
    }
    return createTopicsResponse(results, () => null);
  }

  async registerBroker(request: BrokerRegistrationRequest): Promise<BrokerRegistrationResponse> {
    if (request.clusterId !== this.options.clusterId) return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID, brokerEpoch: -1n };
    try {
      // The controller refuses a new incarnation while the previous one's session is alive, and
      // an accepted registration starts a new session (so the previous incarnation's last
      // heartbeat cannot fence it), both within its serialized operation.
      const endpoints = request.listeners.map(({ name, host, port, securityProtocol }) => ({ name, host, port, securityProtocol }));
      const brokerEpoch = await this.options.controller.registerBroker(request.brokerId, request.incarnationId, endpoints, request.rack, this.#brokerSessions, Number(request.previousBrokerEpoch ?? -1n), request.logDirs ?? []);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch: BigInt(brokerEpoch) };
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(error), brokerEpoch: -1n };
    }
  }

  async brokerHeartbeatRequest(request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatResponse> {
    try {
      // Only a heartbeat of the registered incarnation keeps its session alive: a stale one (an
      // older incarnation still running) is refused below and must not stand for the current one.
      if (this.options.image.brokers.get(request.brokerId)?.brokerEpoch === Number(request.brokerEpoch)) this.#touchSession(request.brokerId);
      const arrivalEnd = this.options.quorum.raft.log.endOffset;
      const result = await this.options.controller.brokerHeartbeat({
        brokerId: request.brokerId,
        brokerEpoch: Number(request.brokerEpoch),
        currentMetadataOffset: Number(request.currentMetadataOffset),
        wantFence: request.wantFence,
        wantShutDown: request.wantShutDown,
        offlineLogDirs: request.offlineLogDirs ?? [],
      });
      // Caught up with this controller's image is caught up with the cluster only while this node
      // still leads: a controller paused and deposed meanwhile answers from its own image, which
      // lacks the new leader's fencing. So a majority must still follow it (Raft's read-index check).
      const confirms = this.options.clustered && (this.options.metadataMaxIdleIntervalMs ?? 500) > 0;
      const isCaughtUp = result.isCaughtUp && (!confirms || (await this.#stillLeads(arrivalEnd)));
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, ...result, isCaughtUp };
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(error), isCaughtUp: false, isFenced: true, shouldShutDown: false };
    }
  }

  /**
   * Whether an entry appended at or after `endOffset` (the metadata log's end when a request came)
   * is committed in this node's term within LEADERSHIP_CONFIRM_MS: a majority then followed this
   * node after the request came, so no other controller had been elected before it. Appends a
   * NoOpRecord for it unless something committed meanwhile; concurrent callers share one.
   */
  async #stillLeads(endOffset: number): Promise<boolean> {
    const { quorum, clock } = this.options;
    if (quorum.raft.highWatermark > endOffset) return true;
    let pending = this.#confirmation;
    if (pending === undefined || pending.fromOffset < endOffset) {
      const fromOffset = quorum.raft.log.endOffset;
      const confirmed = quorum.confirmLeadership().then(
        () => true,
        () => false,
      );
      const current = { fromOffset, confirmed };
      pending = current;
      this.#confirmation = current;
      void confirmed.then(() => {
        if (this.#confirmation === current) this.#confirmation = undefined;
      });
    }
    let cancel = () => {};
    const timedOut = new Promise<boolean>((resolve) => {
      cancel = clock.schedule(LEADERSHIP_CONFIRM_MS, () => resolve(false));
    });
    try {
      return await Promise.race([pending.confirmed, timedOut]);
    } finally {
      cancel();
    }
  }

  /** A NoOpRecord on its way to confirm this node's leadership, appended at `fromOffset` or later. */
  #confirmation: { fromOffset: number; confirmed: Promise<boolean> } | undefined;

  /**
   * Sends partition leaders' ISR changes to the active controller (local or remote) in one
   * AlterPartition and resolves with each partition's error code, in order; rejects when the
   * controller cannot be reached before `deadlineMs` (the leader proposes again later).
   */
  async alterPartition(
    brokerEpoch: number,
    changes: readonly { topicId: string; partitionId: number; leaderEpoch: number; partitionEpoch: number; isr: readonly number[]; memberEpochs?: readonly number[] }[],
    deadlineMs: number,
  ): Promise<number[]> {
    const byTopic = new Map<string, AlterPartitionRequest['topics'][number]['partitions']>();
    for (const change of changes) {
      let partitions = byTopic.get(change.topicId);
      if (!partitions) byTopic.set(change.topicId, (partitions = []));
      partitions.push({
        partitionIndex: change.partitionId,
        leaderEpoch: change.leaderEpoch,
        // Each member's epoch as of the fetches the leader saw (else as this broker knows it now).
        newIsrWithEpochs: change.isr.map((brokerId, index) => {
          const seen = change.memberEpochs?.[index] ?? -1;
          return { brokerId, brokerEpoch: BigInt(seen >= 0 ? seen : (this.options.image.brokers.get(brokerId)?.brokerEpoch ?? -1)) };
        }),
        leaderRecoveryState: 0,
        partitionEpoch: change.partitionEpoch,
      });
    }
    const request: AlterPartitionRequest = { brokerId: this.options.nodeId, brokerEpoch: BigInt(brokerEpoch), topics: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })) };
    const response = await this.#call(deadlineMs, () => this.alterPartitionRequest(request), (leaderId) =>
      this.options.transport.send(leaderId, AlterPartitionApi, ALTER_PARTITION_VERSION, request, REQUEST_TIMEOUT_MS),
    );
    const answers = new Map<string, number>();
    for (const topic of response.topics) for (const partition of topic.partitions) answers.set(`${topic.topicId}:${partition.partitionIndex}`, partition.errorCode);
    return changes.map((change) => answers.get(`${change.topicId}:${change.partitionId}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
  }

  /** AlterPartition on the active controller. */
  async alterPartitionRequest(request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    const changes = request.topics.flatMap((topic) =>
      topic.partitions.map((partition) => ({
        topicId: topic.topicId ?? '',
        partitionId: partition.partitionIndex,
        leaderEpoch: partition.leaderEpoch,
        partitionEpoch: partition.partitionEpoch,
        isr: partition.newIsrWithEpochs?.map((member) => ({ brokerId: member.brokerId, brokerEpoch: Number(member.brokerEpoch) })) ?? (partition.newIsr ?? []).map((brokerId) => ({ brokerId, brokerEpoch: -1 })),
      })),
    );
    let results;
    try {
      results = await this.options.controller.alterPartition(request.brokerId, Number(request.brokerEpoch), changes);
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(error), topics: [] };
    }
    let index = 0;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      topics: request.topics.map((topic) => ({
        topicId: topic.topicId ?? '',
        partitions: topic.partitions.map((partition) => {
          const result = results[index++]!;
          return { partitionIndex: partition.partitionIndex, errorCode: result.errorCode, leaderId: result.leaderId, leaderEpoch: result.leaderEpoch, isr: result.isr, leaderRecoveryState: 0, partitionEpoch: result.partitionEpoch };
        }),
      })),
    };
  }

  // ---- directory assignments (KIP-858) --------------------------------------------------------

  /** Assignments not sent yet, in the order they came. */
  #pendingAssignments: PendingAssignment[] = [];
  /** An AssignReplicasToDirs is on its way or about to be: new assignments wait for the next one. */
  #assigning = false;

  /**
   * Tells the active controller in which log directory (its `directory.id`) each of this broker's
   * replicas lives (AssignReplicasToDirs, 73), as Kafka's AssignmentsManager does: calls made
   * while a request is on its way go together in the next one (at most 2,250 assignments each);
   * of two for one partition, the later one is sent. Resolves once the controller has recorded
   * every one that still applies: one whose topic is gone (UNKNOWN_TOPIC_ID,
   * UNKNOWN_TOPIC_OR_PARTITION) or of which this broker is no longer a replica
   * (NOT_LEADER_OR_FOLLOWER) is dropped, as Kafka's broker drops assignments no longer valid.
   * NOT_CONTROLLER, STALE_BROKER_EPOCH (the image has not shown this broker's new registration
   * yet) and transport failures are retried until `deadlineMs`; then, or on any other error, it
   * rejects with a KafkaError.
   */
  assignReplicasToDirs(assignments: { topicId: string; partitionIndex: number; directoryId: string }[], deadlineMs: number): Promise<void> {
    if (assignments.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let waiting = assignments.length;
      let settled = false;
      const cancelDeadline = this.options.clock.schedule(Math.max(0, deadlineMs - this.options.clock.monotonicMs()), () => {
        if (settled) return;
        settled = true;
        reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'the active controller did not record the directory assignments in time'));
      });
      const settle = (errorCode: number, detail?: string) => {
        if (settled) return;
        if (errorCode !== ErrorCode.NONE && !OBSOLETE_ASSIGNMENT_ERRORS.includes(errorCode)) {
          settled = true;
          cancelDeadline();
          reject(new KafkaError(errorCode, `AssignReplicasToDirs failed: ${detail ?? `error ${errorCode}`}`));
          return;
        }
        if (--waiting > 0) return;
        settled = true;
        cancelDeadline();
        resolve();
      };
      for (const { topicId, partitionIndex, directoryId } of assignments) this.#pendingAssignments.push({ topicId, partitionIndex, directoryId, deadlineMs, settle });
      if (!this.#assigning) {
        this.#assigning = true;
        // Calls made in the same turn go together.
        queueMicrotask(() => void this.#sendAssignments());
      }
    });
  }

  async #sendAssignments(): Promise<void> {
    try {
      while (this.#pendingAssignments.length > 0) {
        // The latest assignment of each partition, up to the request's limit, in arrival order.
        const latest = new Map<string, PendingAssignment>();
        const waiters = new Map<string, PendingAssignment[]>();
        let taken = 0;
        for (const pending of this.#pendingAssignments) {
          const key = `${pending.topicId}:${pending.partitionIndex}`;
          if (!latest.has(key) && latest.size >= MAX_ASSIGNMENTS_PER_REQUEST) break;
          taken++;
          latest.delete(key);
          latest.set(key, pending);
          waiters.set(key, [...(waiters.get(key) ?? []), pending]);
        }
        this.#pendingAssignments = this.#pendingAssignments.slice(taken);
        const batch = [...latest.values()];
        const deadlineMs = Math.max(...batch.map((pending) => pending.deadlineMs));
        let answers: Map<string, number>;
        try {
          answers = await this.#assign(batch, deadlineMs);
        } catch (error) {
          const errorCode = error instanceof KafkaError ? error.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
          for (const list of waiters.values()) for (const pending of list) pending.settle(errorCode, String(error));
          continue;
        }
        for (const [key, list] of waiters) {
          const errorCode = answers.get(key) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
          for (const pending of list) pending.settle(errorCode, `${key}: error ${errorCode}`);
        }
      }
    } finally {
      this.#assigning = false;
    }
  }

  /** One AssignReplicasToDirs to the active controller; resolves with each partition's error code by `topicId:partitionIndex`. */
  async #assign(batch: readonly PendingAssignment[], deadlineMs: number): Promise<Map<string, number>> {
    const request = (): AssignReplicasToDirsRequest => {
      const byDirectory = new Map<string, Map<string, number[]>>();
      for (const { topicId, partitionIndex, directoryId } of batch) {
        let topics = byDirectory.get(directoryId);
        if (!topics) byDirectory.set(directoryId, (topics = new Map()));
        let partitions = topics.get(topicId);
        if (!partitions) topics.set(topicId, (partitions = []));
        partitions.push(partitionIndex);
      }
      return {
        brokerId: this.options.nodeId,
        // As the image knows it at each try: a registration it has not applied yet is retried.
        brokerEpoch: BigInt(this.options.image.brokers.get(this.options.nodeId)?.brokerEpoch ?? -1),
        directories: [...byDirectory].map(([id, topics]) => ({
          id,
          topics: [...topics].map(([topicId, partitions]) => ({ topicId, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) })),
        })),
      };
    };
    const response = await this.#call(
      deadlineMs,
      () => this.assignReplicasToDirsRequest(request()),
      (leaderId) => this.options.transport.send(leaderId, AssignReplicasToDirsApi, ASSIGN_REPLICAS_TO_DIRS_VERSION, request(), REQUEST_TIMEOUT_MS),
      [ErrorCode.STALE_BROKER_EPOCH],
    );
    const answers = new Map<string, number>();
    for (const directory of response.directories) {
      for (const topic of directory.topics) for (const partition of topic.partitions) answers.set(`${topic.topicId}:${partition.partitionIndex}`, partition.errorCode);
    }
    return answers;
  }

  /** AssignReplicasToDirs on the active controller: each partition's answer where the request named it. */
  async assignReplicasToDirsRequest(request: AssignReplicasToDirsRequest): Promise<AssignReplicasToDirsResponse> {
    const assignments: DirectoryAssignment[] = request.directories.flatMap((directory) =>
      directory.topics.flatMap((topic) => topic.partitions.map((partition) => ({ topicId: topic.topicId, partitionId: partition.partitionIndex, directoryId: directory.id }))),
    );
    let results: number[];
    try {
      results = await this.options.controller.assignReplicasToDirs(request.brokerId, Number(request.brokerEpoch), assignments);
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(error), directories: [] };
    }
    let index = 0;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      directories: request.directories.map((directory) => ({
        id: directory.id,
        topics: directory.topics.map((topic) => ({
          topicId: topic.topicId,
          partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: results[index++]! })),
        })),
      })),
    };
  }

  async allocateProducerIds(request: AllocateProducerIdsRequest, blockSize = 1000): Promise<AllocateProducerIdsResponse> {
    try {
      const block = await this.options.controller.allocateProducerIds(request.brokerId, blockSize);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerIdStart: BigInt(block.firstProducerId), producerIdLen: block.size };
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(error), producerIdStart: -1n, producerIdLen: 0 };
    }
  }

  /** `work`, or a REQUEST_TIMED_OUT rejection after `timeoutMs` (a commit that cannot reach a majority). */
  #within<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancel = this.options.clock.schedule(timeoutMs, () => reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'the active controller did not answer in time')));
      work.then(
        (value) => {
          cancel();
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          reject(error);
        },
      );
    });
  }

  /** Runs `local` on the active controller or `remote` against it, until it answers or the deadline passes. */
  async #call<Response extends { errorCode: number }>(
    deadlineMs: number,
    local: () => Promise<Response>,
    remote: (leaderId: number) => Promise<Response>,
    alsoRetriable: readonly number[] = [],
  ): Promise<Response> {
    const { quorum, clock, logger } = this.options;
    let backoffMs = RETRY_BACKOFF_MIN_MS;
    for (;;) {
      let errorCode: number = ErrorCode.NOT_CONTROLLER;
      let detail = 'no active controller is known yet';
      const leaderId = quorum.activeControllerId;
      try {
        if (quorum.isActive) {
          const response = await this.#within(local(), Math.max(1, deadlineMs - clock.monotonicMs()));
          if (response.errorCode === ErrorCode.NONE) return response;
          errorCode = response.errorCode;
        } else if (leaderId >= 0) {
          const response = await remote(leaderId);
          if (response.errorCode === ErrorCode.NONE) return response;
          errorCode = response.errorCode;
        }
        detail = `error ${errorCode}`;
      } catch (error) {
        if (error instanceof KafkaError && error.errorCode === ErrorCode.NOT_CONTROLLER) detail = error.message;
        else if (error instanceof TransportError) detail = error.message;
        else throw error;
      }
      if (errorCode !== ErrorCode.NOT_CONTROLLER && errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER && errorCode !== ErrorCode.REQUEST_TIMED_OUT && !alsoRetriable.includes(errorCode)) {
        throw new KafkaError(errorCode, `the active controller refused the request: ${detail}`);
      }
      if (clock.monotonicMs() + backoffMs > deadlineMs) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `no active controller answered in time (${detail})`);
      logger.debug('retrying a request to the active controller', { leaderId, detail });
      await new Promise<void>((resolve) => clock.schedule(backoffMs, resolve));
      backoffMs = Math.min(backoffMs * 2, RETRY_BACKOFF_MAX_MS);
    }
  }
}

function errorCodeOf(error: unknown): number {
  if (error instanceof KafkaError) return error.errorCode;
  throw error;
}

/** An IP address as Kafka's Envelope carries it: 4 or 16 raw bytes (empty when not an IP). */
function addressBytes(host: string): Buffer {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4) return Buffer.from(v4.slice(1).map(Number));
  return Buffer.alloc(0);
}
