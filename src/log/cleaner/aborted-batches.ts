// Which batches belong to an aborted transaction, for the cleaner (Kafka's CleanedTransactionMetadata):
// a transactional data batch whose producer id has an aborted transaction (from the aborted-
// transaction index: its first offset up to its abort marker) around the batch's offsets. Such
// records never become a key's latest value and are dropped, as read_committed readers never
// see them either.
import { isControlBatch, isTransactionalBatch, readBaseOffset, readLastOffset, readProducerId } from '../../protocol/records/batch-header.js';
import type { AbortedTransaction } from '../transaction-index.js';

export class AbortedBatches {
  /** Per producer id its aborted transactions, by first offset (one producer's never overlap). */
  readonly #byProducer = new Map<number, AbortedTransaction[]>();

  constructor(aborted: Iterable<AbortedTransaction>) {
    for (const transaction of aborted) {
      let list = this.#byProducer.get(transaction.producerId);
      if (list === undefined) this.#byProducer.set(transaction.producerId, (list = []));
      list.push(transaction);
    }
    for (const list of this.#byProducer.values()) list.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Whether `batch` (a whole batch v2) holds data of an aborted transaction. */
  contains(batch: Buffer): boolean {
    if (this.#byProducer.size === 0 || !isTransactionalBatch(batch) || isControlBatch(batch)) return false;
    const list = this.#byProducer.get(readProducerId(batch));
    if (list === undefined) return false;
    const baseOffset = readBaseOffset(batch);
    // The last transaction starting at or before the batch is the only one that can hold it.
    let low = 0;
    let high = list.length - 1;
    let candidate: AbortedTransaction | undefined;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (list[middle]!.firstOffset <= baseOffset) {
        candidate = list[middle];
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return candidate !== undefined && readLastOffset(batch) < candidate.lastOffset;
  }
}
