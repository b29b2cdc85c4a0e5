// Appends to one partition start in the order their produce requests arrived (DESIGN.md decision
// 6), also when some of them first validate a compressed batch off the event loop: each such
// request takes a turn at arrival, and its append starts only once every earlier turn of the same
// partition has started its own. A request that needs no waiting, with nobody ahead of it, appends
// at once, as before; one that arrives behind a waiting turn takes a turn too.

export interface AppendTurn {
  /** Resolves once every earlier turn of the partition has started its append. */
  readonly ready: Promise<void>;
  /** Call once this turn's append has started (or it decided not to append). */
  done(): void;
}

interface PartitionTurns {
  tail: Promise<void>;
  open: number;
}

export class AppendOrder {
  readonly #partitions = new WeakMap<object, PartitionTurns>();

  /** Whether an earlier turn of `partition` has not started its append yet. */
  busy(partition: object): boolean {
    return this.#partitions.has(partition);
  }

  /** Takes the next turn of `partition`. */
  take(partition: object): AppendTurn {
    const turns = this.#partitions.get(partition) ?? { tail: Promise.resolve(), open: 0 };
    const ready = turns.tail;
    let release!: () => void;
    turns.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    turns.open++;
    this.#partitions.set(partition, turns);
    let released = false;
    return {
      ready,
      done: () => {
        if (released) return;
        released = true;
        release();
        if (--turns.open === 0 && this.#partitions.get(partition) === turns) this.#partitions.delete(partition);
      },
    };
  }
}
