// The share-consumer harness: its parsing of the program's JSON lines (canned output, no program
// needed) and its command line; then the built program: its JSON escaping, its lifecycle (graceful
// stop, kill), its explicit acks against librdkafka's own mock cluster, and its report against a
// broker with share groups off. Share-group scenarios against Conveyor belong in their own suites.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Partitioners } from 'kafkajs';
import { startTestBroker } from './broker.js';
import { allClientsRequired } from './clients.js';
import { kafkajsClient } from './kafkajs.js';
import { runProcess } from './process.js';
import { parseShareConsumerLine, SHARE_CONSUMER_BINARY, SHARE_CONSUMER_LIBRARY_DIR, settledAcks, shareConsumerArgs, shareConsumerAvailable, ShareConsumerOutput, startShareConsumer } from './share-consumer.js';

const CANNED = [
  '{"event":"started","group":"g","topics":"a,b","mode":"explicit","librdkafka":"2.15.1"}',
  '{"event":"record","topic":"a","partition":0,"offset":7,"delivery_count":1,"key":null,"value":"q\\"b\\\\s\\n\\u0001\\u00e9","ack":"reject"}',
  '{"event":"record","topic":"a","partition":1,"offset":0,"delivery_count":2,"key":"k","value":null,"ack":"accept","ack_error":"_STATE"}',
  '{"event":"record_error","topic":"b","partition":2,"offset":9,"delivery_count":0,"code":"_BAD_MSG","message":"corrupt","ack":null}',
  '{"event":"ack","source":"callback","topic":"a","partition":0,"offsets":[5,6,7],"error":"NO_ERROR"}',
  '{"event":"ack","source":"commit_sync","topic":"a","partition":0,"error":"INVALID_RECORD_STATE"}',
  '{"event":"error","source":"poll","code":"_UNSUPPORTED_FEATURE","code_number":-165,"message":"nope","fatal":true,"retriable":false}',
  'Segmentation fault',
  '{"event":"holding","records":2}',
  '{"event":"stopping","reason":"fatal","records":2}',
  '{"event":"closed","error":null}',
].join('\n');

test('parses a canned output stream fed in arbitrary chunks', () => {
  const output = new ShareConsumerOutput();
  // Chunks that split lines (and an escape sequence) in the middle; the last line has no newline.
  for (let at = 0; at < CANNED.length; at += 37) output.push(CANNED.slice(at, at + 37));
  assert.equal(output.events.length, 10, 'only complete lines before end()');
  output.end();
  assert.equal(output.events.length, 11);
  assert.deepEqual(output.startedInfo, { librdkafka: '2.15.1', mode: 'explicit' });
  assert.deepEqual(output.records, [
    { topic: 'a', partition: 0, offset: 7, deliveryCount: 1, key: null, value: 'q"b\\s\n\u0001\u00e9', ack: 'reject' },
    { topic: 'a', partition: 1, offset: 0, deliveryCount: 2, key: 'k', value: null, ack: 'accept', ackError: '_STATE' },
  ]);
  assert.equal(Buffer.from(output.records[0]!.value!, 'latin1').at(-1), 0xe9, 'bytes above ASCII come back as latin1');
  assert.deepEqual(output.acks, [
    { source: 'callback', topic: 'a', partition: 0, offsets: [5, 6, 7], error: 'NO_ERROR' },
    { source: 'commit_sync', topic: 'a', partition: 0, error: 'INVALID_RECORD_STATE' },
  ]);
  assert.deepEqual(
    output.errors.map(({ source, code, fatal }) => ({ source, code, fatal })),
    [
      { source: 'record', code: '_BAD_MSG', fatal: false },
      { source: 'poll', code: '_UNSUPPORTED_FEATURE', fatal: true },
      { source: 'output', code: 'BAD_OUTPUT', fatal: false },
    ],
  );
  assert.deepEqual({ topic: output.errors[0]!.topic, partition: output.errors[0]!.partition, offset: output.errors[0]!.offset }, { topic: 'b', partition: 2, offset: 9 });
  assert.match(output.errors[2]!.message, /Segmentation fault/);
  assert.equal(output.stopReason, 'fatal');
  assert.equal(output.closeError, null);
  assert.equal(output.closed, true);
});

test('settles each callback offset with the type of its latest delivery, and gaps', () => {
  const output = new ShareConsumerOutput();
  output.push(
    [
      '{"event":"record","topic":"a","partition":0,"offset":4,"delivery_count":1,"key":null,"value":"retry","ack":"release"}',
      '{"event":"record","topic":"a","partition":0,"offset":6,"delivery_count":1,"key":null,"value":"bad","ack":"reject"}',
      '{"event":"ack","source":"callback","topic":"a","partition":0,"offsets":[4,5,6],"error":"NO_ERROR"}',
      '{"event":"ack","source":"commit_sync","topic":"a","partition":0,"error":"NO_ERROR"}',
      '{"event":"record","topic":"a","partition":0,"offset":4,"delivery_count":2,"key":null,"value":"retry","ack":null}',
      '{"event":"ack","source":"callback","topic":"a","partition":0,"offsets":[4],"error":"INVALID_RECORD_STATE"}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    settledAcks(output.events).map(({ offset, type, error }) => `${offset} ${type} ${error}`),
    ['4 release NO_ERROR', '5 gap NO_ERROR', '6 reject NO_ERROR', '4 accept INVALID_RECORD_STATE'],
  );
});

test('reports malformed events as output errors instead of dropping them', () => {
  for (const line of ['[1]', '{"event":"record","topic":"a"}', '{"event":"ack","source":"elsewhere","topic":"a","partition":0,"error":"NO_ERROR"}', '{"event":"nonsense"}']) {
    const event = parseShareConsumerLine(line);
    assert.equal(event.event, 'error', line);
    assert.equal(event.event === 'error' && event.source, 'output', line);
  }
});

test('builds the command line, with ack rules in the program syntax', () => {
  assert.deepEqual(
    shareConsumerArgs({
      bootstrap: '127.0.0.1:9092',
      groupId: 'g',
      topics: ['a', 'b'],
      mode: 'explicit',
      ackRule: [
        { type: 'reject', prefix: 'poison' },
        { type: 'release', prefix: 'retry', maxDeliveryCount: 2 },
      ],
      maxRecords: 10,
      timeoutMs: 5000,
      debug: 'cgrp,fetch',
      config: { 'max.poll.records': 3 },
    }),
    ['--bootstrap', '127.0.0.1:9092', '--group', 'g', '--topics', 'a,b', '--mode', 'explicit', '--ack', 'reject:poison,release:retry@2', '--max-records', '10', '--timeout-ms', '5000', '--debug', 'cgrp,fetch', '--config', 'max.poll.records=3'],
  );
  assert.throws(() => shareConsumerArgs({ bootstrap: 'x', groupId: 'g', topics: ['a'], mode: 'explicit', ackRule: [{ type: 'reject', prefix: 'a,b' }] }), /cannot contain/);
  assert.throws(() => shareConsumerArgs({ bootstrap: 'x', groupId: 'g', topics: [] }), /topics/);
});

/** Skips a test that needs the built program, or fails it under CONVEYOR_REQUIRE_ALL_CLIENTS=1. */
function requireProgram(t: { skip(message: string): void }): boolean {
  const availability = shareConsumerAvailable();
  if (availability.available) return true;
  if (allClientsRequired()) throw new Error(`${availability.reason} (CONVEYOR_REQUIRE_ALL_CLIENTS=1)`);
  t.skip(availability.reason!);
  return false;
}

/** A loopback port with nothing listening: bound to port 0, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

test('the program escapes every byte value so that JSON.parse and latin1 give the bytes back', async (t) => {
  if (!requireProgram(t)) return;
  const result = await runProcess(SHARE_CONSUMER_BINARY, ['--escape-self-test'], { timeoutMs: 10_000, env: { ...process.env, LD_LIBRARY_PATH: SHARE_CONSUMER_LIBRARY_DIR } });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1);
  const parsed = JSON.parse(lines[0]!) as { value: string; null: null };
  assert.deepEqual([...Buffer.from(parsed.value, 'latin1')], Array.from({ length: 256 }, (_, byte) => byte));
  assert.equal(parsed.null, null);
});

test('stop() closes the consumer and exits 0; kill() ends it without closing', async (t) => {
  if (!requireProgram(t)) return;
  const bootstrap = `127.0.0.1:${await closedPort()}`;
  const graceful = startShareConsumer({ bootstrap, groupId: 'g', topics: ['t'], mode: 'explicit', ackRule: 'none', timeoutMs: 60_000 });
  await graceful.waitFor((consumer) => consumer.output.startedInfo !== undefined, 10_000, 'started');
  assert.match(graceful.output.startedInfo!.librdkafka, /^2\.15\./);
  assert.deepEqual(await graceful.stop(), { code: 0, signal: null, closed: true, stopReason: 'sigterm' });

  const killed = startShareConsumer({ bootstrap, groupId: 'g', topics: ['t'], timeoutMs: 60_000 });
  await killed.waitFor((consumer) => consumer.output.startedInfo !== undefined, 10_000, 'started');
  assert.deepEqual(await killed.kill(), { code: null, signal: 'SIGKILL', closed: false, stopReason: undefined });
});

// librdkafka's mock cluster serves share groups, so the program's explicit-ack path (rules, release
// and redelivery, the callback's offsets, commit_sync's results) is checked here independently of
// Conveyor. The mock cluster lives inside a client (test.mock.num.brokers), and it assigns a topic
// only to members that join after the topic exists, so one program hosts it (in another group, on
// another topic) and the one under test joins once kafkajs has created the topic.
test('explicit acks against librdkafka\'s mock cluster: reject, release with redelivery, callback offsets', async (t) => {
  if (!requireProgram(t)) return;
  const host = startShareConsumer({ bootstrap: 'unused:9', groupId: 'mock-host', topics: ['unused'], timeoutMs: 60_000, config: { 'test.mock.num.brokers': 1 } });
  t.after(() => host.kill());
  const mockAddress = /replaced with (127\.0\.0\.1:\d+)/;
  await host.waitFor((consumer) => mockAddress.test(consumer.stderr()), 10_000, 'the mock cluster');
  const bootstrap = mockAddress.exec(host.stderr())![1]!;
  const producer = kafkajsClient(bootstrap).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  t.after(() => producer.disconnect());
  await producer.send({ topic: 'work', acks: 1, messages: [{ key: 'same', value: 'before-the-group' }] });

  const consumer = startShareConsumer({
    bootstrap,
    groupId: 'workers',
    topics: ['work'],
    mode: 'explicit',
    ackRule: [
      { type: 'reject', prefix: 'poison' },
      { type: 'release', prefix: 'retry', maxDeliveryCount: 1 },
    ],
    maxRecords: 5,
    timeoutMs: 30_000,
    debug: 'cgrp',
  });
  t.after(() => consumer.kill());
  // The mock's share.auto.offset.reset is latest: produce once the first ShareFetch after the
  // assignment has answered, so the share-partition starts before these records.
  let assignedAt = -1;
  await consumer.waitFor(
    (c) => {
      if (assignedAt < 0 && /Share assignment served: [1-9]/.test(c.stderr())) assignedAt = c.stderr().length;
      return assignedAt >= 0 && c.stderr().slice(assignedAt).includes('Share fetch reply');
    },
    15_000,
    'an assignment and a share fetch',
  );
  await producer.send({ topic: 'work', acks: 1, messages: ['ok-1', 'poison-1', 'retry-1', 'ok-2'].map((value) => ({ key: 'same', value })) });
  const exit = await consumer.exited;
  assert.deepEqual(exit, { code: 0, signal: null, closed: true, stopReason: 'max_records' }, JSON.stringify(consumer.events));
  const partition = consumer.records[0]!.partition;
  const first = consumer.records[0]!.offset;
  assert.deepEqual(
    consumer.records.map(({ value, offset, deliveryCount, ack }) => ({ value, offset: offset - first, deliveryCount, ack })),
    [
      { value: 'ok-1', offset: 0, deliveryCount: 1, ack: 'accept' },
      { value: 'poison-1', offset: 1, deliveryCount: 1, ack: 'reject' },
      { value: 'retry-1', offset: 2, deliveryCount: 1, ack: 'release' },
      { value: 'ok-2', offset: 3, deliveryCount: 1, ack: 'accept' },
      { value: 'retry-1', offset: 2, deliveryCount: 2, ack: 'accept' },
    ],
  );
  // Each batch's callback (with its offsets) comes before that batch's commit_sync result.
  assert.deepEqual(consumer.acks, [
    { source: 'callback', topic: 'work', partition, offsets: [first, first + 1, first + 2, first + 3], error: 'NO_ERROR' },
    { source: 'commit_sync', topic: 'work', partition, error: 'NO_ERROR' },
    { source: 'callback', topic: 'work', partition, offsets: [first + 2], error: 'NO_ERROR' },
    { source: 'commit_sync', topic: 'work', partition, error: 'NO_ERROR' },
  ]);
  assert.deepEqual(
    consumer.settledAcks().map(({ offset, type, error }) => `${offset - first} ${type} ${error}`),
    ['0 accept NO_ERROR', '1 reject NO_ERROR', '2 release NO_ERROR', '3 accept NO_ERROR', '2 accept NO_ERROR'],
  );
  assert.deepEqual(consumer.errors, []);
  assert.deepEqual(await host.stop(), { code: 0, signal: null, closed: true, stopReason: 'sigterm' });
});

// librdkafka itself only logs a coordinator without ShareGroupHeartbeat and keeps re-querying it; the
// program turns that into a fatal error and exit status 1, so a test against a broker that does not
// serve share groups fails at once instead of timing out. Share groups are switched off here.
test('against a broker with share groups off, reports _UNSUPPORTED_FEATURE and exits 1', async (t) => {
  if (!requireProgram(t)) return;
  const broker = await startTestBroker({ 'group.coordinator.rebalance.protocols': 'classic,consumer' });
  t.after(() => broker.close());
  const consumer = startShareConsumer({ bootstrap: broker.bootstrapServers, groupId: 'share-unsupported', topics: ['t'], timeoutMs: 20_000 });
  const exit = await consumer.exited;
  const fatal = consumer.errors.find((error) => error.fatal);
  assert.deepEqual(
    fatal && { source: fatal.source, code: fatal.code, message: fatal.message },
    { source: 'coordinator', code: '_UNSUPPORTED_FEATURE', message: 'ShareGroupHeartbeatRequest not supported by broker' },
    `stdout events: ${JSON.stringify(consumer.events)}; stderr: ${consumer.stderr().slice(-2000)}`,
  );
  assert.deepEqual(exit, { code: 1, signal: null, closed: true, stopReason: 'fatal' });
  assert.equal(consumer.records.length, 0);
});
