// The NATS JetStream peer's load generator, run as its own process with the official nats.js
// client (Debian has no `nats bench`): `produce` publishes asynchronously with a window of
// outstanding acknowledgements to a file-backed stream; `consume` reads it back with an ordered
// consumer. Prints {records, elapsedMs} as JSON.
import { performance } from 'node:perf_hooks';
import { connect, StorageType } from 'nats';
import { makePayload } from '../../src/client/perf-batches.js';

/** Publishes awaiting acknowledgement at once; nats bench's async publishing keeps a window too. */
const PUBLISH_WINDOW = 1024;
const CONSUME_BATCH = 10_000;

const [mode, portText, stream, recordSizeText, recordCountText] = process.argv.slice(2);
const recordCount = Number(recordCountText);
const nc = await connect({ servers: `127.0.0.1:${portText}` });
const subject = `${stream}.records`;

if (mode === 'produce') {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream!, subjects: [`${stream}.>`], storage: StorageType.File });
  const js = nc.jetstream();
  const payload = makePayload(Number(recordSizeText));
  const started = performance.now();
  const window = new Set<Promise<unknown>>();
  for (let index = 0; index < recordCount; index++) {
    const ack = js.publish(subject, payload);
    window.add(ack);
    void ack.finally(() => window.delete(ack));
    if (window.size >= PUBLISH_WINDOW) await Promise.race(window);
  }
  await Promise.all(window);
  report(started);
} else {
  const js = nc.jetstream();
  const consumer = await js.consumers.get(stream!);
  const started = performance.now();
  let received = 0;
  const messages = await consumer.consume({ max_messages: CONSUME_BATCH });
  for await (const _message of messages) {
    if (++received >= recordCount) break;
  }
  report(started);
}
await nc.close();

function report(started: number): void {
  process.stdout.write(`${JSON.stringify({ records: recordCount, elapsedMs: performance.now() - started })}\n`);
}
