// Prospective (KIP-996 pre-vote): before it bumps the epoch, a voter asks the others whether they
// would vote for it in epoch + 1. Nothing is persisted and no one changes state for a pre-vote, so
// a node cut off from a healthy leader cannot force an election when it comes back: the voters
// that still hear from the leader say no. With a majority of yes, it becomes a candidate.
import type { ReplicaKey } from './quorum-state-file.js';
import { VoteTally } from './vote-tally.js';

export class ProspectiveState {
  readonly kind = 'prospective';
  readonly tally: VoteTally;

  constructor(
    readonly epoch: number,
    /** The vote this node cast in `epoch` (kept: pre-voting changes nothing persisted). */
    readonly voted: ReplicaKey,
    /** The leader it last followed in `epoch`, if it came here from following one. */
    readonly leaderId: number,
    voters: readonly number[],
    self: number,
  ) {
    this.tally = new VoteTally(voters, self);
  }
}
