// Candidate: a voter that won a pre-vote, bumped the epoch and voted for itself (both persisted
// before any Vote request left), and now asks the others. A majority makes it leader; a lost or
// timed-out election sends it back to a pre-vote after a random backoff.
import { VoteTally } from './vote-tally.js';

export class CandidateState {
  readonly kind = 'candidate';
  readonly tally: VoteTally;

  constructor(
    readonly epoch: number,
    voters: readonly number[],
    readonly self: number,
  ) {
    this.tally = new VoteTally(voters, self);
  }
}
