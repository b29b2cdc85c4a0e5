// Leader: the voter that won its epoch's election. It wrote a LeaderChange control batch at the
// start of its epoch (epochStartOffset) and advances the high watermark to the offset a majority of
// voters hold durably, but only once that covers an entry of its own epoch (Raft's rule: a leader
// commits older entries only by committing one of its own). Voters report their positions by
// fetching; the leader's own position is its flushed log end. Check-quorum: if fewer than a
// majority fetched within the fetch timeout, it resigns (a partitioned leader stops acting). The
// voter set may change while it leads (KIP-853): the majority is always counted over the current
// set, which need not include the leader (a leader removing itself leads until that commits).

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
  /** Voters a BeginQuorumEpoch is on its way to. */
  readonly announcing = new Set<number>();
  /** Every replica that fetched, and every voter, this node included. */
  readonly #positions = new Map<number, ReplicaPosition>();
  #voters: number[];
  #highWatermark = -1;

  constructor(
    readonly epoch: number,
    readonly self: number,
    voters: readonly number[],
    readonly epochStartOffset: number,
    nowMs: number,
  ) {
    this.#voters = [...voters];
    // Check-quorum counts from the election: every voter gets the full window to fetch first.
    for (const voter of voters) this.#positions.set(voter, freshPosition(nowMs, voter === self));
    if (!this.#positions.has(self)) this.#positions.set(self, freshPosition(nowMs, true));
  }

  get leaderId(): number {
    return this.self;
  }

  get votedId(): number {
    return this.self;
  }

  get voters(): readonly number[] {
    return this.#voters;
  }

  /** The voters' positions. */
  get replicas(): Map<number, ReplicaPosition> {
    return new Map(this.#voters.map((voter) => [voter, this.#positions.get(voter)!]));
  }

  /** The positions of the replicas that fetch without voting. */
  get observers(): Map<number, ReplicaPosition> {
    return new Map([...this.#positions].filter(([id]) => !this.#voters.includes(id) && id !== this.self));
  }

  /** -1 until the first entry of this epoch is committed. */
  get highWatermark(): number {
    return this.#highWatermark;
  }

  /**
   * The voter set changed (a VotersRecord was appended, KIP-853): a new voter gets a full
   * check-quorum window from now; returns whether the high watermark moved.
   */
  setVoters(voters: readonly number[], nowMs: number): boolean {
    for (const voter of voters) {
      const position = this.#positions.get(voter);
      if (!position) this.#positions.set(voter, freshPosition(nowMs, false));
      else if (!this.#voters.includes(voter)) position.lastFetchMs = Math.max(position.lastFetchMs, nowMs);
    }
    this.#voters = [...voters];
    return this.#maybeAdvance();
  }

  /**
   * Records where a replica's log ends (`leaderEndOffset` is the leader's own, for the caught-up
   * time); returns whether the high watermark moved.
   */
  updateReplica(replicaId: number, endOffset: number, nowMs: number, wallMs: number, leaderEndOffset: number): boolean {
    let position = this.#positions.get(replicaId);
    if (!position) {
      position = { endOffset: -1, lastFetchMs: -1, acknowledged: true, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 };
      this.#positions.set(replicaId, position);
    }
    position.endOffset = Math.max(position.endOffset, endOffset);
    position.lastFetchMs = nowMs;
    position.lastFetchTimestamp = wallMs;
    if (endOffset >= leaderEndOffset) position.lastCaughtUpTimestamp = wallMs;
    position.acknowledged = true;
    return this.#maybeAdvance();
  }

  /** Where a replica stands, if it ever fetched or votes. */
  position(replicaId: number): ReplicaPosition | undefined {
    return this.#positions.get(replicaId);
  }

  /** Records the leader's own durable log end; returns whether the high watermark moved. */
  updateLocal(flushedEndOffset: number, nowMs: number): boolean {
    const position = this.#positions.get(this.self)!;
    position.endOffset = flushedEndOffset;
    position.lastFetchMs = nowMs;
    return this.#maybeAdvance();
  }

  /** Whether a majority of voters (this one included, if it votes) fetched within `timeoutMs`. */
  hasQuorum(nowMs: number, timeoutMs: number): boolean {
    let recent = 0;
    for (const voter of this.#voters) {
      if (voter === this.self || nowMs - this.#positions.get(voter)!.lastFetchMs <= timeoutMs) recent++;
    }
    return recent >= Math.floor(this.#voters.length / 2) + 1;
  }

  unacknowledged(): number[] {
    return this.#voters.filter((voter) => !this.#positions.get(voter)!.acknowledged);
  }

  #maybeAdvance(): boolean {
    const offsets = this.#voters.map((voter) => this.#positions.get(voter)!.endOffset).sort((a, b) => b - a);
    const majorityOffset = offsets[Math.floor(this.#voters.length / 2)]!;
    if (majorityOffset <= this.epochStartOffset || majorityOffset <= this.#highWatermark) return false;
    this.#highWatermark = majorityOffset;
    return true;
  }
}

function freshPosition(nowMs: number, acknowledged: boolean): ReplicaPosition {
  return { endOffset: -1, lastFetchMs: nowMs, acknowledged, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 };
}
