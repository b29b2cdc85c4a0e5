// Leader: the voter that won its epoch's election. It wrote a LeaderChange control batch at the
// start of its epoch (epochStartOffset) and advances the high watermark to the offset a majority of
// voters hold durably, but only once that covers an entry of its own epoch (Raft's rule: a leader
// commits older entries only by committing one of its own). Voters report their positions by
// fetching; the leader's own position is its flushed log end. Check-quorum: if fewer than a
// majority fetched within the fetch timeout, it resigns (a partitioned leader stops acting). The
// voter set may change while it leads (KIP-853): the majority is always counted over the current
// set, which need not include the leader (a leader removing itself leads until that commits).
// Replicas are told apart by their key (id and metadata log directory id, KIP-853), as Kafka's
// LeaderState does: a fetch counts as a voter's only when its key matches the voter set's entry
// (equal directory ids, or the entry has the zero uuid); any other replica is an observer, such as a
// voter whose disk was replaced and that came back with a new directory id.
import { keyMatches, type ReplicaKey } from './voter-set.js';

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
  /** This node's own position (its flushed log end). */
  readonly #selfPosition: ReplicaPosition;
  /** The voters' keys, in the voter set's order. */
  #voterKeys: ReplicaKey[];
  /** Each voter's position, by id (ids are unique in a voter set); the leader's own is #selfPosition. */
  #voterPositions = new Map<number, ReplicaPosition>();
  /** Replicas that fetched without being a voter by key, by `id:directoryId`. */
  readonly #observerPositions = new Map<string, { key: ReplicaKey; position: ReplicaPosition }>();
  /** The directory id each voter last fetched with (its entry may have the zero uuid). */
  readonly #fetchedDirectories = new Map<number, string>();
  #highWatermark = -1;

  constructor(
    readonly epoch: number,
    readonly self: number,
    voters: readonly ReplicaKey[],
    readonly epochStartOffset: number,
    nowMs: number,
    readonly selfDirectoryId: string,
  ) {
    this.#selfPosition = freshPosition(nowMs, true);
    this.#voterKeys = [...voters];
    // Check-quorum counts from the election: every voter gets the full window to fetch first.
    for (const voter of voters) this.#voterPositions.set(voter.id, this.#isSelf(voter) ? this.#selfPosition : freshPosition(nowMs, false));
  }

  get leaderId(): number {
    return this.self;
  }

  get voters(): readonly number[] {
    return this.#voterKeys.map((voter) => voter.id);
  }

  /** The voters' positions, by id. */
  get replicas(): Map<number, ReplicaPosition> {
    return new Map(this.#voterKeys.map((voter) => [voter.id, this.#voterPositions.get(voter.id)!]));
  }

  /** The replicas that fetch without voting (by key: one id may be a voter and, with another directory, an observer). */
  get observers(): { key: ReplicaKey; position: ReplicaPosition }[] {
    return [...this.#observerPositions.values()].filter(({ key }) => !(key.id === this.self && key.directoryId === this.selfDirectoryId));
  }

  /** The voter-set entry the replica (`id`, `directoryId`) is, if it is a voter by key. */
  voterKey(id: number, directoryId: string): ReplicaKey | undefined {
    return this.#voterKeys.find((voter) => keyMatches(voter, id, directoryId));
  }

  /** -1 until the first entry of this epoch is committed. */
  get highWatermark(): number {
    return this.#highWatermark;
  }

  /**
   * The voter set changed (a VotersRecord was appended, KIP-853): a new voter takes over what it
   * fetched as an observer with its key, and gets a full check-quorum window from now; a removed
   * voter is an observer from now on. Returns whether the high watermark moved.
   */
  setVoters(voters: readonly ReplicaKey[], nowMs: number): boolean {
    const previous = this.#voterPositions;
    const previousKeys = this.#voterKeys;
    const next = new Map<number, ReplicaPosition>();
    for (const voter of voters) {
      if (this.#isSelf(voter)) {
        next.set(voter.id, this.#selfPosition);
        continue;
      }
      const before = previousKeys.find((key) => key.id === voter.id);
      let position = before && before.directoryId === voter.directoryId ? previous.get(voter.id) : undefined;
      if (!position) {
        const observed = this.#takeObserver(voter);
        position = observed ?? freshPosition(nowMs, false);
        position.lastFetchMs = Math.max(position.lastFetchMs, nowMs);
      }
      next.set(voter.id, position);
    }
    for (const key of previousKeys) {
      const position = previous.get(key.id)!;
      if ([...next.values()].includes(position) || position === this.#selfPosition) continue;
      // A removed voter goes on as an observer under the key it fetches with.
      const fetchedAs = { id: key.id, directoryId: this.#fetchedDirectories.get(key.id) ?? key.directoryId };
      this.#fetchedDirectories.delete(key.id);
      this.#observerPositions.set(observerKey(fetchedAs), { key: fetchedAs, position });
    }
    this.#voterKeys = [...voters];
    this.#voterPositions = next;
    return this.#maybeAdvance();
  }

  /**
   * Records where a replica's log ends (`leaderEndOffset` is the leader's own, for the caught-up
   * time); returns whether the high watermark moved (only a voter's fetch moves it).
   */
  updateReplica(replicaId: number, directoryId: string, endOffset: number, nowMs: number, wallMs: number, leaderEndOffset: number): boolean {
    const voter = this.voterKey(replicaId, directoryId);
    let position = voter && !this.#isSelf(voter) ? this.#voterPositions.get(voter.id) : undefined;
    if (position) this.#fetchedDirectories.set(replicaId, directoryId);
    else {
      const key = { id: replicaId, directoryId };
      const observed = this.#observerPositions.get(observerKey(key));
      position = observed?.position;
      if (!position) {
        position = { endOffset: -1, lastFetchMs: -1, acknowledged: true, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 };
        this.#observerPositions.set(observerKey(key), { key, position });
      }
    }
    position.endOffset = Math.max(position.endOffset, endOffset);
    position.lastFetchMs = nowMs;
    position.lastFetchTimestamp = wallMs;
    if (endOffset >= leaderEndOffset) position.lastCaughtUpTimestamp = wallMs;
    position.acknowledged = true;
    return voter !== undefined && this.#maybeAdvance();
  }

  /** Where the replica (`id`, `directoryId`) stands, if it ever fetched or votes. */
  position(replicaId: number, directoryId: string): ReplicaPosition | undefined {
    const voter = this.voterKey(replicaId, directoryId);
    if (voter) return this.#voterPositions.get(voter.id);
    return this.#observerMatching({ id: replicaId, directoryId })?.[1].position;
  }

  /** Records the leader's own durable log end; returns whether the high watermark moved. */
  updateLocal(flushedEndOffset: number, nowMs: number): boolean {
    this.#selfPosition.endOffset = flushedEndOffset;
    this.#selfPosition.lastFetchMs = nowMs;
    return this.#maybeAdvance();
  }

  /** Whether a majority of voters (this one included, if it votes) fetched within `timeoutMs`. */
  hasQuorum(nowMs: number, timeoutMs: number): boolean {
    let recent = 0;
    for (const position of this.#voterPositions.values()) {
      if (position === this.#selfPosition || nowMs - position.lastFetchMs <= timeoutMs) recent++;
    }
    return recent >= Math.floor(this.#voterKeys.length / 2) + 1;
  }

  unacknowledged(): number[] {
    return this.voters.filter((voter) => !this.#voterPositions.get(voter)!.acknowledged);
  }

  #isSelf(voter: ReplicaKey): boolean {
    return keyMatches(voter, this.self, this.selfDirectoryId);
  }

  /** Removes and returns what the replica `key` fetched as an observer (any directory for a zero-uuid entry). */
  #takeObserver(key: ReplicaKey): ReplicaPosition | undefined {
    const found = this.#observerMatching(key);
    if (!found) return undefined;
    this.#observerPositions.delete(found[0]);
    return found[1].position;
  }

  /** The observer the key names: that directory's, or for the zero uuid the one of that id that fetched last. */
  #observerMatching(key: ReplicaKey): [string, { key: ReplicaKey; position: ReplicaPosition }] | undefined {
    let found: [string, { key: ReplicaKey; position: ReplicaPosition }] | undefined;
    for (const entry of this.#observerPositions) {
      if (!keyMatches(key, entry[1].key.id, entry[1].key.directoryId)) continue;
      if (!found || entry[1].position.lastFetchMs > found[1].position.lastFetchMs) found = entry;
    }
    return found;
  }

  #maybeAdvance(): boolean {
    const offsets = [...this.#voterPositions.values()].map((position) => position.endOffset).sort((a, b) => b - a);
    const majorityOffset = offsets[Math.floor(this.#voterKeys.length / 2)]!;
    if (majorityOffset <= this.epochStartOffset || majorityOffset <= this.#highWatermark) return false;
    this.#highWatermark = majorityOffset;
    return true;
  }
}

function observerKey(key: ReplicaKey): string {
  return `${key.id}:${key.directoryId}`;
}

function freshPosition(nowMs: number, acknowledged: boolean): ReplicaPosition {
  return { endOffset: -1, lastFetchMs: nowMs, acknowledged, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 };
}
