// Offsets committed inside a transaction (TxnOffsetCommit): written to `__consumer_offsets` as a
// transactional batch of the producer, but held back here until the transaction's marker reaches
// the same partition; COMMIT makes them the group's committed offsets, ABORT drops them.
import type { DecodedOffsetsRecord } from './group-records.js';

export type PendingOffset = DecodedOffsetsRecord & { type: 'offset' };

/** Pending offsets one producer may hold in one partition; beyond it TxnOffsetCommit is refused. */
export const PENDING_OFFSETS_PER_PRODUCER_MAX = 100_000;

export class PendingTransactionalOffsets {
  /** `producerId:partition` to the pending offsets in write order. */
  readonly #pending = new Map<string, PendingOffset[]>();

  add(producerId: number, offsetsPartition: number, offsets: readonly PendingOffset[]): boolean {
    const key = `${producerId}:${offsetsPartition}`;
    const list = this.#pending.get(key) ?? [];
    if (list.length + offsets.length > PENDING_OFFSETS_PER_PRODUCER_MAX) return false;
    list.push(...offsets);
    this.#pending.set(key, list);
    return true;
  }

  /** Removes and returns the producer's pending offsets in the partition (its marker arrived). */
  take(producerId: number, offsetsPartition: number): PendingOffset[] {
    const key = `${producerId}:${offsetsPartition}`;
    const list = this.#pending.get(key) ?? [];
    this.#pending.delete(key);
    return list;
  }

  /** Takes over everything pending in `other` (a partition's replay, once it restores its groups). */
  absorb(other: PendingTransactionalOffsets): void {
    for (const [key, list] of other.#pending) this.#pending.set(key, [...(this.#pending.get(key) ?? []), ...list]);
    other.#pending.clear();
  }

  /** Forgets every producer's pending offsets in `offsetsPartition` (its groups moved to another coordinator). */
  dropPartition(offsetsPartition: number): void {
    for (const key of [...this.#pending.keys()]) if (key.endsWith(`:${offsetsPartition}`)) this.#pending.delete(key);
  }

  /** Whether a transaction still holds an offset for this group and partition (OffsetFetch requireStable). */
  hasPending(group: string, topic: string, partition: number): boolean {
    for (const list of this.#pending.values()) {
      if (list.some((entry) => entry.group === group && entry.topic === topic && entry.partition === partition)) return true;
    }
    return false;
  }
}
