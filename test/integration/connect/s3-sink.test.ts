// The S3 sink connector against a local S3-API server (s3rver, test/support/s3-server.ts), a
// real broker and a real Connect worker; objects are listed and read back with @aws-sdk/client-s3,
// Parquet through DuckDB. Object names as Confluent's (<topics.dir>/<topic>/<encoded partition>/
// <topic>+<partition>+<start offset>.<ext>); JSON with the default partitioner and scheduled
// rotation of the partial last objects; Parquet of struct records with their column types; the
// field and time-based partitioners and rotate.interval.ms; a multipart upload; failed uploads
// retried (and overwriting), a persistent failure waited out, a missing bucket failing the task;
// a replay from offset 0 rewriting the same names; a worker process killed with SIGKILL and its
// replacement finishing the job with every record exactly once; bad configs naming the key.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Admin, Kafka, type Message, type Producer, logLevel } from 'kafkajs';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, type S3Server, startS3Server } from '../../support/s3-server.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { type Status, type WorkerProcess, createConnector, distributedWorkerProperties, rest, startWorker } from './worker-processes.js';

const BUCKET = 'conveyor-sink';
const SINK = 'conveyor.connect.s3.S3SinkConnector';
const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

const pad = (offset: number) => String(offset).padStart(10, '0');
const key = (topic: string, directory: string, partition: number, start: number, extension = '.json', dir = 'topics') =>
  `${dir}/${topic}/${directory}/${topic}+${partition}+${pad(start)}${extension}`;

describe('S3 sink connector', () => {
  let s3: S3Server;
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect;
  let producer: Producer;
  let admin: Admin;
  const running = new Set<string>();
  const processes: WorkerProcess[] = [];

  before(async () => {
    s3 = await startS3Server([BUCKET]);
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': JSON_CONVERTER,
        'value.converter.schemas.enable': 'false',
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        'offset.flush.interval.ms': '500',
        'task.shutdown.graceful.timeout.ms': '5000',
        listeners: 'http://127.0.0.1:0',
      },
    });
    const kafka = new Kafka({ clientId: 's3-sink-test', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });

  afterEach(async () => {
    s3.clearFaults();
    for (const name of running) await connect.herder.deleteConnector(name).catch(() => undefined);
    running.clear();
  });

  after(async () => {
    for (const worker of processes) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await connect?.close().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    await s3?.stop();
    await dir?.remove();
  });

  async function topic(prefix: string, numPartitions = 1): Promise<string> {
    const name = uniqueTopic(prefix);
    await admin.createTopics({ topics: [{ topic: name, numPartitions }], waitForLeaders: true });
    return name;
  }

  function sinkConfig(topicName: string, extra: Record<string, string>): Record<string, string> {
    return {
      'connector.class': SINK, 'tasks.max': '1', topics: topicName, 's3.bucket.name': BUCKET, 'store.url': s3.url,
      'aws.access.key.id': S3_ACCESS_KEY, 'aws.secret.access.key': S3_SECRET_KEY, 'format.class': 'json', 's3.retry.backoff.ms': '20', ...extra,
    };
  }

  async function startSink(name: string, config: Record<string, string>): Promise<void> {
    await connect.herder.putConnectorConfig(name, { name, ...config }, false);
    running.add(name);
    await waitFor(async () => (await connect.herder.connectorStatus(name)).tasks[0]?.state === 'RUNNING', `${name}'s task to run`);
  }

  async function taskState(name: string): Promise<{ state: string; trace?: string }> {
    return (await connect.herder.connectorStatus(name)).tasks[0] ?? { state: 'none' };
  }

  /** The keys under `prefix` once there are `count` of them (and a moment later, no more). */
  async function keysWhen(prefix: string, count: number, description: string, timeoutMs = 20_000): Promise<string[]> {
    const keys = await waitFor(async () => {
      const found = await s3.listKeys(BUCKET, prefix);
      return found.length >= count ? found : false;
    }, description, timeoutMs);
    return keys;
  }

  async function jsonLines(objectKey: string): Promise<unknown[]> {
    const text = (await s3.getObject(BUCKET, objectKey)).toString('utf8');
    assert.ok(text.endsWith('\n'), `${objectKey} ends with a newline`);
    return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as unknown);
  }

  const putsOf = (objectKey: string) => s3.requests.filter((request) => request.method === 'PUT' && decodeURIComponent(request.url.split('?')[0]!) === `/${BUCKET}/${objectKey}`).length;

  it('JSON with the default partitioner: exact names, every record once and in order, partial objects by rotate.schedule.interval.ms', async () => {
    const name = await topic('s3-json', 3);
    const messages: Message[] = Array.from({ length: 1000 }, (_, id) => ({ partition: id % 3, value: JSON.stringify({ id, text: `record ${id} ✓` }) }));
    await producer.send({ topic: name, messages });
    await startSink('json-default', sinkConfig(name, { 'flush.size': '100', 'rotate.schedule.interval.ms': '2000', timezone: 'UTC' }));
    // The same records without scheduled rotation: its partial objects are never written.
    await startSink('json-control', sinkConfig(name, { 'flush.size': '100', 'topics.dir': 'control' }));

    const expected = [0, 1, 2].flatMap((partition) => [0, 100, 200, 300].map((start) => key(name, `partition=${partition}`, partition, start))).sort();
    const keys = await keysWhen(`topics/${name}/`, 12, 'twelve objects: three full and one partial per partition');
    assert.deepEqual(keys, expected);
    for (const partition of [0, 1, 2]) {
      const ids: unknown[] = [];
      for (const start of [0, 100, 200, 300]) {
        const lines = await jsonLines(key(name, `partition=${partition}`, partition, start));
        assert.equal(lines.length, start < 300 ? 100 : partition === 0 ? 34 : 33, `records in the object starting at ${start}`);
        ids.push(...lines.map((line) => (line as { id: number }).id));
      }
      const wanted = Array.from({ length: 1000 }, (_, id) => id).filter((id) => id % 3 === partition);
      assert.deepEqual(ids, wanted, `partition ${partition}: every record once, in offset order`);
    }
    assert.deepEqual(await jsonLines(key(name, 'partition=1', 1, 0)).then((lines) => lines[0]), { id: 1, text: 'record 1 ✓' });
    const control = await s3.listKeys(BUCKET, `control/${name}/`);
    assert.deepEqual(control, expected.filter((objectKey) => !objectKey.endsWith(`+${pad(300)}.json`)).map((objectKey) => objectKey.replace(/^topics\//, 'control/')),
      'without rotate.schedule.interval.ms only the full objects exist');
    // The committed offsets are where the unwritten records start: after the last object of each partition.
    const offsets = await waitFor(async () => {
      const stored = await connect.herder.connectorOffsets('json-control');
      return stored.length === 3 && stored.every((entry) => entry.offset?.kafka_offset === 300) ? stored : false;
    }, 'json-control to commit the offsets of its uploaded objects');
    assert.equal(offsets.length, 3);
  });

  it('Parquet: struct records become rows with their column types (read back by DuckDB); a schemaless record fails the task', async () => {
    const name = await topic('s3-parquet');
    const field = (fieldName: string, type: string, optional = false, extra: Record<string, unknown> = {}) => ({ field: fieldName, type, optional, ...extra });
    const schema = {
      type: 'struct', optional: false, name: 'com.example.Order', fields: [
        field('id', 'int32'), field('amount', 'int64'), field('customer', 'string'), field('paid', 'boolean'), field('price', 'double'),
        field('note', 'string', true), field('qty', 'int32', true),
        field('at', 'int64', false, { name: 'org.apache.kafka.connect.data.Timestamp', version: 1 }),
        field('address', 'struct', true, { fields: [field('city', 'string'), field('zip', 'string', true)] }),
        field('tags', 'array', true, { items: { type: 'string', optional: false } }),
      ],
    };
    const base = Date.UTC(2024, 1, 29, 12, 0, 0, 0);
    const payload = (id: number) => ({
      id, amount: 9_007_199_254_740_993 + id, customer: `customer ${id}`, paid: id % 2 === 0, price: id + 0.25,
      note: id % 3 === 0 ? null : `note ${id}`, qty: id % 2 === 0 ? id * 10 : null, at: base + id * 1000,
      address: id % 4 === 0 ? null : { city: `city ${id}`, zip: id % 2 === 0 ? `${10_000 + id}` : null }, tags: id % 5 === 0 ? null : [`t${id}`, 'x'],
    });
    // 2^53 + 1 (and more) survive only as exact integers: written as text, not through JSON.stringify of a number.
    const envelope = (id: number) => JSON.stringify({ schema, payload: payload(id) }).replace(`"amount":${9_007_199_254_740_993 + id}`, `"amount":${9_007_199_254_740_993n + BigInt(id)}`);
    await producer.send({ topic: name, messages: Array.from({ length: 10 }, (_, id) => ({ value: envelope(id) })) });
    await startSink('parquet', sinkConfig(name, {
      'format.class': 'io.confluent.connect.s3.format.parquet.ParquetFormat', 'flush.size': '5', 'value.converter': JSON_CONVERTER, 'value.converter.schemas.enable': 'true',
    }));
    const keys = await keysWhen(`topics/${name}/`, 2, 'two Parquet objects');
    assert.deepEqual(keys, [key(name, 'partition=0', 0, 0, '.snappy.parquet'), key(name, 'partition=0', 0, 5, '.snappy.parquet')]);
    const files: string[] = [];
    for (const [index, objectKey] of keys.entries()) {
      const file = join(dir.path, `part-${index}.parquet`);
      await writeFile(file, await s3.getObject(BUCKET, objectKey));
      files.push(file);
    }
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const source = `read_parquet([${files.map((file) => `'${file}'`).join(', ')}])`;
      const types = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJS().map((column) => `${column.column_name} ${column.column_type}`);
      assert.deepEqual(types, [
        'id INTEGER', 'amount BIGINT', 'customer VARCHAR', 'paid BOOLEAN', 'price DOUBLE', 'note VARCHAR', 'qty INTEGER',
        'at TIMESTAMP WITH TIME ZONE', 'address STRUCT(city VARCHAR, zip VARCHAR)', 'tags VARCHAR[]',
      ]);
      const rows = (await duck.runAndReadAll(`SELECT id, amount::VARCHAR AS amount, customer, paid, price, note, qty, epoch_ms("at") AS at_ms, address, tags FROM ${source} ORDER BY id`)).getRowObjectsJS();
      assert.equal(rows.length, 10);
      for (const [id, row] of rows.entries()) {
        const wanted = payload(id);
        assert.deepEqual(row, {
          id, amount: String(9_007_199_254_740_993n + BigInt(id)), customer: wanted.customer, paid: wanted.paid, price: wanted.price, note: wanted.note, qty: wanted.qty,
          at_ms: BigInt(wanted.at), address: wanted.address === null ? null : { city: wanted.address.city, zip: wanted.address.zip }, tags: wanted.tags,
        }, `row ${id}`);
      }
    } finally {
      duck.closeSync();
    }

    const schemaless = await topic('s3-parquet-schemaless');
    await producer.send({ topic: schemaless, messages: [{ value: JSON.stringify({ id: 1 }) }] });
    await connect.herder.putConnectorConfig('parquet-schemaless', { name: 'parquet-schemaless', ...sinkConfig(schemaless, { 'format.class': 'parquet', 'flush.size': '1' }) }, false);
    running.add('parquet-schemaless');
    const failed = await waitFor(async () => {
      const state = await taskState('parquet-schemaless');
      return state.state === 'FAILED' ? state : false;
    }, 'the task to fail');
    assert.match(failed.trace ?? '', new RegExp(`ParquetFormat needs records with a schema \\(a struct\\): record ${schemaless}-0 offset 0 has none`));
    assert.deepEqual(await s3.listKeys(BUCKET, `topics/${schemaless}/`), []);
  });

  it('FieldPartitioner and TimeBasedPartitioner paths; rotate.interval.ms by record timestamp', async () => {
    const fields = await topic('s3-field');
    await producer.send({ topic: fields, messages: Array.from({ length: 8 }, (_, n) => ({ value: JSON.stringify({ region: n % 2 === 0 ? 'eu' : 'us', n }) })) });
    await startSink('field', sinkConfig(fields, { 'flush.size': '4', 'partitioner.class': 'io.confluent.connect.storage.partitioner.FieldPartitioner', 'partition.field.name': 'region' }));
    // flush.size counts a topic partition's records: every fourth record closes both regions' objects.
    const fieldKeys = await keysWhen(`topics/${fields}/`, 4, 'four objects by region');
    assert.deepEqual(fieldKeys, [key(fields, 'region=eu', 0, 0), key(fields, 'region=eu', 0, 4), key(fields, 'region=us', 0, 1), key(fields, 'region=us', 0, 5)]);
    assert.deepEqual(await jsonLines(key(fields, 'region=us', 0, 5)), [{ region: 'us', n: 5 }, { region: 'us', n: 7 }]);

    const times = await topic('s3-time');
    const noon = Date.UTC(2024, 1, 29, 12, 10);
    const stamps = [noon, noon + 60_000, noon + 120_000, noon + 3_300_000, noon + 3_360_000, noon + 3_420_000];
    await producer.send({ topic: times, messages: stamps.map((timestamp, n) => ({ value: JSON.stringify({ n }), timestamp: String(timestamp) })) });
    await startSink('time', sinkConfig(times, {
      'flush.size': '6', 'partitioner.class': 'io.confluent.connect.storage.partitioner.TimeBasedPartitioner', 'path.format': "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
      'partition.duration.ms': '3600000', locale: 'en-US', timezone: 'UTC', 'timestamp.extractor': 'Record',
    }));
    const timeKeys = await keysWhen(`topics/${times}/`, 2, 'an object per hour');
    assert.deepEqual(timeKeys, [key(times, 'year=2024/month=02/day=29/hour=12', 0, 0), key(times, 'year=2024/month=02/day=29/hour=13', 0, 3)]);
    assert.deepEqual(await jsonLines(timeKeys[1]!), [{ n: 3 }, { n: 4 }, { n: 5 }]);

    const rotating = await topic('s3-rotate');
    const start = Date.UTC(2024, 0, 1);
    const offsetsMs = [0, 10_000, 59_999, 60_000, 70_000, 130_000];
    await producer.send({ topic: rotating, messages: offsetsMs.map((ms, n) => ({ value: JSON.stringify({ n }), timestamp: String(start + ms) })) });
    await startSink('rotate', sinkConfig(rotating, { 'flush.size': '1000', 'rotate.interval.ms': '60000' }));
    const rotated = await keysWhen(`topics/${rotating}/`, 2, 'objects cut by record time');
    assert.deepEqual(rotated, [key(rotating, 'partition=0', 0, 0), key(rotating, 'partition=0', 0, 3)]);
    assert.deepEqual(await jsonLines(rotated[0]!), [{ n: 0 }, { n: 1 }, { n: 2 }]);
    assert.deepEqual(await jsonLines(rotated[1]!), [{ n: 3 }, { n: 4 }]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await s3.listKeys(BUCKET, `topics/${rotating}/`)).length, 2, 'the object of offset 5 stays open until a later record passes its interval');
  });

  it('an object larger than s3.part.size goes up as a multipart upload and reads back intact', async () => {
    const name = await topic('s3-large');
    const value = (n: number) => `${String(n).padStart(6, '0')}:${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(14_000)}`;
    const count = 24;
    // One record per request: each is about half of the broker's message.max.bytes.
    for (let n = 0; n < count; n++) await producer.send({ topic: name, messages: [{ value: value(n) }] });
    await startSink('large', sinkConfig(name, { 'flush.size': String(count), 's3.part.size': '5242880', 'value.converter': 'org.apache.kafka.connect.storage.StringConverter' }));
    const objectKey = key(name, 'partition=0', 0, 0);
    await keysWhen(`topics/${name}/`, 1, 'the large object', 60_000);
    await waitFor(async () => (await connect.herder.connectorOffsets('large'))[0]?.offset?.kafka_offset === count, 'the offsets after the object to be committed');
    const body = await s3.getObject(BUCKET, objectKey);
    const wanted = Buffer.from(Array.from({ length: count }, (_, n) => `${JSON.stringify(value(n))}\n`).join(''));
    assert.ok(wanted.length > 2 * 5_242_880, `the object is ${wanted.length} bytes: more than two parts`);
    assert.equal(body.length, wanted.length);
    assert.ok(body.equals(wanted), 'the object reads back byte for byte');
    const path = `/${BUCKET}/${objectKey}`;
    const forKey = s3.requests.filter((request) => decodeURIComponent(request.url.split('?')[0]!) === path);
    assert.equal(forKey.filter((request) => request.method === 'POST' && /[?&]uploads/.test(request.url)).length, 1, 'one CreateMultipartUpload');
    assert.deepEqual(forKey.filter((request) => request.method === 'PUT').map((request) => /partNumber=(\d+)/.exec(request.url)?.[1]), ['1', '2', '3'], 'three UploadParts');
    assert.equal(forKey.filter((request) => request.method === 'POST' && /[?&]uploadId=/.test(request.url)).length, 1, 'one CompleteMultipartUpload');
  });

  it('failed uploads: retried with backoff, overwriting the same name; a persistent failure is waited out; a missing bucket fails the task', async () => {
    const name = await topic('s3-faults');
    const isPut = (request: { method: string }) => request.method === 'PUT';
    // Two rejected PUTs, then one that is stored but answered 500: four PUTs of the first object, one object.
    s3.failNext(2, 'reject', isPut);
    await producer.send({ topic: name, messages: Array.from({ length: 10 }, (_, n) => ({ value: JSON.stringify({ n }) })) });
    await startSink('faults', sinkConfig(name, { 'flush.size': '5', 's3.part.retries': '5' }));
    const first = key(name, 'partition=0', 0, 0);
    const second = key(name, 'partition=0', 0, 5);
    await keysWhen(`topics/${name}/`, 2, 'both objects despite the failures');
    assert.equal(putsOf(first) + putsOf(second), 4, 'two failed attempts and one success per object');
    s3.failNext(1, 'store-then-fail', isPut);
    await producer.send({ topic: name, messages: Array.from({ length: 5 }, (_, n) => ({ value: JSON.stringify({ n: 10 + n }) })) });
    const third = key(name, 'partition=0', 0, 10);
    await keysWhen(`topics/${name}/`, 3, 'the third object');
    await waitFor(() => putsOf(third) === 2, 'the stored-but-failed upload to be retried');
    // The offsets move past an object only once its upload succeeded: then the retry has finished writing.
    await waitFor(async () => (await connect.herder.connectorOffsets('faults'))[0]?.offset?.kafka_offset === 15, 'the offset after the third object to be committed');
    assert.deepEqual(await jsonLines(third), [10, 11, 12, 13, 14].map((n) => ({ n })), 'the retry overwrote the same object');

    // Every PUT fails for a while: the put is handed back by the worker (RetriableException) and the task keeps running.
    const persistent = await topic('s3-persistent');
    s3.failNext(1_000_000, 'reject', isPut);
    await producer.send({ topic: persistent, messages: Array.from({ length: 4 }, (_, n) => ({ value: JSON.stringify({ n }) })) });
    await startSink('persistent', sinkConfig(persistent, { 'flush.size': '2', 's3.part.retries': '1', 'retry.backoff.ms': '100' }));
    const persistentKey = key(persistent, 'partition=0', 0, 0);
    await waitFor(() => putsOf(persistentKey) >= 6, 'several rounds of failed attempts', 15_000);
    assert.equal((await taskState('persistent')).state, 'RUNNING', 'a transient S3 failure does not fail the task');
    assert.deepEqual(await s3.listKeys(BUCKET, `topics/${persistent}/`), []);
    s3.clearFaults();
    const recovered = await keysWhen(`topics/${persistent}/`, 2, 'the objects once S3 answers again');
    assert.deepEqual(recovered, [persistentKey, key(persistent, 'partition=0', 0, 2)]);
    assert.deepEqual([...await jsonLines(recovered[0]!), ...await jsonLines(recovered[1]!)], [0, 1, 2, 3].map((n) => ({ n })), 'each record once');

    await connect.herder.putConnectorConfig('no-bucket', { name: 'no-bucket', ...sinkConfig(name, { 'flush.size': '5', 's3.bucket.name': 'missing-bucket' }) }, false);
    running.add('no-bucket');
    const failed = await waitFor(async () => {
      const state = await taskState('no-bucket');
      return state.state === 'FAILED' ? state : false;
    }, 'the task to fail');
    assert.match(failed.trace ?? '', /Non-existent S3 bucket: missing-bucket/);
  });

  it('a replay from offset 0 rewrites the same object names with the same contents', async () => {
    const name = await topic('s3-replay');
    await producer.send({ topic: name, messages: Array.from({ length: 300 }, (_, n) => ({ value: JSON.stringify({ n }) })) });
    await startSink('replay', sinkConfig(name, { 'flush.size': '100' }));
    const keys = await keysWhen(`topics/${name}/`, 3, 'three objects');
    const before = await Promise.all(keys.map((objectKey) => s3.getObject(BUCKET, objectKey)));
    assert.deepEqual(keys.map(putsOf), [1, 1, 1]);
    await waitFor(async () => (await connect.herder.connectorOffsets('replay'))[0]?.offset?.kafka_offset === 300, 'the offsets to be committed');
    await connect.herder.stopConnector('replay');
    await waitFor(async () => (await connect.herder.connectorStatus('replay')).connector.state === 'STOPPED', 'the connector to stop');
    await connect.herder.resetConnectorOffsets('replay');
    await connect.herder.resumeConnector('replay');
    await waitFor(() => keys.every((objectKey) => putsOf(objectKey) === 2), 'each object to be written again', 20_000);
    assert.deepEqual(await s3.listKeys(BUCKET, `topics/${name}/`), keys, 'the same names, no new objects');
    const after = await Promise.all(keys.map((objectKey) => s3.getObject(BUCKET, objectKey)));
    assert.ok(after.every((body, index) => body.equals(before[index]!)), 'the same contents');
  });

  it('a worker process killed with SIGKILL mid-object: its replacement writes every record exactly once', async () => {
    const name = await topic('s3-crash', 2);
    const group = uniqueTopic('s3-crash-group');
    const properties = join(dir.path, 'worker-crash.properties');
    await writeFile(properties, distributedWorkerProperties(broker.running.bootstrapServers, group, 6000, {
      'value.converter': JSON_CONVERTER, 'value.converter.schemas.enable': 'false', 'offset.flush.interval.ms': '1000',
    }));
    const produce = (from: number, to: number) => producer.send({
      topic: name,
      messages: Array.from({ length: to - from }, (_, i) => from + i).flatMap((n) => [0, 1].map((partition) => ({ partition, value: JSON.stringify({ partition, n }) }))),
    });
    await produce(0, 500);
    const first = await startWorker(properties);
    processes.push(first);
    await createConnector(first, { name: 'crash', config: sinkConfig(name, { 'flush.size': '150' }) });
    // Three objects per partition; the records 450..499 are in the open fourth object.
    await keysWhen(`topics/${name}/`, 6, 'three objects per partition', 40_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    first.child.kill('SIGKILL');
    await new Promise((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve(undefined) : first.child.once('exit', resolve)));
    await produce(500, 750);
    const second = await startWorker(properties);
    processes.push(second);
    const keys = await keysWhen(`topics/${name}/`, 10, 'five objects per partition', 60_000).catch(async (error: Error) => {
      const status = await rest<Status>(second.url, 'GET', '/connectors/crash/status').catch((problem: Error) => problem.message);
      throw new Error(`${error.message}; objects: ${(await s3.listKeys(BUCKET, `topics/${name}/`)).join(', ')}; status: ${JSON.stringify(status)}; new worker's log:\n${second.stderr.slice(-3000)}`);
    });
    const expected = [0, 1].flatMap((partition) => [0, 150, 300, 450, 600].map((start) => key(name, `partition=${partition}`, partition, start))).sort();
    assert.deepEqual(keys, expected, 'no object with another name (a duplicate) and none missing');
    for (const partition of [0, 1]) {
      const values: unknown[] = [];
      for (const start of [0, 150, 300, 450, 600]) values.push(...await jsonLines(key(name, `partition=${partition}`, partition, start)));
      assert.deepEqual(values, Array.from({ length: 750 }, (_, n) => ({ partition, n })), `partition ${partition}: every record exactly once`);
    }
    second.child.kill('SIGTERM');
    await new Promise((resolve) => (second.child.exitCode !== null ? resolve(undefined) : second.child.once('exit', resolve)));
  });

  it('bad configurations: a clear error naming the key', async () => {
    const errorsOf = async (config: Record<string, string>) => {
      const validation = await connect.herder.validateConnectorConfig(SINK, config);
      return Object.fromEntries(validation.configs.filter((entry) => entry.value.errors.length > 0).map((entry) => [entry.value.name, entry.value.errors.join(' ')]));
    };
    const { 's3.bucket.name': _bucket, ...withoutBucket } = sinkConfig('t', { 'flush.size': '10' });
    assert.match((await errorsOf(withoutBucket))['s3.bucket.name'] ?? '', /Missing required configuration "s3.bucket.name" which has no default value/);
    assert.match((await errorsOf(sinkConfig('t', { 'flush.size': '0' })))['flush.size'] ?? '', /Invalid value 0 for configuration flush.size: Value must be at least 1/);
    assert.match((await errorsOf(sinkConfig('t', { 'flush.size': '10', 'format.class': 'io.confluent.connect.s3.format.avro.AvroFormat' })))['format.class'] ?? '',
      /Invalid value io.confluent.connect.s3.format.avro.AvroFormat for configuration format.class: must be one of/);
    // Creating a connector with a bad value is refused, naming the key; a bad combination fails the connector.
    const name = await topic('s3-bad');
    await assert.rejects(connect.herder.putConnectorConfig('bad-format', { name: 'bad-format', ...sinkConfig(name, { 'flush.size': '10', 'format.class': 'avro' }) }, false),
      /Invalid value avro for configuration format.class/);
    await connect.herder.putConnectorConfig('bad-path', { name: 'bad-path', ...sinkConfig(name, { 'flush.size': '10', 'partitioner.class': 'TimeBasedPartitioner', 'path.format': "'week'=ww", 'partition.duration.ms': '1000', timezone: 'UTC' }) }, false);
    running.add('bad-path');
    const badPath = await waitFor(async () => {
      const current = await connect.herder.connectorStatus('bad-path');
      return current.connector.state === 'FAILED' ? current : false;
    }, 'the connector to fail');
    assert.match(badPath.connector.trace ?? '', /path.format: the pattern letter 'w' is not supported/);
  });
});
