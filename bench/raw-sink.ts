// The raw limit's server, run as its own process: `sink` appends every byte it receives to a file
// and answers "done" after the client half-closes; `source` streams a file to whoever connects.
// No framing, no parsing: the ceiling for any broker on this machine.
import { createReadStream, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

const [mode, portText, file] = process.argv.slice(2);
const server = createServer({ allowHalfOpen: true }, (socket) => {
  // Readiness probes connect and leave at once; their resets are not failures of the sink.
  socket.on('error', () => socket.destroy());
  if (mode === 'sink') {
    const out = createWriteStream(file!, { flags: 'a' });
    socket.pipe(out);
    out.on('finish', () => socket.end('done'));
  } else {
    createReadStream(file!, { highWaterMark: 1024 * 1024 }).pipe(socket);
  }
});
server.listen(Number(portText), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
