// Captures the first request frames real Kafka clients send, as golden fixtures for the codec
// tests. Not part of npm test: run `node --import tsx test/protocol/capture/capture.ts` by hand.
// A raw TCP server on 127.0.0.1:0 records whole frames from the first connection and closes.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const goldenDir = fileURLToPath(new URL('../golden/', import.meta.url));
const QUIET_MS = 1500;

/** Starts a server that collects up to `frameCount` frames from the first connection. */
async function captureFrames(frameCount: number, drive: (port: number) => Promise<unknown>): Promise<Buffer[]> {
  const frames: Buffer[] = [];
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  let first: Socket | undefined;
  const server = createServer((socket) => {
    if (first !== undefined) {
      socket.destroy();
      return;
    }
    first = socket;
    let pending = Buffer.alloc(0);
    const timer = setTimeout(finish, QUIET_MS * 2);
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        frames.push(pending.subarray(0, 4 + size));
        pending = pending.subarray(4 + size);
      }
      if (frames.length >= frameCount) {
        clearTimeout(timer);
        finish();
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const client = drive(port).catch(() => undefined);
  await done;
  first?.destroy();
  server.close();
  await Promise.race([client, new Promise((resolve) => setTimeout(resolve, QUIET_MS))]);
  return frames;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), QUIET_MS * 3);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function save(names: string[], frames: Buffer[]): void {
  frames.slice(0, names.length).forEach((frame, index) => {
    const file = `${goldenDir}${names[index]}.hex`;
    writeFileSync(file, `${frame.toString('hex')}\n`);
    console.log(`${file}: ${frame.length} bytes`);
  });
}

async function kafkajs(port: number): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'conveyor-capture', logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.disconnect();
}

async function platformatic(port: number): Promise<void> {
  // platformatic 2.x calls Promise.withResolvers, which Node 20 lacks.
  const promise = Promise as unknown as { withResolvers?: () => unknown };
  promise.withResolvers ??= () => {
    let resolve: unknown;
    let reject: unknown;
    const created = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: created, resolve, reject };
  };
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({ clientId: 'conveyor-capture', bootstrapBrokers: [`127.0.0.1:${port}`], retries: 0 });
  try {
    await admin.metadata({ topics: [] });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

const KAFKA_PYTHON = [
  'import kafka, sys',
  "client = kafka.KafkaClient(bootstrap_servers='127.0.0.1:' + sys.argv[1], client_id='conveyor-capture', request_timeout_ms=3000, api_version_auto_timeout_ms=2000)",
].join('\n');

save(['kafkajs-api-versions'], await captureFrames(1, kafkajs));
save(['kcat-api-versions'], await captureFrames(1, (port) => run('/usr/bin/kcat', ['-b', `127.0.0.1:${port}`, '-L', '-m', '2'])));
save(['kafka-python-api-versions', 'kafka-python-metadata'], await captureFrames(2, (port) => run('/usr/bin/python3', ['-c', KAFKA_PYTHON, String(port)])));
save(['platformatic-api-versions'], await captureFrames(1, platformatic));
process.exit(0);
