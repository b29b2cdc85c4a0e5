// A member of a classic group (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) for any protocol
// type: consumer groups of the tools and sink tasks ("consumer"), and Connect workers
// ("connect"). It finds the coordinator, joins, lets the caller's assign() compute every member's
// assignment when the coordinator makes it the leader, syncs, and heartbeats until the group
// rebalances (reported through `rebalanceNeeded`; the caller rejoins) or it leaves. A coordinator
// that moved or went away is found again on the next join.
import { ErrorCode } from '../base/error-codes.js';
import { HeartbeatApi, JoinGroupApi, LeaveGroupApi, SyncGroupApi } from '../protocol/messages/index.js';
import { type ClusterClient, KafkaResponseError, REQUEST_TIMEOUT_MS, ToolError } from './cluster-client.js';
import { findGroupCoordinator } from './group-offsets.js';

/** JoinGroup retries (MEMBER_ID_REQUIRED, a rebalance already running) before giving up. */
const JOIN_ATTEMPTS_MAX = 10;
/** A JoinGroup may wait the rebalance timeout at the coordinator; the client waits this much longer. */
const JOIN_TIMEOUT_MARGIN_MS = 5_000;

export interface GroupTimeouts {
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

export interface GroupProtocol {
  readonly protocolType: string;
  /** The protocols this member supports, in preference order, each with its metadata. */
  readonly protocols: readonly { name: string; metadata: Buffer }[];
  /** Run on the leader: each member's assignment, by member id. */
  assign(protocol: string, members: readonly { memberId: string; metadata: Buffer }[]): Promise<Map<string, Buffer>> | Map<string, Buffer>;
}

export interface JoinResult {
  readonly memberId: string;
  readonly generationId: number;
  readonly leaderId: string;
  readonly protocol: string;
  readonly assignment: Buffer;
}

export class ClassicGroupMember {
  private coordinator = '';
  memberId = '';
  generationId = -1;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Set when a heartbeat learns that the group is rebalancing (or the member is gone). */
  rebalanceNeeded = false;

  constructor(
    private readonly cluster: ClusterClient,
    readonly groupId: string,
    private readonly timeouts: GroupTimeouts,
  ) {}

  get coordinatorAddress(): string {
    return this.coordinator;
  }

  /** The coordinator's address, found again if a heartbeat or the caller lost it. */
  async currentCoordinator(): Promise<string> {
    if (this.coordinator === '') this.coordinator = await findGroupCoordinator(this.cluster, this.groupId);
    return this.coordinator;
  }

  /** The caller's request to the coordinator failed (NOT_COORDINATOR, a lost connection): find it again next time. */
  forgetCoordinator(): void {
    this.coordinator = '';
  }

  /** Joins (or rejoins) the group; resolves with this member's assignment. */
  async join(protocol: GroupProtocol): Promise<JoinResult> {
    this.stopHeartbeats();
    await this.currentCoordinator();
    for (let attempt = 0; attempt < JOIN_ATTEMPTS_MAX; attempt++) {
      const joined = await this.cluster.request(JoinGroupApi, {
        groupId: this.groupId,
        sessionTimeoutMs: this.timeouts.sessionTimeoutMs,
        rebalanceTimeoutMs: this.timeouts.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: protocol.protocolType,
        protocols: [...protocol.protocols],
        reason: null,
        // The coordinator answers once every member has rejoined, which may take the rebalance timeout (as Kafka's clients wait).
      }, { address: this.coordinator, minVersion: 4, maxVersion: 5, timeoutMs: Math.max(REQUEST_TIMEOUT_MS, this.timeouts.rebalanceTimeoutMs + JOIN_TIMEOUT_MARGIN_MS) });
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED || joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED ? joined.memberId : '';
        continue;
      }
      if (joined.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (joined.errorCode === ErrorCode.NOT_COORDINATOR || joined.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
        this.coordinator = await findGroupCoordinator(this.cluster, this.groupId);
        continue;
      }
      if (joined.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(joined.errorCode, `joining group '${this.groupId}'`);
      this.memberId = joined.memberId;
      this.generationId = joined.generationId;
      const protocolName = joined.protocolName ?? protocol.protocols[0]!.name;
      const assignments = joined.leader === joined.memberId ? await protocol.assign(protocolName, joined.members) : new Map<string, Buffer>();
      const synced = await this.cluster.request(SyncGroupApi, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: protocol.protocolType,
        protocolName,
        assignments: [...assignments].map(([memberId, assignment]) => ({ memberId, assignment })),
      }, { address: this.coordinator, maxVersion: 3 });
      if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || synced.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        this.memberId = synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID ? '' : this.memberId;
        continue;
      }
      if (synced.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(synced.errorCode, `syncing group '${this.groupId}'`);
      this.rebalanceNeeded = false;
      this.startHeartbeats();
      return { memberId: this.memberId, generationId: this.generationId, leaderId: joined.leader, protocol: protocolName, assignment: synced.assignment };
    }
    throw new ToolError(`could not join group '${this.groupId}' after ${JOIN_ATTEMPTS_MAX} attempts`);
  }

  async leave(): Promise<void> {
    this.stopHeartbeats();
    if (this.memberId === '') return;
    await this.cluster.request(LeaveGroupApi, { groupId: this.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null }] }, {
      address: this.coordinator,
      maxVersion: 4,
    }).catch(() => undefined);
    this.memberId = '';
  }

  private startHeartbeats(): void {
    this.heartbeatTimer = setInterval(() => {
      // A coordinator the caller forgot (its request to it failed) is found again first.
      this.currentCoordinator()
        .then((address) => this.cluster.request(HeartbeatApi, { groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null }, { address, maxVersion: 3 }))
        .then((response) => {
          if (response.errorCode === ErrorCode.NONE) return;
          this.rebalanceNeeded = true;
          if (response.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
          if (response.errorCode === ErrorCode.NOT_COORDINATOR || response.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) this.coordinator = '';
        }, () => {
          this.rebalanceNeeded = true;
          this.coordinator = '';
        });
    }, this.timeouts.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
