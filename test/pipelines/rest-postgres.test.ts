// A REST API's events to Kafka to PostgreSQL: a node:http API this test runs serves a growing list
// of account updates paged by ?since=<id>; the HTTP source (http.value.format=struct, the account
// as the key, JsonConverter with schemas) polls it into a topic of three partitions, and the
// PostgreSQL sink (upsert, pk.mode=record_key, auto.create, auto.evolve, Flatten for the nested
// address) writes the topic into a table, both running on a cluster of three Connect worker
// processes in distributed mode over a real broker and a real PostgreSQL. While events keep
// coming, the worker running the source task is killed with SIGKILL (its tasks move to the
// others; the source replays what came after its last stored offset), then PostgreSQL is
// restarted under the sink, then the worker running a sink task is killed (its partitions are
// read again from the last committed offsets). Each step must see every account's row move past
// the API's last event at that moment. Once the API stops adding events and the pipeline catches up, the
// table must equal the source's latest event per account: every account, every column, exact
// values and the column types the inferred schemas give. Replays are allowed (at least once):
// they are counted in the topic and, through a trigger, in the rows the sink wrote again.
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AdminClient, OffsetSpec } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { type ConsumedRecord, Consumer } from '../../src/client/consumer.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../support/postgres-server.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../integration/helpers.js';
import { type Status, type WorkerProcess, createConnector, distributedWorkerProperties, rest, startWorker, stopWorkers } from '../integration/connect/worker-processes.js';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';
const SESSION_TIMEOUT_MS = 6_000;
const ACCOUNTS = 40;
const INITIAL_EVENTS = 300;
/** Events from this id on carry a `tier` field the first ones lack: auto.evolve adds its column. */
const TIER_FROM_ID = 700;
const PAGE_SIZE = 50;
const skip = postgresUnavailable();

interface AccountEvent {
  id: number;
  account: string;
  balance_cents: number;
  rate: number;
  name: string;
  nickname: string | null;
  active: boolean;
  tags: string[];
  address: { city: string; zip: number };
  updated_at: string;
  tier?: string;
}

/** The nth event: deterministic, every account in the first ACCOUNTS events, then spread by a hash. */
function accountEvent(id: number): AccountEvent {
  const n = id <= ACCOUNTS ? id - 1 : (id * 2_654_435_761) % 4_294_967_296 % ACCOUNTS;
  const event: AccountEvent = {
    id,
    account: `acct-${String(n).padStart(3, '0')}`,
    // Beyond 2^32, so a 32-bit type anywhere on the way would show.
    balance_cents: (id % 3 === 0 ? -1 : 1) * (5_000_000_000 + id * 7_919),
    // Never whole (JSON.parse cannot tell 2.0 from 2, and a whole one would be inferred int64).
    rate: (id % 97) / 8 + 0.0625,
    name: `Åccount ${n} "quoted" \\ ${id % 2 ? 'ünïcode ✓' : 'plain'}`,
    // Null in every third event: the column must be cleared, not left as it was.
    nickname: id % 3 === 0 ? null : `nick-${id}`,
    active: id % 5 !== 0,
    tags: id % 4 === 0 ? [] : [`t${id % 7}`, `t${id % 11}`],
    address: { city: ['Oslo', 'Lima', 'Kyiv', 'Perth'][id % 4]!, zip: 1000 + (id % 9000) },
    updated_at: new Date(Date.UTC(2024, 5, 1) + id * 1_000).toISOString(),
  };
  if (id >= TIER_FROM_ID) event.tier = ['gold', 'silver', 'bronze'][id % 3]!;
  return event;
}

/** The row the latest event of an account must leave (as node-postgres reads it: BIGINT as text). */
function expectedRow(event: AccountEvent): Record<string, unknown> {
  return {
    account: event.account,
    id: String(event.id),
    balance_cents: String(event.balance_cents),
    rate: event.rate,
    name: event.name,
    nickname: event.nickname,
    active: event.active,
    tags: event.tags,
    address_city: event.address.city,
    address_zip: String(event.address.zip),
    updated_at: event.updated_at,
    tier: event.tier ?? null,
  };
}

/** One query on a connection of its own (the server is restarted under the test). */
async function query<R extends pg.QueryResultRow = Record<string, unknown>>(server: PostgresServer, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: server.url() });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same, or undefined while the server is away. */
const tryQuery = <R extends pg.QueryResultRow>(server: PostgresServer, sql: string) => query<R>(server, sql).catch(() => undefined);

describe('A REST API\'s events to Kafka to PostgreSQL', { skip, timeout: 170_000 }, () => {
  let broker: TestBroker;
  let postgres: PostgresServer;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let cluster: ClusterClient;
  let admin: AdminClient;
  let api: Server;
  let apiUrl: string;
  let adder: NodeJS.Timeout | undefined;
  const events: AccountEvent[] = [];
  const workers: WorkerProcess[] = [];
  let apiRequests = 0;

  before(async () => {
    [broker, postgres, dir] = await Promise.all([
      startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } }),
      startPostgres(),
      temporaryDirectory(),
    ]);
    cluster = new ClusterClient(connectTcp, broker.running.bootstrapServers, 'rest-postgres-test');
    admin = new AdminClient(cluster);
    // The API: the events after ?since=<id>, at most PAGE_SIZE of them, as {"data": [...]}.
    api = createServer((request, response) => {
      apiRequests++;
      const url = new URL(request.url ?? '/', 'http://api');
      if (url.pathname !== '/events') return void response.writeHead(404).end('{"error":"not found"}');
      const since = Number(url.searchParams.get('since') ?? '0');
      // Ids are 1..n in order: the page after `since` starts at index `since`.
      const page = events.slice(Math.max(0, since), Math.max(0, since) + PAGE_SIZE);
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ data: page, count: page.length }));
    });
    await new Promise<void>((resolveListen) => api.listen(0, '127.0.0.1', resolveListen));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  after(async () => {
    if (adder) clearInterval(adder);
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    api?.closeAllConnections();
    await new Promise((resolveClose) => (api ? api.close(resolveClose) : resolveClose(undefined)));
    cluster?.close();
    await broker?.close().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    await dir?.remove();
  });

  const addEvents = (count: number) => {
    for (let index = 0; index < count; index++) events.push(accountEvent(events.length + 1));
  };

  /** The source's state: the latest event of each account. */
  const latestByAccount = () => {
    const latest = new Map<string, AccountEvent>();
    for (const event of events) latest.set(event.account, event);
    return latest;
  };

  it('the table ends up equal to the source, after a worker kill and a PostgreSQL restart', async () => {
    const startedAt = Date.now();
    const group = uniqueTopic('rest-pg');
    const topic = uniqueTopic('accounts');
    const table = topic;
    const properties = join(dir.path, 'worker.properties');
    await writeFile(properties, distributedWorkerProperties(broker.running.bootstrapServers, group, SESSION_TIMEOUT_MS, {
      'key.converter': JSON_CONVERTER,
      'value.converter': JSON_CONVERTER,
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
      'offset.flush.interval.ms': '2000',
      'task.shutdown.graceful.timeout.ms': '5000',
    }));
    workers.push(...await Promise.all([0, 1, 2].map(() => startWorker(properties))));
    await admin.createTopic(topic, { partitions: 3, replicationFactor: 1 });
    addEvents(INITIAL_EVENTS);

    const killed = new Set<WorkerProcess>();
    const kill = (worker: WorkerProcess) => {
      killed.add(worker);
      worker.child.kill('SIGKILL');
    };
    const alive = () => workers.filter((worker) => !killed.has(worker) && worker.child.exitCode === null && worker.child.signalCode === null);
    const statusOf = async (name: string): Promise<Status | undefined> => {
      for (const worker of alive()) {
        const answer = await rest<Status>(worker.url, 'GET', `/connectors/${name}/status`).catch(() => undefined);
        if (answer?.status === 200) return answer.body;
      }
      return undefined;
    };
    /** Connector statuses and each live worker's last log lines, for a timeout's message. */
    const diagnosis = async (): Promise<string> => {
      const statuses = `source: ${JSON.stringify(await statusOf('rest-source'))}\nsink: ${JSON.stringify(await statusOf('pg-sink'))}`;
      const logs = workers.map((worker) => `--- worker ${worker.workerId} (${worker.child.exitCode === null && worker.child.signalCode === null ? 'alive' : 'killed'}):\n${worker.stderr.split('\n').filter((line) => !/joined generation|heartbeat/i.test(line)).slice(-20).join('\n')}`);
      return `${statuses}\nevents ${events.length}, API requests ${apiRequests}\n${logs.join('\n')}`;
    };
    const waitWith = <T>(check: () => T | undefined | false | Promise<T | undefined | false>, description: string, timeoutMs: number) =>
      waitFor(check, description, timeoutMs).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${await diagnosis()}`);
      });
    const tableMaxId = async () => Number((await tryQuery<{ max: string | null }>(postgres, `SELECT max(id)::text AS max FROM "${table}"`))?.[0]?.max ?? 0);
    /** Whether every account's row holds an event after `id`: every partition, so every sink task, has moved on. */
    const allPast = async (id: number) => {
      const [row] = (await tryQuery<{ n: number; min: string | null }>(postgres, `SELECT count(*)::int AS n, min(id)::text AS min FROM "${table}"`)) ?? [];
      return row !== undefined && row.n === ACCOUNTS && Number(row.min) > id;
    };

    await createConnector(workers[2]!, { name: 'rest-source', config: {
      'connector.class': 'HttpSource',
      topic,
      'http.url': `${apiUrl}/events`,
      'http.offset.field': 'id',
      'http.offset.param': 'since',
      'http.offset.initial': '0',
      'http.response.records.path': '$.data',
      'http.record.key.field': 'account',
      'http.value.format': 'struct',
      'http.poll.interval.ms': '200',
      'key.converter': JSON_CONVERTER,
      'key.converter.schemas.enable': 'true',
      'value.converter': JSON_CONVERTER,
      'value.converter.schemas.enable': 'true',
    } });
    await createConnector(workers[2]!, { name: 'pg-sink', config: {
      'connector.class': 'PostgresSink',
      'tasks.max': '2',
      topics: topic,
      'connection.url': `jdbc:postgresql://${postgres.host}:${postgres.port}/postgres`,
      'connection.user': postgres.user,
      'insert.mode': 'upsert',
      'pk.mode': 'record_key',
      'pk.fields': 'account',
      'auto.create': 'true',
      'auto.evolve': 'true',
      'max.retries': '20',
      'retry.backoff.ms': '500',
      'connection.attempts': '20',
      'connection.backoff.ms': '500',
      transforms: 'flatten',
      'transforms.flatten.type': 'org.apache.kafka.connect.transforms.Flatten$Value',
      'transforms.flatten.delimiter': '_',
      'key.converter': JSON_CONVERTER,
      'key.converter.schemas.enable': 'true',
      'value.converter': JSON_CONVERTER,
      'value.converter.schemas.enable': 'true',
    } });

    // New events while the pipeline runs: 5 every 100 ms.
    adder = setInterval(() => addEvents(5), 100);

    // The first events are in the table (auto.create made it); then a trigger starts logging every
    // row the sink writes, so that events written twice (replays) can be counted.
    await waitWith(async () => (await tableMaxId()) >= INITIAL_EVENTS, `the first ${INITIAL_EVENTS} events in the table`, 60_000);
    await query(postgres, `CREATE TABLE writes (account TEXT NOT NULL, id BIGINT NOT NULL);
      CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO writes VALUES (NEW.account, NEW.id); RETURN NULL; END $$;
      CREATE TRIGGER logged AFTER INSERT OR UPDATE ON "${table}" FOR EACH ROW EXECUTE FUNCTION log_write()`);
    const pipelineUpAt = Date.now();

    // Kill the worker running the source task.
    const source = await waitWith(async () => {
      const status = await statusOf('rest-source');
      return status?.tasks[0]?.state === 'RUNNING' ? status : false;
    }, 'the source task to run', 20_000);
    const sink = await waitWith(async () => {
      const status = await statusOf('pg-sink');
      return status?.tasks.length === 2 && status.tasks.every((task) => task.state === 'RUNNING') ? status : false;
    }, 'both sink tasks to run', 20_000);
    const victim = workers.find((worker) => worker.workerId === source.tasks[0]!.worker_id);
    assert.ok(victim, `the source task runs on one of the workers: ${JSON.stringify(source)}`);
    const victimRan = [
      'source task 0',
      ...sink.tasks.filter((task) => task.worker_id === victim.workerId).map((task) => `sink task ${task.id}`),
      ...(source.connector.worker_id === victim.workerId ? ['source connector'] : []),
      ...(sink.connector.worker_id === victim.workerId ? ['sink connector'] : []),
    ];
    const eventsAtKill = events.length;
    const tableAtKill = await tableMaxId();
    kill(victim);
    const killedAt = Date.now();

    // The source task moves to a survivor, and the table moves on past what the API had at the kill.
    await waitWith(async () => {
      const status = await statusOf('rest-source');
      return status?.tasks[0]?.state === 'RUNNING' && status.tasks[0].worker_id !== victim.workerId;
    }, 'the source task to run on a surviving worker', 45_000);
    const sourceMovedMs = Date.now() - killedAt;
    await waitWith(() => allPast(eventsAtKill), `every account's row to pass event ${eventsAtKill} (the API's last at the kill)`, 45_000);

    // PostgreSQL restarted under the sink while events keep coming.
    // The sink tasks' connections are cut by the restart; the tasks connect again by themselves.
    const sinkSessions = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'conveyor-postgres-sink'`;
    const sessionsBefore = (await query<{ n: number }>(postgres, sinkSessions))[0]!.n;
    assert.ok(sessionsBefore >= 1, 'the sink tasks are connected before the restart');
    const eventsAtRestart = events.length;
    const restartStarted = Date.now();
    await postgres.restart();
    const restartMs = Date.now() - restartStarted;
    await waitWith(() => allPast(eventsAtRestart), `every account's row to pass event ${eventsAtRestart} after the PostgreSQL restart`, 45_000);
    const sessionsAfter = (await query<{ n: number }>(postgres, sinkSessions))[0]!.n;
    assert.ok(sessionsAfter >= 1, 'the sink tasks connected again after the restart');

    // Then the worker running a sink task is killed too (one that does not run the source task
    // when there is one): its sink task's partitions go back to the group and are read again
    // from the last committed offsets, into the upsert table.
    const sinkNow = await waitWith(async () => {
      const status = await statusOf('pg-sink');
      return status?.tasks.length === 2 && status.tasks.every((task) => task.state === 'RUNNING' && task.worker_id !== victim.workerId) ? status : false;
    }, 'both sink tasks to run on survivors', 30_000);
    const sourceNow = await statusOf('rest-source');
    const sinkWorkers = alive().filter((worker) => sinkNow.tasks.some((task) => task.worker_id === worker.workerId));
    const sinkVictim = sinkWorkers.find((worker) => worker.workerId !== sourceNow?.tasks[0]?.worker_id) ?? sinkWorkers[0];
    assert.ok(sinkVictim, `a sink task runs on a live worker: ${JSON.stringify(sinkNow)}`);
    const sinkVictimRan = [
      ...sinkNow.tasks.filter((task) => task.worker_id === sinkVictim.workerId).map((task) => `sink task ${task.id}`),
      ...(sourceNow?.tasks[0]?.worker_id === sinkVictim.workerId ? ['source task 0'] : []),
    ];
    const eventsAtSinkKill = events.length;
    kill(sinkVictim);
    const sinkKilledAt = Date.now();
    await waitWith(async () => {
      const status = await statusOf('pg-sink');
      return status?.tasks.length === 2 && status.tasks.every((task) => task.state === 'RUNNING' && alive().some((worker) => worker.workerId === task.worker_id)) ? status : false;
    }, 'both sink tasks to run on the last worker', 45_000);
    const sinkMovedMs = Date.now() - sinkKilledAt;
    await waitWith(() => allPast(eventsAtSinkKill), `every account's row to pass event ${eventsAtSinkKill} (the API's last at the second kill)`, 45_000);

    // The API stops adding events; the pipeline catches up and the table equals the source.
    await new Promise((resolveWait) => setTimeout(resolveWait, 1_000));
    clearInterval(adder);
    adder = undefined;
    const total = events.length;
    const latest = latestByAccount();
    const expected = [...latest.values()].map(expectedRow).sort((a, b) => String(a.account).localeCompare(String(b.account)));
    const selectRows = `SELECT * FROM "${table}" ORDER BY account COLLATE "C"`;
    await waitWith(async () => {
      const rows = await tryQuery(postgres, selectRows);
      return rows !== undefined && rows.length === expected.length && rows.every((row, index) => String(row.id) === expected[index]!.id);
    }, `the table to hold the latest of ${total} events for each of ${latest.size} accounts`, 60_000);

    // Every account, every column, exact values.
    const rows = await query(postgres, selectRows);
    assert.equal(latest.size, ACCOUNTS);
    assert.deepEqual(rows, expected);
    const columns = await query<{ column_name: string; data_type: string }>(postgres,
      `SELECT attname AS column_name, format_type(atttypid, atttypmod) AS data_type FROM pg_attribute WHERE attrelid = '"${table}"'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`);
    assert.deepEqual(Object.fromEntries(columns.map((column) => [column.column_name, column.data_type])), {
      account: 'text', id: 'bigint', balance_cents: 'bigint', rate: 'double precision', name: 'text', nickname: 'text', active: 'boolean',
      tags: 'text[]', address_city: 'text', address_zip: 'bigint', updated_at: 'text', tier: 'text',
    }, 'the columns auto.create and auto.evolve made from the inferred schemas');
    const primaryKey = await query<{ attname: string }>(postgres, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '"${table}"'::regclass AND i.indisprimary`);
    assert.deepEqual(primaryKey.map((row) => row.attname), ['account']);

    // Kafka has every event at least once; the records carry JsonConverter envelopes with the inferred schemas.
    const ends = await admin.listOffsets(await admin.describeTopic(topic), OffsetSpec.latest);
    const inTopic = [...ends.values()].reduce((sum, offset) => sum + offset, 0);
    const info = await admin.describeTopic(topic);
    const consumer = new Consumer(cluster, info, new Map(info.partitions.map(({ partition }) => [partition, 0])));
    const records: ConsumedRecord[] = [];
    await waitFor(async () => {
      records.push(...(await consumer.poll(200)));
      return records.length >= inTopic;
    }, `the ${inTopic} records of ${topic}`, 30_000);
    const seen = new Map<number, number>();
    for (const record of records) {
      const value = JSON.parse(record.value!.toString('utf8')) as { schema: { type: string; fields: { field: string; type: string; optional: boolean }[] }; payload: AccountEvent };
      const key = JSON.parse(record.key!.toString('utf8')) as { schema: unknown; payload: unknown };
      assert.deepEqual(key, { schema: { type: 'string', optional: true }, payload: value.payload.account });
      assert.equal(value.schema.type, 'struct');
      assert.deepEqual(value.payload, JSON.parse(JSON.stringify(accountEvent(value.payload.id))), 'the record is the event');
      seen.set(value.payload.id, (seen.get(value.payload.id) ?? 0) + 1);
    }
    const first = JSON.parse(records.find((record) => (JSON.parse(record.value!.toString('utf8')) as { payload: AccountEvent }).payload.id === 1)!.value!.toString('utf8')) as { schema: unknown };
    assert.deepEqual(first.schema, {
      type: 'struct', optional: true, fields: [
        { field: 'id', type: 'int64', optional: true },
        { field: 'account', type: 'string', optional: true },
        { field: 'balance_cents', type: 'int64', optional: true },
        { field: 'rate', type: 'double', optional: true },
        { field: 'name', type: 'string', optional: true },
        { field: 'nickname', type: 'string', optional: true },
        { field: 'active', type: 'boolean', optional: true },
        { field: 'tags', type: 'array', optional: true, items: { type: 'string', optional: true } },
        { field: 'address', type: 'struct', optional: true, fields: [{ field: 'city', type: 'string', optional: true }, { field: 'zip', type: 'int64', optional: true }] },
        { field: 'updated_at', type: 'string', optional: true },
      ],
    }, 'the first event\'s inferred schema, as JsonConverter writes it');
    const missing = Array.from({ length: total }, (_, index) => index + 1).filter((id) => !seen.has(id));
    assert.deepEqual(missing, [], 'every event reached Kafka');
    assert.equal(seen.size, total, 'no event the API never had');
    const sourceReplays = records.length - total;

    const [writes] = await query<{ rows: string; distinct: string }>(postgres, 'SELECT count(*)::text AS rows, count(DISTINCT (account, id))::text AS distinct FROM writes');
    const finalSource = await statusOf('rest-source');
    const finalSink = await statusOf('pg-sink');
    assert.equal(finalSource?.tasks[0]?.state, 'RUNNING', JSON.stringify(finalSource));
    assert.ok(finalSink?.tasks.every((task) => task.state === 'RUNNING'), JSON.stringify(finalSink));

    process.stderr.write(`# ${total} events (${ACCOUNTS} accounts) through; killed worker ${victim.workerId} running ${victimRan.join(', ')} `
      + `(API at event ${eventsAtKill}, table at ${tableAtKill}); the source task moved in ${sourceMovedMs} ms; PostgreSQL restarted in ${restartMs} ms at event ${eventsAtRestart} `
      + `(${sessionsBefore} sink connection(s) cut, ${sessionsAfter} back); `
      + `killed worker ${sinkVictim.workerId} running ${sinkVictimRan.join(', ')} at event ${eventsAtSinkKill}, the sink tasks ran again in ${sinkMovedMs} ms; `
      + `${inTopic} records in the topic (${sourceReplays} replayed by the source); the sink wrote ${writes!.rows} rows after the trigger went in, `
      + `${Number(writes!.rows) - Number(writes!.distinct)} of them an event written again; pipeline up after ${pipelineUpAt - startedAt} ms, whole test ${Date.now() - startedAt} ms\n`);
    await stopWorkers(alive());
  });
});
