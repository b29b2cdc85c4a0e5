import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decimal, LogicalNames, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { HttpSinkConnector, toJson, valueText } from './http-sink.js';

describe('HTTP sink: values as request text', () => {
  it('sends strings and bytes as they are, other values as JSON, and skips nulls', () => {
    assert.equal(valueText('{"a":1}', Schemas.STRING), '{"a":1}');
    assert.equal(valueText('plain', null), 'plain');
    assert.equal(valueText(Buffer.from('{"b":2}'), Schemas.BYTES), '{"b":2}');
    assert.equal(valueText({ a: [1, 2n] }, null), '{"a":[1,2]}');
    assert.equal(valueText(null, null), null);
  });

  it('turns structs, maps and logical types into plain JSON', () => {
    const address = SchemaBuilder.struct().field('city', Schemas.STRING).build();
    const schema = SchemaBuilder.struct()
      .field('id', Schemas.INT64)
      .field('name', Schemas.OPTIONAL_STRING)
      .field('price', SchemaBuilder.bytes().name(LogicalNames.DECIMAL).parameter('scale', '2').build())
      .field('at', SchemaBuilder.int64().name(LogicalNames.TIMESTAMP).build())
      .field('day', SchemaBuilder.int32().name(LogicalNames.DATE).build())
      .field('tags', SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build())
      .field('address', address)
      .field('raw', Schemas.BYTES)
      .build();
    const value = new Struct(schema)
      .put('id', 9007199254740993n)
      .put('name', null)
      .put('price', new Decimal(1999n, 2))
      .put('at', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))
      .put('day', new Date(Date.UTC(2024, 0, 2)))
      .put('tags', new Map([['a', 1]]))
      .put('address', new Struct(address).put('city', 'Oslo'))
      .put('raw', Buffer.from([1, 2, 3]));
    assert.deepEqual(toJson(value, schema), {
      id: '9007199254740993', name: null, price: 19.99, at: '2024-01-02T03:04:05.006Z', day: '2024-01-02',
      tags: { a: 1 }, address: { city: 'Oslo' }, raw: 'AQID',
    });
  });

  it('names the key in its config errors', () => {
    const def = new HttpSinkConnector().config();
    const errors = (props: Record<string, string>) => def.validate(props).flatMap((report) => report.errors);
    assert.deepEqual(errors({ 'http.api.url': 'http://localhost:1/x' }), []);
    assert.match(errors({}).join('\n'), /Missing required configuration "http\.api\.url"/);
    assert.match(errors({ 'http.api.url': 'localhost:1' }).join('\n'), /for configuration http\.api\.url/);
    assert.match(errors({ 'http.api.url': 'http://x/', 'retry.on.status.codes': '5xx' }).join('\n'), /configuration retry\.on\.status\.codes/);
    assert.match(errors({ 'http.api.url': 'http://x/', headers: 'Authorization Bearer' }).join('\n'), /configuration headers: .*not a "Name: value" header/);
    assert.match(errors({ 'http.api.url': 'http://x/', 'batch.max.size': '0' }).join('\n'), /Invalid value 0 for configuration batch\.max\.size/);
  });
});
