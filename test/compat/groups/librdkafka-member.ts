// One librdkafka consumer-group member (@confluentinc/kafka-javascript's node-rdkafka API, from
// test/clients/librdkafka) for the group compatibility tests, speaking the line protocol of
// group_member.py. Usage:
//   librdkafka-member.ts BOOTSTRAP TOPIC GROUP SESSION_TIMEOUT_MS [PROTOCOL [ASSIGNOR [INSTANCE_ID]]]
// PROTOCOL is classic (JoinGroup/SyncGroup, the default) or consumer (KIP-848's
// ConsumerGroupHeartbeat; the session timeout then comes from the broker). ASSIGNOR is
// partition.assignment.strategy for classic (e.g. range, cooperative-sticky) or
// group.remote.assignor for consumer (uniform, range); empty or absent keeps librdkafka's default.
// INSTANCE_ID, when not empty, is group.instance.id (static membership: with the consumer protocol
// librdkafka then leaves with member epoch -2 on close, keeping its partitions for its session).
// A TOPIC starting with '^' is a regular expression (librdkafka's convention; with the consumer
// protocol the broker resolves it). 'assigned' carries the member's whole current assignment after
// every change (incremental assignments are applied to the previous one; an eager revocation is a
// change to the empty assignment), with per-topic detail when
// TOPIC is a regex; records then carry their topic as a third element. Every 'assigned' carries the
// wall-clock time `at` it took effect in the client (in rebalance_cb, before librdkafka acknowledges
// it to the coordinator); a record of a partition the member no longer owns is dropped unprocessed;
// 'committed' follows every acknowledged commit and 'stopped' the moment it stops processing.
import { createInterface } from 'node:readline';
import { loadLibrdkafka, type RdkafkaConfig, type RdkafkaError, type RdkafkaMessage, type RdkafkaTopicPartition } from '../../support/librdkafka.js';

const [bootstrap, topic, groupId, sessionTimeoutText, protocolText, assignorText, instanceId] = process.argv.slice(2) as [string, string, string, string, string?, string?, string?];
const groupProtocol = protocolText === undefined || protocolText === '' ? 'classic' : protocolText;
const assignor = assignorText ?? '';
const isRegex = topic.startsWith('^');
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);

const client = loadLibrdkafka();
if (!client.available) {
  emit({ event: 'error', error: client.reason });
  process.exit(1);
}
const kafka = client.module!;
const ASSIGN = kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS;
const REVOKE = kafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS;

/** topic -> partitions this member currently owns. */
const owned = new Map<string, Set<number>>();

function reportAssignment(): void {
  const partitions = [...owned.values()].flatMap((set) => [...set]).sort((a, b) => a - b);
  if (!isRegex) {
    emit({ event: 'assigned', partitions, at: Date.now() });
    return;
  }
  const topics = Object.fromEntries([...owned].filter(([, set]) => set.size > 0).map(([name, set]) => [name, [...set].sort((a, b) => a - b)]));
  emit({ event: 'assigned', partitions, topics, at: Date.now() });
}

function applyAssignment(partitions: RdkafkaTopicPartition[], add: boolean): void {
  for (const { topic: name, partition } of partitions) {
    let set = owned.get(name);
    if (set === undefined) owned.set(name, (set = new Set()));
    if (add) set.add(partition);
    else set.delete(partition);
  }
}

const classicSettings: RdkafkaConfig = {
  'session.timeout.ms': Number(sessionTimeoutText),
  'heartbeat.interval.ms': 500,
  'max.poll.interval.ms': Math.max(60_000, Number(sessionTimeoutText)),
  ...(assignor === '' ? {} : { 'partition.assignment.strategy': assignor }),
};
const consumerSettings: RdkafkaConfig = assignor === '' ? {} : { 'group.remote.assignor': assignor };

const consumer = new kafka.KafkaConsumer(
  {
    'bootstrap.servers': bootstrap,
    'group.id': groupId,
    'client.id': `librdkafka-${groupId}`,
    'group.protocol': groupProtocol,
    'enable.auto.commit': false,
    ...(instanceId === undefined || instanceId === '' ? {} : { 'group.instance.id': instanceId }),
    ...(groupProtocol === 'classic' ? classicSettings : consumerSettings),
    // Called by librdkafka on every assignment change; the member applies it itself so it knows
    // its whole assignment. COOPERATIVE covers both cooperative-sticky and the consumer protocol.
    rebalance_cb(err: RdkafkaError, assignment: RdkafkaTopicPartition[]) {
      try {
        const incremental = consumer.rebalanceProtocol() === 'COOPERATIVE';
        if (err.code === ASSIGN) {
          if (incremental) consumer.incrementalAssign(assignment);
          else consumer.assign(assignment);
          if (!incremental) owned.clear();
          applyAssignment(assignment, true);
          reportAssignment();
        } else if (err.code === REVOKE) {
          if (incremental) consumer.incrementalUnassign(assignment);
          else consumer.unassign();
          if (incremental) applyAssignment(assignment, false);
          else owned.clear();
          // An eager revocation is reported too (the empty assignment): the member owns nothing
          // from here, though its next assignment may reach it a moment after another member's.
          reportAssignment();
        } else {
          emit({ event: 'error', error: `rebalance: ${String(err)}` });
        }
      } catch (error) {
        emit({ event: 'error', error: `rebalance: ${String(error)}` });
      }
    },
  },
  { 'auto.offset.reset': 'earliest' },
);
consumer.on('event.error', ((error: Error) => emit({ event: 'error', error: String(error) })) as (...args: never[]) => void);

function settle<T = void>(start: (done: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))));
}

let stopping = false;
const stopped = new Promise<void>((resolve) => {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'stop') return;
    stopping = true;
    resolve();
  });
});

await settle((done) => consumer.connect({}, done));
consumer.subscribe([topic]);
emit({ event: 'started' });

while (!stopping) {
  let messages: RdkafkaMessage[];
  try {
    messages = await settle<RdkafkaMessage[]>((done) => consumer.consume(500, done));
  } catch (error) {
    emit({ event: 'error', error: String(error) });
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 200))]);
    continue;
  }
  // Fetched before a revocation: the partition's new owner reads it from the committed offset.
  messages = messages.filter((m) => owned.get(m.topic)?.has(m.partition) === true);
  if (messages.length === 0) continue;
  // Processed (reported) first, committed second: at-least-once, as group_member.py does.
  const records = messages.map((m) => (isRegex ? [m.partition, m.offset, m.topic] : [m.partition, m.offset]));
  emit({ event: 'records', records });
  const next = new Map<string, RdkafkaTopicPartition>();
  for (const m of messages) next.set(`${m.topic}/${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
  try {
    // commitSync waits for the coordinator's answer (commitCb would only wait for the queueing).
    consumer.commitSync([...next.values()]);
    emit({ event: 'committed', records });
  } catch (error) {
    emit({ event: 'error', error: `commit: ${String(error)}` });
  }
}

emit({ event: 'stopped', at: Date.now() });
// disconnect() closes the consumer, which leaves the group (LeaveGroup, or a heartbeat with epoch -1, -2 for a static member).
await settle((done) => consumer.disconnect(done));
emit({ event: 'closed' });
process.exit(0);
