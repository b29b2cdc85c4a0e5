// One kafkajs consumer-group member for the group compatibility tests, speaking the same line
// protocol as group_member.py: assignments, committed records and errors as JSON lines on stdout;
// "stop" on stdin disconnects cleanly (LeaveGroup); SIGKILL leaves without a word.
import { createInterface } from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, topic, groupId, sessionTimeoutText] = process.argv.slice(2) as [string, string, string, string];
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);

const kafka = new Kafka({ clientId: `kafkajs-${groupId}`, brokers: [bootstrap], logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId, sessionTimeout: Number(sessionTimeoutText), heartbeatInterval: 500, rebalanceTimeout: 20_000 });
consumer.on(consumer.events.GROUP_JOIN, (event) => emit({ event: 'assigned', partitions: [...(event.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b) }));
consumer.on(consumer.events.CRASH, (event) => emit({ event: 'error', error: String(event.payload.error) }));
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
emit({ event: 'started' });
await consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
    if (batch.messages.length === 0) return;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    // Processed first, committed second (at-least-once), as group_member.py does.
    emit({ event: 'records', records: batch.messages.map((message) => [batch.partition, Number(message.offset)]) });
    await consumer.commitOffsets([{ topic, partition: batch.partition, offset: String(Number(last) + 1) }]);
    for (const message of batch.messages) resolveOffset(message.offset);
    await heartbeat();
  },
});
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() !== 'stop') return;
  await consumer.disconnect();
  emit({ event: 'closed' });
  process.exit(0);
});
