// kafkajs 2.2.4's consumer can lose a batch in its worker queue and then stall for good. Each
// fetcher pushes the batches it fetched to the queue and waits until a worker has handled them;
// a worker's run() is shared (kafkajs's sharedPromiseTo): while its loop is running, run() returns
// that loop's promise, and the loop takes batches until the queue is empty. The shared promise is
// cleared only in a `finally` reaction, one microtask after the loop found the queue empty and
// returned. A push in that microtask adds its batch, calls run(), gets the finished loop's promise,
// and no worker ever takes the batch: that fetcher waits for ever. The consumer goes on with its
// other fetchers until any error makes it stop them all to start again (fetchManager.stop waits for
// every fetcher to end), and then it sends nothing more, not even heartbeats. Two responses read
// from one socket in one chunk (a fetch and an offset commit or heartbeat from the coordinator's
// node) resume both waiting parties in the same microtask run, which is one way a push meets the
// window. The group readers of the chaos runs of seeds 2038 and 2040 went silent as this explains:
// after an offset commit answered NOT_COORDINATOR they sent no request, not even a heartbeat, and
// neither crashed nor logged kafkajs's "re-joining" (the fetch manager's stop never returned).
// Every other wait of a fetcher is bounded by the request timeout; this one is not.
//
// Importing this module, before anything loads kafkajs, puts a worker with the same contract in
// kafkajs's place: run() returns at once when a loop is running, and a loop stops being "running"
// in the same synchronous step in which it finds the queue empty, so a batch pushed at any moment
// is taken either by that loop or by a new one. It also counts the pushes that met kafkajs's window
// (`kafkajsWorkerQueue.racesMet`), the batches the original would have lost, for the chaos report.
// test/support/kafkajs-worker-queue.test.ts shows the original losing such a batch.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface QueuedBatch<T> {
  batch: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

type Handler<T> = (batch: T, metadata: { workerId: number }) => Promise<void>;
interface WorkerRun<T> {
  next: () => QueuedBatch<T> | undefined;
}

/** kafkajs's own worker factory, as it was before the replacement (for the test that shows its race). */
export let kafkajsOwnWorker: typeof createWorker | undefined;

const workerPath = require.resolve('kafkajs/src/consumer/worker.js');

/** What the replacement has seen in this process. */
export const kafkajsWorkerQueue = {
  /** The replacement is in kafkajs's place. */
  get installed(): boolean {
    return require.cache[workerPath]?.exports === createWorker;
  },
  /** Pushes made while a loop had just found the queue empty: kafkajs's own worker loses each. */
  racesMet: 0,
};

/** A kafkajs consumer worker (kafkajs's src/consumer/worker.js contract) without the lost-batch window. */
export function createWorker<T>({ handler, workerId }: { handler: Handler<T>; workerId: number }): { run: (run: WorkerRun<T>) => Promise<void> } {
  let running = false;
  /** True from the moment a loop found the queue empty until kafkajs's own worker would have cleared its shared promise. */
  let inKafkajsWindow = false;
  const run = async ({ next }: WorkerRun<T>): Promise<void> => {
    if (running) return;
    if (inKafkajsWindow) kafkajsWorkerQueue.racesMet++;
    running = true;
    for (;;) {
      const item = next();
      if (!item) {
        running = false;
        // kafkajs's worker clears its shared promise in a reaction queued now: until that runs,
        // a run() call would have been handed the finished loop.
        inKafkajsWindow = true;
        void Promise.resolve().then(() => {
          inKafkajsWindow = false;
        });
        return;
      }
      try {
        await handler(item.batch, { workerId });
        item.resolve();
      } catch (error) {
        item.reject(error);
      }
    }
  };
  return { run };
}

function install(): void {
  // kafkajs's fetch manager keeps the worker factory it required when it was loaded: too late
  // then (a user of the replacement checks `installed`, see requireKafkajsWorkerQueueFix).
  if (require.cache[require.resolve('kafkajs/src/consumer/fetchManager.js')]) return;
  kafkajsOwnWorker = require(workerPath) as typeof createWorker;
  require.cache[workerPath]!.exports = createWorker;
}

/** Throws unless the replacement is in kafkajs's place in this process. */
export function requireKafkajsWorkerQueueFix(): void {
  if (!kafkajsWorkerQueue.installed) {
    throw new Error('kafkajs was loaded before test/support/kafkajs-worker-queue.ts: import it first, before any module that imports kafkajs');
  }
}

install();
