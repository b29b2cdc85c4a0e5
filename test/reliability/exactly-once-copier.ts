// The consume-transform-produce copier of the exactly-once test, run as its own process so the
// test can SIGKILL it: a kafkajs group consumer (read_committed) on the input topic copies each
// fetched batch to the same partition of the output topic (value prefixed with "copy-") inside one
// transaction that also commits the input offsets (sendOffsets).
// A connection error (the broker restarting under it), or a partition's log offline on the broker
// asked (KAFKA_STORAGE_ERROR: a full disk, which kafkajs's consumer does not recover from by
// itself, see kafkajs-errors.ts), ends the process with `RECOVERING <error>` and exit status
// COPIER_RECOVERY_EXIT_CODE: the supervisor (test/support/copier-supervisor.ts) launches a new
// copier at once, with the next CONVEYOR_COPIER_SESSION number, which prints `RECOVERED` once its
// clients are running (its producer's initialisation fences and aborts the old transaction, its
// consumer resumes from the committed offsets); the test checks each RECOVERING line is explained
// by a fault (a broker restart, a full disk). Any other error prints `copier failed: <error>` and exits 1, which fails
// the test: the copier never exits otherwise in a passing run.
// A new process, not new clients in this one: kafkajs 2.2.4's consumer, stopped while its fetchers
// are being rebuilt for a changed set of nodes, rebuilds them after the stop, and they then fetch
// nothing in a loop of resolved promises that blocks the event loop for ever (fetchManager.start
// goes on after the stop its own catch awaited). A kill of every node makes exactly that likely:
// the 20-minute campaign of seed 2036 stopped copying there, after a disconnect that never returned.
// With CONVEYOR_COPIER_TRACE=1 in its environment it also prints a `TRACE` line, timestamped, for
// its start and end, its first batch of each partition, each committed transaction and each one
// whose commit failed (the chaos campaign keeps them, to place an anomaly among the copier's
// transactions); CONVEYOR_COPIER_SESSION numbers it among the copiers before it.
// First, before anything loads kafkajs: its consumer's worker queue, fixed (see the module).
import '../support/kafkajs-worker-queue.js';
import { Kafka, logLevel } from 'kafkajs';
import { COPIER_RECOVERY_EXIT_CODE } from '../support/copier-supervisor.js';
import { describeError, isConnectionError, isInvalidTxnStateError, isLeaderMovingError, isStorageError } from './kafkajs-errors.js';

const [bootstrapServers, inputTopic, outputTopic, groupId, transactionalId] = process.argv.slice(2);
if (!bootstrapServers || !inputTopic || !outputTopic || !groupId || !transactionalId) {
  console.error('usage: exactly-once-copier <bootstrap> <input> <output> <group> <transactional id>');
  process.exit(2);
}

const session = Number(process.env.CONVEYOR_COPIER_SESSION ?? '1');
/** Launched for a copier that ended on an error to recover from (its session number follows that copier's). */
const recovering = session > 1;
const tracing = process.env.CONVEYOR_COPIER_TRACE === '1';
function trace(what: string): void {
  if (tracing) console.error(`TRACE ${new Date().toISOString()} session ${session} ${what}`);
}

function fail(error: unknown): never {
  console.error(`copier failed: ${describeError(error)}`);
  process.exit(1);
}

/**
 * The errors a new copier gets past: a lost connection, an offline log, a leader moving for longer
 * than kafkajs retries, a transactional request refused in the transaction's state (fatal to a
 * producer, as in Java's: a new one is made). The supervisor checks each is explained by a fault.
 */
function survivable(error: unknown): boolean {
  return isConnectionError(error) || isStorageError(error) || isLeaderMovingError(error) || isInvalidTxnStateError(error);
}

/** Ends the process on the first error: a survivable one for a new copier to carry on, anything else as a failure. */
function end(error: unknown): never {
  trace(`ended: ${describeError(error)}`);
  if (!survivable(error)) fail(error);
  // Written synchronously (stderr is a pipe), so the supervisor has the line before the exit.
  console.error(`RECOVERING ${describeError(error)}`);
  process.exit(COPIER_RECOVERY_EXIT_CODE);
}

// kafkajs's consumer, when it crashes, leaves its group from inside its own crash handler and lets
// that LeaveGroup's error escape as an unhandled rejection (NOT_COORDINATOR from a group
// coordinator that just moved), an echo of the failure that its CRASH event reports: a survivable
// one is left to that event. Anything else fails the copier.
process.on('unhandledRejection', (error) => {
  if (!survivable(error)) fail(error);
});

// One address, or several comma-separated (a cluster: any of them bootstraps the clients).
const kafka = new Kafka({ clientId: 'eos-copier', brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 } });
const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 });
// No restart of a crashed consumer by kafkajs (restartOnFailure): the process ends instead.
const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 3_000, heartbeatInterval: 300, rebalanceTimeout: 5_000, maxWaitTimeInMs: 200, retry: { retries: 3, restartOnFailure: async () => false } });
consumer.on(consumer.events.CRASH, (event) => end(event.payload.error));
/** The partitions this copier fetched a batch of. */
const fetched = new Set<number>();

trace('started');
try {
  await producer.connect();
  // Java's initTransactions() before consuming: kafkajs registers the transactional id lazily, at
  // the first transaction, but the consumer below reads the group's committed offsets at once.
  // A transaction of the previous copier that was decided but whose markers were still being
  // written would leave those offsets stale (kafkajs cannot ask OffsetFetch for stable offsets,
  // KIP-447), and the records copied again. InitProducerId first completes or aborts that
  // transaction and fences its producer; the empty transaction is then dropped.
  const fence = await producer.transaction();
  await fence.abort();
  await consumer.connect();
  await consumer.subscribe({ topic: inputTopic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, isRunning, isStale, resolveOffset }) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      if (!fetched.has(batch.partition)) {
        fetched.add(batch.partition);
        trace(`p${batch.partition} first batch from ${batch.firstOffset()}`);
      }
      const transaction = await producer.transaction();
      try {
        await transaction.send({
          topic: outputTopic,
          messages: batch.messages.map((message) => ({ key: message.key, value: `copy-${message.value!.toString()}`, partition: batch.partition })),
        });
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
        await transaction.commit();
      } catch (error) {
        // The consumer's position is past this batch while its offsets were not committed: this
        // copier cannot go on. The next one's producer fences this transaction, and aborts it
        // unless its commit went through (a commit that timed out may have: the coordinator tells).
        trace(`p${batch.partition} ${batch.firstOffset()}-${batch.lastOffset()} not known to be committed: ${describeError(error)}`);
        end(error);
      }
      // Committed: the consumer moves past the batch. Without this kafkajs (eachBatchAutoResolve
      // false) fetches the partition again from where this generation started, and a copier that
      // lives through a second fetch of a partition copies the same records again.
      trace(`p${batch.partition} committed ${batch.firstOffset()}-${batch.lastOffset()}`);
      resolveOffset(batch.lastOffset());
    },
  });
} catch (error) {
  end(error);
}
if (recovering) console.error('RECOVERED');
