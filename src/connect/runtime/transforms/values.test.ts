import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decimal, LogicalNames, Schemas } from '../../api/data.js';
import { isoDateString, javaDoubleString, javaFloatString, parseLiteral, toDecimal } from './values.js';

describe('parseLiteral (Values.parseString)', () => {
  it('types scalar literals as Kafka does', () => {
    assert.deepEqual(parseLiteral(''), { schema: Schemas.STRING, value: '' });
    assert.deepEqual(parseLiteral('null'), { schema: null, value: null });
    assert.deepEqual(parseLiteral('false'), { schema: Schemas.BOOLEAN, value: false });
    assert.deepEqual(parseLiteral('-128'), { schema: Schemas.INT8, value: -128 });
    assert.deepEqual(parseLiteral('1000'), { schema: Schemas.INT16, value: 1000 });
    assert.deepEqual(parseLiteral('100000'), { schema: Schemas.INT32, value: 100000 });
    assert.deepEqual(parseLiteral('10000000000'), { schema: Schemas.INT64, value: 10000000000n });
    assert.deepEqual(parseLiteral('1.0'), { schema: Schemas.INT8, value: 1 });
    assert.deepEqual(parseLiteral('2.5'), { schema: Schemas.FLOAT32, value: 2.5 });
    assert.equal(parseLiteral('99999999999999999999').schema!.name, LogicalNames.DECIMAL);
    assert.equal(parseLiteral('2024-01-02').schema!.name, LogicalNames.DATE);
    assert.deepEqual(parseLiteral('2024-01-02T03:04:05.006Z').value, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)));
    assert.equal(parseLiteral('12:00:00.000Z').schema!.name, LogicalNames.TIME);
    assert.deepEqual(parseLiteral('[1, 2]'), { schema: Schemas.STRING, value: '[1, 2]' });
    assert.deepEqual(parseLiteral('.5'), { schema: Schemas.STRING, value: '.5' });
  });

  it('reads decimals as BigDecimal does', () => {
    assert.deepEqual(toDecimal('-12.340'), new Decimal(-12340n, 3));
    assert.deepEqual(toDecimal('1.5e3'), new Decimal(15n, -2));
  });
});

describe('Java number and date strings', () => {
  it('writes doubles and floats as Java does', () => {
    assert.deepEqual([1, 0.5, 1e7, 1.5e-5, 123456.789, -0, Number.NaN].map(javaDoubleString), ['1.0', '0.5', '1.0E7', '1.5E-5', '123456.789', '-0.0', 'NaN']);
    assert.equal(javaFloatString(0.1), '0.1');
    assert.equal(javaFloatString(16777216), '1.6777216E7');
  });

  it('picks the ISO form by the value, as Values.dateFormatFor', () => {
    assert.equal(isoDateString(new Date(3_600_000)), '01:00:00.000Z');
    assert.equal(isoDateString(new Date(Date.UTC(2024, 0, 2))), '2024-01-02');
    assert.equal(isoDateString(new Date(Date.UTC(2024, 0, 2, 0, 0, 1))), '2024-01-02T00:00:01.000Z');
  });
});
