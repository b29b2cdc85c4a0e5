// The logical replication wire format: the streaming replication messages a walsender sends
// inside CopyData (XLogData 'w', primary keepalive 'k'), the standby status update sent back
// ('r'), and the pgoutput plugin's messages (protocol version 1) carried in XLogData: Begin,
// Commit, Relation, Type, Insert, Update, Delete, Truncate, Origin. Decoding is our own rather
// than pg-logical-replication's: the source needs the raw text of each value and the column's
// type modifier (a NUMERIC's scale), and full control of which position it confirms.
// LSNs are bigints; timestamps are microseconds since 2000-01-01 in the protocol, turned into
// microseconds since the Unix epoch here.

/** Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01. */
export const PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000n;

/** One column of a Relation message. */
export interface RelationColumn {
  /** Part of the replica identity (with REPLICA IDENTITY FULL: every column). */
  readonly isKey: boolean;
  readonly name: string;
  readonly typeOid: number;
  readonly typeModifier: number;
}

/** A value in a tuple: null, unchanged TOASTed (not sent), text or binary. */
export type TupleValue = null | { readonly kind: 'unchanged' } | { readonly kind: 'text'; readonly text: string } | { readonly kind: 'binary'; readonly bytes: Buffer };

export type PgOutputMessage =
  | { readonly tag: 'begin'; readonly finalLsn: bigint; readonly commitTimeMicros: bigint; readonly xid: number }
  | { readonly tag: 'commit'; readonly flags: number; readonly commitLsn: bigint; readonly endLsn: bigint; readonly commitTimeMicros: bigint }
  | { readonly tag: 'origin'; readonly lsn: bigint; readonly name: string }
  | { readonly tag: 'relation'; readonly relationId: number; readonly namespace: string; readonly name: string; readonly replicaIdentity: string; readonly columns: readonly RelationColumn[] }
  | { readonly tag: 'type'; readonly typeOid: number; readonly namespace: string; readonly name: string }
  | { readonly tag: 'insert'; readonly relationId: number; readonly newTuple: readonly TupleValue[] }
  | { readonly tag: 'update'; readonly relationId: number; readonly oldKind: 'key' | 'full' | null; readonly oldTuple: readonly TupleValue[] | null; readonly newTuple: readonly TupleValue[] }
  | { readonly tag: 'delete'; readonly relationId: number; readonly oldKind: 'key' | 'full'; readonly oldTuple: readonly TupleValue[] }
  | { readonly tag: 'truncate'; readonly options: number; readonly relationIds: readonly number[] }
  | { readonly tag: 'message'; readonly transactional: boolean; readonly lsn: bigint; readonly prefix: string; readonly content: Buffer }
  | { readonly tag: 'unknown'; readonly code: number };

/** What arrives in one CopyData of a replication stream. */
export type ReplicationMessage =
  | { readonly kind: 'xlogdata'; readonly dataStart: bigint; readonly walEnd: bigint; readonly sendTimeMicros: bigint; readonly data: Buffer }
  | { readonly kind: 'keepalive'; readonly walEnd: bigint; readonly sendTimeMicros: bigint; readonly replyRequested: boolean }
  | { readonly kind: 'unknown'; readonly code: number };

export function parseReplicationMessage(chunk: Buffer): ReplicationMessage {
  const code = chunk[0]!;
  if (code === 0x77 /* w */) {
    return { kind: 'xlogdata', dataStart: chunk.readBigUInt64BE(1), walEnd: chunk.readBigUInt64BE(9), sendTimeMicros: chunk.readBigInt64BE(17) + PG_EPOCH_OFFSET_MICROS, data: chunk.subarray(25) };
  }
  if (code === 0x6b /* k */) {
    return { kind: 'keepalive', walEnd: chunk.readBigUInt64BE(1), sendTimeMicros: chunk.readBigInt64BE(9) + PG_EPOCH_OFFSET_MICROS, replyRequested: chunk[17] === 1 };
  }
  return { kind: 'unknown', code };
}

/** A standby status update: written, flushed and applied positions (the flushed one is what a logical slot confirms). */
export function standbyStatusUpdate(written: bigint, flushed: bigint, applied: bigint, nowMicros: bigint, replyRequested = false): Buffer {
  const out = Buffer.alloc(34);
  out[0] = 0x72; // r
  out.writeBigUInt64BE(written, 1);
  out.writeBigUInt64BE(flushed, 9);
  out.writeBigUInt64BE(applied, 17);
  out.writeBigInt64BE(nowMicros - PG_EPOCH_OFFSET_MICROS, 25);
  out[33] = replyRequested ? 1 : 0;
  return out;
}

/** Reads pgoutput's big-endian integers, null-terminated strings and tuples. */
class Reader {
  private position = 0;
  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    return this.buffer[this.position++]!;
  }
  int16(): number {
    const value = this.buffer.readInt16BE(this.position);
    this.position += 2;
    return value;
  }
  int32(): number {
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }
  uint32(): number {
    const value = this.buffer.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }
  int64(): bigint {
    const value = this.buffer.readBigInt64BE(this.position);
    this.position += 8;
    return value;
  }
  lsn(): bigint {
    const value = this.buffer.readBigUInt64BE(this.position);
    this.position += 8;
    return value;
  }
  string(): string {
    const end = this.buffer.indexOf(0, this.position);
    if (end < 0) throw new Error('pgoutput: unterminated string');
    const value = this.buffer.toString('utf8', this.position, end);
    this.position = end + 1;
    return value;
  }
  bytes(length: number): Buffer {
    if (this.position + length > this.buffer.length) throw new Error('pgoutput: value runs past the message');
    const value = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }
  rest(): Buffer {
    return this.buffer.subarray(this.position);
  }
  tuple(): TupleValue[] {
    const count = this.int16();
    const values: TupleValue[] = [];
    for (let index = 0; index < count; index++) {
      const kind = this.byte();
      if (kind === 0x6e /* n */) values.push(null);
      else if (kind === 0x75 /* u */) values.push({ kind: 'unchanged' });
      else if (kind === 0x74 /* t */) values.push({ kind: 'text', text: this.bytes(this.int32()).toString('utf8') });
      else if (kind === 0x62 /* b */) values.push({ kind: 'binary', bytes: Buffer.from(this.bytes(this.int32())) });
      else throw new Error(`pgoutput: unknown tuple value kind ${kind}`);
    }
    return values;
  }
}

export function parsePgOutput(data: Buffer): PgOutputMessage {
  const reader = new Reader(data);
  const code = reader.byte();
  switch (code) {
    case 0x42: /* B */ {
      const finalLsn = reader.lsn();
      const commitTimeMicros = reader.int64() + PG_EPOCH_OFFSET_MICROS;
      return { tag: 'begin', finalLsn, commitTimeMicros, xid: reader.uint32() };
    }
    case 0x43: /* C */ {
      const flags = reader.byte();
      const commitLsn = reader.lsn();
      const endLsn = reader.lsn();
      return { tag: 'commit', flags, commitLsn, endLsn, commitTimeMicros: reader.int64() + PG_EPOCH_OFFSET_MICROS };
    }
    case 0x4f: /* O */ {
      const lsn = reader.lsn();
      return { tag: 'origin', lsn, name: reader.string() };
    }
    case 0x52: /* R */ {
      const relationId = reader.uint32();
      const namespace = reader.string();
      const name = reader.string();
      const replicaIdentity = String.fromCharCode(reader.byte());
      const count = reader.int16();
      const columns: RelationColumn[] = [];
      for (let index = 0; index < count; index++) {
        const flags = reader.byte();
        columns.push({ isKey: (flags & 1) === 1, name: reader.string(), typeOid: reader.uint32(), typeModifier: reader.int32() });
      }
      return { tag: 'relation', relationId, namespace, name, replicaIdentity, columns };
    }
    case 0x59: /* Y */ {
      const typeOid = reader.uint32();
      const namespace = reader.string();
      return { tag: 'type', typeOid, namespace, name: reader.string() };
    }
    case 0x49: /* I */ {
      const relationId = reader.uint32();
      reader.byte(); // 'N'
      return { tag: 'insert', relationId, newTuple: reader.tuple() };
    }
    case 0x55: /* U */ {
      const relationId = reader.uint32();
      let marker = reader.byte();
      let oldKind: 'key' | 'full' | null = null;
      let oldTuple: TupleValue[] | null = null;
      if (marker === 0x4b /* K */ || marker === 0x4f /* O */) {
        oldKind = marker === 0x4b ? 'key' : 'full';
        oldTuple = reader.tuple();
        marker = reader.byte(); // 'N'
      }
      return { tag: 'update', relationId, oldKind, oldTuple, newTuple: reader.tuple() };
    }
    case 0x44: /* D */ {
      const relationId = reader.uint32();
      const oldKind = reader.byte() === 0x4b ? 'key' : 'full';
      return { tag: 'delete', relationId, oldKind, oldTuple: reader.tuple() };
    }
    case 0x54: /* T */ {
      const count = reader.int32();
      const options = reader.byte();
      const relationIds: number[] = [];
      for (let index = 0; index < count; index++) relationIds.push(reader.uint32());
      return { tag: 'truncate', options, relationIds };
    }
    case 0x4d: /* M */ {
      const transactional = reader.byte() === 1;
      const lsn = reader.lsn();
      const prefix = reader.string();
      const length = reader.int32();
      return { tag: 'message', transactional, lsn, prefix, content: Buffer.from(reader.bytes(length)) };
    }
    default:
      return { tag: 'unknown', code };
  }
}

/** An LSN as PostgreSQL writes it: two hexadecimal halves, "16/B374D848". */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}
