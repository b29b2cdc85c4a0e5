// One @platformatic/kafka consumer-group member for the group compatibility tests, speaking the
// same line protocol as group_member.py. Platformatic 2.x needs Promise.withResolvers, polyfilled on Node 20 only.
// Usage: platformatic-member.ts BOOTSTRAP TOPIC GROUP SESSION_TIMEOUT_MS [PROTOCOL [INSTANCE_ID]]
// BOOTSTRAP may list several host:port, comma-separated. PROTOCOL is classic (JoinGroup/SyncGroup,
// the default) or consumer (KIP-848's ConsumerGroupHeartbeat: the session timeout and heartbeat
// interval then come from the broker, SESSION_TIMEOUT_MS is ignored). INSTANCE_ID makes it a static member.
//
// With the consumer protocol the assignment changes incrementally (revoke first, then assign), so
// every change of the member's partitions of TOPIC is reported as 'assigned' with the whole current
// list and the wall-clock time `at` it took effect in the client (the moment platformatic set
// `consumer.assignments`, before it acknowledges a revocation to the coordinator). Records are then
// processed one at a time: a record of a partition the member no longer owns is dropped unprocessed
// (its new owner reads it from the committed offset), the others are reported ('records') and then
// committed, the next record waiting for the commit ('committed' once it is acknowledged).
import '../../support/polyfills.js';
import { createInterface } from 'node:readline';
import { Consumer } from '@platformatic/kafka';

const [bootstrap, topic, groupId, sessionTimeoutText, protocolText, instanceId] = process.argv.slice(2) as [string, string, string, string, string?, string?];
const groupProtocol = protocolText === 'consumer' ? 'consumer' : 'classic';
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);

interface Message {
  partition: number;
  offset: bigint;
  commit: () => void | Promise<void>;
}

/** Every message of an error and of the errors it aggregates, with platformatic's protocol error ids (e.g. INCONSISTENT_GROUP_PROTOCOL). */
function describeError(error: unknown, depth = 0): string {
  const current = error as { apiId?: string; message?: string; errors?: unknown[] };
  const own = `${current.apiId ?? ''}${current.apiId ? ': ' : ''}${current.message ?? String(error)}`;
  const inner = depth < 4 && Array.isArray(current.errors) ? current.errors.map((entry) => describeError(entry, depth + 1)) : [];
  return [own, ...inner].join(' | ');
}

const common = { clientId: `platformatic-${groupId}`, groupId, bootstrapBrokers: bootstrap.split(','), ...(instanceId ? { groupInstanceId: instanceId } : {}) };
const consumer =
  groupProtocol === 'consumer'
    ? new Consumer({ ...common, groupProtocol: 'consumer' })
    : new Consumer({ ...common, sessionTimeout: Number(sessionTimeoutText), heartbeatInterval: 500, rebalanceTimeout: Math.max(20_000, Number(sessionTimeoutText)) });

type Assignments = { topic: string; partitions: number[] }[] | null;
const partitionsOf = (assignments: Assignments) =>
  (assignments ?? [])
    .filter((assignment) => assignment.topic === topic)
    .flatMap((assignment) => assignment.partitions)
    .sort((a, b) => a - b);

/** The partitions this member owns now (consumer protocol), as platformatic last set them. */
let owned = new Set<number>();

if (groupProtocol === 'classic') {
  consumer.on('consumer:group:join', () => emit({ event: 'assigned', partitions: partitionsOf(consumer.assignments as Assignments) }));
} else {
  watchAssignments();
}

/**
 * Platformatic's consumer protocol emits no event per assignment change, so the public
 * `assignments` field is turned into an accessor: every value platformatic stores is reported at
 * once, synchronously, before the heartbeat that acknowledges it is sent.
 */
function watchAssignments(): void {
  let current = consumer.assignments as Assignments;
  Object.defineProperty(consumer, 'assignments', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (value: Assignments) => {
      current = value;
      const partitions = partitionsOf(value);
      if (partitions.length === owned.size && partitions.every((partition) => owned.has(partition))) return;
      owned = new Set(partitions);
      emit({ event: 'assigned', partitions, at: Date.now() });
    },
  });
}

const consume = () => consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 500 });
type MessagesStream = Awaited<ReturnType<typeof consume>>;
let stream: MessagesStream;
let stopping = false;
try {
  stream = await consume();
} catch (error) {
  emit({ event: 'error', error: describeError(error), fatal: true });
  await consumer.close(true).catch(() => {});
  process.exit(1);
}
emit({ event: 'started' });
stream.on('error', (error: Error) => emit({ event: 'error', error: describeError(error) }));

if (groupProtocol === 'classic') {
  stream.on('data', async (message: Message) => {
    try {
      // Processed first, committed second (at-least-once), as group_member.py does.
      emit({ event: 'records', records: [[message.partition, Number(message.offset)]] });
      await message.commit();
    } catch (error) {
      emit({ event: 'error', error: String(error) });
    }
  });
} else {
  consumer.on('consumer:heartbeat:error', (payload: { error?: unknown }) => emit({ event: 'error', error: `heartbeat: ${describeError(payload?.error)}` }));
  void consumeForever();
}

/**
 * Platformatic ends a stream for good once a fetch fails past its retries (the partition leader's
 * broker died): the member, still in its group, then consumes again from the committed offsets,
 * as an application would.
 */
async function consumeForever(): Promise<void> {
  for (;;) {
    await processOneAtATime(stream);
    if (stopping) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
    try {
      stream = await consume();
      stream.on('error', (error: Error) => emit({ event: 'error', error: describeError(error) }));
      emit({ event: 'restarted' });
    } catch (error) {
      emit({ event: 'error', error: `consume again: ${describeError(error)}` });
    }
  }
}

async function processOneAtATime(current: MessagesStream): Promise<void> {
  try {
    for await (const message of current as AsyncIterable<Message>) {
      const record: [number, number] = [message.partition, Number(message.offset)];
      // Fetched before a revocation: the partition's new owner reads it from the committed offset.
      if (!owned.has(message.partition)) continue;
      emit({ event: 'records', records: [record] });
      try {
        await message.commit();
        emit({ event: 'committed', records: [record] });
      } catch (error) {
        emit({ event: 'error', error: describeError(error) });
      }
    }
  } catch (error) {
    emit({ event: 'error', error: describeError(error) });
  }
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() !== 'stop') return;
  stopping = true;
  await stream.close();
  // Nothing is processed after this: the partitions are the member's no longer, even before the broker hears it leave.
  owned = new Set();
  emit({ event: 'stopped', at: Date.now() });
  await consumer.close();
  emit({ event: 'closed' });
  process.exit(0);
});
