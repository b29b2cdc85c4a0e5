// Control records, which transaction coordinators write to end a transaction: the end-transaction
// marker's key and value encodings and the control batch that carries one marker.
import { RecordDecodeError } from './record.js';
import type { KafkaRecord, RecordInput } from './record.js';
import { type RecordBatchOptions, buildRecordBatch, buildRecordBatchSync } from './record-batch.js';

export const ControlRecordType = { abort: 0, commit: 1 } as const;
export type ControlRecordTypeValue = (typeof ControlRecordType)[keyof typeof ControlRecordType];

const CONTROL_KEY_VERSION = 0;
const END_TRANSACTION_MARKER_VERSION = 0;
const CONTROL_KEY_BYTES = 4;
const END_TRANSACTION_MARKER_BYTES = 6;

export interface EndTransactionMarker {
  type: ControlRecordTypeValue;
  coordinatorEpoch: number;
}

export function encodeControlRecordKey(type: number): Buffer {
  const key = Buffer.allocUnsafe(CONTROL_KEY_BYTES);
  key.writeInt16BE(CONTROL_KEY_VERSION, 0);
  key.writeInt16BE(type, 2);
  return key;
}

/**
 * The control record type from a control record's key. Like Java's ControlRecordType.parse, newer
 * key versions are read by their first two fields, which every version shares.
 */
export function decodeControlRecordType(key: Buffer | null): number {
  if (key === null || key.length < CONTROL_KEY_BYTES) throw new RecordDecodeError('control record key is too short');
  const version = key.readInt16BE(0);
  if (version < 0) throw new RecordDecodeError(`invalid control record key version ${version}`);
  return key.readInt16BE(2);
}

export function encodeEndTransactionMarkerValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.allocUnsafe(END_TRANSACTION_MARKER_BYTES);
  value.writeInt16BE(END_TRANSACTION_MARKER_VERSION, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

export function isEndTransactionType(type: number): type is ControlRecordTypeValue {
  return type === ControlRecordType.abort || type === ControlRecordType.commit;
}

/** The end-transaction marker of a control record, or null when the record is another control type. */
export function decodeEndTransactionMarker(record: Pick<KafkaRecord, 'key' | 'value'>): EndTransactionMarker | null {
  const type = decodeControlRecordType(record.key);
  if (!isEndTransactionType(type)) return null;
  const value = record.value;
  if (value === null || value.length < END_TRANSACTION_MARKER_BYTES) throw new RecordDecodeError('end transaction marker value is too short');
  const version = value.readInt16BE(0);
  if (version < 0) throw new RecordDecodeError(`invalid end transaction marker version ${version}`);
  return { type, coordinatorEpoch: value.readInt32BE(2) };
}

export interface ControlBatchOptions {
  type: ControlRecordTypeValue;
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** The marker's timestamp; the caller passes its clock's time (DESIGN.md decision 7). */
  timestamp: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}

function controlBatchParts(options: ControlBatchOptions): [RecordInput[], RecordBatchOptions] {
  const record = {
    timestamp: options.timestamp,
    key: encodeControlRecordKey(options.type),
    value: encodeEndTransactionMarkerValue(options.coordinatorEpoch),
  };
  const batchOptions: RecordBatchOptions = {
    baseOffset: options.baseOffset ?? 0,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    transactional: true,
    control: true,
  };
  if (options.partitionLeaderEpoch !== undefined) batchOptions.partitionLeaderEpoch = options.partitionLeaderEpoch;
  return [[record], batchOptions];
}

/** A control batch (control and transactional attributes, no sequence) holding one marker. */
export function buildControlBatch(options: ControlBatchOptions): Promise<Buffer> {
  return buildRecordBatch(...controlBatchParts(options));
}

export function buildControlBatchSync(options: ControlBatchOptions): Buffer {
  return buildRecordBatchSync(...controlBatchParts(options));
}
