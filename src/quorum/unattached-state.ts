// Unattached: a node that knows no leader in its epoch. It may have voted in this epoch (and so
// may not vote for anyone else in it). When its election timer fires, a voter starts a pre-vote.
import type { ReplicaKey } from './quorum-state-file.js';

export class UnattachedState {
  readonly kind = 'unattached';

  constructor(
    readonly epoch: number,
    readonly voted: ReplicaKey,
  ) {}
}
