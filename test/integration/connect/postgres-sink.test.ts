// The PostgreSQL sink connector against a real PostgreSQL (test/support/postgres-server.ts) and a
// real broker, records produced with kafkajs as JsonConverter envelopes (schema + payload) and
// read by a real Connect worker: auto.create with the column types of every Connect type,
// upsert by struct and primitive keys with replays (the same keys again, and the connector's
// offsets reset), update mode, pk.mode=kafka and record_value, auto.evolve, tombstone deletes,
// bad configs (validate, FAILED connector, unreachable database), a NOT NULL violation failing
// the task or going to the dead letter queue, PostgreSQL restarted under a running task, and a
// worker process killed with SIGKILL mid-stream whose replacement replays into an upsert table.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Admin, Kafka, type Producer, logLevel } from 'kafkajs';
import pg from 'pg';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../../support/postgres-server.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { type WorkerProcess, createConnector, distributedWorkerProperties, rest, startWorker, stopWorkers, type Status } from './worker-processes.js';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';
const SINK = 'conveyor.connect.postgres.PostgresSinkConnector';
const skip = postgresUnavailable();

type FieldSchema = { field: string; type: string; optional: boolean; name?: string; version?: number; parameters?: Record<string, string>; items?: unknown; default?: unknown };
const struct = (fields: FieldSchema[], name?: string) => ({ type: 'struct', optional: false, fields, ...(name ? { name } : {}) });
const field = (name: string, type: string, optional = false, extra: Partial<FieldSchema> = {}): FieldSchema => ({ field: name, type, optional, ...extra });
/** A JsonConverter envelope (schemas.enable=true). */
const envelope = (schema: unknown, payload: unknown) => JSON.stringify({ schema, payload });

/** Runs one query on a connection of its own (the server may have been restarted since the last). */
async function query<R extends pg.QueryResultRow = Record<string, unknown>>(server: PostgresServer, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL sink connector', { skip }, () => {
  let postgres: PostgresServer;
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect;
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  const running = new Set<string>();

  before(async () => {
    postgres = await startPostgres();
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': JSON_CONVERTER,
        'value.converter': JSON_CONVERTER,
        'key.converter.schemas.enable': 'true',
        'value.converter.schemas.enable': 'true',
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        'offset.flush.interval.ms': '300',
        'task.shutdown.graceful.timeout.ms': '5000',
        listeners: 'http://127.0.0.1:0',
      },
    });
    kafka = new Kafka({ clientId: 'pg-sink-test', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });

  afterEach(async () => {
    for (const name of running) await connect.herder.deleteConnector(name).catch(() => undefined);
    running.clear();
  });

  after(async () => {
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await connect?.close().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    await postgres?.stop();
    await dir?.remove();
  });

  async function topic(prefix: string, numPartitions = 1): Promise<string> {
    const name = uniqueTopic(prefix);
    await admin.createTopics({ topics: [{ topic: name, numPartitions }], waitForLeaders: true });
    return name;
  }

  function base(topicName: string, extra: Record<string, string>): Record<string, string> {
    return { 'connector.class': SINK, 'tasks.max': '1', topics: topicName, 'connection.url': `jdbc:postgresql://127.0.0.1:${postgres.port}/postgres?user=postgres`, ...extra };
  }

  async function startSink(name: string, config: Record<string, string>): Promise<void> {
    await connect.herder.putConnectorConfig(name, { name, ...config }, false);
    running.add(name);
    await waitFor(async () => (await connect.herder.connectorStatus(name)).tasks[0]?.state === 'RUNNING', `${name}'s task to run`);
  }

  async function taskState(name: string): Promise<{ state: string; trace?: string }> {
    return (await connect.herder.connectorStatus(name)).tasks[0] ?? { state: 'none' };
  }

  /** Waits until `sql` returns rows for which `ready` holds; returns them. */
  async function rowsWhen<R extends pg.QueryResultRow>(sql: string, ready: (rows: R[]) => boolean, description: string, timeoutMs = 15_000): Promise<R[]> {
    return waitFor(async () => {
      const rows = await query<R>(postgres, sql).catch(() => undefined);
      return rows !== undefined && ready(rows) ? rows : false;
    }, description, timeoutMs);
  }

  it('insert mode with auto.create: a table with a column of the right type per field, rows equal to what was produced', async () => {
    const name = await topic('sensor-data');
    const schema = struct([
      field('id', 'int32'),
      field('name', 'string', true),
      field('small', 'int16'),
      field('views', 'int64'),
      field('temperature', 'double'),
      field('ratio', 'float', true),
      field('ok', 'boolean'),
      field('blob', 'bytes', true),
      field('price', 'bytes', false, { name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2' } }),
      field('day', 'int32', false, { name: 'org.apache.kafka.connect.data.Date', version: 1 }),
      field('at', 'int32', false, { name: 'org.apache.kafka.connect.data.Time', version: 1 }),
      field('ts', 'int64', false, { name: 'org.apache.kafka.connect.data.Timestamp', version: 1 }),
      field('tags', 'array', true, { items: { type: 'string', optional: false } }),
    ], 'com.example.Reading');
    // 9007199254740993 = 2^53 + 1 survives only as a bigint; "MDk=" is 0x3039 = 12345 (123.45 at scale 2).
    const first = `{"schema":${JSON.stringify(schema)},"payload":{"id":1,"name":"Ada","small":-3,"views":9007199254740993,"temperature":21.5,"ratio":0.25,"ok":true,"blob":"AQID","price":"MDk=","day":19782,"at":3723004,"ts":1709208000123,"tags":["a","b\\"c"]}}`;
    const second = envelope(schema, { id: 2, name: null, small: 0, views: 0, temperature: -1e-3, ratio: null, ok: false, blob: null, price: 'AA==', day: 0, at: 0, ts: 0, tags: null });
    await producer.send({ topic: name, messages: [{ value: first }, { value: second }] });
    await startSink('insert-create', base(name, { 'auto.create': 'true' }));

    const rows = await rowsWhen<Record<string, string | null>>(
      `SELECT id, name, small, views::text AS views, temperature, ratio, ok, encode(blob, 'hex') AS blob, price::text AS price, day::text AS day, at::text AS at, ts::text AS ts, tags::text AS tags FROM "${name}" ORDER BY id`,
      (found) => found.length === 2, 'two rows');
    assert.deepEqual(rows, [
      { id: 1, name: 'Ada', small: -3, views: '9007199254740993', temperature: 21.5, ratio: 0.25, ok: true, blob: '010203', price: '123.45', day: '2024-02-29', at: '01:02:03.004', ts: '2024-02-29 12:00:00.123', tags: '{a,"b\\"c"}' },
      { id: 2, name: null, small: 0, views: '0', temperature: -0.001, ratio: null, ok: false, blob: null, price: '0.00', day: '1970-01-01', at: '00:00:00', ts: '1970-01-01 00:00:00', tags: null },
    ]);
    const columns = await query<{ column_name: string; data_type: string; is_nullable: string }>(postgres,
      'SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', [name]);
    assert.deepEqual(columns.map((column) => `${column.column_name} ${column.data_type} ${column.is_nullable}`), [
      'id integer NO', 'name text YES', 'small smallint NO', 'views bigint NO', 'temperature double precision NO', 'ratio real YES', 'ok boolean NO',
      'blob bytea YES', 'price numeric NO', 'day date NO', 'at time without time zone NO', 'ts timestamp without time zone NO', 'tags ARRAY YES',
    ]);
  });

  it('upsert by a struct key: replayed records (the same keys again, then the offsets reset) leave one row per key with the latest value', async () => {
    const name = await topic('upsert-struct', 2);
    const keySchema = struct([field('region', 'string'), field('sensor', 'int32')]);
    const valueSchema = struct([field('region', 'string'), field('sensor', 'int32'), field('reading', 'double'), field('seq', 'int32')]);
    const messages = (seqBase: number) => Array.from({ length: 30 }, (_, index) => {
      const key = { region: index % 2 === 0 ? 'north' : 'south', sensor: index % 5 };
      return { key: envelope(keySchema, key), value: envelope(valueSchema, { ...key, reading: index * 1.5, seq: seqBase + index }) };
    });
    await producer.send({ topic: name, messages: messages(0) });
    await startSink('upsert-struct', base(name, { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_key' }));
    // 10 distinct keys; the last record of each key has the highest seq for it.
    const latest = (seqBase: number) => {
      const byKey = new Map<string, number>();
      messages(seqBase).forEach((message) => {
        const value = JSON.parse(message.value).payload;
        byKey.set(`${value.region}/${value.sensor}`, value.seq);
      });
      return [...byKey].sort(([a], [b]) => a.localeCompare(b));
    };
    const table = `SELECT region || '/' || sensor AS key, seq FROM "${name}" ORDER BY 1`;
    const asPairs = (rows: { key: string; seq: number }[]) => rows.map((row) => [row.key, row.seq]);
    await rowsWhen<{ key: string; seq: number }>(table, (rows) => JSON.stringify(asPairs(rows)) === JSON.stringify(latest(0)), 'one row per key, latest values');

    await producer.send({ topic: name, messages: messages(100) });
    await rowsWhen<{ key: string; seq: number }>(table, (rows) => JSON.stringify(asPairs(rows)) === JSON.stringify(latest(100)), 'the second round\'s values');

    // Every record again from offset 0: the table ends as it was.
    await connect.herder.stopConnector('upsert-struct');
    await waitFor(async () => (await connect.herder.connectorStatus('upsert-struct')).connector.state === 'STOPPED', 'the connector to stop');
    await connect.herder.resetConnectorOffsets('upsert-struct');
    await query(postgres, `UPDATE "${name}" SET reading = -1`);
    await connect.herder.resumeConnector('upsert-struct');
    const replayed = await rowsWhen<{ key: string; seq: number; reading: number }>(`SELECT region || '/' || sensor AS key, seq, reading FROM "${name}" ORDER BY 1`,
      (rows) => rows.every((row) => row.reading !== -1), 'the replay to rewrite every row');
    assert.deepEqual(asPairs(replayed), latest(100), 'after the replay: the latest value of each key, once');
    const primaryKey = await query<{ attname: string }>(postgres, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '"${name}"'::regclass AND i.indisprimary ORDER BY a.attname`);
    assert.deepEqual(primaryKey.map((row) => row.attname), ['region', 'sensor'], 'the key struct\'s fields are the primary key');
  });

  it('upsert by a primitive key with pk.fields, several records per key in one put applied in order', async () => {
    const name = await topic('upsert-primitive');
    const valueSchema = struct([field('status', 'string'), field('n', 'int64')]);
    const keyOf = (id: string) => envelope({ type: 'string', optional: false }, id);
    await producer.send({ topic: name, messages: Array.from({ length: 60 }, (_, index) => ({ key: keyOf(`device-${index % 4}`), value: envelope(valueSchema, { status: `s${index}`, n: index }) })) });
    await startSink('upsert-primitive', base(name, { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'device_id' }));
    const rows = await rowsWhen<{ device_id: string; status: string; n: string }>(`SELECT device_id, status, n FROM "${name}" ORDER BY device_id`, (found) => found.length === 4 && found[3]!.n === '59', 'four rows');
    assert.deepEqual(rows, [
      { device_id: 'device-0', status: 's56', n: '56' }, { device_id: 'device-1', status: 's57', n: '57' },
      { device_id: 'device-2', status: 's58', n: '58' }, { device_id: 'device-3', status: 's59', n: '59' },
    ]);
  });

  it('update mode changes existing rows only; pk.mode=record_value with pk.fields', async () => {
    const name = await topic('update-mode');
    await query(postgres, `CREATE TABLE "${name}" (id INTEGER PRIMARY KEY, label TEXT NOT NULL, extra TEXT DEFAULT 'kept')`);
    await query(postgres, `INSERT INTO "${name}" (id, label) VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
    const schema = struct([field('id', 'int32'), field('label', 'string')]);
    await producer.send({ topic: name, messages: [{ value: envelope(schema, { id: 2, label: 'TWO' }) }, { value: envelope(schema, { id: 9, label: 'nine' }) }, { value: envelope(schema, { id: 3, label: 'THREE' }) }] });
    await startSink('update-mode', base(name, { 'insert.mode': 'update', 'pk.mode': 'record_value', 'pk.fields': 'id' }));
    const rows = await rowsWhen<{ id: number; label: string; extra: string }>(`SELECT id, label, extra FROM "${name}" ORDER BY id`, (found) => found[2]?.label === 'THREE', 'the updates');
    assert.deepEqual(rows, [{ id: 1, label: 'one', extra: 'kept' }, { id: 2, label: 'TWO', extra: 'kept' }, { id: 3, label: 'THREE', extra: 'kept' }], 'no row for id 9; other columns untouched');
  });

  it('pk.mode=kafka: the topic, partition and offset are the primary key; fields.whitelist limits the columns', async () => {
    const name = await topic('kafka-pk', 2);
    const schema = struct([field('a', 'string'), field('b', 'string'), field('secret', 'string')]);
    await producer.send({ topic: name, messages: [0, 1, 2, 3].map((index) => ({ partition: index % 2, value: envelope(schema, { a: `a${index}`, b: `b${index}`, secret: 'x' }) })) });
    await startSink('kafka-pk', base(name, { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'kafka', 'fields.whitelist': 'a,b' }));
    const rows = await rowsWhen<Record<string, unknown>>(`SELECT * FROM "${name}" ORDER BY __connect_partition, __connect_offset`, (found) => found.length === 4, 'four rows');
    assert.deepEqual(rows, [
      { __connect_topic: name, __connect_partition: 0, __connect_offset: '0', a: 'a0', b: 'b0' },
      { __connect_topic: name, __connect_partition: 0, __connect_offset: '1', a: 'a2', b: 'b2' },
      { __connect_topic: name, __connect_partition: 1, __connect_offset: '0', a: 'a1', b: 'b1' },
      { __connect_topic: name, __connect_partition: 1, __connect_offset: '1', a: 'a3', b: 'b3' },
    ]);
  });

  it('auto.evolve adds a column for a new optional field (earlier rows NULL) and refuses a new required field without a default', async () => {
    const name = await topic('evolve');
    const v1 = struct([field('id', 'int32'), field('a', 'string')]);
    const v2 = struct([field('id', 'int32'), field('a', 'string'), field('b', 'int64', true), field('c', 'string', false, { default: 'dflt' })]);
    await producer.send({ topic: name, messages: [{ value: envelope(v1, { id: 1, a: 'x' }) }, { value: envelope(v2, { id: 2, a: 'y', b: 7, c: 'z' }) }] });
    await startSink('evolve', base(name, { 'auto.create': 'true', 'auto.evolve': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_value', 'pk.fields': 'id' }));
    const rows = await rowsWhen<{ id: number; a: string; b: string | null; c: string }>(`SELECT id, a, b, c FROM "${name}" ORDER BY id`, (found) => found.length === 2, 'both rows');
    assert.deepEqual(rows, [{ id: 1, a: 'x', b: null, c: 'dflt' }, { id: 2, a: 'y', b: '7', c: 'z' }], 'row 1 has NULL in the added optional column, the default in the added defaulted one');

    const v3 = struct([field('id', 'int32'), field('a', 'string'), field('mandatory', 'int32')]);
    await producer.send({ topic: name, messages: [{ value: envelope(v3, { id: 3, a: 'w', mandatory: 1 }) }] });
    const failed = await waitFor(async () => {
      const state = await taskState('evolve');
      return state.state === 'FAILED' ? state : false;
    }, 'the task to fail');
    assert.match(failed.trace ?? '', /cannot add the column mandatory .*required and has no default/);
  });

  it('delete.enabled: a tombstone deletes the row of its key, in order with the writes of the same put', async () => {
    const name = await topic('deletes');
    const keySchema = struct([field('id', 'int32')]);
    const valueSchema = struct([field('id', 'int32'), field('v', 'string')]);
    const write = (id: number, v: string) => ({ key: envelope(keySchema, { id }), value: envelope(valueSchema, { id, v }) });
    const tombstone = (id: number) => ({ key: envelope(keySchema, { id }), value: null });
    await producer.send({ topic: name, messages: [write(1, 'a'), write(2, 'b'), write(3, 'c'), tombstone(1), write(2, 'b2'), tombstone(2), write(2, 'b3'), tombstone(99)] });
    await startSink('deletes', base(name, { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'delete.enabled': 'true' }));
    const table = `SELECT id, v FROM "${name}" ORDER BY id`;
    await rowsWhen(table, (rows) => JSON.stringify(rows) === JSON.stringify([{ id: 2, v: 'b3' }, { id: 3, v: 'c' }]), 'ids 2 (re-written after its delete) and 3');
    await producer.send({ topic: name, messages: [tombstone(3)] });
    await rowsWhen(table, (rows) => JSON.stringify(rows) === JSON.stringify([{ id: 2, v: 'b3' }]), 'id 3 deleted by a later tombstone');
  });

  it('bad configurations: validate names insert.mode; delete.enabled without record_key fails the connector; an unreachable database fails the task', async () => {
    const validation = await connect.herder.validateConnectorConfig(SINK, base('t', { 'insert.mode': 'merge', 'pk.mode': 'everything' }));
    const errors = Object.fromEntries(validation.configs.filter((entry) => entry.value.errors.length > 0).map((entry) => [entry.value.name, entry.value.errors.join(' ')]));
    assert.match(errors['insert.mode'] ?? '', /Invalid value merge for configuration insert.mode: String must be one of: insert, upsert, update/);
    assert.match(errors['pk.mode'] ?? '', /pk.mode/);
    const missing = await connect.herder.validateConnectorConfig(SINK, { 'connector.class': SINK, topics: 't' });
    assert.ok(missing.configs.some((entry) => entry.value.name === 'connection.url' && entry.value.errors.some((error) => /connection.url/.test(error))), 'connection.url is required');

    const name = await topic('bad-config');
    await connect.herder.putConnectorConfig('bad-delete', { name: 'bad-delete', ...base(name, { 'delete.enabled': 'true', 'pk.mode': 'record_value' }) }, false);
    running.add('bad-delete');
    const status = await waitFor(async () => {
      const current = await connect.herder.connectorStatus('bad-delete');
      return current.connector.state === 'FAILED' ? current : false;
    }, 'the connector to fail');
    assert.match(status.connector.trace ?? '', /delete.enabled=true needs pk.mode=record_key/);

    const closedPort = postgres.port === 1 ? 2 : 1;
    await connect.herder.putConnectorConfig('unreachable', { name: 'unreachable', ...base(name, { 'connection.url': `postgresql://postgres@127.0.0.1:${closedPort}/postgres`, 'connection.attempts': '2', 'connection.backoff.ms': '50' }) }, false);
    running.add('unreachable');
    const task = await waitFor(async () => {
      const state = await taskState('unreachable');
      return state.state === 'FAILED' ? state : false;
    }, 'the task to fail');
    assert.match(task.trace ?? '', new RegExp(`could not connect to PostgreSQL at 127.0.0.1:${closedPort}/postgres \\(connection.url\\) after 2 attempt\\(s\\): .*ECONNREFUSED`));
  });

  it('a schemaless value (JsonConverter with schemas.enable=false) fails the task with a message saying schemas are needed', async () => {
    const name = await topic('schemaless');
    await producer.send({ topic: name, messages: [{ value: JSON.stringify({ id: 1, v: 'x' }) }] });
    await connect.herder.putConnectorConfig('schemaless', { name: 'schemaless', ...base(name, { 'auto.create': 'true', 'value.converter': JSON_CONVERTER, 'value.converter.schemas.enable': 'false' }) }, false);
    running.add('schemaless');
    const failed = await waitFor(async () => {
      const state = await taskState('schemaless');
      return state.state === 'FAILED' ? state : false;
    }, 'the task to fail');
    assert.match(failed.trace ?? '', new RegExp(`${name}-0 offset 0 has no value schema: the PostgreSQL sink writes Struct values with schemas`));
  });

  it('a NOT NULL violation fails the task with PostgreSQL\'s message; with errors.tolerance=all the refused records go to the dead letter queue', async () => {
    const name = await topic('not-null');
    await query(postgres, `CREATE TABLE "${name}" (id INTEGER PRIMARY KEY, label TEXT NOT NULL)`);
    const schema = struct([field('id', 'int32'), field('label', 'string', true)]);
    await producer.send({ topic: name, messages: [1, 2, 3, 4].map((id) => ({ value: envelope(schema, { id, label: id % 2 === 0 ? null : `l${id}` }) })) });
    await connect.herder.putConnectorConfig('not-null-fail', { name: 'not-null-fail', ...base(name, {}) }, false);
    running.add('not-null-fail');
    const failed = await waitFor(async () => {
      const state = await taskState('not-null-fail');
      return state.state === 'FAILED' ? state : false;
    }, 'the task to fail');
    assert.match(failed.trace ?? '', /null value in column "label".*violates not-null constraint/);
    assert.equal((await query(postgres, `SELECT * FROM "${name}"`)).length, 0, 'nothing of the failed transaction is in the table');

    const dlq = uniqueTopic('pg-dlq');
    await startSink('not-null-dlq', base(name, { 'errors.tolerance': 'all', 'errors.deadletterqueue.topic.name': dlq, 'errors.deadletterqueue.topic.replication.factor': '1' }));
    const rows = await rowsWhen<{ id: number }>(`SELECT id FROM "${name}" ORDER BY id`, (found) => found.length === 2, 'the two good rows');
    assert.deepEqual(rows.map((row) => row.id), [1, 3]);
    await waitFor(async () => (await admin.fetchTopicOffsets(dlq).catch(() => [])).reduce((sum, partition) => sum + Number(partition.high), 0) === 2, 'two records in the dead letter queue');
    assert.equal((await taskState('not-null-dlq')).state, 'RUNNING');
  });

  it('PostgreSQL restarted while the connector runs: the task retries and the table ends complete', async () => {
    const name = await topic('pg-restart');
    const schema = struct([field('id', 'int32'), field('payload', 'string')]);
    const batch = (from: number) => Array.from({ length: 100 }, (_, index) => ({ key: envelope({ type: 'int32', optional: false }, from + index), value: envelope(schema, { id: from + index, payload: `p${from + index}` }) }));
    await startSink('pg-restart', base(name, { 'auto.create': 'true', 'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'key_id', 'max.retries': '2', 'retry.backoff.ms': '200', 'batch.size': '25' }));
    await producer.send({ topic: name, messages: batch(0) });
    await rowsWhen(`SELECT count(*)::int AS n FROM "${name}"`, (rows) => rows[0]?.n === 100, 'the first 100 rows');
    const restarting = postgres.restart();
    for (let from = 100; from < 400; from += 100) await producer.send({ topic: name, messages: batch(from) });
    await restarting;
    await producer.send({ topic: name, messages: batch(400) });
    const rows = await rowsWhen<{ n: number; good: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE payload = 'p' || key_id)::int AS good FROM "${name}"`, (found) => found[0]?.n === 500, 'all 500 rows', 30_000);
    assert.deepEqual(rows[0], { n: 500, good: 500 });
    assert.equal((await taskState('pg-restart')).state, 'RUNNING', 'the task never failed');
  });
});

describe('PostgreSQL sink connector: a worker process killed with SIGKILL mid-stream', { skip }, () => {
  let postgres: PostgresServer;
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  const workers: WorkerProcess[] = [];

  before(async () => {
    postgres = await startPostgres();
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await broker?.close().catch(() => undefined);
    await postgres?.stop();
    await dir?.remove();
  });

  it('the replacement worker replays what was not committed and the upsert table equals the source', async () => {
    const group = uniqueTopic('pg-sink-crash');
    const properties = join(dir.path, 'worker.properties');
    await writeFile(properties, distributedWorkerProperties(broker.running.bootstrapServers, group, 6_000, {
      'key.converter': JSON_CONVERTER, 'value.converter': JSON_CONVERTER, 'offset.flush.interval.ms': '3000',
    }));
    const kafka = new Kafka({ clientId: 'pg-sink-crash', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    try {
      const name = uniqueTopic('pg-crash-data');
      await admin.createTopics({ topics: [{ topic: name, numPartitions: 3 }], waitForLeaders: true });
      // A trigger counts every row written, so the replay shows as more writes than records kept.
      await query(postgres, `CREATE TABLE "${name}" (sensor INTEGER PRIMARY KEY, seq INTEGER NOT NULL, reading DOUBLE PRECISION)`);
      await query(postgres, 'CREATE TABLE writes (n BIGINT NOT NULL); INSERT INTO writes VALUES (0)');
      await query(postgres, `CREATE FUNCTION count_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE writes SET n = n + 1; RETURN NEW; END $$;
        CREATE TRIGGER counted BEFORE INSERT OR UPDATE ON "${name}" FOR EACH ROW EXECUTE FUNCTION count_write()`);

      workers.push(await startWorker(properties));
      await createConnector(workers[0]!, { name: 'pg-crash', config: {
        'connector.class': 'PostgresSink', 'tasks.max': '1', topics: name, 'connection.url': postgres.url(),
        'insert.mode': 'upsert', 'pk.mode': 'record_key', 'pk.fields': 'sensor', 'batch.size': '50',
      } });
      const schema = struct([field('seq', 'int32'), field('reading', 'double')]);
      const SENSORS = 150;
      const latest = new Map<number, number>();
      let seq = 0;
      const produce = async (count: number) => {
        const messages = Array.from({ length: count }, () => {
          const sensor = seq % SENSORS;
          latest.set(sensor, seq);
          const message = { key: envelope({ type: 'int32', optional: false }, sensor), value: envelope(schema, { seq, reading: seq / 10 }) };
          seq++;
          return message;
        });
        await producer.send({ topic: name, messages });
      };
      for (let round = 0; round < 10; round++) await produce(100);
      await tableRowsWhen(postgres, `SELECT count(*)::int AS n FROM "${name}"`, (rows) => rows[0]?.n === SENSORS, 'the sink to write rows');
      // More records, then the kill while the task works through them (offsets flush every 3 s).
      const writer = (async () => {
        for (let round = 0; round < 20; round++) {
          await produce(100);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 200));
      workers[0]!.child.kill('SIGKILL');
      await writer;
      const writesAtKill = Number((await query<{ n: string }>(postgres, 'SELECT n FROM writes'))[0]!.n);

      workers.push(await startWorker(properties));
      const expected = [...latest].sort(([a], [b]) => a - b).map(([sensor, last]) => ({ sensor, seq: last }));
      const table = await tableRowsWhen(postgres, `SELECT sensor, seq FROM "${name}" ORDER BY sensor`, (rows) => JSON.stringify(rows) === JSON.stringify(expected), 'the table to equal the latest value of each sensor', 60_000)
        .catch((error: Error) => {
          throw new Error(`${error.message}\n${workers[1]!.stderr.split('\n').slice(-20).join('\n')}`);
        });
      assert.equal(table.length, SENSORS);
      // Statuses come through the status topic and may trail the data for a moment.
      await waitFor(async () => {
        const status = (await rest<Status>(workers[1]!.url, 'GET', '/connectors/pg-crash/status')).body;
        return status.tasks[0]?.state === 'RUNNING' && status.tasks[0].worker_id === workers[1]!.workerId;
      }, 'the task to run on the new worker');
      const writes = Number((await query<{ n: string }>(postgres, 'SELECT n FROM writes'))[0]!.n);
      process.stderr.write(`# ${seq} records into ${SENSORS} rows: ${writes} row writes in all, ${writesAtKill} before the kill\n`);
      await stopWorkers([workers[1]!]);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  });
});

/** Waits until `sql` on `server` returns rows for which `ready` holds; returns them. */
async function tableRowsWhen<R extends pg.QueryResultRow>(server: PostgresServer, sql: string, ready: (rows: R[]) => boolean, description: string, timeoutMs = 15_000): Promise<R[]> {
  return waitFor(async () => {
    const rows = await query<R>(server, sql).catch(() => undefined);
    return rows !== undefined && ready(rows) ? rows : false;
  }, description, timeoutMs);
}
