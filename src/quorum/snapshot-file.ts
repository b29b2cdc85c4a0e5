// The bytes of a metadata snapshot (KIP-630), as Kafka lays out a `.checkpoint` file: record
// batches of the snapshot's epoch, the first a control batch with the SnapshotHeader record
// (control type 3), followed, when the quorum's voters are dynamic (KIP-853), by a KRaftVersion
// and a VotersRecord (types 5 and 6), then the state machine's records, then a control batch with
// the SnapshotFooter (type 4). Every batch carries its CRC, and a snapshot without its footer is
// incomplete, so a torn or corrupt file is refused rather than loaded.
import { Writer } from '../protocol/primitives/writer.js';
import { decodeControlRecordType, encodeControlRecordKey } from '../protocol/records/control-record.js';
import type { RecordInput } from '../protocol/records/record.js';
import { buildRecordBatchSync, type DecodedBatch, decodeRecordBatchesSync, recordBatchSpans } from '../protocol/records/record-batch.js';
import type { OffsetAndEpoch } from './raft-log.js';
import { decodeVotersRecord, kraftVersionRecord, type Voter, VOTERS_CONTROL_TYPE, votersRecord } from './voter-set.js';

export const SNAPSHOT_HEADER_CONTROL_TYPE = 3;
export const SNAPSHOT_FOOTER_CONTROL_TYPE = 4;
const SNAPSHOT_RECORD_VERSION = 0;
/** Records and bytes per data batch of a snapshot (whichever is reached first). */
const RECORDS_PER_BATCH = 4096;
const BYTES_PER_BATCH = 1024 * 1024;

export class SnapshotFormatError extends Error {}

export interface SnapshotContent {
  /** The state machine's records, in order. */
  readonly values: Buffer[];
  /** The voter set at the snapshot's end offset, when the quorum's voters are dynamic. */
  readonly voters: Voter[] | undefined;
}

/** Encodes `values` (the state machine's records, in order) as the snapshot `id`. */
export function encodeSnapshot(id: OffsetAndEpoch, values: readonly Buffer[], timestamp: number, voters?: readonly Voter[]): Buffer {
  const batches: Buffer[] = [];
  let offset = 0;
  const push = (records: RecordInput[], control: boolean) => {
    batches.push(buildRecordBatchSync(records, { baseOffset: offset, baseTimestamp: timestamp, partitionLeaderEpoch: id.epoch, control }));
    offset += records.length;
  };
  // SnapshotHeaderRecord v0 (flexible): Version, LastContainedLogTimestamp, tagged fields.
  const header = controlRecord(SNAPSHOT_HEADER_CONTROL_TYPE, (writer) => writer.writeInt64(BigInt(timestamp)), timestamp);
  push(voters ? [header, kraftVersionRecord(timestamp), votersRecord(voters, timestamp)] : [header], true);
  let group: RecordInput[] = [];
  let groupBytes = 0;
  for (const value of values) {
    group.push({ value, timestamp });
    groupBytes += value.length;
    if (group.length >= RECORDS_PER_BATCH || groupBytes >= BYTES_PER_BATCH) {
      push(group, false);
      group = [];
      groupBytes = 0;
    }
  }
  if (group.length > 0) push(group, false);
  // SnapshotFooterRecord v0 (flexible): Version, tagged fields.
  push([controlRecord(SNAPSHOT_FOOTER_CONTROL_TYPE, () => {}, timestamp)], true);
  return Buffer.concat(batches);
}

/** The records of a whole snapshot file, checking its header, its footer and every batch's CRC. */
export function decodeSnapshot(bytes: Buffer): Buffer[] {
  return decodeSnapshotFile(bytes).values;
}

export function decodeSnapshotFile(bytes: Buffer): SnapshotContent {
  const values: Buffer[] = [];
  let voters: Voter[] | undefined;
  let sawHeader = false;
  let sawFooter = false;
  let decoded: DecodedBatch[];
  try {
    decoded = [...decodeRecordBatchesSync(bytes, { verifyCrc: true })];
  } catch (error) {
    throw new SnapshotFormatError(`the snapshot is corrupt: ${error instanceof Error ? error.message : String(error)}`);
  }
  for (const batch of decoded) {
    if (sawFooter) throw new SnapshotFormatError('the snapshot has batches after its footer');
    for (const record of batch.records) {
      if (batch.control) {
        const type = decodeControlRecordType(record.key);
        if (type === SNAPSHOT_HEADER_CONTROL_TYPE) sawHeader = true;
        else if (type === SNAPSHOT_FOOTER_CONTROL_TYPE) sawFooter = true;
        else if (type === VOTERS_CONTROL_TYPE && record.value) voters = decodeVotersRecord(record.value);
        continue;
      }
      if (!sawHeader) throw new SnapshotFormatError('the snapshot does not start with a header');
      if (record.value) values.push(record.value);
    }
  }
  let covered = 0;
  for (const span of recordBatchSpans(bytes)) covered = span.position + span.sizeInBytes;
  if (covered !== bytes.length) throw new SnapshotFormatError(`the snapshot has ${bytes.length - covered} bytes after its last whole batch`);
  if (!sawHeader || !sawFooter) throw new SnapshotFormatError('the snapshot is incomplete (no header or no footer)');
  return { values, voters };
}

function controlRecord(type: number, body: (writer: Writer) => void, timestamp: number): RecordInput {
  const writer = new Writer();
  writer.writeInt16(SNAPSHOT_RECORD_VERSION);
  writer.writeInt16(SNAPSHOT_RECORD_VERSION);
  body(writer);
  writer.writeEmptyTaggedFields();
  return { key: encodeControlRecordKey(type), value: writer.toBuffer(), timestamp };
}
