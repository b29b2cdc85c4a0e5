// The records the transaction coordinator keeps in `__transaction_state`, in Kafka's framing: key
// = int16 version 0 + TransactionLogKey (the transactional id); value = int16 version 0 +
// TransactionLogValue; a null value is a tombstone for an expired transactional id.
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
} from '../../protocol/messages/records/index.js';
import { type TransactionMetadata, type TransactionStatusValue, partitionsByTopic, topicPartitionKey } from './transaction-metadata.js';

const KEY_VERSION = 0;
/** v0 is what every Kafka version reads; v1 only adds tagged fields for transactions V2. */
const VALUE_VERSION = 0;

export interface TransactionRecord {
  key: Buffer;
  value: Buffer | null;
}

function framed(version: number, encode: (writer: Writer) => void): Buffer {
  const writer = new Writer(128);
  writer.writeInt16(version);
  encode(writer);
  return writer.toBuffer();
}

export function transactionRecord(metadata: TransactionMetadata): TransactionRecord {
  const key = framed(KEY_VERSION, (writer) => encodeTransactionLogKey(writer, KEY_VERSION, { transactionalId: metadata.transactionalId }));
  const value = framed(VALUE_VERSION, (writer) =>
    encodeTransactionLogValue(writer, VALUE_VERSION, {
      producerId: BigInt(metadata.producerId),
      producerEpoch: metadata.producerEpoch,
      transactionTimeoutMs: metadata.transactionTimeoutMs,
      transactionStatus: metadata.status,
      transactionPartitions: partitionsByTopic(metadata.partitions).map(({ topic, partitions }) => ({ topic, partitionIds: partitions })),
      transactionLastUpdateTimestampMs: BigInt(metadata.lastUpdateTimestampMs),
      transactionStartTimestampMs: BigInt(metadata.transactionStartTimestampMs),
    }),
  );
  return { key, value };
}

export function transactionTombstone(transactionalId: string): TransactionRecord {
  return { key: framed(KEY_VERSION, (writer) => encodeTransactionLogKey(writer, KEY_VERSION, { transactionalId })), value: null };
}

/** The transactional id and its metadata (null for a tombstone); undefined for unknown key versions. */
export function decodeTransactionRecord(key: Buffer, value: Buffer | null): { transactionalId: string; metadata: TransactionMetadata | null } | undefined {
  const keyReader = new Reader(key);
  const keyVersion = keyReader.readInt16();
  if (keyVersion !== KEY_VERSION) return undefined;
  const { transactionalId } = decodeTransactionLogKey(keyReader, keyVersion);
  if (value === null) return { transactionalId, metadata: null };
  const valueReader = new Reader(value);
  const decoded = decodeTransactionLogValue(valueReader, valueReader.readInt16());
  const partitions = new Set<string>();
  for (const { topic, partitionIds } of decoded.transactionPartitions ?? []) for (const partition of partitionIds) partitions.add(topicPartitionKey(topic, partition));
  return {
    transactionalId,
    metadata: {
      transactionalId,
      producerId: Number(decoded.producerId),
      producerEpoch: decoded.producerEpoch,
      lastProducerEpoch: -1,
      transactionTimeoutMs: decoded.transactionTimeoutMs,
      status: decoded.transactionStatus as TransactionStatusValue,
      partitions,
      transactionStartTimestampMs: Number(decoded.transactionStartTimestampMs),
      lastUpdateTimestampMs: Number(decoded.transactionLastUpdateTimestampMs),
    },
  };
}
