// Resigned: a leader that gave up its epoch (shutting down, or check-quorum found no majority
// fetching from it). It serves no fetches, tells the voters with EndQuorumEpoch so they elect a
// successor at once instead of waiting for their fetch timeouts, and after an election timeout
// competes like any voter.

export class ResignedState {
  readonly kind = 'resigned';
  /** Voters that have not acknowledged the EndQuorumEpoch yet. */
  readonly unacknowledged: Set<number>;

  constructor(
    readonly epoch: number,
    readonly self: number,
    voters: readonly number[],
  ) {
    this.unacknowledged = new Set(voters.filter((voter) => voter !== self));
  }

  /** Called once every voter acknowledged (a closing node waits for it). */
  onAllAcknowledged: (() => void) | undefined;

  acknowledge(voter: number): void {
    this.unacknowledged.delete(voter);
    if (this.unacknowledged.size === 0) this.onAllAcknowledged?.();
  }

  get leaderId(): number {
    return this.self;
  }
}
