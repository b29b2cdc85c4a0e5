// Follower: a node that knows the leader of its epoch and fetches the log from it. If no fetch
// succeeds within controller.quorum.fetch.timeout.ms, a voter starts a pre-vote (an observer just
// looks for the leader again). A follower the leader sent to its snapshot fetches that first.
import type { ReplicaKey } from './quorum-state-file.js';
import type { OffsetAndEpoch } from './raft-log.js';

export class FollowerState {
  readonly kind = 'follower';
  /** Whether a fetch is outstanding (one at a time). */
  fetching = false;
  /** Monotonic time the fetch timeout counts from: entering this state, then each successful fetch. */
  lastFetchMs: number;
  /** Whether a fetch from this leader succeeded in this state (only then does it refuse pre-votes). */
  fetchedSuccessfully = false;
  /** The leader's snapshot this follower is fetching (FetchSnapshot) before it fetches the log again. */
  snapshot: OffsetAndEpoch | undefined;
  /** FetchSnapshot chunks received from this leader (for tests and tools). */
  snapshotChunks = 0;

  constructor(
    readonly epoch: number,
    readonly leaderId: number,
    /** The vote cast in this epoch before the leader was known (id -1: none). */
    readonly voted: ReplicaKey,
    nowMs: number,
  ) {
    this.lastFetchMs = nowMs;
  }
}
