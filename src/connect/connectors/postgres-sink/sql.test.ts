// The sink's SQL and configuration without a server: identifier quoting, type mapping, values,
// statements, connection URLs and the cross-key config rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataException, Decimal, LogicalNames, SchemaBuilder, Schemas } from '../../api/data.js';
import { ConnectConfigException } from '../../api/config.js';
import { parseConnectionUrl, sinkSettings } from './config.js';
import { isRetriable } from './postgres-sink.js';
import { columnType, createTableSql, deleteSql, formatTimestamp, insertSql, quoteIdentifier, tableIdFor, toDbValue, updateSql } from './sql.js';

describe('postgres sink SQL', () => {
  it('quotes identifiers and keeps a topic\'s dots and dashes in the table name', () => {
    assert.equal(quoteIdentifier('my-topic'), '"my-topic"');
    assert.equal(quoteIdentifier('a"b'), '"a""b"');
    assert.throws(() => quoteIdentifier('x'.repeat(64)), /63 bytes/);
    assert.deepEqual(tableIdFor('${topic}', 'sensor.readings'), { schema: null, table: 'sensor.readings' });
    assert.deepEqual(tableIdFor('analytics.kafka_${topic}', 'a.b'), { schema: 'analytics', table: 'kafka_a.b' });
  });

  it('maps Connect types, logical types and arrays to column types', () => {
    const cases: [ReturnType<SchemaBuilder['build']>, string][] = [
      [Schemas.INT8, 'SMALLINT'], [Schemas.INT16, 'SMALLINT'], [Schemas.INT32, 'INTEGER'], [Schemas.INT64, 'BIGINT'],
      [Schemas.FLOAT32, 'REAL'], [Schemas.FLOAT64, 'DOUBLE PRECISION'], [Schemas.BOOLEAN, 'BOOLEAN'], [Schemas.STRING, 'TEXT'], [Schemas.BYTES, 'BYTEA'],
      [SchemaBuilder.bytes().name(LogicalNames.DECIMAL).parameter('scale', '2').build(), 'NUMERIC'],
      [SchemaBuilder.int32().name(LogicalNames.DATE).build(), 'DATE'],
      [SchemaBuilder.int32().name(LogicalNames.TIME).build(), 'TIME'],
      [SchemaBuilder.int64().name(LogicalNames.TIMESTAMP).build(), 'TIMESTAMP'],
      [SchemaBuilder.array(Schemas.STRING).build(), 'TEXT[]'],
    ];
    for (const [schema, type] of cases) assert.equal(columnType(schema, 'f'), type);
    assert.throws(() => columnType(SchemaBuilder.struct().build(), 'nested'), (error: Error) => error instanceof DataException && /'nested'.*STRUCT/.test(error.message));
  });

  it('turns values into parameters: bigint, Decimal, dates, bytes', () => {
    assert.equal(toDbValue(Schemas.INT64, 9007199254740993n, 'UTC', 'f'), '9007199254740993');
    assert.equal(toDbValue(SchemaBuilder.bytes().name(LogicalNames.DECIMAL).build(), new Decimal(-12345n, 2), 'UTC', 'f'), '-123.45');
    assert.equal(toDbValue(SchemaBuilder.int32().name(LogicalNames.DATE).build(), new Date(Date.UTC(2024, 1, 29)), 'UTC', 'f'), '2024-02-29');
    assert.equal(toDbValue(SchemaBuilder.int32().name(LogicalNames.TIME).build(), new Date(3_723_004), 'UTC', 'f'), '01:02:03.004');
    assert.deepEqual(toDbValue(Schemas.BYTES, Buffer.from([1, 2]), 'UTC', 'f'), Buffer.from([1, 2]));
    assert.throws(() => toDbValue(Schemas.INT32, 'seven', 'UTC', 'count'), /'count'/);
  });

  it('formats a Timestamp as the wall-clock time of db.timezone with its offset', () => {
    const instant = new Date(Date.UTC(2024, 6, 1, 12, 0, 0, 5));
    assert.equal(formatTimestamp(instant, 'UTC'), '2024-07-01 12:00:00.005+00:00');
    assert.equal(formatTimestamp(instant, 'Europe/Berlin'), '2024-07-01 14:00:00.005+02:00');
    assert.equal(formatTimestamp(instant, 'America/New_York'), '2024-07-01 08:00:00.005-04:00');
  });

  it('builds multi-row statements with numbered parameters', () => {
    const table = { schema: null, table: 'my-topic' };
    assert.equal(insertSql(table, ['id', 'v'], 2), 'INSERT INTO "my-topic" ("id", "v") VALUES ($1, $2), ($3, $4)');
    assert.equal(insertSql(table, ['id', 'v'], 1, ['id']), 'INSERT INTO "my-topic" ("id", "v") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "v" = EXCLUDED."v"');
    assert.equal(insertSql(table, ['id'], 1, ['id']), 'INSERT INTO "my-topic" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING');
    const types = new Map([['id', 'integer'], ['v', 'text']]);
    assert.equal(updateSql(table, ['id'], ['v'], 2, types), 'UPDATE "my-topic" AS t SET "v" = v.c1 FROM (VALUES ($1::integer, $2::text), ($3::integer, $4::text)) AS v(c0, c1) WHERE t."id" = v.c0');
    assert.equal(deleteSql(table, ['id'], 3, types), 'DELETE FROM "my-topic" WHERE "id" IN ($1::integer, $2::integer, $3::integer)');
    assert.equal(deleteSql(table, ['id', 'v'], 1, types), 'DELETE FROM "my-topic" WHERE ("id", "v") IN (($1::integer, $2::text))');
    const create = createTableSql(table, [
      { name: 'id', schema: Schemas.INT32, isKey: true },
      { name: 'note', schema: SchemaBuilder.string().optional().defaultValue("it's").build(), isKey: false },
    ], 'UTC');
    assert.equal(create, 'CREATE TABLE IF NOT EXISTS "my-topic" (\n  "id" INTEGER NOT NULL,\n  "note" TEXT DEFAULT \'it\'\'s\' NULL,\n  PRIMARY KEY("id")\n)');
  });
});

describe('postgres sink configuration', () => {
  const base = { 'connection.url': 'jdbc:postgresql://db.example:5433/shop?user=app&password=s%40cret&sslmode=require&currentSchema=sales' };

  it('reads JDBC and postgres:// URLs', () => {
    const jdbc = parseConnectionUrl(base['connection.url']);
    assert.deepEqual([jdbc.host, jdbc.port, jdbc.database, jdbc.user, jdbc.password, jdbc.ssl, jdbc.options], ['db.example', 5433, 'shop', 'app', 's@cret', { rejectUnauthorized: false }, '-c search_path=sales']);
    const pg = parseConnectionUrl('postgresql://u:p@127.0.0.1/db');
    assert.deepEqual([pg.host, pg.port, pg.database, pg.user, pg.password, pg.ssl], ['127.0.0.1', 5432, 'db', 'u', 'p', false]);
    assert.equal(parseConnectionUrl('jdbc:postgresql:shop').host, 'localhost');
    assert.throws(() => parseConnectionUrl('jdbc:mysql://h/db'), /jdbc:postgresql/);
    assert.throws(() => parseConnectionUrl('jdbc:postgresql://a:1,b:2/db'), /several hosts/);
  });

  it('names the key in cross-key errors', () => {
    assert.throws(() => sinkSettings({ ...base, 'delete.enabled': 'true', 'pk.mode': 'record_value' }), (error: Error) => error instanceof ConnectConfigException && error.key === 'delete.enabled' && /pk.mode=record_key/.test(error.message));
    assert.throws(() => sinkSettings({ ...base, 'insert.mode': 'upsert' }), (error: Error) => error instanceof ConnectConfigException && error.key === 'insert.mode');
    assert.throws(() => sinkSettings({ ...base, 'insert.mode': 'merge' }), /insert.mode/);
    assert.throws(() => sinkSettings({ ...base, 'db.timezone': 'Mars/Base' }), /db.timezone/);
    const settings = sinkSettings({ ...base, 'pk.mode': 'kafka', 'connection.user': 'other' });
    assert.deepEqual(settings.pkFields, ['__connect_topic', '__connect_partition', '__connect_offset']);
    assert.equal(settings.connection.user, 'other');
  });

  it('tells transient database errors from permanent ones', () => {
    const withCode = (code: string) => Object.assign(new Error('x'), { code });
    for (const code of ['08006', '40001', '40P01', '57P01', 'ECONNREFUSED']) assert.ok(isRetriable(withCode(code)), code);
    for (const code of ['23502', '23505', '42P01']) assert.ok(!isRetriable(withCode(code)), code);
    assert.ok(isRetriable(new Error('Connection terminated unexpectedly')));
  });
});
