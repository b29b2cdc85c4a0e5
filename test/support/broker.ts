// An in-process Conveyor broker for client tests: disk storage in a fresh temporary directory, port 0,
// and a restart that reopens the same directory so tests can check what survives a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningBroker, startBroker } from '../../src/index.js';

export interface TestBroker {
  readonly bootstrapServers: string;
  readonly running: RunningBroker;
  readonly dataDir: string;
  /** Closes the broker (flushing its logs) and starts a new one on the same data directory. */
  restart(): Promise<void>;
  /** Closes the broker and removes its data directory. Safe to call twice. */
  close(): Promise<void>;
}

export type BrokerConfigInput = Record<string, string | number | boolean>;

export async function startTestBroker(config: BrokerConfigInput = {}): Promise<TestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-compat-'));
  const start = () => startBroker({ port: 0, dataDir, storage: 'disk', logLevel: (process.env.CONVEYOR_TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent', config });
  let running: RunningBroker | undefined = await start();
  let closed = false;
  return {
    get bootstrapServers() {
      if (running === undefined) throw new Error('broker is not running');
      return running.bootstrapServers;
    },
    get running() {
      if (running === undefined) throw new Error('broker is not running');
      return running;
    },
    dataDir,
    async restart() {
      const current = running;
      running = undefined;
      await current?.close();
      running = await start();
    },
    async close() {
      if (closed) return;
      closed = true;
      const current = running;
      running = undefined;
      await current?.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
