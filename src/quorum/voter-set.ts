// The quorum's voters as the metadata log records them (KIP-853): a VotersRecord control record
// (type 6) names the whole voter set from its offset on, and takes effect on every node as soon as
// that node's log holds it, committed or not (Raft's single-server changes: one change at a time,
// each commits before the next). Until a log holds one, the voters are the static
// controller.quorum.voters. `VoterHistory` keeps the sets in log order so a truncation reverts to
// the set before it; trimming the log below a snapshot keeps the set in effect there.
import { ZERO_UUID } from '../base/uuid.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { encodeControlRecordKey } from '../protocol/records/control-record.js';
import type { RecordInput } from '../protocol/records/record.js';

export const KRAFT_VERSION_CONTROL_TYPE = 5;
export const VOTERS_CONTROL_TYPE = 6;
const RECORD_VERSION = 0;
/** The kraft.version this code speaks: 1, dynamic voters. */
export const KRAFT_VERSION = 1;
export { ZERO_UUID } from '../base/uuid.js';

export interface VoterEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface Voter {
  readonly id: number;
  /** The voter's metadata log directory id (KIP-853's replica key), or the zero uuid when unknown. */
  readonly directoryId: string;
  readonly endpoints: readonly VoterEndpoint[];
}

/** A replica's key (KIP-853's ReplicaKey): its node id and metadata log directory id. */
export interface ReplicaKey {
  readonly id: number;
  readonly directoryId: string;
}

/**
 * Whether a voter-set entry is the replica (`id`, `directoryId`), as Kafka's VoterSet matches keys:
 * the ids are equal and so are the directory ids, unless the entry has the zero uuid (a static or
 * older voter set, which stands for any directory).
 */
export function keyMatches(entry: ReplicaKey, id: number, directoryId: string): boolean {
  return entry.id === id && (entry.directoryId === ZERO_UUID || entry.directoryId === directoryId);
}

/** A static voter known only by its id (controller.quorum.voters gives no directory id). */
export function staticVoter(id: number): Voter {
  return { id, directoryId: ZERO_UUID, endpoints: [] };
}

/** VotersRecord v0 (flexible) as a control record. */
export function votersRecord(voters: readonly Voter[], timestamp: number): RecordInput {
  const writer = new Writer();
  writer.writeInt16(RECORD_VERSION);
  writer.writeInt16(RECORD_VERSION);
  writer.writeCompactArrayLength(voters.length);
  for (const voter of voters) {
    writer.writeInt32(voter.id);
    writer.writeUuid(voter.directoryId);
    writer.writeCompactArrayLength(voter.endpoints.length);
    for (const endpoint of voter.endpoints) {
      writer.writeCompactString(endpoint.name);
      writer.writeCompactString(endpoint.host);
      writer.writeInt16((endpoint.port << 16) >> 16);
      writer.writeEmptyTaggedFields();
    }
    // KRaftVersionFeature: the range this voter supports.
    writer.writeInt16(0);
    writer.writeInt16(KRAFT_VERSION);
    writer.writeEmptyTaggedFields();
    writer.writeEmptyTaggedFields();
  }
  writer.writeEmptyTaggedFields();
  return { key: encodeControlRecordKey(VOTERS_CONTROL_TYPE), value: writer.toBuffer(), timestamp };
}

export function decodeVotersRecord(value: Buffer): Voter[] {
  const reader = new Reader(value);
  reader.readInt16();
  reader.readInt16();
  const count = reader.readCompactArrayLength() ?? 0;
  const voters: Voter[] = [];
  for (let index = 0; index < count; index++) {
    const id = reader.readInt32();
    const directoryId = reader.readUuid();
    const endpointCount = reader.readCompactArrayLength() ?? 0;
    const endpoints: VoterEndpoint[] = [];
    for (let endpoint = 0; endpoint < endpointCount; endpoint++) {
      const name = reader.readCompactString();
      const host = reader.readCompactString();
      const port = reader.readInt16() & 0xffff;
      reader.skipTaggedFields();
      endpoints.push({ name, host, port });
    }
    reader.readInt16();
    reader.readInt16();
    reader.skipTaggedFields();
    reader.skipTaggedFields();
    voters.push({ id, directoryId, endpoints });
  }
  return voters;
}

/** KRaftVersionRecord v0 (flexible) as a control record. */
export function kraftVersionRecord(timestamp: number): RecordInput {
  const writer = new Writer();
  writer.writeInt16(RECORD_VERSION);
  writer.writeInt16(RECORD_VERSION);
  writer.writeInt16(KRAFT_VERSION);
  writer.writeEmptyTaggedFields();
  return { key: encodeControlRecordKey(KRAFT_VERSION_CONTROL_TYPE), value: writer.toBuffer(), timestamp };
}

export interface VoterSetEntry {
  /** The offset of the VotersRecord (-1: from a snapshot the log starts after). */
  readonly offset: number;
  readonly voters: readonly Voter[];
}

export class VoterHistory {
  #entries: VoterSetEntry[] = [];

  /** The newest set, if any log record or snapshot named one. */
  latest(): VoterSetEntry | undefined {
    return this.#entries.at(-1);
  }

  add(offset: number, voters: readonly Voter[]): void {
    this.#entries.push({ offset, voters });
  }

  /** Forgets the sets recorded at or after `offset` (the log was truncated there). */
  truncateFrom(offset: number): void {
    while (this.#entries.length > 0 && this.#entries.at(-1)!.offset >= offset) this.#entries.pop();
  }

  /** The log below `offset` is gone: keep only the set in effect there and the later ones. */
  trimBelow(offset: number): void {
    let keepFrom = 0;
    for (let index = 0; index < this.#entries.length; index++) if (this.#entries[index]!.offset < offset) keepFrom = index;
    this.#entries = this.#entries.slice(keepFrom);
  }

  /** The set in effect at `offset`: the newest named below it. */
  at(offset: number): VoterSetEntry | undefined {
    for (let index = this.#entries.length - 1; index >= 0; index--) if (this.#entries[index]!.offset < offset) return this.#entries[index];
    return undefined;
  }

  /** Whether a set named below `offset` is known. */
  hasBefore(offset: number): boolean {
    return this.at(offset) !== undefined;
  }

  /** Puts a snapshot's set first, in effect from before the log starts. */
  prependBase(voters: readonly Voter[]): void {
    this.#entries.unshift({ offset: -1, voters });
  }

  /** Starts over from a snapshot's set (or none). */
  reset(base?: readonly Voter[]): void {
    this.#entries = base ? [{ offset: -1, voters: base }] : [];
  }
}
