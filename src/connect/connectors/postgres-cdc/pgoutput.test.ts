// pgoutput decoding on hand-built messages (the layouts of PostgreSQL's logical replication
// message formats), and the text-to-Connect conversions of the column types.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decimal, Struct } from '../../api/data.js';
import { columnType, TypeOids } from './pg-types.js';
import { PG_EPOCH_OFFSET_MICROS, formatLsn, parseLsn, parsePgOutput, parseReplicationMessage, standbyStatusUpdate } from './pgoutput.js';

const int8 = (value: number) => Buffer.from([value]);
const int16 = (value: number) => { const out = Buffer.alloc(2); out.writeInt16BE(value); return out; };
const int32 = (value: number) => { const out = Buffer.alloc(4); out.writeInt32BE(value); return out; };
const int64 = (value: bigint) => { const out = Buffer.alloc(8); out.writeBigInt64BE(value); return out; };
const cstring = (text: string) => Buffer.concat([Buffer.from(text), Buffer.from([0])]);
const text = (value: string) => Buffer.concat([Buffer.from('t'), int32(Buffer.byteLength(value)), Buffer.from(value)]);

describe('pgoutput messages', () => {
  it('decodes Begin, Commit and Relation', () => {
    const begin = parsePgOutput(Buffer.concat([Buffer.from('B'), int64(0x1_0000_0010n), int64(1_000_000n), int32(742)]));
    assert.deepEqual(begin, { tag: 'begin', finalLsn: 0x1_0000_0010n, commitTimeMicros: 1_000_000n + PG_EPOCH_OFFSET_MICROS, xid: 742 });
    const commit = parsePgOutput(Buffer.concat([Buffer.from('C'), int8(0), int64(100n), int64(150n), int64(5n)]));
    assert.deepEqual(commit, { tag: 'commit', flags: 0, commitLsn: 100n, endLsn: 150n, commitTimeMicros: 5n + PG_EPOCH_OFFSET_MICROS });
    const relation = parsePgOutput(Buffer.concat([
      Buffer.from('R'), int32(16384), cstring('public'), cstring('orders'), Buffer.from('d'), int16(2),
      int8(1), cstring('id'), int32(23), int32(-1),
      int8(0), cstring('price'), int32(1700), int32(((10 << 16) | 2) + 4),
    ]));
    assert.deepEqual(relation, {
      tag: 'relation', relationId: 16384, namespace: 'public', name: 'orders', replicaIdentity: 'd',
      columns: [{ isKey: true, name: 'id', typeOid: 23, typeModifier: -1 }, { isKey: false, name: 'price', typeOid: 1700, typeModifier: 655366 }],
    });
  });

  it('decodes tuples: text, null and unchanged TOAST values, with and without an old row', () => {
    const insert = parsePgOutput(Buffer.concat([Buffer.from('I'), int32(7), Buffer.from('N'), int16(3), text('42'), Buffer.from('n'), text('é')]));
    assert.deepEqual(insert, { tag: 'insert', relationId: 7, newTuple: [{ kind: 'text', text: '42' }, null, { kind: 'text', text: 'é' }] });
    const update = parsePgOutput(Buffer.concat([Buffer.from('U'), int32(7), Buffer.from('O'), int16(1), text('1'), Buffer.from('N'), int16(2), text('2'), Buffer.from('u')]));
    assert.deepEqual(update, { tag: 'update', relationId: 7, oldKind: 'full', oldTuple: [{ kind: 'text', text: '1' }], newTuple: [{ kind: 'text', text: '2' }, { kind: 'unchanged' }] });
    const plainUpdate = parsePgOutput(Buffer.concat([Buffer.from('U'), int32(7), Buffer.from('N'), int16(1), text('3')]));
    assert.equal(plainUpdate.tag === 'update' && plainUpdate.oldTuple, null);
    const del = parsePgOutput(Buffer.concat([Buffer.from('D'), int32(7), Buffer.from('K'), int16(1), text('9')]));
    assert.deepEqual(del, { tag: 'delete', relationId: 7, oldKind: 'key', oldTuple: [{ kind: 'text', text: '9' }] });
    assert.throws(() => parsePgOutput(Buffer.concat([Buffer.from('I'), int32(7), Buffer.from('N'), int16(1), Buffer.from('t'), int32(50), Buffer.from('short')])), /runs past/);
  });

  it('decodes XLogData and keepalives, and encodes standby status updates', () => {
    const xlog = parseReplicationMessage(Buffer.concat([Buffer.from('w'), int64(10n), int64(20n), int64(0n), Buffer.from('B')]));
    assert.equal(xlog.kind, 'xlogdata');
    assert.deepEqual(xlog.kind === 'xlogdata' && [xlog.dataStart, xlog.walEnd, xlog.data.toString()], [10n, 20n, 'B']);
    const keepalive = parseReplicationMessage(Buffer.concat([Buffer.from('k'), int64(99n), int64(0n), int8(1)]));
    assert.deepEqual(keepalive, { kind: 'keepalive', walEnd: 99n, sendTimeMicros: PG_EPOCH_OFFSET_MICROS, replyRequested: true });
    const status = standbyStatusUpdate(30n, 20n, 20n, PG_EPOCH_OFFSET_MICROS + 7n);
    assert.equal(status.length, 34);
    assert.deepEqual([status.toString('latin1', 0, 1), status.readBigUInt64BE(1), status.readBigUInt64BE(9), status.readBigUInt64BE(17), status.readBigInt64BE(25), status[33]], ['r', 30n, 20n, 20n, 7n, 0]);
    assert.equal(formatLsn(parseLsn('16/B374D848')), '16/B374D848');
    assert.equal(parseLsn('0/10'), 16n);
  });
});

describe('column types (text to Connect, as Debezium)', () => {
  const value = (oid: number, textValue: string, modifier = -1, mode: 'precise' | 'double' | 'string' = 'precise') => columnType(oid, modifier, true, mode).fromText(textValue);

  it('converts numbers, booleans and bytes', () => {
    assert.equal(value(TypeOids.INT2, '-7'), -7);
    assert.equal(value(TypeOids.INT8, '9223372036854775807'), 9223372036854775807n);
    assert.ok(Number.isNaN(value(TypeOids.FLOAT8, 'NaN') as number));
    assert.equal(value(TypeOids.FLOAT4, '-Infinity'), Number.NEGATIVE_INFINITY);
    assert.equal(value(TypeOids.BOOL, 'f'), false);
    assert.deepEqual(value(TypeOids.BYTEA, '\\x00ff10'), Buffer.from([0, 255, 16]));
  });

  it('converts numerics by decimal.handling.mode', () => {
    const scaled = value(TypeOids.NUMERIC, '-12.30', ((8 << 16) | 2) + 4) as Decimal;
    assert.deepEqual([scaled.unscaled, scaled.scale, scaled.toString()], [-1230n, 2, '-12.30']);
    const variable = value(TypeOids.NUMERIC, '255.5') as Struct;
    assert.deepEqual([variable.get('scale'), variable.get('value')], [1, Buffer.from([0x09, 0xfb])]);
    assert.equal(value(TypeOids.NUMERIC, 'NaN', -1), null);
    assert.equal(value(TypeOids.NUMERIC, '1.5', -1, 'double'), 1.5);
    assert.equal(value(TypeOids.NUMERIC, '1.50', -1, 'string'), '1.50');
    // A negative scale (PostgreSQL 15): numeric(5,-2) rounds to hundreds.
    const negative = columnType(TypeOids.NUMERIC, ((5 << 16) | (-2 & 0x7ff)) + 4, false, 'precise');
    assert.equal(negative.schema.parameters?.scale, '-2');
  });

  it('converts dates and times to Debezium\'s temporal types', () => {
    assert.equal(value(TypeOids.DATE, '1970-01-02'), 1);
    assert.equal(value(TypeOids.DATE, '1969-12-31'), -1);
    assert.equal(value(TypeOids.TIMESTAMP, '1970-01-01 00:00:01.5'), 1_500_000n);
    assert.equal(value(TypeOids.TIMESTAMPTZ, '2024-01-01 00:30:00+01'), '2023-12-31T23:30:00Z');
    assert.equal(value(TypeOids.TIMESTAMPTZ, '2024-06-01 12:00:00.123456+00'), '2024-06-01T12:00:00.123456Z');
    assert.equal(value(TypeOids.TIME, '00:00:01.000001'), 1_000_001n);
    assert.equal(value(TypeOids.TIMETZ, '10:00:00-02:30'), '12:30:00Z');
  });
});
