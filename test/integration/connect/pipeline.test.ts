// The Connect record pipeline end to end, through a real standalone worker and a real Kafka client
// (kafkajs) producing the input and reading the output, as a Kafka user would:
//   1. JsonConverter (schemas.enable) turns Kafka's JSON envelope into Connect data for a sink;
//   2. FileStreamSource lines go through HoistField, InsertField and RegexRouter and are written
//      with JsonConverter as the exact bytes Kafka Connect writes;
//   3. Filter with predicates (TopicNameMatches with negate, RecordIsTombstone, HasHeaderKey) lets
//      only the expected records reach a sink;
//   4. errors.tolerance=all skips records JsonConverter cannot read and writes them, byte for byte
//      with Kafka's __connect.errors.* context headers, to the dead letter queue (created when
//      the task starts); with errors.tolerance=none the task fails with the converter's error,
//      the failing record reported to the dead letter queue first, as Kafka does;
//   5. a sink task's errant record reporter sends the records it reports to the dead letter queue;
//   6. headers: Kafka headers reach a sink as Connect headers (SimpleHeaderConverter), a source's
//      Connect headers are written as Kafka headers;
//   7. sink offsets: context.offset() rewinds (in put and in open), preCommit may commit less than
//      was put but never more than was consumed; what is committed shows in the connector's offsets.
// The test connectors live in a plugin package on plugin.path (plain CommonJS, as a connector
// author could ship one); being loaded in this process, the sink hands what it was given to the
// test through a registry on globalThis.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Admin, Kafka, type Producer, type IHeaders, logLevel } from 'kafkajs';
import { Decimal, type SinkRecord, Struct } from '../../../src/connect/api/data.js';
import type { ConnectorOffset } from '../../../src/connect/runtime/herder.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';
const STRING_CONVERTER = 'org.apache.kafka.connect.storage.StringConverter';
const TRANSFORMS = 'org.apache.kafka.connect.transforms';

/** What the capture sink saw for one connector (filled by the plugin, read by the test). */
interface Capture {
  records: SinkRecord[];
  /** typeof context.errantRecordReporter when the task started ('object' for null). */
  reporter: string | undefined;
}

/**
 * The plugin package. CaptureSinkConnector keeps every record its task is put in the registry
 * under its `capture` name, and does what its other settings ask:
 *   errant.marker=M    reports records whose value contains M to the errant record reporter
 *                      (those that also contain "copy" are reported as a modified copy)
 *   rewind.on.put=P:A:T  the first time a put holds offset A of partition P, context.offset(P, T)
 *   seek.on.open=P:T   open() calls context.offset(P, T) (the task keeps its own offsets there)
 *   commit.cap=P:N     preCommit offers at most offset N for partition P
 *   commit.claim=P:N   preCommit offers offset N for partition P, whatever was consumed
 * HeaderSourceConnector sends one record with typed Connect headers to `topic`, once.
 */
const PLUGIN = `
'use strict';
const registry = (globalThis.__connectPipelineTest ??= new Map());
function captureOf(name) {
  if (!registry.has(name)) registry.set(name, { records: [], reporter: undefined });
  return registry.get(name);
}
function pair(text) {
  if (!text) return null;
  const [partition, offset] = text.split(':').map(Number);
  return { partition, offset };
}
const CONFIG_DEF = { keys: () => [], validate: () => [], parse: () => ({}) };

class BaseConnector {
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; }
  taskConfigs() { return [{ ...this.props }]; }
  stop() {}
  config() { return CONFIG_DEF; }
  alterOffsets() { return false; }
}

class CaptureSinkTask {
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) {
    this.props = props;
    this.capture = captureOf(props.capture);
    this.capture.reporter = typeof this.context.errantRecordReporter;
    this.rewound = false;
  }
  open(partitions) {
    const seek = pair(this.props['seek.on.open']);
    const target = seek && partitions.find((each) => each.partition === seek.partition);
    if (target) this.context.offset([{ topic: target.topic, partition: seek.partition, offset: seek.offset }]);
  }
  async put(records) {
    const marker = this.props['errant.marker'];
    const [rewindPartition, rewindAt, rewindTo] = (this.props['rewind.on.put'] || '').split(':').map(Number);
    for (const record of records) {
      const text = String(record.value);
      if (marker && text.includes(marker)) {
        const reported = text.includes('copy') ? { ...record, value: text.toUpperCase() } : record;
        await this.context.errantRecordReporter(reported, new Error('cannot store ' + text));
        continue;
      }
      this.capture.records.push(record);
      if (!this.rewound && record.kafkaPartition === rewindPartition && record.kafkaOffset === rewindAt) {
        this.rewound = true;
        this.context.offset([{ topic: record.topic, partition: rewindPartition, offset: rewindTo }]);
      }
    }
  }
  async preCommit(offsets) {
    const cap = pair(this.props['commit.cap']);
    const claim = pair(this.props['commit.claim']);
    return offsets.map((entry) => {
      if (cap && entry.partition === cap.partition) return { ...entry, offset: Math.min(entry.offset, cap.offset) };
      if (claim && entry.partition === claim.partition) return { ...entry, offset: claim.offset };
      return entry;
    });
  }
  flush() {}
  close() {}
  stop() {}
}

class CaptureSinkConnector extends BaseConnector {
  constructor() { super(); this.kind = 'sink'; }
  taskClass() { return CaptureSinkTask; }
}

const STRING = { type: 'string', optional: false };
const INT32 = { type: 'int32', optional: false };
class HeaderSourceTask {
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; this.sent = false; }
  async poll() {
    if (this.sent) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return null;
    }
    this.sent = true;
    return [{
      topic: this.props.topic, kafkaPartition: 0, keySchema: STRING, key: 'with-headers', valueSchema: STRING, value: 'from the source', timestamp: null,
      headers: [
        { key: 'trace-id', schema: STRING, value: 'abc-123' },
        { key: 'attempt', schema: INT32, value: 3 },
        { key: 'retry', schema: { type: 'boolean', optional: false }, value: false },
        { key: 'tags', schema: { type: 'array', optional: false, valueSchema: STRING }, value: ['a', 'b'] },
        { key: 'counts', schema: { type: 'map', optional: false, keySchema: STRING, valueSchema: INT32 }, value: new Map([['x', 1], ['y', 2]]) },
        { key: 'nothing', schema: { type: 'string', optional: true }, value: null },
      ],
      sourcePartition: { source: 'headers' }, sourceOffset: { sent: 1 },
    }];
  }
  commit() {}
  commitRecord() {}
  stop() {}
}
class HeaderSourceConnector extends BaseConnector {
  constructor() { super(); this.kind = 'source'; }
  taskClass() { return HeaderSourceTask; }
  exactlyOnceSupport() { return null; }
  canDefineTransactionBoundaries() { return 'UNSUPPORTED'; }
}

module.exports = { CaptureSinkConnector, HeaderSourceConnector };
`;

/** A message read back with kafkajs, with its partition. */
interface ReadMessage {
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** A header value kafkajs read, as text (a single value: kafkajs gives an array for repeated keys). */
function headerText(headers: IHeaders, name: string): string | undefined {
  const value = headers[name];
  assert.ok(!Array.isArray(value), `header ${name} appears once`);
  return value === undefined ? undefined : value === null ? 'null' : value.toString();
}

describe('Connect pipeline: converters, transforms, predicates, errors, headers and offsets end to end', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect;
  let kafka: Kafka;
  let producer: Producer;
  let admin: Admin;
  let readers = 0;
  const running = new Set<string>();

  before(async () => {
    // No initial rebalance delay: each sink task and each kafkajs reader joins a group of its own.
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
    const plugins = join(dir.path, 'plugins');
    await mkdir(join(plugins, 'pipeline-test-connectors'), { recursive: true });
    await writeFile(join(plugins, 'pipeline-test-connectors', 'package.json'), JSON.stringify({ name: 'pipeline-test-connectors', version: '0.0.1', main: 'index.js' }));
    await writeFile(join(plugins, 'pipeline-test-connectors', 'index.js'), PLUGIN);
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': STRING_CONVERTER,
        'value.converter': STRING_CONVERTER,
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        'offset.flush.interval.ms': '200',
        'task.shutdown.graceful.timeout.ms': '2000',
        'plugin.path': plugins,
        listeners: 'http://127.0.0.1:0',
      },
    });
    kafka = new Kafka({ clientId: 'pipeline-test', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });

  afterEach(async () => {
    for (const name of running) await connect.herder.deleteConnector(name).catch(() => undefined);
    running.clear();
  });

  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await connect?.close();
    await broker?.close();
    await dir?.remove();
  });

  async function createTopic(topic: string, numPartitions = 1): Promise<string> {
    await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
    return topic;
  }

  /** Creates the connector and waits for its one task to run. */
  async function startConnector(name: string, config: Record<string, string>): Promise<void> {
    await connect.herder.putConnectorConfig(name, { name, 'tasks.max': '1', ...config }, false);
    running.add(name);
    await waitFor(async () => (await connect.herder.connectorStatus(name)).tasks[0]?.state === 'RUNNING', `${name}'s task to run`);
  }

  function capture(name: string): Capture {
    const registry = (globalThis as { __connectPipelineTest?: Map<string, Capture> }).__connectPipelineTest;
    return registry?.get(name) ?? { records: [], reporter: undefined };
  }

  /** Waits until the capture sink `name` has been put `count` records, and returns them. */
  async function captured(name: string, count: number): Promise<SinkRecord[]> {
    return waitFor(() => capture(name).records.length >= count && capture(name).records, `${name} to be put ${count} records`);
  }

  /** Reads `count` messages of `topic` from the beginning with a kafkajs consumer, ordered by partition and offset. */
  async function readTopic(topic: string, count: number): Promise<ReadMessage[]> {
    const consumer = kafka.consumer({ groupId: `pipeline-reader-${++readers}`, sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    const messages: ReadMessage[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          messages.push({ partition, offset: message.offset, timestamp: message.timestamp, key: message.key, value: message.value, headers: message.headers ?? {} });
        },
      });
      await waitFor(() => messages.length >= count, `${count} messages in ${topic}`);
    } finally {
      await consumer.disconnect();
    }
    return messages.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
  }

  /** The number of messages in the topic (the sum of its partitions' end offsets). */
  async function topicSize(topic: string): Promise<number> {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  }

  /** Waits until the sink connector's committed offsets are `wanted` (topic-partition to offset). */
  async function committedOffsets(name: string, wanted: Record<string, number>): Promise<void> {
    await waitFor(async () => {
      const committed = offsetsByPartition(await connect.herder.connectorOffsets(name));
      return Object.entries(wanted).every(([partition, offset]) => committed[partition] === offset);
    }, `${name} to commit ${JSON.stringify(wanted)}`);
  }

  async function taskState(name: string): Promise<{ state: string; trace?: string }> {
    const status = await connect.herder.connectorStatus(name);
    return status.tasks[0] ?? { state: 'none' };
  }

  it('1. JsonConverter with schemas.enable turns Kafka\'s JSON envelope into Connect structs for a sink', async () => {
    const topic = await createTopic(uniqueTopic('json-in'));
    const schema = {
      type: 'struct', name: 'com.example.User', version: 2, optional: false,
      fields: [
        { field: 'id', type: 'int32', optional: false },
        { field: 'name', type: 'string', optional: true },
        { field: 'views', type: 'int64', optional: false },
        { field: 'created', type: 'int64', name: 'org.apache.kafka.connect.data.Timestamp', version: 1, optional: false },
        { field: 'price', type: 'bytes', name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2' }, optional: false },
        { field: 'scores', type: 'array', items: { type: 'double', optional: false }, optional: false },
        { field: 'counts', type: 'map', keys: { type: 'string', optional: false }, values: { type: 'int32', optional: false }, optional: false },
        { field: 'active', type: 'boolean', optional: false },
        { field: 'avatar', type: 'bytes', optional: true },
      ],
    };
    // 9007199254740993 is 2^53 + 1: exact only if int64 is read as a bigint. "MDk=" is 0x3039 = 12345.
    const first = `{"schema":${JSON.stringify(schema)},"payload":{"id":7,"name":"Ada","views":9007199254740993,"created":1700000000123,"price":"MDk=","scores":[1.5,2.0],"counts":{"a":1,"b":2},"active":true,"avatar":"AQID"}}`;
    const second = `{"schema":${JSON.stringify(schema)},"payload":{"id":8,"name":null,"views":0,"created":0,"price":"AA==","scores":[],"counts":{},"active":false,"avatar":null}}`;
    const key = (id: string) => `{"schema":{"type":"string","optional":false},"payload":"user-${id}"}`;
    await producer.send({ topic, messages: [{ key: key('7'), value: first, timestamp: '1700000000999' }, { key: key('8'), value: second }] });

    await startConnector('json-sink', {
      'connector.class': 'CaptureSinkConnector', capture: 'json-sink', topics: topic,
      'key.converter': JSON_CONVERTER, 'value.converter': JSON_CONVERTER, 'value.converter.schemas.enable': 'true',
    });
    const [ada, bob] = await captured('json-sink', 2);

    assert.deepEqual([ada!.topic, ada!.kafkaPartition, ada!.kafkaOffset, ada!.timestamp], [topic, 0, 0, 1700000000999], 'topic, partition, offset and timestamp of the Kafka record');
    assert.deepEqual(ada!.keySchema, { type: 'string', optional: false }, 'the key envelope\'s schema');
    assert.equal(ada!.key, 'user-7');
    const valueSchema = ada!.valueSchema!;
    assert.deepEqual([valueSchema.type, valueSchema.name, valueSchema.version, valueSchema.optional], ['struct', 'com.example.User', 2, false], 'the struct schema\'s type, name, version');
    assert.deepEqual(valueSchema.fields!.map((field) => [field.name, field.schema.type, field.schema.optional]), [
      ['id', 'int32', false], ['name', 'string', true], ['views', 'int64', false], ['created', 'int64', false], ['price', 'bytes', false],
      ['scores', 'array', false], ['counts', 'map', false], ['active', 'boolean', false], ['avatar', 'bytes', true],
    ], 'the fields in order, with their types');
    assert.equal(valueSchema.fields![3]!.schema.name, 'org.apache.kafka.connect.data.Timestamp');
    assert.deepEqual(valueSchema.fields![4]!.schema.parameters, { scale: '2' }, 'the Decimal\'s scale parameter');
    assert.equal(valueSchema.fields![5]!.schema.valueSchema?.type, 'float64', 'the array\'s element type');
    assert.deepEqual([valueSchema.fields![6]!.schema.keySchema?.type, valueSchema.fields![6]!.schema.valueSchema?.type], ['string', 'int32'], 'the map\'s key and value types');

    assert.ok(ada!.value instanceof Struct, 'a schema\'d JSON object is a Struct');
    const value = ada!.value;
    assert.equal(value.get('id'), 7);
    assert.equal(value.get('name'), 'Ada');
    assert.equal(value.get('views'), 9007199254740993n, 'int64 is an exact bigint');
    assert.ok(value.get('created') instanceof Date, 'a Timestamp is a Date');
    assert.equal((value.get('created') as Date).getTime(), 1700000000123);
    assert.ok(value.get('price') instanceof Decimal, 'a Decimal is a Decimal');
    assert.equal(String(value.get('price')), '123.45');
    assert.deepEqual(value.get('scores'), [1.5, 2]);
    assert.deepEqual(value.get('counts'), new Map([['a', 1], ['b', 2]]), 'a map is a Map');
    assert.equal(value.get('active'), true);
    assert.deepEqual(value.get('avatar'), Buffer.from([1, 2, 3]), 'bytes are base64 in JSON, a Buffer in Connect');

    assert.equal(bob!.key, 'user-8');
    assert.ok(bob!.value instanceof Struct);
    assert.equal(bob!.value.get('name'), null, 'a null optional field');
    assert.equal(bob!.value.get('avatar'), null);
    assert.equal(bob!.value.get('views'), 0n);
    assert.deepEqual(bob!.value.get('scores'), []);
  });

  it('2. FileStreamSource through HoistField, InsertField and RegexRouter is written as Kafka Connect\'s JSON', async () => {
    const raw = uniqueTopic('lines-raw');
    const routed = raw.replace(/-raw(-.*)$/, '-routed$1');
    await createTopic(raw);
    await createTopic(routed);
    const input = join(dir.path, 'transform-input.txt');
    await writeFile(input, 'alpha\nbeta "quoted" ünï\n');
    await startConnector('transform-source', {
      'connector.class': 'FileStreamSource', file: input, topic: raw,
      'value.converter': JSON_CONVERTER, 'value.converter.schemas.enable': 'true',
      transforms: 'hoist,insert,route',
      'transforms.hoist.type': `${TRANSFORMS}.HoistField$Value`,
      'transforms.hoist.field': 'line',
      'transforms.insert.type': `${TRANSFORMS}.InsertField$Value`,
      'transforms.insert.topic.field': 'source_topic',
      'transforms.insert.static.field': 'origin',
      'transforms.insert.static.value': 'file',
      'transforms.route.type': `${TRANSFORMS}.RegexRouter`,
      'transforms.route.regex': '(.*)-raw-(.*)',
      'transforms.route.replacement': '$1-routed-$2',
    });
    const messages = await readTopic(routed, 2);
    // Kafka's JsonConverter: the struct's fields in order (the hoisted one, then InsertField's
    // topic field and static field, both optional strings), "optional" after "fields", no name.
    const schema = '{"type":"struct","fields":[{"type":"string","optional":false,"field":"line"},{"type":"string","optional":true,"field":"source_topic"},{"type":"string","optional":true,"field":"origin"}],"optional":false}';
    assert.deepEqual(messages.map((message) => message.value?.toString('utf8')), [
      `{"schema":${schema},"payload":{"line":"alpha","source_topic":"${raw}","origin":"file"}}`,
      `{"schema":${schema},"payload":{"line":"beta \\"quoted\\" ünï","source_topic":"${raw}","origin":"file"}}`,
    ], 'the exact JSON bytes, the topic field naming the topic before the router');
    assert.deepEqual(messages.map((message) => message.key), [null, null], 'FileStreamSource records have no key');
    assert.equal(await topicSize(raw), 0, 'nothing is written to the topic before routing');
    assert.deepEqual(await connect.herder.connectorActiveTopics('transform-source'), [routed], 'the active topic is the routed one');
  });

  it('3. Filter with predicates lets only the matching records reach a sink', async () => {
    const orders = await createTopic(uniqueTopic('orders'));
    const audit = await createTopic(uniqueTopic('audit'));
    await producer.send({
      topic: orders,
      messages: [
        { key: 'o1', value: 'order 1' },
        { key: 'o2', value: null },
        { key: 'o3', value: 'order 3 (a test order)', headers: { 'x-test': 'yes' } },
        { key: 'o4', value: 'order 4' },
      ],
    });
    await producer.send({ topic: audit, messages: [{ key: 'a1', value: 'audit 1' }, { key: 'a2', value: null }] });
    await startConnector('filter-sink', {
      'connector.class': 'CaptureSinkConnector', capture: 'filter-sink', topics: `${orders},${audit}`,
      transforms: 'dropTombstones,dropTests,onlyOrders',
      'transforms.dropTombstones.type': `${TRANSFORMS}.Filter`,
      'transforms.dropTombstones.predicate': 'isTombstone',
      'transforms.dropTests.type': `${TRANSFORMS}.Filter`,
      'transforms.dropTests.predicate': 'isTest',
      'transforms.onlyOrders.type': `${TRANSFORMS}.Filter`,
      'transforms.onlyOrders.predicate': 'isOrders',
      'transforms.onlyOrders.negate': 'true',
      predicates: 'isTombstone,isTest,isOrders',
      'predicates.isTombstone.type': `${TRANSFORMS}.predicates.RecordIsTombstone`,
      'predicates.isTest.type': `${TRANSFORMS}.predicates.HasHeaderKey`,
      'predicates.isTest.name': 'x-test',
      'predicates.isOrders.type': `${TRANSFORMS}.predicates.TopicNameMatches`,
      'predicates.isOrders.pattern': 'orders-.*',
    });
    // Committed offsets at the end of both topics: every record went through the chain.
    await committedOffsets('filter-sink', { [`${orders}-0`]: 4, [`${audit}-0`]: 2 });
    const records = capture('filter-sink').records;
    assert.deepEqual(records.map((record) => [record.topic, record.key, record.value]), [[orders, 'o1', 'order 1'], [orders, 'o4', 'order 4']], 'only the orders that are neither tombstones nor tests');
    assert.equal(capture('filter-sink').reporter, 'object', 'no errant record reporter (null) without a dead letter queue or error log, as in Kafka');
  });

  it('4. errors.tolerance=all sends records JsonConverter cannot read to the dead letter queue; =none fails the task', async () => {
    const topic = await createTopic(uniqueTopic('json-mixed'));
    const dlq = `${topic}-dlq`;
    await startConnector('tolerant-sink', {
      'connector.class': 'CaptureSinkConnector', capture: 'tolerant-sink', topics: topic,
      'value.converter': JSON_CONVERTER, 'value.converter.schemas.enable': 'false',
      'errors.tolerance': 'all',
      'errors.log.enable': 'true',
      'errors.deadletterqueue.topic.name': dlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
    });
    assert.ok((await admin.listTopics()).includes(dlq), 'the dead letter queue topic is created when the task starts, as Kafka does');
    await producer.send({
      topic,
      messages: [
        { key: 'k0', value: '{"n":0}' },
        { key: 'k1', value: 'not json at all', timestamp: '1600000000000' },
        { key: 'k2', value: '{"n":2}' },
        { key: 'k3', value: '{"n": ', headers: { origin: 'producer-3' }, timestamp: '1600000000003' },
        { key: 'k4', value: '{"n":4}' },
      ],
    });
    const good = await captured('tolerant-sink', 3);
    assert.deepEqual(good.map((record) => [record.key, record.value]), [['k0', { n: 0 }], ['k2', { n: 2 }], ['k4', { n: 4 }]], 'the valid records reach the sink');
    const dead = await readTopic(dlq, 2);
    assert.equal(await topicSize(dlq), 2, 'only the two bad records are in the dead letter queue');
    assert.deepEqual(dead.map((message) => [message.key?.toString(), message.value?.toString(), message.timestamp]), [
      ['k1', 'not json at all', '1600000000000'],
      ['k3', '{"n": ', '1600000000003'],
    ], 'the bad records byte for byte, with their timestamps');
    for (const [index, message] of dead.entries()) {
      const offset = String([1, 3][index]);
      const headers = message.headers;
      assert.equal(headerText(headers, '__connect.errors.topic'), topic);
      assert.equal(headerText(headers, '__connect.errors.partition'), '0');
      assert.equal(headerText(headers, '__connect.errors.offset'), offset);
      assert.equal(headerText(headers, '__connect.errors.connector.name'), 'tolerant-sink');
      assert.equal(headerText(headers, '__connect.errors.task.id'), '0');
      assert.equal(headerText(headers, '__connect.errors.stage'), 'VALUE_CONVERTER');
      assert.equal(headerText(headers, '__connect.errors.class.name'), JSON_CONVERTER);
      assert.equal(headerText(headers, '__connect.errors.exception.class.name'), 'org.apache.kafka.connect.errors.DataException', 'Kafka\'s exception class name');
      assert.match(headerText(headers, '__connect.errors.exception.message') ?? '', /^Converting byte\[\] to Kafka Connect data failed due to serialization error/);
      assert.match(headerText(headers, '__connect.errors.exception.stacktrace') ?? '', /DataException/);
    }
    assert.equal(headerText(dead[1]!.headers, 'origin'), 'producer-3', 'the record\'s own headers are kept');
    assert.equal((await taskState('tolerant-sink')).state, 'RUNNING');
    // The task's error metrics count the two skipped records (Kafka's task-error group).
    const tolerant = connect.metrics().find((task) => task.connector === 'tolerant-sink')?.metrics ?? {};
    assert.equal(tolerant['total-records-skipped'], 2, JSON.stringify(tolerant));

    // errors.tolerance=none: the first bad record fails the task, and what follows it is not put.
    const strictTopic = await createTopic(uniqueTopic('json-strict'));
    const strictDlq = `${strictTopic}-dlq`;
    await startConnector('strict-sink', {
      'connector.class': 'CaptureSinkConnector', capture: 'strict-sink', topics: strictTopic,
      'value.converter': JSON_CONVERTER, 'value.converter.schemas.enable': 'false',
      'errors.deadletterqueue.topic.name': strictDlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
    });
    await producer.send({ topic: strictTopic, messages: [{ key: 'k0', value: '{"n":0}' }] });
    await captured('strict-sink', 1);
    await producer.send({ topic: strictTopic, messages: [{ key: 'k1', value: '{not json' }, { key: 'k2', value: '{"n":2}' }] });
    const failed = await waitFor(async () => {
      const task = await taskState('strict-sink');
      return task.state === 'FAILED' ? task : false;
    }, 'the strict sink task to fail');
    assert.match(failed.trace ?? '', /Tolerance exceeded in error handler/);
    assert.match(failed.trace ?? '', /DataException: Converting byte\[\] to Kafka Connect data failed due to serialization error/, 'the converter\'s error in the trace');
    assert.deepEqual(capture('strict-sink').records.map((record) => record.key), ['k0'], 'nothing after the bad record is put');
    // Kafka reports a failure to the dead letter queue before deciding whether it is tolerated.
    const [reported] = await readTopic(strictDlq, 1);
    assert.equal(reported!.value?.toString(), '{not json', 'the failing record is in the dead letter queue');
  });

  it('5. records a sink task reports to its errant record reporter land in the dead letter queue', async () => {
    const topic = await createTopic(uniqueTopic('errant'));
    const dlq = `${topic}-dlq`;
    await startConnector('errant-sink', {
      'connector.class': 'CaptureSinkConnector', capture: 'errant-sink', topics: topic, 'errant.marker': 'reject',
      'errors.tolerance': 'all',
      'errors.deadletterqueue.topic.name': dlq,
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
    });
    assert.equal(capture('errant-sink').reporter, 'function', 'the task has an errant record reporter');
    await producer.send({
      topic,
      messages: [
        { key: 'k0', value: 'keep 0' },
        { key: 'k1', value: 'reject 1', headers: { origin: 'producer-1' } },
        { key: 'k2', value: 'keep 2' },
        { key: 'k3', value: 'reject copy 3' },
        { key: 'k4', value: 'keep 4' },
      ],
    });
    const kept = await captured('errant-sink', 3);
    assert.deepEqual(kept.map((record) => record.value), ['keep 0', 'keep 2', 'keep 4']);
    const dead = await readTopic(dlq, 2);
    assert.equal(await topicSize(dlq), 2);
    const [original, copy] = dead;
    assert.deepEqual([original!.key?.toString(), original!.value?.toString(), headerText(original!.headers, 'origin')], ['k1', 'reject 1', 'producer-1'], 'the record as consumed, with its headers');
    assert.equal(headerText(original!.headers, '__connect.errors.stage'), 'TASK_PUT');
    assert.equal(headerText(original!.headers, '__connect.errors.class.name'), 'org.apache.kafka.connect.sink.SinkTask', 'Kafka names the SinkTask interface as the executing class');
    assert.equal(headerText(original!.headers, '__connect.errors.exception.class.name'), 'Error');
    assert.equal(headerText(original!.headers, '__connect.errors.exception.message'), 'cannot store reject 1');
    assert.equal(headerText(original!.headers, '__connect.errors.offset'), '1');
    // A record the task built itself has no consumed original: Kafka converts it with the task's converters.
    assert.deepEqual([copy!.key?.toString(), copy!.value?.toString()], ['k3', 'REJECT COPY 3'], 'a modified record is written as converted');
    assert.equal(headerText(copy!.headers, '__connect.errors.offset'), '3');
    assert.equal((await taskState('errant-sink')).state, 'RUNNING');
  });

  it('6. Kafka headers reach a sink as Connect headers, and a source\'s Connect headers are written as Kafka headers', async () => {
    const topic = await createTopic(uniqueTopic('headers'));
    await startConnector('header-source', { 'connector.class': 'HeaderSourceConnector', topic });
    const [fromSource] = await readTopic(topic, 1);
    assert.equal(fromSource!.value?.toString(), 'from the source');
    const headers = fromSource!.headers;
    // SimpleHeaderConverter writes each value as Kafka's Values.convertToString does.
    assert.deepEqual(Object.keys(headers), ['trace-id', 'attempt', 'retry', 'tags', 'counts', 'nothing'], 'every header, in order');
    assert.equal(headerText(headers, 'trace-id'), 'abc-123');
    assert.equal(headerText(headers, 'attempt'), '3');
    assert.equal(headerText(headers, 'retry'), 'false');
    assert.equal(headerText(headers, 'tags'), '["a","b"]');
    assert.equal(headerText(headers, 'counts'), '{"x":1,"y":2}');
    assert.equal(headers.nothing, null, 'a null header value is a null Kafka header value');

    await producer.send({ topic, messages: [{ key: 'from-kafkajs', value: 'from a client', headers: { 'trace-id': 'xyz', attempt: '300', ok: 'true', dup: ['one', 'two'] } }] });
    await startConnector('header-sink', { 'connector.class': 'CaptureSinkConnector', capture: 'header-sink', topics: topic });
    const [sourced, produced] = await captured('header-sink', 2);
    const connectHeaders = (record: SinkRecord) => record.headers.map((header) => [header.key, header.schema?.type ?? null, header.value]);
    assert.deepEqual(connectHeaders(sourced!), [
      ['trace-id', 'string', 'abc-123'],
      ['attempt', 'int8', 3],
      ['retry', 'boolean', false],
      ['tags', 'array', ['a', 'b']],
      ['counts', 'map', new Map([['x', 1], ['y', 2]])],
      ['nothing', null, null],
    ], 'the source\'s headers read back with the schemas SimpleHeaderConverter infers');
    assert.deepEqual(connectHeaders(produced!), [
      ['trace-id', 'string', 'xyz'],
      ['attempt', 'int16', 300],
      ['ok', 'boolean', true],
      ['dup', 'string', 'one'],
      ['dup', 'string', 'two'],
    ], 'a client\'s headers, repeated keys included, in order');
  });

  it('7. sink offsets: context.offset() rewinds, preCommit commits less than was put and never more than was consumed', async () => {
    const topic = await createTopic(uniqueTopic('offsets'), 3);
    for (const partition of [0, 1, 2]) {
      await producer.send({ topic, messages: Array.from({ length: 10 }, (_, offset) => ({ partition, key: `p${partition}`, value: `p${partition}-${offset}` })) });
    }
    await startConnector('offsets-sink', {
      'connector.class': 'CaptureSinkConnector', capture: 'offsets-sink', topics: topic,
      // Partition 0: at offset 5, rewind to 2. Partition 1: the task has 0..5 already (seek to 6
      // in open) and offers at most 8. Partition 2: the task claims 50, never consumed.
      'rewind.on.put': '0:5:2',
      'seek.on.open': '1:6',
      'commit.cap': '1:8',
      'commit.claim': '2:50',
    });
    const offsetsOf = (partition: number) => capture('offsets-sink').records.filter((record) => record.kafkaPartition === partition).map((record) => record.kafkaOffset);
    await waitFor(() => offsetsOf(0).filter((offset) => offset === 9).length === 2 && offsetsOf(1).length === 4 && offsetsOf(2).length === 10, 'every record put, partition 0\'s from 2 twice');
    const zero = offsetsOf(0);
    const back = zero.findIndex((offset, index) => index > 0 && offset < zero[index - 1]!);
    assert.ok(back >= 6, `partition 0 goes back once, after offset 5 was put: ${zero.join(',')}`);
    assert.deepEqual(zero.slice(0, back), Array.from({ length: back }, (_, offset) => offset), 'partition 0 in order up to the rewind');
    assert.deepEqual(zero.slice(back), [2, 3, 4, 5, 6, 7, 8, 9], 'partition 0 again from the rewind offset');
    assert.deepEqual(offsetsOf(1), [6, 7, 8, 9], 'partition 1 from the offset open() asked for');
    assert.deepEqual(offsetsOf(2), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    await connect.herder.stopConnector('offsets-sink');
    const offsets = offsetsByPartition(await connect.herder.connectorOffsets('offsets-sink'));
    // Kafka commits what preCommit offers where it is no more than was consumed; elsewhere the
    // partition keeps its last committed offset: for partition 2 its position when assigned.
    assert.deepEqual(offsets, { [`${topic}-0`]: 10, [`${topic}-1`]: 8, [`${topic}-2`]: 0 }, 'the committed offsets after the stop');
    const group = await admin.fetchOffsets({ groupId: 'connect-offsets-sink', topics: [topic] });
    assert.deepEqual(group[0]!.partitions.map((partition) => [partition.partition, partition.offset]).sort(), [[0, '10'], [1, '8'], [2, '0']], 'the same offsets as a Kafka client sees them in the group');
  });
});

/** A sink connector's offsets as { "topic-partition": offset }. */
function offsetsByPartition(offsets: readonly ConnectorOffset[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const { partition, offset } of offsets) result[`${String(partition.kafka_topic)}-${String(partition.kafka_partition)}`] = Number(offset?.kafka_offset);
  return result;
}
