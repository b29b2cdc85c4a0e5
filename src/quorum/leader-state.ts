// Leader: the voter that won its epoch's election. It wrote a LeaderChange control batch at the
// start of its epoch (epochStartOffset) and advances the high watermark to the offset a majority of
// voters hold durably, but only once that covers an entry of its own epoch (Raft's rule: a leader
// commits older entries only by committing one of its own). Voters report their positions by
// fetching; the leader's own position is its flushed log end. Check-quorum: if fewer than a
// majority fetched within the fetch timeout, it resigns (a partitioned leader stops acting).

export interface ReplicaPosition {
  /** The offset up to which the replica holds the log (its last fetch offset), or -1. */
  endOffset: number;
  /** Monotonic time of its last fetch in this epoch (the election's time until it fetches). */
  lastFetchMs: number;
  /** Whether it acknowledged BeginQuorumEpoch (or fetched, which implies it). */
  acknowledged: boolean;
  /** Wall-clock time of its last fetch, or -1 (DescribeQuorum). */
  lastFetchTimestamp: number;
  /** Wall-clock time it last fetched at or past the leader's log end, or -1 (DescribeQuorum). */
  lastCaughtUpTimestamp: number;
}

export class LeaderState {
  readonly kind = 'leader';
  readonly replicas = new Map<number, ReplicaPosition>();
  readonly observers = new Map<number, ReplicaPosition>();
  /** Voters a BeginQuorumEpoch is on its way to. */
  readonly announcing = new Set<number>();
  #highWatermark = -1;

  constructor(
    readonly epoch: number,
    readonly self: number,
    readonly voters: readonly number[],
    readonly epochStartOffset: number,
    nowMs: number,
  ) {
    for (const voter of voters) {
      // Check-quorum counts from the election: every voter gets the full window to fetch first.
      this.replicas.set(voter, { endOffset: -1, lastFetchMs: nowMs, acknowledged: voter === self, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 });
    }
  }

  get leaderId(): number {
    return this.self;
  }

  get votedId(): number {
    return this.self;
  }

  /** -1 until the first entry of this epoch is committed. */
  get highWatermark(): number {
    return this.#highWatermark;
  }

  /**
   * Records where a replica's log ends (`leaderEndOffset` is the leader's own, for the caught-up
   * time); returns whether the high watermark moved.
   */
  updateReplica(replicaId: number, endOffset: number, nowMs: number, wallMs: number, leaderEndOffset: number): boolean {
    const position = this.replicas.get(replicaId) ?? this.#observer(replicaId);
    position.endOffset = Math.max(position.endOffset, endOffset);
    position.lastFetchMs = nowMs;
    position.lastFetchTimestamp = wallMs;
    if (endOffset >= leaderEndOffset) position.lastCaughtUpTimestamp = wallMs;
    position.acknowledged = true;
    return this.#maybeAdvance();
  }

  /** Records the leader's own durable log end; returns whether the high watermark moved. */
  updateLocal(flushedEndOffset: number, nowMs: number): boolean {
    const position = this.replicas.get(this.self)!;
    position.endOffset = flushedEndOffset;
    position.lastFetchMs = nowMs;
    return this.#maybeAdvance();
  }

  /** Whether a majority of voters (this one included) fetched within `timeoutMs`. */
  hasQuorum(nowMs: number, timeoutMs: number): boolean {
    let recent = 0;
    for (const [voter, position] of this.replicas) {
      if (voter === this.self || nowMs - position.lastFetchMs <= timeoutMs) recent++;
    }
    return recent >= Math.floor(this.voters.length / 2) + 1;
  }

  unacknowledged(): number[] {
    return [...this.replicas].filter(([, position]) => !position.acknowledged).map(([voter]) => voter);
  }

  #observer(replicaId: number): ReplicaPosition {
    let position = this.observers.get(replicaId);
    if (!position) {
      position = { endOffset: -1, lastFetchMs: -1, acknowledged: true, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 };
      this.observers.set(replicaId, position);
    }
    return position;
  }

  #maybeAdvance(): boolean {
    const offsets = [...this.replicas.values()].map((position) => position.endOffset).sort((a, b) => b - a);
    const majorityOffset = offsets[Math.floor(this.voters.length / 2)]!;
    if (majorityOffset <= this.epochStartOffset || majorityOffset <= this.#highWatermark) return false;
    this.#highWatermark = majorityOffset;
    return true;
  }
}
