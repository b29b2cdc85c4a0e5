// The raw limit's server, run as its own process: `sink` appends every byte it receives to a file
// and answers "done" after the client half-closes; `source` streams a file to whoever connects;
// `serve` answers each 4-byte request with the file's next slice of at most 1 MiB, read from the
// page cache, behind a 4-byte length (0 at the end). No protocol: the ceilings for any broker on
// this machine, streaming and with one fetch-sized request in flight as Kafka consumers have.
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';

const SLICE_BYTES = 1024 * 1024;

const [mode, portText, file] = process.argv.slice(2);
const server = createServer({ allowHalfOpen: true }, (socket) => {
  // Readiness probes connect and leave at once; their resets are not failures of the sink.
  socket.on('error', () => socket.destroy());
  if (mode === 'sink') {
    const out = createWriteStream(file!, { flags: 'a' });
    socket.pipe(out);
    out.on('finish', () => socket.end('done'));
  } else if (mode === 'serve') {
    void serveSlices(socket);
  } else {
    createReadStream(file!, { highWaterMark: 1024 * 1024 }).pipe(socket);
  }
});

/** One slice per 4-byte request, as a broker with no protocol work would answer fetches. */
async function serveSlices(socket: Socket): Promise<void> {
  const handle = await open(file!, 'r');
  let position = 0;
  let pending = 0;
  let busy = false;
  const answer = async () => {
    busy = true;
    while (pending >= 4) {
      pending -= 4;
      const slice = Buffer.allocUnsafe(SLICE_BYTES);
      const { bytesRead } = await handle.read(slice, 0, SLICE_BYTES, position);
      position += bytesRead;
      const length = Buffer.allocUnsafe(4);
      length.writeUInt32BE(bytesRead);
      socket.cork();
      socket.write(length);
      if (bytesRead > 0) socket.write(slice.subarray(0, bytesRead));
      socket.uncork();
    }
    busy = false;
  };
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.length;
    if (!busy) void answer();
  });
  socket.on('close', () => void handle.close());
}
server.listen(Number(portText), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
