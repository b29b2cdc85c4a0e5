// The MySQL/MariaDB change data capture source end to end: a real MariaDB (installed for the test,
// binary log in row format with full images), a real Conveyor broker and a standalone worker
// running the connector under Debezium's class names. Events are read back from the topics with
// JsonConverter's envelope and checked field by field: the snapshot (op r), then inserts, updates
// (a multi-row UPDATE among them), deletes and tombstones in commit order; Debezium's type
// mapping; exactly once across a worker restart with 10,000 rows changed while it was down; a
// MariaDB restart mid-stream; a column added mid-stream; bad configurations.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type MariadbServer, mariadbUnavailable, startMariadb } from '../../support/mariadb-server.js';
import { type TestBroker, readAll, startTestBroker, temporaryDirectory, waitFor } from '../helpers.js';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';
const USER = 'cdc';
const PASSWORD = 'cdc-secret';

interface Event {
  offset: number;
  key: { schema: Record<string, unknown>; payload: Record<string, any> } | null;
  value: { schema: Record<string, unknown>; payload: Record<string, any> } | null;
}

// One test at a time: one of them restarts the server the others read from.
describe('MySQL/MariaDB CDC source (Debezium envelope)', { skip: mariadbUnavailable(), concurrency: 1 }, () => {
  let mariadb: MariadbServer;
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let db: mysql.Connection;
  let serverIds = 100;

  before(async () => {
    [mariadb, broker, dir] = await Promise.all([startMariadb(), startTestBroker(), temporaryDirectory()]);
    db = await connectDb();
    // The privileges Debezium documents for its user, and no more.
    await db.query(`CREATE USER '${USER}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}'`);
    await db.query(`GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${USER}'@'127.0.0.1'`);
    await db.query('CREATE DATABASE shop');
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    await mariadb?.stop();
    await broker?.close();
    await dir?.remove();
  });

  async function connectDb(): Promise<mysql.Connection> {
    const connection = await mysql.createConnection({ host: mariadb.host, port: mariadb.port, user: mariadb.user, database: undefined, supportBigNumbers: true, bigNumberStrings: true });
    connection.on('error', () => undefined);
    return connection;
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

  /** A connector config for the tables matching `tables`, with its own prefix and replica server id. */
  function source(name: string, tables: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      name,
      'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
      'tasks.max': '2',
      'database.hostname': mariadb.host,
      'database.port': String(mariadb.port),
      'database.user': USER,
      'database.password': PASSWORD,
      'database.server.id': String(serverIds++),
      'topic.prefix': name,
      'table.include.list': tables,
      'connect.keep.alive.interval.ms': '500',
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

  const opsOf = (list: Event[]) => list.map((event) => [event.key?.payload.id, event.value?.payload.op ?? 'tombstone']);

  it('snapshots existing rows, then streams inserts, updates, deletes and tombstones in commit order', async () => {
    await db.query('CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100))');
    await db.query(`INSERT INTO shop.customers VALUES (1, 'Ada', 'ada@example.com'), (2, 'Grace', NULL)`);
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc1', 'shop\\.customers'));
      assert.equal((await connect.herder.connectorStatus('cdc1')).tasks.length, 1, 'one task whatever tasks.max says');
      const topic = 'cdc1.shop.customers';
      const snapshot = await waitEvents(topic, 2);
      assert.deepEqual(snapshot.map((event) => [event.key?.payload.id, event.value?.payload.op, event.value?.payload.source.snapshot]), [[1, 'r', 'true'], [2, 'r', 'last']]);
      const first = snapshot[0]!;
      assert.equal(first.key!.schema.name, 'cdc1.shop.customers.Key');
      assert.deepEqual(first.key!.schema.fields, [{ type: 'int32', optional: false, field: 'id' }]);
      assert.equal(first.value!.schema.name, 'cdc1.shop.customers.Envelope');
      const afterSchema = (first.value!.schema.fields as any[]).find((field) => field.field === 'after');
      assert.equal(afterSchema.name, 'cdc1.shop.customers.Value');
      assert.deepEqual(afterSchema.fields.map((field: any) => [field.field, field.type, field.optional]), [['id', 'int32', false], ['name', 'string', false], ['email', 'string', true]]);
      const sourceSchema = (first.value!.schema.fields as any[]).find((field) => field.field === 'source');
      assert.equal(sourceSchema.name, 'io.debezium.connector.mariadb.Source');
      assert.deepEqual(first.value!.payload.after, { id: 1, name: 'Ada', email: 'ada@example.com' });
      assert.equal(first.value!.payload.before, null);
      const snapSource = first.value!.payload.source;
      assert.deepEqual([snapSource.connector, snapSource.name, snapSource.db, snapSource.table, snapSource.server_id], ['mariadb', 'cdc1', 'shop', 'customers', 1]);
      assert.match(snapSource.file, /^binlog\.\d+$/);
      assert.ok(snapSource.pos > 0);

      await db.query(`INSERT INTO shop.customers VALUES (3, 'Edsger', 'ed@example.com')`);
      await db.query('BEGIN');
      await db.query(`UPDATE shop.customers SET name = 'Ada L.' WHERE id = 1`);
      await db.query('DELETE FROM shop.customers WHERE id = 2');
      await db.query('COMMIT');
      // One statement, one binary log event, two rows: two update events.
      await db.query(`UPDATE shop.customers SET email = CONCAT('x-', COALESCE(email, 'none'))`);
      const streamed = (await waitEvents(topic, 8)).slice(2);
      assert.deepEqual(opsOf(streamed), [[3, 'c'], [1, 'u'], [2, 'd'], [2, 'tombstone'], [1, 'u'], [3, 'u']]);
      const [insert, update, del, tombstone, multi1, multi3] = streamed;
      assert.deepEqual(insert!.value!.payload.after, { id: 3, name: 'Edsger', email: 'ed@example.com' });
      assert.equal(insert!.value!.payload.before, null);
      assert.deepEqual(update!.value!.payload.before, { id: 1, name: 'Ada', email: 'ada@example.com' }, 'the full row image before');
      assert.deepEqual(update!.value!.payload.after, { id: 1, name: 'Ada L.', email: 'ada@example.com' });
      assert.deepEqual(del!.value!.payload.before, { id: 2, name: 'Grace', email: null });
      assert.equal(del!.value!.payload.after, null);
      assert.equal(tombstone!.value, null);
      assert.deepEqual(tombstone!.key!.payload, { id: 2 });
      assert.deepEqual([multi1!.value!.payload.after.email, multi3!.value!.payload.after.email], ['x-ada@example.com', 'x-ed@example.com']);
      assert.deepEqual([multi1!.value!.payload.source.row, multi3!.value!.payload.source.row], [0, 1], 'rows of one event are numbered');
      const streamSource = insert!.value!.payload.source;
      assert.equal(streamSource.snapshot, 'false');
      assert.match(streamSource.gtid, /^0-1-\d+$/, 'MariaDB GTIDs name the transaction');
      assert.equal(update!.value!.payload.source.gtid, del!.value!.payload.source.gtid, 'both changes of one transaction carry its GTID');
      assert.notEqual(update!.value!.payload.source.gtid, streamSource.gtid);
      assert.ok(typeof insert!.value!.payload.ts_ms === 'number');

      // A changed primary key: a delete of the old key, its tombstone, a create of the new one.
      await db.query('UPDATE shop.customers SET id = 30 WHERE id = 3');
      const moved = (await waitEvents(topic, 11)).slice(8);
      assert.deepEqual(opsOf(moved), [[3, 'd'], [3, 'tombstone'], [30, 'c']]);
      const offsets = await waitFor(async () => {
        const stored = await connect.herder.connectorOffsets('cdc1');
        return stored.length > 0 && stored;
      }, 'stored offsets');
      assert.deepEqual(offsets[0]?.partition, { server: 'cdc1' });
      assert.equal(typeof (offsets[0]?.offset as Record<string, unknown>).file, 'string');
    } finally {
      await connect.close();
    }
  });
  it('maps column types as Debezium does', async () => {
    await db.query(`CREATE TABLE shop.typed (
      id BIGINT PRIMARY KEY, flag TINYINT(1), tiny TINYINT, small SMALLINT, medium MEDIUMINT, regular INT, uint INT UNSIGNED, big BIGINT, ubig BIGINT UNSIGNED,
      real_value FLOAT, double_value DOUBLE, amount DECIMAL(10,2), label VARCHAR(20), body TEXT, code CHAR(3), colour ENUM('red','green'), tags SET('a','b','c'),
      raw VARBINARY(10), fixed BINARY(3), data BLOB, born DATE, seen DATETIME, seen_ms DATETIME(3), seen_us DATETIME(6), stamp TIMESTAMP(6) NULL,
      at_time TIME(6), made YEAR, doc JSON, bits BIT(10), one_bit BIT(1))`);
    const row = `(1, 1, -3, -300, 8000000, 2147483647, 4294967295, -9007199254740993, 18446744073709551615, 1.5, 2.25, 12345.67, 'héllo', 'long text', 'abc',
      'green', 'a,c', X'0102FF', X'0A', X'DEADBEEF', '2024-02-29', '2024-02-29 13:14:15', '2024-02-29 13:14:15.123', '2024-02-29 13:14:15.123456',
      '2024-02-29 11:14:15.5', '-01:02:03.25', 2024, '{"a": [1, 2]}', b'1000000001', b'1')`;
    await db.query(`INSERT INTO shop.typed VALUES ${row}`);
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc2', 'shop\\.typed'));
      await db.query(`INSERT INTO shop.typed VALUES ${row.replace('(1,', '(2,')}`);
      await db.query('INSERT INTO shop.typed (id) VALUES (3)');
      const [snap, streamed, nulls] = await waitEvents('cdc2.shop.typed', 3);
      const fields = new Map((snap!.value!.schema.fields as any[]).find((field) => field.field === 'after').fields.map((field: any) => [field.field, field]));
      const schemaOf = (name: string) => {
        const field = fields.get(name) as any;
        return [field.type, field.name ?? null];
      };
      const expectedSchemas: Record<string, [string, string | null]> = {
        id: ['int64', null], flag: ['int16', null], tiny: ['int16', null], small: ['int16', null], medium: ['int32', null], regular: ['int32', null],
        uint: ['int64', null], big: ['int64', null], ubig: ['int64', null], real_value: ['float', null], double_value: ['double', null],
        amount: ['bytes', 'org.apache.kafka.connect.data.Decimal'], label: ['string', null], body: ['string', null], code: ['string', null],
        colour: ['string', 'io.debezium.data.Enum'], tags: ['string', 'io.debezium.data.EnumSet'], raw: ['bytes', null], fixed: ['bytes', null], data: ['bytes', null],
        born: ['int32', 'io.debezium.time.Date'], seen: ['int64', 'io.debezium.time.Timestamp'], seen_ms: ['int64', 'io.debezium.time.Timestamp'],
        seen_us: ['int64', 'io.debezium.time.MicroTimestamp'], stamp: ['string', 'io.debezium.time.ZonedTimestamp'], at_time: ['int64', 'io.debezium.time.MicroTime'],
        made: ['int32', 'io.debezium.time.Year'], doc: ['string', 'io.debezium.data.Json'], bits: ['bytes', 'io.debezium.data.Bits'], one_bit: ['boolean', null],
      };
      for (const [name, expected] of Object.entries(expectedSchemas)) assert.deepEqual(schemaOf(name), expected, `the schema of ${name}`);
      assert.deepEqual((fields.get('amount') as any).parameters, { scale: '2', 'connect.decimal.precision': '10' });
      assert.deepEqual((fields.get('colour') as any).parameters, { allowed: 'red,green' });
      assert.deepEqual((fields.get('bits') as any).parameters, { length: '10' });
      const expected = (id: number) => ({
        id, flag: 1, tiny: -3, small: -300, medium: 8000000, regular: 2147483647, uint: 4294967295,
        big: -9007199254740993, ubig: -1, real_value: 1.5, double_value: 2.25,
        amount: Buffer.from([0x12, 0xd6, 0x87]).toString('base64'), // 1234567 unscaled
        label: 'héllo', body: 'long text', code: 'abc', colour: 'green', tags: 'a,c',
        raw: Buffer.from([1, 2, 255]).toString('base64'), fixed: Buffer.from([10, 0, 0]).toString('base64'), data: Buffer.from('deadbeef', 'hex').toString('base64'),
        born: 19782, seen: 1709212455000, seen_ms: 1709212455123, seen_us: 1709212455123456, stamp: '2024-02-29T11:14:15.5Z',
        at_time: -3723250000, made: 2024, doc: '{"a": [1, 2]}', bits: Buffer.from([0x01, 0x02]).toString('base64'), one_bit: true,
      });
      // JSON numbers lose the last digits of 2^53+1 in JavaScript: big is compared apart.
      const comparable = (after: Record<string, unknown>) => ({ ...after, big: 0, doc: JSON.stringify(JSON.parse(after.doc as string)) });
      const want = (id: number) => ({ ...expected(id), big: 0, doc: JSON.stringify({ a: [1, 2] }) });
      assert.deepEqual(comparable(snap!.value!.payload.after), want(1), 'the snapshot converts each type');
      assert.deepEqual(comparable(streamed!.value!.payload.after), want(2), 'the binary log converts like the snapshot');
      for (const event of [snap!, streamed!]) assert.ok(Math.abs(event.value!.payload.after.big + 9007199254740993) <= 2);
      const nullRow = nulls!.value!.payload.after;
      assert.equal(nullRow.id, 3);
      for (const [name, value] of Object.entries(nullRow)) if (name !== 'id') assert.equal(value, null, `${name} is null`);
    } finally {
      await connect.close();
    }
  });

  it('sends 10,000 rows changed while the worker was down exactly once after it restarts', async () => {
    await db.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(40), qty INT)');
    await db.query(`INSERT INTO shop.orders VALUES (0, 'first', 1)`);
    const config = source('cdc3', 'shop\\.orders', { 'max.batch.size': '500' });
    let connect = await startConnect({ worker: worker(200, 'cdc3.offsets') });
    try {
      await startWith(connect, config);
      await waitEvents('cdc3.shop.orders', 1);
      await db.query(`INSERT INTO shop.orders VALUES (1, 'second', 1)`);
      await waitEvents('cdc3.shop.orders', 2);
    } finally {
      await connect.close(); // stores the offsets
    }
    // While the worker is down: 10,000 rows inserted in batches of 1,000 (multi-row events), then a
    // multi-row update of half of them and a delete of a tenth.
    for (let batch = 0; batch < 10; batch++) {
      const values = Array.from({ length: 1000 }, (_, index) => `(${100 + batch * 1000 + index}, 'item ${batch * 1000 + index}', 1)`).join(',');
      await db.query(`INSERT INTO shop.orders VALUES ${values}`);
    }
    await db.query('UPDATE shop.orders SET qty = 2 WHERE id >= 100 AND id % 2 = 0');
    await db.query('DELETE FROM shop.orders WHERE id >= 100 AND id % 10 = 1');
    const total = 2 + 10_000 + 5_000 + 1_000 * 2;
    connect = await startConnect({ worker: worker(200, 'cdc3.offsets'), connectors: [config] });
    try {
      await waitEvents('cdc3.shop.orders', total, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const all = await events('cdc3.shop.orders');
      assert.equal(all.length, total, 'each change once, none repeated after the restart');
      assert.deepEqual(opsOf(all.slice(0, 2)), [[0, 'r'], [1, 'c']]);
      const perKey = new Map<number, string[]>();
      for (const event of all.slice(2)) {
        const id = event.key!.payload.id as number;
        const list = perKey.get(id) ?? [];
        list.push(event.value === null ? 'tombstone' : `${event.value.payload.op}:${event.value.payload.after?.qty ?? '-'}`);
        perKey.set(id, list);
      }
      assert.equal(perKey.size, 10_000);
      for (let id = 100; id < 10_100; id++) {
        const want = id % 2 === 0 ? ['c:1', 'u:2'] : id % 10 === 1 ? ['c:1', 'd:-', 'tombstone'] : ['c:1'];
        assert.deepEqual(perKey.get(id), want, `the changes of ${id}`);
      }

      // Resuming inside a multi-row event: an offset naming the last insert batch's transaction, with
      // the row events before id 9600 and the rows before it in its event sent (Debezium's `event` and
      // `row`), makes the task send from 9600 on, once. (The server splits a 1,000-row statement
      // into several row events of about 8 KiB.)
      const from = all.findIndex((event) => event.key!.payload.id === 9600);
      const middle = all[from]!.value!.payload.source;
      const sameTransaction = all.filter((event) => event.value?.payload.source.pos === middle.pos && event.value?.payload.source.file === middle.file);
      const eventIndex = sameTransaction.slice(0, sameTransaction.findIndex((event) => event.key!.payload.id === 9600) + 1).filter((event) => event.value!.payload.source.row === 0).length - 1;
      assert.ok(middle.row > 0 && eventIndex > 0, 'the middle of a row event, not the first');
      await connect.herder.stopConnector('cdc3');
      await connect.herder.alterConnectorOffsets('cdc3', [{ partition: { server: 'cdc3' }, offset: { file: middle.file, pos: middle.pos, gtids: null, event: eventIndex, row: middle.row } }]);
      await connect.herder.resumeConnector('cdc3');
      const expectedAgain = all.slice(from);
      const again = (await waitEvents('cdc3.shop.orders', total + expectedAgain.length, 60_000)).slice(total);
      assert.deepEqual(opsOf(again), opsOf(expectedAgain), 'from 9600 on, in the same order');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal((await events('cdc3.shop.orders')).length, total + expectedAgain.length);
    } finally {
      await connect.close();
    }
  });

  it('carries on through a MariaDB restart without losing a change', async () => {
    await db.query('CREATE TABLE shop.events (id INT PRIMARY KEY, note VARCHAR(20))');
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc4', 'shop\\.events', { 'snapshot.mode': 'no_data' }));
      await db.query(`INSERT INTO shop.events VALUES (1, 'before')`);
      await waitEvents('cdc4.shop.events', 1);
      await db.end();
      await mariadb.restart();
      db = await connectDb();
      await db.query(`INSERT INTO shop.events VALUES (2, 'after 1')`);
      await db.query(`INSERT INTO shop.events VALUES (3, 'after 2')`);
      await waitEvents('cdc4.shop.events', 3, 45_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const got = await events('cdc4.shop.events');
      assert.deepEqual(got.map((event) => event.value?.payload.after.id), [1, 2, 3]);
      assert.notEqual(got[1]!.value!.payload.source.file, got[0]!.value!.payload.source.file, 'the restarted server writes a new binary log file');
      assert.equal((await connect.herder.connectorStatus('cdc4')).tasks[0]?.state, 'RUNNING');
    } finally {
      await connect.close();
    }
  });

  it('picks up a column added mid-stream, and sends the DDL to the schema change topic', async () => {
    await db.query('CREATE TABLE shop.products (id INT PRIMARY KEY, name VARCHAR(20))');
    const connect = await startConnect({ worker: worker() });
    try {
      await startWith(connect, source('cdc5', 'shop\\.products', { 'snapshot.mode': 'never' }));
      await db.query(`INSERT INTO shop.products VALUES (1, 'bolt')`);
      await waitEvents('cdc5.shop.products', 1);
      await db.query('ALTER TABLE shop.products ADD COLUMN price DECIMAL(8,2) NOT NULL DEFAULT 0');
      await db.query(`INSERT INTO shop.products VALUES (2, 'nut', 1.25)`);
      await db.query(`UPDATE shop.products SET price = 2.50 WHERE id = 1`);
      const [first, second, third] = await waitEvents('cdc5.shop.products', 3);
      const columns = (event: Event) => (event.value!.schema.fields as any[]).find((field) => field.field === 'after').fields.map((field: any) => field.field);
      assert.deepEqual(columns(first!), ['id', 'name']);
      assert.deepEqual(columns(second!), ['id', 'name', 'price']);
      assert.equal(second!.value!.payload.after.price, Buffer.from([0x7d]).toString('base64'), '1.25 as a Decimal of scale 2');
      assert.deepEqual([third!.value!.payload.before.price, third!.value!.payload.after.price], [Buffer.from([0]).toString('base64'), Buffer.from([0x00, 0xfa]).toString('base64')]);
      const [ddl] = await waitEvents('cdc5', 1);
      assert.deepEqual(ddl!.key!.payload, { databaseName: 'shop' });
      assert.match(ddl!.value!.payload.ddl, /ALTER TABLE shop\.products ADD COLUMN price/);
      assert.deepEqual(ddl!.value!.payload.tableChanges, [{ type: 'ALTER', id: '"shop"."products"' }]);
    } finally {
      await connect.close();
    }
  });

  it('decodes changes written before an ALTER made while the worker was down: exactly with binlog_row_metadata=FULL, else a clear error', async () => {
    for (const metadata of ['FULL', 'NO_LOG']) {
      const name = `cdc6${metadata === 'FULL' ? 'f' : 'n'}`;
      const table = `shop.parts_${metadata.toLowerCase()}`;
      await db.query(`SET GLOBAL binlog_row_metadata = '${metadata}'`);
      await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(20), obsolete INT)`);
      const config = source(name, table.replace('.', '\\.'), { 'snapshot.mode': 'never' });
      let connect = await startConnect({ worker: worker(200, `${name}.offsets`) });
      try {
        await startWith(connect, config);
        await db.query(`INSERT INTO ${table} VALUES (1, 'first', 7)`);
        await waitEvents(`${name}.${table}`, 1);
      } finally {
        await connect.close();
      }
      await db.query(`INSERT INTO ${table} VALUES (2, 'old shape', 8)`);
      // Without FULL metadata only a changed column count can be noticed (see the task's header).
      await db.query(`ALTER TABLE ${table} ${metadata === 'FULL' ? 'DROP COLUMN obsolete, ' : ''}ADD COLUMN size INT NOT NULL DEFAULT 5`);
      await db.query(`INSERT INTO ${table} (id, name, size) VALUES (3, 'new shape', 6)`);
      connect = await startConnect({ worker: worker(200, `${name}.offsets`), connectors: [config] });
      try {
        if (metadata === 'FULL') {
          const [, old, current] = await waitEvents(`${name}.${table}`, 3);
          assert.deepEqual(old!.value!.payload.after, { id: 2, name: 'old shape', obsolete: 8 }, 'the old row under its own column names');
          assert.deepEqual(current!.value!.payload.after, { id: 3, name: 'new shape', size: 6 });
        } else {
          const task = await waitFor(async () => {
            const state = (await connect.herder.connectorStatus(name)).tasks[0];
            return state?.state === 'FAILED' && state;
          }, `${name}'s task to fail`);
          assert.match(task.trace ?? '', /altered after the change was written.*binlog_row_metadata=FULL/s);
          assert.equal((await events(`${name}.${table}`)).length, 1, 'nothing decoded under the wrong names');
        }
      } finally {
        await connect.close();
        await db.query("SET GLOBAL binlog_row_metadata = 'NO_LOG'");
      }
    }
  });

  it('refuses bad configurations with a clear error', async () => {
    const connect = await startConnect({ worker: worker() });
    try {
      const { 'topic.prefix': _, ...withoutPrefix } = source('bad1', 'shop\\.none');
      await assert.rejects(connect.herder.putConnectorConfig('bad1', withoutPrefix, false), /topic\.prefix/);
      const { 'database.server.id': __, ...withoutServerId } = source('bad2', 'shop\\.none');
      await assert.rejects(connect.herder.putConnectorConfig('bad2', withoutServerId, false), /database\.server\.id/);
      await assert.rejects(connect.herder.putConnectorConfig('bad3', source('bad3', 'shop\\.none', { 'snapshot.mode': 'sometimes' }), false), /snapshot\.mode/);
      const failedTask = (name: string) => waitFor(async () => {
        const task = (await connect.herder.connectorStatus(name)).tasks[0];
        return task?.state === 'FAILED' && task;
      }, `${name}'s task to fail`);
      // An unreachable server: the task fails, its trace naming the address.
      await connect.herder.putConnectorConfig('bad4', source('bad4', 'shop\\.none', { 'database.port': '1', 'database.connect.timeout.ms': '2000' }), false);
      assert.match((await failedTask('bad4')).trace ?? '', /Could not connect to MySQL\/MariaDB at 127\.0\.0\.1:1/);
      // A binary log in statement format: the task fails, saying what to set.
      await db.query("SET GLOBAL binlog_format = 'STATEMENT'");
      try {
        await connect.herder.putConnectorConfig('bad5', source('bad5', 'shop\\.none'), false);
        assert.match((await failedTask('bad5')).trace ?? '', /binlog_format is STATEMENT; change data capture needs binlog_format=ROW/);
      } finally {
        await db.query("SET GLOBAL binlog_format = 'ROW'");
      }
    } finally {
      await connect.close();
    }
  });
});
