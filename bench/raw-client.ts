// The raw limit's client, run as its own process: sends the same record batches the perf producer
// builds (`send`), or receives a file's bytes (`receive`), and prints the elapsed time as JSON.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BatchFactory, makePayload } from '../src/client/perf-batches.js';

const [mode, portText, recordSizeText, recordCountText, batchSizeText] = process.argv.slice(2);
const port = Number(portText);

if (mode === 'send') {
  const recordSize = Number(recordSizeText);
  const recordCount = Number(recordCountText);
  const factory = new BatchFactory(makePayload(recordSize));
  const perBatch = factory.recordsPerBatch(Number(batchSizeText));
  const socket = connect({ host: '127.0.0.1', port }, () => {
    const started = performance.now();
    let sent = 0;
    let bytes = 0;
    const pump = () => {
      while (sent < recordCount) {
        const count = Math.min(perBatch, recordCount - sent);
        const batch = factory.build(count, Date.now());
        sent += count;
        bytes += batch.length;
        if (!socket.write(batch)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.once('data', () => {
      const elapsedMs = performance.now() - started;
      process.stdout.write(`${JSON.stringify({ records: recordCount, bytes, elapsedMs })}\n`);
      socket.destroy();
    });
    pump();
  });
} else {
  const started = performance.now();
  let bytes = 0;
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  socket.on('end', () => process.stdout.write(`${JSON.stringify({ bytes, elapsedMs: performance.now() - started })}\n`));
}
