// The raw limit's client, run as its own process: sends the same record batches the perf producer
// builds (`send`), receives a file's bytes as a stream (`receive`) or one 1 MiB slice per request
// (`request`, against the server's `serve`), and prints the elapsed time as JSON.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { BatchFactory, makePayload } from '../src/client/perf-batches.js';

const [mode, portText, recordSizeText, recordCountText, batchSizeText] = process.argv.slice(2);
const port = Number(portText);
const REQUEST = Buffer.alloc(4);

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
} else if (mode === 'request') {
  // One 4-byte request at a time; each answer is a 4-byte length and that many bytes (0 ends).
  const started = performance.now();
  let bytes = 0;
  let chunks: Buffer[] = [];
  let buffered = 0;
  let expected = -1;
  const socket = connect({ host: '127.0.0.1', port }, () => socket.write(REQUEST));
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    if (expected < 0 && buffered >= 4) {
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks = [head];
      expected = head.readUInt32BE(0);
    }
    if (expected < 0 || buffered < 4 + expected) return;
    if (expected === 0) {
      process.stdout.write(`${JSON.stringify({ bytes, elapsedMs: performance.now() - started })}\n`);
      socket.destroy();
      return;
    }
    bytes += expected;
    chunks = [];
    buffered = 0;
    expected = -1;
    socket.write(REQUEST);
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
