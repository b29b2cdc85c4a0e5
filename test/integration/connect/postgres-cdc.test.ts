// The PostgreSQL change data capture source end to end: a real PostgreSQL (initdb'd for the test,
// wal_level=logical), a real Conveyor broker and a standalone worker running the connector under
// Debezium's class name. Events are read back from the topics with JsonConverter's envelope and
// checked field by field: the snapshot (op r), then inserts, updates, deletes and tombstones in
// commit order; Debezium's type mapping; exactly once across a worker restart with changes made
// while it was down, and the slot's confirmed position never ahead of the stored offsets; a
// PostgreSQL restart mid-stream; a column added mid-stream (and heartbeats); bad configurations; two
// tables captured by one connector, each into its own topic.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../../support/postgres-server.js';
import { type TestBroker, readAll, startTestBroker, temporaryDirectory, waitFor } from '../helpers.js';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

interface Event {
  offset: number;
  key: { schema: Record<string, unknown>; payload: Record<string, unknown> } | null;
  value: { schema: Record<string, unknown>; payload: Record<string, any> } | null;
}

describe('PostgreSQL CDC source (Debezium envelope)', { skip: postgresUnavailable() }, () => {
  let postgres: PostgresServer;
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let db: pg.Client;

  before(async () => {
    [postgres, broker, dir] = await Promise.all([startPostgres(), startTestBroker(), temporaryDirectory()]);
    db = await connectDb();
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    await postgres?.stop();
    await broker?.close();
    await dir?.remove();
  });

  async function connectDb(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: postgres.url() });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  function worker(flushMs = 200, offsetsFile = 'connect.offsets'): Record<string, string> {
    return {
      'bootstrap.servers': broker.running.bootstrapServers,
      'key.converter': JSON_CONVERTER,
      'value.converter': JSON_CONVERTER,
      'offset.storage.file.filename': join(dir.path, offsetsFile),
      'offset.flush.interval.ms': String(flushMs),
      'task.shutdown.graceful.timeout.ms': '5000',
      listeners: 'http://127.0.0.1:0',
    };
  }

  /** A connector config for the tables matching `tables`, with its own slot, publication and prefix. */
  function source(name: string, tables: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      name,
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '3',
      'database.hostname': postgres.host,
      'database.port': String(postgres.port),
      'database.user': postgres.user,
      'database.dbname': 'postgres',
      'topic.prefix': name,
      'plugin.name': 'pgoutput',
      'slot.name': `slot_${name.replaceAll('-', '_')}`,
      'publication.name': `pub_${name.replaceAll('-', '_')}`,
      'publication.autocreate.mode': 'filtered',
      'table.include.list': tables,
      'status.update.interval.ms': '500',
      ...extra,
    };
  }

  async function events(topic: string): Promise<Event[]> {
    let batches;
    try {
      batches = await readAll(broker.client, topic, 0);
    } catch {
      return [];
    }
    return batches.flatMap((batch) => batch.records.map((record) => ({
      offset: record.offset,
      key: record.key === null ? null : JSON.parse(record.key.toString()),
      value: record.value === null ? null : JSON.parse(record.value.toString()),
    })));
  }

  async function waitEvents(topic: string, count: number, timeoutMs = 30_000): Promise<Event[]> {
    return waitFor(async () => {
      const got = await events(topic);
      return got.length >= count && got;
    }, `${count} events in ${topic}`, timeoutMs);
  }

  async function startWith(connect: RunningConnect, config: Record<string, string>): Promise<void> {
    await connect.herder.putConnectorConfig(config.name!, config, false);
    await waitFor(async () => (await connect.herder.connectorStatus(config.name!)).tasks[0]?.state === 'RUNNING', `${config.name}'s task to run`);
  }

  async function confirmedFlush(slot: string): Promise<bigint> {
    const row = (await db.query('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0];
    return lsnValue(row.lsn);
  }

  it('snapshots existing rows, then streams inserts, updates, deletes and tombstones in commit order', async () => {
    await db.query('CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email varchar(100))');
    await db.query(`INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Grace', NULL)`);
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc1', 'public\\.customers'));
      const status = await connect.herder.connectorStatus('cdc1');
      assert.equal(status.tasks.length, 1, 'one task whatever tasks.max says');
      const topic = 'cdc1.public.customers';
      const snapshot = await waitEvents(topic, 2);
      assert.deepEqual(snapshot.map((event) => [event.key?.payload.id, event.value?.payload.op, event.value?.payload.source.snapshot]), [[1, 'r', 'true'], [2, 'r', 'last']]);
      const first = snapshot[0]!;
      assert.equal(first.key!.schema.name, 'cdc1.public.customers.Key');
      assert.deepEqual(first.key!.schema.fields, [{ type: 'int32', optional: false, field: 'id' }]);
      assert.equal(first.value!.schema.name, 'cdc1.public.customers.Envelope');
      const fieldNames = (first.value!.schema.fields as { field: string }[]).map((field) => field.field);
      for (const name of ['before', 'after', 'source', 'op', 'ts_ms', 'transaction']) assert.ok(fieldNames.includes(name), `envelope has ${name}`);
      const afterSchema = (first.value!.schema.fields as any[]).find((field) => field.field === 'after');
      assert.equal(afterSchema.name, 'cdc1.public.customers.Value');
      assert.deepEqual(afterSchema.fields.map((field: any) => [field.field, field.type, field.optional]), [['id', 'int32', false], ['name', 'string', false], ['email', 'string', true]]);
      assert.deepEqual(first.value!.payload.after, { id: 1, name: 'Ada', email: 'ada@example.com' });
      assert.equal(first.value!.payload.before, null);
      assert.equal(first.value!.payload.transaction, null);
      const snapSource = first.value!.payload.source;
      assert.deepEqual([snapSource.connector, snapSource.name, snapSource.db, snapSource.schema, snapSource.table], ['postgresql', 'cdc1', 'postgres', 'public', 'customers']);
      assert.ok(typeof snapSource.lsn === 'number' && snapSource.lsn > 0, 'the snapshot names its consistent point');

      await db.query(`INSERT INTO customers VALUES (3, 'Edsger', 'ed@example.com')`);
      await db.query('BEGIN');
      await db.query(`UPDATE customers SET name = 'Ada L.' WHERE id = 1`);
      await db.query('DELETE FROM customers WHERE id = 2');
      const txid = Number((await db.query('SELECT txid_current() AS x')).rows[0].x);
      await db.query('COMMIT');
      await db.query(`UPDATE customers SET email = 'e@example.com' WHERE id = 3`);
      const all = await waitEvents(topic, 7);
      const streamed = all.slice(2);
      assert.deepEqual(streamed.map((event) => [event.key?.payload.id, event.value?.payload.op ?? 'tombstone']), [
        [3, 'c'], [1, 'u'], [2, 'd'], [2, 'tombstone'], [3, 'u'],
      ]);
      const [insert, update, del, tombstone] = streamed;
      assert.deepEqual(insert!.value!.payload.after, { id: 3, name: 'Edsger', email: 'ed@example.com' });
      assert.equal(insert!.value!.payload.before, null);
      assert.deepEqual(update!.value!.payload.after, { id: 1, name: 'Ada L.', email: 'ada@example.com' });
      assert.equal(update!.value!.payload.before, null, 'REPLICA IDENTITY DEFAULT: no old row for an update');
      assert.equal(del!.value!.payload.after, null);
      assert.equal(del!.value!.payload.before.id, 2, 'the deleted row\'s key in before');
      assert.equal(del!.value!.payload.source.txId, txid, 'the transaction id of the change');
      assert.equal(update!.value!.payload.source.txId, txid, 'both changes of one transaction carry its id');
      assert.equal(tombstone!.value, null);
      assert.deepEqual(tombstone!.key!.payload, { id: 2 });
      const streamSource = insert!.value!.payload.source;
      assert.equal(streamSource.snapshot, 'false');
      assert.ok(streamSource.lsn >= snapSource.lsn, "streamed changes start at or after the snapshot's consistent point");
      assert.ok(Array.isArray(JSON.parse(streamSource.sequence)), 'sequence is a JSON array');
      assert.ok(del!.value!.payload.source.lsn > update!.value!.payload.source.lsn, 'LSNs grow within a transaction');
      assert.ok(typeof insert!.value!.payload.ts_ms === 'number');

      // REPLICA IDENTITY FULL: the whole old row in before.
      await db.query('ALTER TABLE customers REPLICA IDENTITY FULL');
      await db.query(`UPDATE customers SET name = 'E. W. Dijkstra' WHERE id = 3`);
      const [full] = (await waitEvents(topic, 8)).slice(7);
      assert.deepEqual(full!.value!.payload.before, { id: 3, name: 'Edsger', email: 'e@example.com' });
      assert.deepEqual(full!.value!.payload.after, { id: 3, name: 'E. W. Dijkstra', email: 'e@example.com' });

      // A changed primary key: a delete of the old key, its tombstone, a create of the new one.
      await db.query('UPDATE customers SET id = 30 WHERE id = 3');
      const moved = (await waitEvents(topic, 11)).slice(8);
      assert.deepEqual(moved.map((event) => [event.key?.payload.id, event.value?.payload.op ?? 'tombstone']), [[3, 'd'], [3, 'tombstone'], [30, 'c']]);
      const offsets = await connect.herder.connectorOffsets('cdc1');
      assert.deepEqual(offsets[0]?.partition, { server: 'cdc1' });
    } finally {
      await connect.close();
    }
  });

  it('maps column types as Debezium does', async () => {
    await db.query(`CREATE TABLE typed (
      id bigint PRIMARY KEY, small smallint, regular integer, big bigint, real_value real, double_value double precision,
      flag boolean, label text, code varchar(10), amount numeric(10,2), free numeric, born date, seen timestamp,
      seen_tz timestamptz, payload bytea, doc json, docb jsonb, uid uuid, at_time time, other inet)`);
    const row = `(9007199254740993, -3, 2147483647, -9007199254740993, 1.5, 2.25, true, 'héllo', 'abc', 12345.67, -0.00123,
      '2024-02-29', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.5+02', '\\x0102ff', '{"a": 1}', '{"b": [1, 2]}',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '01:02:03.25', '10.0.0.1')`;
    await db.query(`INSERT INTO typed VALUES ${row}`);
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc2', 'public\\.typed'));
      await db.query(`INSERT INTO typed VALUES ${row.replace('9007199254740993,', '1,')}`);
      await db.query('INSERT INTO typed (id) VALUES (2)');
      const [snap, streamed, nulls] = await waitEvents('cdc2.public.typed', 3);
      const fields = new Map((snap!.value!.schema.fields as any[]).find((field) => field.field === 'after').fields.map((field: any) => [field.field, field]));
      const schemaOf = (name: string) => {
        const field = fields.get(name) as any;
        return [field.type, field.name ?? null];
      };
      assert.deepEqual(schemaOf('small'), ['int16', null]);
      assert.deepEqual(schemaOf('regular'), ['int32', null]);
      assert.deepEqual(schemaOf('big'), ['int64', null]);
      assert.deepEqual(schemaOf('real_value'), ['float', null]);
      assert.deepEqual(schemaOf('double_value'), ['double', null]);
      assert.deepEqual(schemaOf('flag'), ['boolean', null]);
      assert.deepEqual(schemaOf('label'), ['string', null]);
      assert.deepEqual(schemaOf('code'), ['string', null]);
      assert.deepEqual(schemaOf('amount'), ['bytes', 'org.apache.kafka.connect.data.Decimal']);
      assert.deepEqual((fields.get('amount') as any).parameters, { scale: '2', 'connect.decimal.precision': '10' });
      assert.deepEqual(schemaOf('free'), ['struct', 'io.debezium.data.VariableScaleDecimal']);
      assert.deepEqual(schemaOf('born'), ['int32', 'io.debezium.time.Date']);
      assert.deepEqual(schemaOf('seen'), ['int64', 'io.debezium.time.MicroTimestamp']);
      assert.deepEqual(schemaOf('seen_tz'), ['string', 'io.debezium.time.ZonedTimestamp']);
      assert.deepEqual(schemaOf('payload'), ['bytes', null]);
      assert.deepEqual(schemaOf('doc'), ['string', 'io.debezium.data.Json']);
      assert.deepEqual(schemaOf('docb'), ['string', 'io.debezium.data.Json']);
      assert.deepEqual(schemaOf('uid'), ['string', 'io.debezium.data.Uuid']);
      assert.deepEqual(schemaOf('at_time'), ['int64', 'io.debezium.time.MicroTime']);
      assert.deepEqual(schemaOf('other'), ['string', null]);
      const expected = (id: number) => ({
        id, small: -3, regular: 2147483647, big: -9007199254740993, real_value: 1.5, double_value: 2.25, flag: true, label: 'héllo', code: 'abc',
        amount: Buffer.from([0x12, 0xd6, 0x87]).toString('base64'), // 1234567 unscaled
        free: { scale: 5, value: Buffer.from([0x85]).toString('base64') }, // -123 unscaled
        born: 19782, seen: 1709212455123456, seen_tz: '2024-02-29T11:14:15.5Z', payload: Buffer.from([1, 2, 255]).toString('base64'),
        doc: '{"a": 1}', docb: '{"b": [1, 2]}', uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', at_time: 3723250000, other: '10.0.0.1',
      });
      // JSON numbers lose the last digits of 2^53+1 in JavaScript: the snapshot's key is compared as text.
      const snapAfter = { ...snap!.value!.payload.after, id: 0 };
      assert.deepEqual(snapAfter, { ...expected(0), big: snap!.value!.payload.after.big });
      assert.deepEqual(streamed!.value!.payload.after, { ...expected(1), big: streamed!.value!.payload.after.big }, 'the stream converts like the snapshot');
      assert.equal(Math.abs(streamed!.value!.payload.after.big + 9007199254740993) <= 2, true);
      const nullRow = nulls!.value!.payload.after;
      assert.equal(nullRow.id, 2);
      for (const [name, value] of Object.entries(nullRow)) if (name !== 'id') assert.equal(value, null, `${name} is null`);
    } finally {
      await connect.close();
    }
  });

  it('sends a change made while the worker was down exactly once, and confirms the slot only after offsets are stored', async () => {
    await db.query('CREATE TABLE orders (id serial PRIMARY KEY, item text)');
    await db.query(`INSERT INTO orders (item) VALUES ('first')`);
    const slot = 'slot_cdc3';
    const config = source('cdc3', 'public\\.orders');
    // Offsets are stored only every minute: Kafka has the records long before they are committed.
    let connect = await startConnect({ worker: worker(60_000, 'cdc3.offsets') });
    try {
      await startWith(connect, config);
      await waitEvents('cdc3.public.orders', 1);
      const start = await confirmedFlush(slot);
      await db.query(`INSERT INTO orders (item) VALUES ('second')`);
      const afterSecond = lsnValue((await db.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn);
      await waitEvents('cdc3.public.orders', 2);
      // Several status updates go by (every 500 ms); none may confirm what is not committed yet.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.equal(await confirmedFlush(slot), start, 'the slot has not moved: the record is in Kafka but its offset is not stored');
      assert.ok(start < afterSecond);
      await connect.close(); // stores the offsets
    } catch (error) {
      await connect.close();
      throw error;
    }
    await db.query(`INSERT INTO orders (item) VALUES ('while down 1'), ('while down 2')`);
    await db.query(`UPDATE orders SET item = 'first, changed' WHERE id = 1`);
    const last = lsnValue((await db.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn);
    connect = await startConnect({ worker: worker(200, 'cdc3.offsets'), connectors: [config] });
    try {
      const all = await waitEvents('cdc3.public.orders', 5);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const settled = await events('cdc3.public.orders');
      assert.deepEqual(settled.map((event) => [event.value?.payload.op, event.value?.payload.after?.item]), [
        ['r', 'first'], ['c', 'second'], ['c', 'while down 1'], ['c', 'while down 2'], ['u', 'first, changed'],
      ], 'each change once, none repeated after the restart');
      assert.equal(all.length, 5);
      // Offsets are now stored every 200 ms: the slot follows them past the last change.
      await waitFor(async () => (await confirmedFlush(slot)) >= last, 'the slot to confirm the stored changes', 15_000);
    } finally {
      await connect.close();
    }
  });

  it('carries on through a PostgreSQL restart without losing a change', async () => {
    await db.query('CREATE TABLE events (id integer PRIMARY KEY, note text)');
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc4', 'public\\.events', { 'snapshot.mode': 'no_data', 'retriable.restart.connector.wait.ms': '500' }));
      await db.query(`INSERT INTO events VALUES (1, 'before')`);
      await waitEvents('cdc4.public.events', 1);
      await db.end();
      await postgres.restart();
      db = await connectDb();
      await db.query(`INSERT INTO events VALUES (2, 'after 1')`);
      await db.query(`INSERT INTO events VALUES (3, 'after 2')`);
      await waitEvents('cdc4.public.events', 3, 45_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const got = await events('cdc4.public.events');
      assert.deepEqual(got.map((event) => event.value?.payload.after.id), [1, 2, 3]);
      assert.equal((await connect.herder.connectorStatus('cdc4')).tasks[0]?.state, 'RUNNING');
    } finally {
      await connect.close();
    }
  });

  it('picks up a column added mid-stream', async () => {
    await db.query('CREATE TABLE products (id integer PRIMARY KEY, name text)');
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc5', 'public\\.products', { 'snapshot.mode': 'never', 'heartbeat.interval.ms': '300' }));
      await db.query(`INSERT INTO products VALUES (1, 'bolt')`);
      await waitEvents('cdc5.public.products', 1);
      await db.query('ALTER TABLE products ADD COLUMN price numeric(8,2) NOT NULL DEFAULT 0');
      await db.query(`INSERT INTO products VALUES (2, 'nut', 1.25)`);
      const [first, second] = await waitEvents('cdc5.public.products', 2);
      const columns = (event: Event) => (event.value!.schema.fields as any[]).find((field) => field.field === 'after').fields.map((field: any) => field.field);
      assert.deepEqual(columns(first!), ['id', 'name']);
      assert.deepEqual(columns(second!), ['id', 'name', 'price']);
      assert.equal(second!.value!.payload.after.price, Buffer.from([0x7d]).toString('base64'), '1.25 as a Decimal of scale 2');
      // Idle, the task sends heartbeats to __debezium-heartbeat.<prefix>.
      const [beat] = await waitEvents('__debezium-heartbeat.cdc5', 1, 10_000);
      assert.deepEqual(beat!.key!.payload, { serverName: 'cdc5' });
      assert.equal(typeof beat!.value!.payload.ts_ms, 'number');
    } finally {
      await connect.close();
    }
  });

  it('streams a transaction of 20,000 rows whole (the replication messages outlive the reads they came in)', async () => {
    await db.query('CREATE TABLE readings (id integer PRIMARY KEY, sensor text NOT NULL, value double precision)');
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc7', 'public\\.readings', { 'snapshot.mode': 'never' }));
      await db.query(`INSERT INTO readings SELECT n, 'sensor-' || (n % 100), n / 7.0 FROM generate_series(1, 20000) AS n`);
      const got = await waitEvents('cdc7.public.readings', 20_000, 60_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; status ${JSON.stringify(await connect.herder.connectorStatus('cdc7'))}`);
      });
      assert.equal(got.length, 20_000);
      assert.deepEqual(got.map((event) => event.key!.payload.id), Array.from({ length: 20_000 }, (_, index) => index + 1));
      assert.ok(got.every((event) => event.value!.payload.op === 'c' && event.value!.payload.after.sensor === `sensor-${(event.key!.payload.id as number) % 100}`));
    } finally {
      await connect.close();
    }
  });

  it('refuses bad configurations with a clear error', async () => {
    const connect = await startConnect({ worker: worker() });
    try {
      const { 'topic.prefix': _, ...withoutPrefix } = source('bad1', 'public\\.none');
      await assert.rejects(connect.herder.putConnectorConfig('bad1', withoutPrefix, false), /topic\.prefix/);
      await assert.rejects(connect.herder.putConnectorConfig('bad2', source('bad2', 'public\\.none', { 'plugin.name': 'decoderbufs' }), false), /plugin\.name.*pgoutput|decoderbufs.*plugin\.name/s);
      await assert.rejects(connect.herder.putConnectorConfig('bad3', source('bad3', 'public\\.none', { 'snapshot.mode': 'sometimes' }), false), /snapshot\.mode/);
      // An unreachable server: the task fails, its trace naming the address.
      await connect.herder.putConnectorConfig('bad4', source('bad4', 'public\\.none', { 'database.port': '1', 'database.connect.timeout.ms': '2000' }), false);
      const failed = await waitFor(async () => {
        const task = (await connect.herder.connectorStatus('bad4')).tasks[0];
        return task?.state === 'FAILED' && task;
      }, 'the task to fail');
      assert.match(failed.trace ?? '', /Could not connect to PostgreSQL at 127\.0\.0\.1:1/);
    } finally {
      await connect.close();
    }
  });

  it('captures two tables with one connector, each into its own <topic.prefix>.<schema>.<table> topic', async () => {
    await db.query('CREATE SCHEMA inventory');
    await db.query('CREATE TABLE inventory.items (sku text PRIMARY KEY, stock integer NOT NULL)');
    await db.query('CREATE TABLE public.shelves (aisle integer, position integer, label text, PRIMARY KEY (aisle, position))');
    await db.query('CREATE TABLE public.ignored (id integer PRIMARY KEY)');
    await db.query(`INSERT INTO inventory.items VALUES ('bolt', 10)`);
    await db.query(`INSERT INTO public.shelves VALUES (1, 2, 'top')`);
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc8', 'inventory\\.items,public\\.shelves'));
      await waitEvents('cdc8.inventory.items', 1);
      await waitEvents('cdc8.public.shelves', 1);
      // One transaction touching both tables (and one not captured): its changes split by table.
      await db.query('BEGIN');
      await db.query(`INSERT INTO inventory.items VALUES ('nut', 5)`);
      await db.query(`UPDATE public.shelves SET label = 'upper' WHERE aisle = 1 AND position = 2`);
      await db.query('INSERT INTO public.ignored VALUES (1)');
      await db.query(`UPDATE inventory.items SET stock = 9 WHERE sku = 'bolt'`);
      await db.query(`INSERT INTO public.shelves VALUES (3, 4, 'floor')`);
      await db.query('COMMIT');
      const items = await waitEvents('cdc8.inventory.items', 3);
      const shelves = await waitEvents('cdc8.public.shelves', 3);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.deepEqual((await events('cdc8.inventory.items')).length, 3, 'no change of another table in the items topic');
      assert.deepEqual((await events('cdc8.public.shelves')).length, 3, 'no change of another table in the shelves topic');
      assert.deepEqual(items.map((event) => [event.key?.payload, event.value?.payload.op, event.value?.payload.after]), [
        [{ sku: 'bolt' }, 'r', { sku: 'bolt', stock: 10 }],
        [{ sku: 'nut' }, 'c', { sku: 'nut', stock: 5 }],
        [{ sku: 'bolt' }, 'u', { sku: 'bolt', stock: 9 }],
      ]);
      assert.deepEqual(shelves.map((event) => [event.key?.payload, event.value?.payload.op, event.value?.payload.after]), [
        [{ aisle: 1, position: 2 }, 'r', { aisle: 1, position: 2, label: 'top' }],
        [{ aisle: 1, position: 2 }, 'u', { aisle: 1, position: 2, label: 'upper' }],
        [{ aisle: 3, position: 4 }, 'c', { aisle: 3, position: 4, label: 'floor' }],
      ]);
      assert.equal(items[0]!.key!.schema.name, 'cdc8.inventory.items.Key');
      assert.equal(shelves[0]!.key!.schema.name, 'cdc8.public.shelves.Key');
      assert.deepEqual([items[1]!.value!.payload.source.schema, items[1]!.value!.payload.source.table], ['inventory', 'items']);
      assert.deepEqual([shelves[2]!.value!.payload.source.schema, shelves[2]!.value!.payload.source.table], ['public', 'shelves']);
      assert.deepEqual(await events('cdc8.public.ignored'), [], 'a table not in table.include.list has no topic');
      assert.deepEqual((await connect.herder.connectorActiveTopics('cdc8')).sort(), ['cdc8.inventory.items', 'cdc8.public.shelves']);
    } finally {
      await connect.close();
    }
  });
});

function lsnValue(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}
