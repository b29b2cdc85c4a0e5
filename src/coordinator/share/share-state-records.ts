// The records the share coordinator keeps in `__share_group_state` (KIP-932), in Kafka's
// coordinator framing: the key is an int16 record type then the key struct (0 ShareSnapshot, the
// whole state of one share-partition; 1 ShareUpdate, the ranges one write changed), the value an
// int16 version then the value struct (flexible v0); a null value is a tombstone. Kafka always
// writes the tombstone under the Snapshot key.
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import {
  decodeShareSnapshotKey,
  decodeShareSnapshotValue,
  decodeShareUpdateKey,
  decodeShareUpdateValue,
  encodeShareSnapshotKey,
  encodeShareSnapshotValue,
  encodeShareUpdateKey,
  encodeShareUpdateValue,
} from '../../protocol/messages/records/index.js';
import { buildRecordBatchSync } from '../../protocol/records/record-batch.js';
import type { PersistedStateBatch } from './share-partition.js';
import type { ShareStateKey } from './share-state-persister.js';

export const ShareRecordType = { snapshot: 0, update: 1 } as const;

const VALUE_VERSION = 0;

/** The whole state of one share-partition (ShareSnapshotValue). */
export interface ShareSnapshot {
  readonly snapshotEpoch: number;
  readonly stateEpoch: number;
  readonly leaderEpoch: number;
  readonly startOffset: number;
  /** -1 when unknown (KIP-1226). */
  readonly deliveryCompleteCount: number;
  readonly createTimestamp: number;
  readonly writeTimestamp: number;
  readonly stateBatches: readonly PersistedStateBatch[];
}

/** One write's change (ShareUpdateValue): no state epoch; startOffset -1 keeps the stored one. */
export interface ShareUpdate {
  readonly snapshotEpoch: number;
  readonly leaderEpoch: number;
  readonly startOffset: number;
  readonly deliveryCompleteCount: number;
  readonly stateBatches: readonly PersistedStateBatch[];
}

export interface ShareStateRecord {
  key: Buffer;
  value: Buffer | null;
}

export type DecodedShareStateRecord =
  | { type: 'snapshot'; key: ShareStateKey; value: ShareSnapshot | null }
  | { type: 'update'; key: ShareStateKey; value: ShareUpdate | null };

function frame(version: number, encode: (writer: Writer) => void): Buffer {
  const writer = new Writer(64);
  writer.writeInt16(version);
  encode(writer);
  return writer.toBuffer();
}

function wireBatches(batches: readonly PersistedStateBatch[]) {
  return batches.map((batch) => ({
    firstOffset: BigInt(batch.firstOffset),
    lastOffset: BigInt(batch.lastOffset),
    deliveryState: batch.deliveryState,
    deliveryCount: batch.deliveryCount,
  }));
}

function stateBatches(batches: readonly { firstOffset: bigint; lastOffset: bigint; deliveryState: number; deliveryCount: number }[]): PersistedStateBatch[] {
  return batches.map((batch) => ({
    firstOffset: Number(batch.firstOffset),
    lastOffset: Number(batch.lastOffset),
    deliveryState: batch.deliveryState,
    deliveryCount: batch.deliveryCount,
  }));
}

function keyStruct(key: ShareStateKey) {
  return { groupId: key.groupId, topicId: key.topicId, partition: key.partition };
}

/** A Snapshot record; a null snapshot is the tombstone that deletes the share-partition's state. */
export function shareSnapshotRecord(key: ShareStateKey, snapshot: ShareSnapshot | null): ShareStateRecord {
  const encodedKey = frame(ShareRecordType.snapshot, (writer) => encodeShareSnapshotKey(writer, ShareRecordType.snapshot, keyStruct(key)));
  if (snapshot === null) return { key: encodedKey, value: null };
  const value = frame(VALUE_VERSION, (writer) =>
    encodeShareSnapshotValue(writer, VALUE_VERSION, {
      snapshotEpoch: snapshot.snapshotEpoch,
      stateEpoch: snapshot.stateEpoch,
      leaderEpoch: snapshot.leaderEpoch,
      startOffset: BigInt(snapshot.startOffset),
      deliveryCompleteCount: snapshot.deliveryCompleteCount,
      createTimestamp: BigInt(snapshot.createTimestamp),
      writeTimestamp: BigInt(snapshot.writeTimestamp),
      stateBatches: wireBatches(snapshot.stateBatches),
    }),
  );
  return { key: encodedKey, value };
}

export function shareUpdateRecord(key: ShareStateKey, update: ShareUpdate): ShareStateRecord {
  // The generated ShareUpdateKey codec numbers its only version 1: the key version is the record type.
  const encodedKey = frame(ShareRecordType.update, (writer) => encodeShareUpdateKey(writer, ShareRecordType.update, keyStruct(key)));
  const value = frame(VALUE_VERSION, (writer) =>
    encodeShareUpdateValue(writer, VALUE_VERSION, {
      snapshotEpoch: update.snapshotEpoch,
      leaderEpoch: update.leaderEpoch,
      startOffset: BigInt(update.startOffset),
      deliveryCompleteCount: update.deliveryCompleteCount,
      stateBatches: wireBatches(update.stateBatches),
    }),
  );
  return { key: encodedKey, value };
}

/** Decodes one record; undefined for record types this coordinator does not know (skipped on replay). */
export function decodeShareStateRecord(key: Buffer, value: Buffer | null): DecodedShareStateRecord | undefined {
  const keyReader = new Reader(key);
  const type = keyReader.readInt16();
  const valueReader = value === null ? null : new Reader(value);
  const valueVersion = valueReader?.readInt16() ?? VALUE_VERSION;
  if (type === ShareRecordType.snapshot) {
    const decodedKey = decodeShareSnapshotKey(keyReader, type);
    if (valueReader === null) return { type: 'snapshot', key: decodedKey, value: null };
    const decoded = decodeShareSnapshotValue(valueReader, valueVersion);
    return {
      type: 'snapshot',
      key: decodedKey,
      value: {
        snapshotEpoch: decoded.snapshotEpoch,
        stateEpoch: decoded.stateEpoch,
        leaderEpoch: decoded.leaderEpoch,
        startOffset: Number(decoded.startOffset),
        deliveryCompleteCount: decoded.deliveryCompleteCount ?? -1,
        createTimestamp: Number(decoded.createTimestamp),
        writeTimestamp: Number(decoded.writeTimestamp),
        stateBatches: stateBatches(decoded.stateBatches),
      },
    };
  }
  if (type === ShareRecordType.update) {
    const decodedKey = decodeShareUpdateKey(keyReader, type);
    if (valueReader === null) return { type: 'update', key: decodedKey, value: null };
    const decoded = decodeShareUpdateValue(valueReader, valueVersion);
    return {
      type: 'update',
      key: decodedKey,
      value: {
        snapshotEpoch: decoded.snapshotEpoch,
        leaderEpoch: decoded.leaderEpoch,
        startOffset: Number(decoded.startOffset),
        deliveryCompleteCount: decoded.deliveryCompleteCount ?? -1,
        stateBatches: stateBatches(decoded.stateBatches),
      },
    };
  }
  return undefined;
}

/** One record batch holding `records`, stamped `nowMs`, ready to append to `__share_group_state`. */
export function buildShareStateBatch(records: readonly ShareStateRecord[], nowMs: number): Buffer {
  return buildRecordBatchSync(
    records.map(({ key, value }) => ({ key, value, timestamp: nowMs })),
    { baseTimestamp: nowMs },
  );
}
