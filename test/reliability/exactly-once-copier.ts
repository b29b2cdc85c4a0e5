// The consume-transform-produce copier of the exactly-once test, run as its own process so the
// test can SIGKILL it: a kafkajs group consumer (read_committed) on the input topic copies each
// fetched batch to the same partition of the output topic (value prefixed with "copy-") inside one
// transaction that also commits the input offsets (sendOffsets).
// A connection error (the broker restarting under it), or a partition's log offline on the broker
// asked (KAFKA_STORAGE_ERROR: a full disk, which kafkajs's consumer does not recover from by
// itself, see kafkajs-errors.ts), is survived in this process: it prints
// `RECOVERING <error>`, drops its consumer and producer and starts new ones, as a fresh process
// would (the new producer's initialisation fences and aborts the old transaction, the new consumer
// resumes from the committed offsets), then prints `RECOVERED`; the test checks each such line is
// explained by a fault (a broker restart, a full disk). Any other error prints `copier failed: <error>` and exits 1,
// which fails the test: the copier never exits on its own in a passing run.
// With CONVEYOR_COPIER_TRACE=1 in its environment it also prints a `TRACE` line, timestamped, for
// each session's start and end, its first batch of each partition, each committed transaction and
// each one whose commit failed (the chaos campaign keeps them, to place an anomaly among the
// copier's transactions).
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { describeError, isConnectionError, isFencedError, isInvalidTxnStateError, isLeaderMovingError, isStorageError } from './kafkajs-errors.js';

const [bootstrapServers, inputTopic, outputTopic, groupId, transactionalId] = process.argv.slice(2);
if (!bootstrapServers || !inputTopic || !outputTopic || !groupId || !transactionalId) {
  console.error('usage: exactly-once-copier <bootstrap> <input> <output> <group> <transactional id>');
  process.exit(2);
}

function fail(error: unknown): never {
  console.error(`copier failed: ${describeError(error)}`);
  process.exit(1);
}

// One address, or several comma-separated (a cluster: any of them bootstraps a new session).
const kafka = new Kafka({ clientId: 'eos-copier', brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 } });

interface Session {
  /** 1 for the process's first session. */
  number: number;
  producer: ReturnType<Kafka['producer']>;
  consumer: ReturnType<Kafka['consumer']>;
  ended: boolean;
  /** The partitions this session fetched a batch of. */
  fetched: Set<number>;
}

const tracing = process.env.CONVEYOR_COPIER_TRACE === '1';
function trace(session: Session, what: string): void {
  if (tracing) console.error(`TRACE ${new Date().toISOString()} session ${session.number} ${what}`);
}

let current: Session | undefined;

/** How many sessions a newer one replaced (each newer producer's initialisation fenced the older). */
let superseded = 0;

// kafkajs's consumer, when it crashes, leaves its group from inside its own crash handler and lets
// that LeaveGroup's error escape as an unhandled rejection (NOT_COORDINATOR from a group
// coordinator that just moved): an echo of the failure that ended its session through the CRASH
// event or the transaction's catch. That session may already have been replaced, so the echo is
// not laid on the current one: doing so (as this copier once did) started a second session beside
// the first's replacement, whose producer then fenced it, and the fenced one's error failed the
// run (CI, 2026-12-05). A replaced session's own late failures (its producer fenced by the newer
// one) escape the same way and are no news either. Anything else still fails the copier.
process.on('unhandledRejection', (error) => {
  if (survivable(error) || (superseded > 0 && isFencedError(error))) return;
  fail(error);
});

/**
 * The errors a new session gets past: a lost connection, an offline log, a leader moving for longer
 * than kafkajs retries, a transactional request refused in the transaction's state (fatal to a
 * producer, as in Java's: a new one is made). The supervisor checks each is explained by a fault.
 */
function survivable(error: unknown): boolean {
  return isConnectionError(error) || isStorageError(error) || isLeaderMovingError(error) || isInvalidTxnStateError(error);
}

/** Ends the session on `error`: a survivable error starts a new one, anything else ends the process. */
function onError(session: Session, error: unknown): void {
  if (session.ended) return;
  session.ended = true;
  trace(session, `ended: ${describeError(error)}`);
  if (!survivable(error)) fail(error);
  console.error(`RECOVERING ${describeError(error)}`);
  superseded += 1;
  void (async () => {
    await session.consumer.disconnect().catch(() => undefined);
    await session.producer.disconnect().catch(() => undefined);
    // A node down or cut off refuses at once: a pause, not a reconnection loop at full speed
    // (a 75-second chaos run once started 1,815 sessions, nearly all within moments of each other).
    await delay(200);
    await start();
  })().catch(fail);
}

async function start(): Promise<void> {
  const session: Session = {
    producer: kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 }),
    consumer: kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 3_000, heartbeatInterval: 300, rebalanceTimeout: 5_000, maxWaitTimeInMs: 200, retry: { retries: 3, restartOnFailure: async () => false } }),
    ended: false,
    number: (current?.number ?? 0) + 1,
    fetched: new Set(),
  };
  trace(session, 'started');
  const recovering = current !== undefined;
  current = session;
  const { producer, consumer } = session;
  // kafkajs would restart a crashed consumer by itself (restartOnFailure) while this session's
  // replacement starts too: two members of the group in one process, the old one copying nothing.
  consumer.on(consumer.events.CRASH, (event) => onError(session, event.payload.error));
  try {
    await producer.connect();
    // Java's initTransactions() before consuming: kafkajs registers the transactional id lazily, at
    // the first transaction, but the consumer below reads the group's committed offsets at once.
    // A transaction of the previous session (or process) that was decided but whose markers were
    // still being written would leave those offsets stale (kafkajs cannot ask OffsetFetch for
    // stable offsets, KIP-447), and the records copied again. InitProducerId first completes or
    // aborts that transaction and fences its producer; the empty transaction is then dropped.
    const fence = await producer.transaction();
    await fence.abort();
    await consumer.connect();
    await consumer.subscribe({ topic: inputTopic!, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, isRunning, isStale, resolveOffset }) => {
        if (session.ended || batch.messages.length === 0 || !isRunning() || isStale()) return;
        if (!session.fetched.has(batch.partition)) {
          session.fetched.add(batch.partition);
          trace(session, `p${batch.partition} first batch from ${batch.firstOffset()}`);
        }
        const transaction = await producer.transaction();
        try {
          await transaction.send({
            topic: outputTopic!,
            messages: batch.messages.map((message) => ({ key: message.key, value: `copy-${message.value!.toString()}`, partition: batch.partition })),
          });
          const next = (BigInt(batch.lastOffset()) + 1n).toString();
          await transaction.sendOffsets({ consumerGroupId: groupId!, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
          await transaction.commit();
        } catch (error) {
          // The consumer's position is past this batch while its offsets were not committed: this
          // session cannot go on. The next one (or the next process) fences this transaction.
          await transaction.abort().catch(() => undefined);
          // Its outcome is the coordinator's to tell: a commit that timed out may still have gone through.
          trace(session, `p${batch.partition} ${batch.firstOffset()}-${batch.lastOffset()} not known to be committed: ${describeError(error)}`);
          onError(session, error);
          return;
        }
        // Committed: the consumer moves past the batch. Without this kafkajs (eachBatchAutoResolve
        // false) fetches the partition again from where this generation started, and a copier that
        // lives through a second fetch of a partition copies the same records again.
        trace(session, `p${batch.partition} committed ${batch.firstOffset()}-${batch.lastOffset()}`);
        resolveOffset(batch.lastOffset());
      },
    });
  } catch (error) {
    onError(session, error);
    return;
  }
  if (recovering) console.error('RECOVERED');
}

await start();
