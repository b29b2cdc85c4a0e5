// Column types as Debezium's MySQL connector maps them, and value conversion from the forms the
// snapshot (mysql2) and the binary log reader (zongji) hand over.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decimal } from '../../api/data.js';
import { type ColumnDefinition, columnType, dateTimeMicros, enumValues, timeMicros } from './mysql-types.js';

const options = { decimalMode: 'precise' as const, timePrecisionMode: 'adaptive_time_microseconds' as const, bigintUnsignedPrecise: false };
const column = (dataType: string, columnType = dataType, extra: Partial<ColumnDefinition> = {}): ColumnDefinition => ({
  name: 'c', dataType, columnType, nullable: true, precision: null, scale: null, fsp: null, json: false, ...extra,
});

describe('MySQL column types', () => {
  it('maps integers by size and signedness', () => {
    const schema = (dataType: string, type = dataType) => columnType(column(dataType, type), options).schema.type;
    assert.deepEqual([schema('tinyint', 'tinyint(1)'), schema('smallint'), schema('smallint', 'smallint unsigned'), schema('mediumint'), schema('int'), schema('int', 'int(10) unsigned'), schema('bigint')],
      ['int16', 'int16', 'int32', 'int32', 'int32', 'int64', 'int64']);
    const ubig = columnType(column('bigint', 'bigint(20) unsigned'), options);
    assert.equal(ubig.convert('18446744073709551615'), -1n, 'bigint.unsigned.handling.mode=long wraps, as Java longs');
    const precise = columnType(column('bigint', 'bigint(20) unsigned'), { ...options, bigintUnsignedPrecise: true });
    assert.deepEqual(precise.convert('18446744073709551615'), new Decimal(18446744073709551615n, 0));
    assert.equal(columnType(column('bigint'), options).convert(-9007199254740993), BigInt.asIntN(64, BigInt(-9007199254740993)));
    assert.equal(columnType(column('bigint'), options).convert('-9007199254740993'), -9007199254740993n, 'exact from text');
  });

  it('converts temporal values from server text', () => {
    assert.equal(dateTimeMicros('2024-02-29 13:14:15.123456'), 1709212455123456n);
    assert.equal(dateTimeMicros('0000-00-00 00:00:00'), null, 'the zero date');
    assert.equal(timeMicros('-838:59:59.000000'), -3020399000000n);
    const datetime = columnType(column('datetime', 'datetime', { fsp: 0 }), options);
    assert.deepEqual([datetime.schema.name, datetime.convert('1969-12-31 23:59:59.5')], ['io.debezium.time.Timestamp', -500n]);
    const micro = columnType(column('datetime', 'datetime(6)', { fsp: 6 }), options);
    assert.deepEqual([micro.schema.name, micro.convert('1970-01-01 00:00:01.000001')], ['io.debezium.time.MicroTimestamp', 1000001n]);
    const stamp = columnType(column('timestamp', 'timestamp(3)', { fsp: 3 }), options);
    assert.equal(stamp.convert('2024-02-29 11:14:15.500'), '2024-02-29T11:14:15.5Z');
    const connectTime = columnType(column('time'), { ...options, timePrecisionMode: 'connect' });
    assert.deepEqual([connectTime.schema.name, connectTime.convert('01:00:00')], ['org.apache.kafka.connect.data.Time', new Date(3_600_000)]);
  });

  it('reads ENUM and SET values, and BIT as Debezium\'s little-endian Bits', () => {
    assert.deepEqual(enumValues("enum('a','it''s','x,y')"), ['a', "it's", 'x,y']);
    const bits = columnType(column('bit', 'bit(10)'), options);
    assert.deepEqual(bits.convert(Buffer.from([0x02, 0x01])), Buffer.from([0x01, 0x02]));
    assert.equal(columnType(column('bit', 'bit(1)'), options).convert(Buffer.from([1])), true);
  });

  it('follows decimal.handling.mode', () => {
    const def = column('decimal', 'decimal(10,2)', { precision: 10, scale: 2 });
    assert.deepEqual(columnType(def, options).convert('-12.30'), new Decimal(-1230n, 2));
    assert.equal(columnType(def, { ...options, decimalMode: 'string' }).convert('-12.30'), '-12.30');
    assert.equal(columnType(def, { ...options, decimalMode: 'double' }).convert('-12.30'), -12.3);
  });
});
