// A real PostgreSQL server for the connector tests: Debian's postgresql package (installed by
// .ci/run), a fresh cluster made by initdb in a temporary directory, listening on a loopback port
// of its own, with logical replication on (wal_level=logical) for the change data capture source.
// PostgreSQL refuses to run as root, so under root the directory is handed to the unprivileged
// `nobody` user and the server runs as that user. Stopped by its process id; restartable on the
// same data directory and port (for the tests that restart the database under a connector).
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from './process.js';

const NOBODY = 65534;

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** `postgres://postgres@127.0.0.1:port/postgres`, or the named database. */
  url(database?: string): string;
  /** Stops the server (fast shutdown) and starts it again on the same directory and port. */
  restart(): Promise<void>;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
  /** The process id of the running server (for a test that kills it). */
  readonly pid: number | undefined;
}

/** The bin directory of the newest PostgreSQL installed, or undefined when there is none. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'postgres')) && existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0]!, 'bin') : undefined;
}

/** Why PostgreSQL cannot run here, or undefined when it can (for `skip:` in tests). */
export function postgresUnavailable(): string | undefined {
  if (postgresBinDir() !== undefined) return undefined;
  const message = 'PostgreSQL server binaries not found under /usr/lib/postgresql (Debian package postgresql; .ci/run installs it)';
  if (process.env.CONVEYOR_REQUIRE_ALL_CLIENTS === '1') throw new Error(message);
  return message;
}

export async function startPostgres(options: { settings?: Record<string, string> } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error(postgresUnavailable() ?? 'PostgreSQL not found');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-pg-'));
  const dataDir = join(dir, 'data');
  if (asRoot) chownSync(dir, NOBODY, NOBODY);

  const init = await runAs(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], owner);
  if (init.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.code}): ${init.stderr}`);
  }
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    wal_level: 'logical',
    max_replication_slots: '20',
    max_wal_senders: '20',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...options.settings,
  };
  const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])];

  let child: ChildProcess | undefined;
  let log = '';
  const launch = async (): Promise<void> => {
    log = '';
    const started = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...owner });
    child = started;
    started.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    const deadline = Date.now() + 30_000;
    while (!log.includes('database system is ready to accept connections')) {
      if (started.exitCode !== null || started.signalCode !== null) throw new Error(`postgres exited (${started.exitCode ?? started.signalCode}): ${log}`);
      if (Date.now() > deadline) throw new Error(`postgres did not start within 30 s: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const halt = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running?.pid === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(running.pid, 'SIGINT'); // fast shutdown: ends sessions, writes a checkpoint
    const timer = setTimeout(() => {
      if (running.pid !== undefined && running.exitCode === null) process.kill(running.pid, 'SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (error) {
    await halt();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    get pid() {
      return child?.pid;
    },
    restart: async () => {
      await halt();
      await launch();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runAs(command: string, args: string[], owner: { uid?: number; gid?: number }) {
  if (owner.uid === undefined) return runProcess(command, args, { timeoutMs: 60_000 });
  // runProcess spawns as this user; initdb must run as the directory's owner.
  return runProcess('setpriv', [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', command, ...args], { timeoutMs: 60_000 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
