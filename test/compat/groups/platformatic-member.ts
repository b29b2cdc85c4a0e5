// One @platformatic/kafka consumer-group member for the group compatibility tests, speaking the
// same line protocol as group_member.py. Platformatic 2.x needs Promise.withResolvers, polyfilled on Node 20 only.
import '../../support/polyfills.js';
import { createInterface } from 'node:readline';
import { Consumer } from '@platformatic/kafka';

const [bootstrap, topic, groupId, sessionTimeoutText] = process.argv.slice(2) as [string, string, string, string];
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);

const consumer = new Consumer({ clientId: `platformatic-${groupId}`, groupId, bootstrapBrokers: [bootstrap], sessionTimeout: Number(sessionTimeoutText), heartbeatInterval: 500, rebalanceTimeout: Math.max(20_000, Number(sessionTimeoutText)) });
consumer.on('consumer:group:join', () => {
  const partitions = (consumer.assignments ?? []).filter((assignment) => assignment.topic === topic).flatMap((assignment) => assignment.partitions);
  emit({ event: 'assigned', partitions: [...partitions].sort((a, b) => a - b) });
});
const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 500 });
emit({ event: 'started' });
stream.on('error', (error: Error) => emit({ event: 'error', error: String(error) }));
stream.on('data', async (message: { partition: number; offset: bigint; commit: () => void | Promise<void> }) => {
  try {
    // Processed first, committed second (at-least-once), as group_member.py does.
    emit({ event: 'records', records: [[message.partition, Number(message.offset)]] });
    await message.commit();
  } catch (error) {
    emit({ event: 'error', error: String(error) });
  }
});
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() !== 'stop') return;
  await stream.close();
  await consumer.close();
  emit({ event: 'closed' });
  process.exit(0);
});
