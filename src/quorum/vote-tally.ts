// The votes a prospective or candidate node has collected: granted once a majority of voters
// (itself included) said yes, lost once a majority said no.

export class VoteTally {
  readonly #granted = new Set<number>();
  readonly #rejected = new Set<number>();

  constructor(
    private readonly voters: readonly number[],
    self: number,
  ) {
    this.#granted.add(self);
  }

  record(voterId: number, granted: boolean): void {
    if (!this.voters.includes(voterId) || this.#granted.has(voterId) || this.#rejected.has(voterId)) return;
    (granted ? this.#granted : this.#rejected).add(voterId);
  }

  get majority(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  get won(): boolean {
    return this.#granted.size >= this.majority;
  }

  get lost(): boolean {
    return this.#rejected.size > this.voters.length - this.majority;
  }

  /** Voters that have not answered yet (requests are re-sent to them). */
  unanswered(): number[] {
    return this.voters.filter((voter) => !this.#granted.has(voter) && !this.#rejected.has(voter));
  }

  granted(): number[] {
    return [...this.#granted];
  }
}
