// The records the group coordinator keeps in `__consumer_offsets`, in Kafka's framing: the key is
// an int16 version then the key struct (0/1 offset commit, 2 group metadata), the value an int16
// version then the value struct; a null value is a tombstone that deletes the key.
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import {
  type GroupMetadataValue,
  type OffsetCommitValue,
  decodeGroupMetadataKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from '../../protocol/messages/records/index.js';
import { type DecodedConsumerGroupRecord, decodeConsumerGroupRecord } from './consumer-group-records.js';

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
/** v3 carries the leader epoch; v1 is the only one with an explicit expire timestamp. */
const OFFSET_COMMIT_VALUE_VERSION = 3;
const OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION = 1;
/** v3 carries group.instance.id and the state timestamp. */
const GROUP_METADATA_VALUE_VERSION = 3;

export interface OffsetsRecord {
  key: Buffer;
  value: Buffer | null;
}

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** -1 unless the commit asked for its own retention (OffsetCommit v2-4). */
  expireTimestampMs: number;
}

export type DecodedOffsetsRecord =
  | { type: 'offset'; group: string; topic: string; partition: number; offset: CommittedOffset | null }
  | { type: 'group'; group: string; metadata: GroupMetadataValue | null }
  | { type: 'consumer'; group: string; record: DecodedConsumerGroupRecord };

function framed(version: number, encode: (writer: Writer) => void): Buffer {
  const writer = new Writer(64);
  writer.writeInt16(version);
  encode(writer);
  return writer.toBuffer();
}

export function offsetCommitRecord(group: string, topic: string, partition: number, offset: CommittedOffset | null): OffsetsRecord {
  const key = framed(OFFSET_COMMIT_KEY_VERSION, (writer) => encodeOffsetCommitKey(writer, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition }));
  if (offset === null) return { key, value: null };
  const valueVersion = offset.expireTimestampMs >= 0 ? OFFSET_COMMIT_VALUE_WITH_EXPIRY_VERSION : OFFSET_COMMIT_VALUE_VERSION;
  const value: OffsetCommitValue = {
    offset: BigInt(offset.offset),
    leaderEpoch: offset.leaderEpoch,
    metadata: offset.metadata,
    commitTimestamp: BigInt(offset.commitTimestampMs),
    expireTimestamp: BigInt(offset.expireTimestampMs),
  };
  return { key, value: framed(valueVersion, (writer) => encodeOffsetCommitValue(writer, valueVersion, value)) };
}

export function groupMetadataRecord(group: string, metadata: GroupMetadataValue | null): OffsetsRecord {
  const key = framed(GROUP_METADATA_KEY_VERSION, (writer) => encodeGroupMetadataKey(writer, GROUP_METADATA_KEY_VERSION, { group }));
  if (metadata === null) return { key, value: null };
  return { key, value: framed(GROUP_METADATA_VALUE_VERSION, (writer) => encodeGroupMetadataValue(writer, GROUP_METADATA_VALUE_VERSION, metadata)) };
}

/** Decodes one record; undefined for key versions this coordinator does not own (skipped on replay). */
export function decodeOffsetsRecord(key: Buffer, value: Buffer | null): DecodedOffsetsRecord | undefined {
  const keyReader = new Reader(key);
  const keyVersion = keyReader.readInt16();
  if (keyVersion === 0 || keyVersion === 1) {
    const { group, topic, partition } = decodeOffsetCommitKey(keyReader, keyVersion);
    return { type: 'offset', group, topic, partition, offset: value === null ? null : decodeCommittedOffset(value) };
  }
  if (keyVersion === 2) {
    const { group } = decodeGroupMetadataKey(keyReader, keyVersion);
    if (value === null) return { type: 'group', group, metadata: null };
    const valueReader = new Reader(value);
    return { type: 'group', group, metadata: decodeGroupMetadataValue(valueReader, valueReader.readInt16()) };
  }
  const consumer = decodeConsumerGroupRecord(keyVersion, keyReader, value);
  return consumer === undefined ? undefined : { type: 'consumer', group: consumer.group, record: consumer };
}

function decodeCommittedOffset(value: Buffer): CommittedOffset {
  const reader = new Reader(value);
  const decoded = decodeOffsetCommitValue(reader, reader.readInt16());
  return {
    offset: Number(decoded.offset),
    leaderEpoch: decoded.leaderEpoch ?? -1,
    metadata: decoded.metadata,
    commitTimestampMs: Number(decoded.commitTimestamp),
    expireTimestampMs: Number(decoded.expireTimestamp ?? -1n),
  };
}
