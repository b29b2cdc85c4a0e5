// The S3 sink's object formats, without S3: JSON lines as JsonConverter writes values, and Parquet
// objects of every Connect type read back by DuckDB (an independent reader) with each codec.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Decimal, LogicalNames, type Schema, SchemaBuilder, Schemas, type SinkRecord, Struct } from '../../api/data.js';
import { PARQUET_CODECS, s3SinkSettings } from './config.js';
import { createFormat, jsonText } from './formats.js';

const base = { 's3.bucket.name': 'b', 'flush.size': '10' };

function record(value: unknown, valueSchema: Schema | null, offset = 0): SinkRecord {
  return {
    topic: 't', kafkaPartition: 0, kafkaOffset: offset, keySchema: null, key: null, valueSchema, value, timestamp: 0, headers: [],
    timestampType: 'CreateTime', originalTopic: 't', originalKafkaPartition: 0, originalKafkaOffset: offset,
  };
}

const timestamp = SchemaBuilder.int64().name(LogicalNames.TIMESTAMP).version(1).build();
const date = SchemaBuilder.int32().name(LogicalNames.DATE).version(1).build();
const time = SchemaBuilder.int32().name(LogicalNames.TIME).version(1).build();
const decimal = SchemaBuilder.bytes().name(LogicalNames.DECIMAL).parameter('scale', '2').build();
const inner = SchemaBuilder.struct().name('Inner').field('a', Schemas.INT32).field('b', Schemas.OPTIONAL_STRING).build();
const schema = SchemaBuilder.struct().name('Row')
  .field('i8', Schemas.INT8).field('i16', Schemas.INT16).field('i32', Schemas.INT32).field('i64', Schemas.INT64)
  .field('f32', Schemas.FLOAT32).field('f64', Schemas.FLOAT64).field('ok', Schemas.BOOLEAN).field('s', Schemas.STRING)
  .field('maybe', Schemas.OPTIONAL_STRING).field('blob', Schemas.OPTIONAL_BYTES)
  .field('ts', timestamp).field('day', date).field('at', time).field('price', decimal)
  .field('inner', SchemaBuilder.from(inner).optional().build())
  .field('tags', SchemaBuilder.array(Schemas.STRING).optional().build())
  .field('counts', SchemaBuilder.map(Schemas.STRING, Schemas.INT32).optional().build())
  .field('items', SchemaBuilder.array(inner).build())
  .build();

function row(n: number): Struct {
  const full = n % 2 === 0;
  return new Struct(schema)
    .put('i8', -n).put('i16', 300 + n).put('i32', 70_000 + n).put('i64', 9_007_199_254_740_993n + BigInt(n))
    .put('f32', 1.5).put('f64', n / 3).put('ok', full).put('s', `row ${n} ✓`)
    .put('maybe', full ? `m${n}` : null).put('blob', full ? Buffer.from([n, 255]) : null)
    .put('ts', new Date(Date.UTC(2024, 1, 29, 12, 0, n, 123))).put('day', new Date(Date.UTC(2024, 1, 29))).put('at', new Date(3_723_004))
    .put('price', new Decimal(BigInt(12345 + n), 2))
    .put('inner', full ? new Struct(inner).put('a', n).put('b', null) : null)
    .put('tags', full ? ['x', `y${n}`] : null)
    .put('counts', full ? new Map([['k', n]]) : null)
    .put('items', [new Struct(inner).put('a', 1).put('b', 'one'), new Struct(inner).put('a', 2).put('b', null)]);
}

describe('S3 sink formats', () => {
  let dir: string;
  let duck: Awaited<ReturnType<DuckDBInstance['connect']>>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-formats-'));
    duck = await (await DuckDBInstance.create(':memory:')).connect();
  });
  after(async () => {
    duck.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  it('JSON: values as JsonConverter writes them without schemas, int64 exact', async () => {
    const format = await createFormat(s3SinkSettings({ ...base, 'format.class': 'json' }));
    assert.equal(format.extension, '.json');
    const writer = format.newWriter();
    writer.add(record(row(2), schema));
    writer.add(record({ plain: [1, 'two', null], nested: { big: 12345678901234567890n } }, null));
    writer.add(record('a string', Schemas.STRING));
    writer.add(record(Buffer.from('hi'), Schemas.BYTES));
    writer.add(record(new Map([[1, 'one']]), SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build()));
    const lines = (await writer.finish()).toString('utf8').split('\n');
    assert.equal(lines.length, 6, 'five lines and the final newline');
    assert.equal(lines[5], '');
    assert.equal(lines[0],
      '{"i8":-2,"i16":302,"i32":70002,"i64":9007199254740995,"f32":1.5,"f64":0.6666666666666666,"ok":true,"s":"row 2 ✓","maybe":"m2","blob":"Av8=",'
      + '"ts":1709208002123,"day":19782,"at":3723004,"price":"MDs=","inner":{"a":2,"b":null},"tags":["x","y2"],"counts":{"k":2},'
      + '"items":[{"a":1,"b":"one"},{"a":2,"b":null}]}');
    assert.equal(lines[1], '{"plain":[1,"two",null],"nested":{"big":12345678901234567890}}');
    assert.equal(lines[2], '"a string"');
    assert.equal(lines[3], '"aGk="');
    assert.equal(lines[4], '[[1,"one"]]');
    assert.equal(jsonText(new Decimal(-12345n, 2), decimal, true), '-123.45');
  });

  it('JSON with s3.compression.type=gzip ends in .json.gz and gunzips to the lines', async () => {
    const format = await createFormat(s3SinkSettings({ ...base, 'format.class': 'io.confluent.connect.s3.format.json.JsonFormat', 's3.compression.type': 'gzip' }));
    assert.equal(format.extension, '.json.gz');
    const writer = format.newWriter();
    writer.add(record({ a: 1 }, null));
    const { gunzipSync } = await import('node:zlib');
    assert.equal(gunzipSync(await writer.finish()).toString(), '{"a":1}\n');
  });

  for (const codec of PARQUET_CODECS) {
    it(`Parquet (${codec}): DuckDB reads every type back`, async () => {
      const format = await createFormat(s3SinkSettings({ ...base, 'format.class': 'parquet', 'parquet.codec': codec }));
      const extension = { none: '.parquet', snappy: '.snappy.parquet', gzip: '.gz.parquet', zstd: '.zstd.parquet', brotli: '.br.parquet' }[codec];
      assert.equal(format.extension, extension);
      const writer = format.newWriter();
      for (let n = 0; n < 4; n++) writer.add(record(row(n), schema, n));
      const file = join(dir, `rows${extension}`);
      await writeFile(file, await writer.finish());
      const types = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjectsJS().map((column) => `${column.column_name} ${column.column_type}`);
      assert.deepEqual(types, [
        'i8 TINYINT', 'i16 SMALLINT', 'i32 INTEGER', 'i64 BIGINT', 'f32 FLOAT', 'f64 DOUBLE', 'ok BOOLEAN', 's VARCHAR', 'maybe VARCHAR', 'blob BLOB',
        'ts TIMESTAMP WITH TIME ZONE', 'day DATE', 'at TIME', 'price DECIMAL(38,2)', 'inner STRUCT(a INTEGER, b VARCHAR)', 'tags VARCHAR[]',
        'counts MAP(VARCHAR, INTEGER)', 'items STRUCT(a INTEGER, b VARCHAR)[]',
      ]);
      const rows = (await duck.runAndReadAll(`SELECT i8, i16, i32, i64::VARCHAR AS i64, f32, f64, ok, s, maybe, hex(blob) AS blob, epoch_ms(ts) AS ts, "day"::VARCHAR AS "day", "at"::VARCHAR AS "at",
        price::VARCHAR AS price, "inner"::VARCHAR AS "inner", tags::VARCHAR AS tags, counts::VARCHAR AS counts, items::VARCHAR AS items FROM read_parquet('${file}')`)).getRowObjectsJS();
      assert.equal(rows.length, 4);
      assert.deepEqual(rows[0], {
        i8: 0, i16: 300, i32: 70000, i64: '9007199254740993', f32: 1.5, f64: 0, ok: true, s: 'row 0 ✓', maybe: 'm0', blob: '00FF', ts: 1709208000123n,
        day: '2024-02-29', at: '01:02:03.004', price: '123.45', inner: "{'a': 0, 'b': NULL}", tags: '[x, y0]', counts: '{k=0}', items: "[{'a': 1, 'b': one}, {'a': 2, 'b': NULL}]",
      });
      assert.deepEqual(rows[1], {
        i8: -1, i16: 301, i32: 70001, i64: '9007199254740994', f32: 1.5, f64: 1 / 3, ok: false, s: 'row 1 ✓', maybe: null, blob: null, ts: 1709208001123n,
        day: '2024-02-29', at: '01:02:03.004', price: '123.46', inner: null, tags: null, counts: null, items: "[{'a': 1, 'b': one}, {'a': 2, 'b': NULL}]",
      });
    });
  }

  it('Parquet refuses a record without a schema, and a schema change makes a new object', async () => {
    const format = await createFormat(s3SinkSettings({ ...base, 'format.class': 'parquet' }));
    const writer = format.newWriter();
    assert.throws(() => writer.add(record({ a: 1 }, null)), /ParquetFormat needs records with a schema \(a struct\): record t-0 offset 0 has none/);
    assert.throws(() => writer.add(record('text', Schemas.STRING)), /ParquetFormat writes struct values as rows; record t-0 offset 0 has a string value/);
    writer.add(record(row(0), schema));
    assert.ok(writer.accepts(SchemaBuilder.from(schema).build()), 'an equal schema built again');
    assert.equal(writer.accepts(SchemaBuilder.from(schema).field('extra', Schemas.INT32).build()), false);
    assert.equal(writer.accepts(null), false);
  });
});
