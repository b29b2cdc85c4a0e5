// Replication between databases, as Debezium users build it: the PostgreSQL CDC source writes a
// table's change events to Kafka, and the PostgreSQL sink (Confluent JDBC sink's keys: upsert by
// the record key, deletes from tombstones, the table created from the schema) applies them to a
// table in a second database. The change events are flattened to rows between the two with
// Debezium's ExtractNewRecordState (a delete becomes a tombstone, which the sink applies).
// Rows existing at the start (the snapshot), inserts, updates and deletes made while the pipeline
// runs all end up in the copy, which must equal the source table.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startConnect } from '../../src/connect/runtime/start-connect.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../support/postgres-server.js';
import { type TestBroker, startTestBroker, temporaryDirectory, waitFor } from '../integration/helpers.js';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

describe('replication between databases: PostgreSQL CDC source, Kafka, PostgreSQL sink', { skip: postgresUnavailable() }, () => {
  let postgres: PostgresServer;
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let origin: pg.Client;
  let replica: pg.Client;

  before(async () => {
    [postgres, broker, dir] = await Promise.all([startPostgres(), startTestBroker(), temporaryDirectory()]);
    origin = new pg.Client({ connectionString: postgres.url() });
    await origin.connect();
    await origin.query('CREATE DATABASE replica');
    replica = new pg.Client({ connectionString: postgres.url('replica') });
    await replica.connect();
  });
  after(async () => {
    await origin?.end().catch(() => undefined);
    await replica?.end().catch(() => undefined);
    await postgres?.stop();
    await broker?.close();
    await dir?.remove();
  });

  async function rows(client: pg.Client, table: string): Promise<string> {
    const result = await client.query(`SELECT id, owner, balance::text AS balance, active FROM ${table} ORDER BY id`).catch(() => ({ rows: [] }));
    return JSON.stringify(result.rows);
  }

  it('keeps a copy of a table in another database up to date', async () => {
    await origin.query('CREATE TABLE accounts (id integer PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL, active boolean)');
    await origin.query(`INSERT INTO accounts SELECT n, 'owner ' || n, n * 10.5, n % 2 = 0 FROM generate_series(1, 50) AS n`);
    const flatten = { transforms: 'unwrap', 'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState' };
    const connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': JSON_CONVERTER,
        'value.converter': JSON_CONVERTER,
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        'offset.flush.interval.ms': '200',
        listeners: 'http://127.0.0.1:0',
      },
      connectors: [
        {
          name: 'accounts-source', 'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
          'database.hostname': postgres.host, 'database.port': String(postgres.port), 'database.user': postgres.user, 'database.dbname': 'postgres',
          'topic.prefix': 'origin', 'table.include.list': 'public.accounts', 'publication.autocreate.mode': 'filtered',
        },
        {
          name: 'accounts-sink', 'connector.class': 'conveyor.connect.postgres.PostgresSinkConnector', topics: 'origin.public.accounts',
          'connection.url': `jdbc:postgresql://${postgres.host}:${postgres.port}/replica`, 'connection.user': postgres.user,
          'insert.mode': 'upsert', 'pk.mode': 'record_key', 'auto.create': 'true', 'delete.enabled': 'true', 'table.name.format': 'accounts_copy',
          ...flatten,
        },
      ],
    });
    try {
      const same = async () => {
        const [wanted, got] = await Promise.all([rows(origin, 'accounts'), rows(replica, 'accounts_copy')]);
        return wanted === got && got;
      };
      await waitFor(same, 'the snapshot to reach the copy', 30_000);
      await origin.query(`INSERT INTO accounts VALUES (51, 'new owner', 0.01, true)`);
      await origin.query(`UPDATE accounts SET balance = balance + 1000, active = NOT active WHERE id % 5 = 0`);
      await origin.query('DELETE FROM accounts WHERE id BETWEEN 20 AND 29');
      await origin.query(`UPDATE accounts SET owner = 'renamed' WHERE id = 1`);
      const copy = await waitFor(same, 'the changes to reach the copy', 30_000);
      const copied = JSON.parse(copy) as { id: number; balance: string }[];
      assert.equal(copied.length, 41, '50 rows + 1 inserted - 10 deleted');
      assert.equal(copied.find((row) => row.id === 50)?.balance, '1525.00', 'an updated NUMERIC arrives exactly');
      assert.ok(!copied.some((row) => row.id >= 20 && row.id <= 29), 'deleted rows are gone from the copy');
    } finally {
      await connect.close();
    }
  });
});
