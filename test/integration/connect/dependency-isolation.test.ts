// docs/connect.md promises that a connector's client library is loaded only when one of its tasks
// starts, and that a broker never loads Connect. A fresh process watches every module resolution
// through a loader hook (the same technique as the jose check in sasl-oauthbearer.test.ts) while it
// starts a broker, then a Connect worker running only the FileStream connectors, then a worker
// running the PostgreSQL sink: markers imported between the phases split what each phase loaded.
// The last phase proves the watch can see a connector library at all, so the check can fail.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProcess } from '../../support/process.js';
import { temporaryDirectory } from '../helpers.js';

/** The client libraries the built-in connectors import on demand (package.json dependencies). */
const CONNECTOR_LIBRARIES = ['pg', 'mysql2', '@vlasky/zongji', '@aws-sdk/client-s3', 'hyparquet-writer'];

interface Watched {
  /** Modules resolved while the broker started and served, before Connect was imported. */
  broker: string[];
  /** Modules resolved while the FileStream worker ran. */
  fileWorker: string[];
  /** Modules resolved while the PostgreSQL sink worker ran. */
  sinkWorker: string[];
  fileCopied: boolean;
}

const libraryOf = (url: string) => CONNECTOR_LIBRARIES.find((name) => url.includes(`/node_modules/${name}/`));

function childScript(dir: string): string {
  const src = (path: string) => JSON.stringify(new URL(`../../../src/${path}`, import.meta.url).href);
  const input = JSON.stringify(join(dir, 'input.txt'));
  const output = JSON.stringify(join(dir, 'output.txt'));
  const offsets = JSON.stringify(join(dir, 'connect.offsets'));
  return `
    import { register } from 'node:module';
    import { readFile, writeFile } from 'node:fs/promises';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const seen = [];
    port1.on('message', (url) => seen.push(url));
    register('data:text/javascript,' + encodeURIComponent(\`
      let port;
      export function initialize(data) { port = data.port; }
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        port.postMessage(result.url);
        return result;
      }\`), { data: { port: port2 }, transferList: [port2] });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
    const marker = async (name) => {
      await import('data:text/javascript,export const marker = "' + name + '";');
      await settle();
    };
    const until = async (check, ms) => {
      const deadline = Date.now() + ms;
      while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      return check();
    };

    const { startBroker } = await import(${src('node/start-broker.ts')});
    const broker = await startBroker({ port: 0, storage: 'memory' });
    await marker('phase-broker-done');

    const { startConnect } = await import(${src('connect/runtime/start-connect.ts')});
    const worker = {
      'bootstrap.servers': broker.bootstrapServers,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.storage.file.filename': ${offsets},
      'offset.flush.interval.ms': '300',
      listeners: 'http://127.0.0.1:0',
    };
    await writeFile(${input}, 'one\\ntwo\\nthree\\n');
    const files = await startConnect({ worker, connectors: [
      { name: 'file-source', 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: ${input}, topic: 'isolation-lines' },
      { name: 'file-sink', 'connector.class': 'FileStreamSink', 'tasks.max': '1', file: ${output}, topics: 'isolation-lines' },
    ] });
    const fileCopied = await until(async () => (await readFile(${output}, 'utf8').catch(() => '')) === 'one\\ntwo\\nthree\\n', 30_000);
    await files.close();
    await marker('phase-file-worker-done');

    // A PostgreSQL sink pointed at a port nothing listens on: its task imports pg, then fails to connect.
    const sink = await startConnect({ worker: { ...worker, 'offset.storage.file.filename': ${offsets} + '.2' }, connectors: [
      { name: 'pg-sink', 'connector.class': 'PostgresSink', 'tasks.max': '1', topics: 'isolation-lines',
        'connection.url': 'jdbc:postgresql://127.0.0.1:1/none', 'connection.attempts': '1' },
    ] });
    await until(() => seen.some((url) => url.includes('/node_modules/pg/')), 20_000);
    await sink.close();
    await broker.close();
    await marker('phase-sink-worker-done');
    port1.close();

    const at = (name) => seen.findIndex((url) => url.includes(name));
    const brokerEnd = at('phase-broker-done');
    const fileEnd = at('phase-file-worker-done');
    const sinkEnd = at('phase-sink-worker-done');
    console.log(JSON.stringify({
      broker: seen.slice(0, brokerEnd),
      fileWorker: seen.slice(brokerEnd + 1, fileEnd),
      sinkWorker: seen.slice(fileEnd + 1, sinkEnd),
      fileCopied,
    }));
    process.exit(0);
  `;
}

describe('Connect dependency isolation', () => {
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  before(async () => {
    dir = await temporaryDirectory();
  });
  after(async () => {
    await dir.remove();
  });

  it('a broker loads no Connect, a FileStream worker no connector library, a PostgreSQL sink loads pg', async () => {
    const child = join(dir.path, 'watch.mjs');
    await writeFile(child, childScript(dir.path));
    const run = await runProcess(process.execPath, ['--import', 'tsx', child], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    const watched = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Watched;
    assert.ok(watched.broker.some((url) => url.includes('/src/broker/')), 'the watch sees the broker load its modules');
    assert.deepEqual(watched.broker.filter((url) => url.includes('/src/connect/')), [], 'the broker loads no Connect module');
    assert.deepEqual(watched.broker.filter(libraryOf), [], 'the broker loads no connector library');
    assert.ok(watched.fileCopied, 'the FileStream connectors copied the file');
    assert.ok(watched.fileWorker.some((url) => url.includes('/src/connect/')), 'the watch sees the worker load Connect');
    assert.deepEqual(watched.fileWorker.filter(libraryOf), [], 'a FileStream worker loads no connector library');
    // The converse: the same watch sees pg as soon as a PostgreSQL sink task starts.
    assert.deepEqual([...new Set(watched.sinkWorker.map(libraryOf).filter(Boolean))], ['pg'], 'the PostgreSQL sink loads pg and no other connector library');
  });
});
