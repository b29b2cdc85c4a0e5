// What the transaction coordinator knows about one transactional id: its producer id and epoch,
// the state of its current transaction (Kafka's TransactionState, with the same status codes as
// `__transaction_state` stores them) and the partitions that transaction has touched.

export const TransactionStatus = {
  empty: 0,
  ongoing: 1,
  prepareCommit: 2,
  prepareAbort: 3,
  completeCommit: 4,
  completeAbort: 5,
  dead: 6,
  prepareEpochFence: 7,
} as const;
export type TransactionStatusValue = (typeof TransactionStatus)[keyof typeof TransactionStatus];

/** The names DescribeTransactions and ListTransactions use, as Kafka's TransactionState.name. */
export const TRANSACTION_STATE_NAMES: Readonly<Record<TransactionStatusValue, string>> = {
  0: 'Empty',
  1: 'Ongoing',
  2: 'PrepareCommit',
  3: 'PrepareAbort',
  4: 'CompleteCommit',
  5: 'CompleteAbort',
  6: 'Dead',
  7: 'PrepareEpochFence',
};

export interface TransactionMetadata {
  readonly transactionalId: string;
  producerId: number;
  /** -1 before the first InitProducerId completes. */
  producerEpoch: number;
  /** The epoch before the last bump, so a producer that missed a timeout-abort can still re-initialise. */
  lastProducerEpoch: number;
  transactionTimeoutMs: number;
  status: TransactionStatusValue;
  /** `topic\0partition` keys of the partitions in the current transaction. */
  partitions: Set<string>;
  transactionStartTimestampMs: number;
  lastUpdateTimestampMs: number;
}

/** The largest epoch before the producer id must be replaced (Kafka keeps Short.MaxValue for markers). */
export const PRODUCER_EPOCH_MAX = 32_766;

export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function splitTopicPartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

export function isPreparing(status: TransactionStatusValue): boolean {
  return status === TransactionStatus.prepareCommit || status === TransactionStatus.prepareAbort || status === TransactionStatus.prepareEpochFence;
}

export function isCompleteOrEmpty(status: TransactionStatusValue): boolean {
  return status === TransactionStatus.empty || status === TransactionStatus.completeCommit || status === TransactionStatus.completeAbort;
}

/** Partitions grouped by topic, topics and partitions sorted (for records and responses). */
export function partitionsByTopic(keys: Iterable<string>): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const { topic, partition } = splitTopicPartitionKey(key);
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}
