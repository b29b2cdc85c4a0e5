// A real PostgreSQL server for the connector tests: Debian's postgresql package (installed by
// .ci/run), a fresh cluster made by initdb in a temporary directory, listening on a loopback port
// of its own, with logical replication on (wal_level=logical) for the change data capture source.
// PostgreSQL refuses to run as root, so under root the directory is handed to the unprivileged
// `nobody` user and the server runs as that user. Stopped by its process id; restartable on the
// same data directory and port (for the tests that restart the database under a connector).
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseProcess, freePort } from './database-process.js';
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

  const server = new DatabaseProcess({
    name: 'postgres', command: join(bin, 'postgres'), args, spawnOptions: owner,
    readyLine: 'database system is ready to accept connections',
    stopSignal: 'SIGINT', // fast shutdown: ends sessions, writes a checkpoint
    stopGraceMs: 10_000,
  });

  try {
    await server.launch();
  } catch (error) {
    await server.halt();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    get pid() {
      return server.pid;
    },
    restart: async () => {
      await server.halt();
      await server.launch();
    },
    stop: async () => {
      await server.halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runAs(command: string, args: string[], owner: { uid?: number; gid?: number }) {
  if (owner.uid === undefined) return runProcess(command, args, { timeoutMs: 60_000 });
  // runProcess spawns as this user; initdb must run as the directory's owner.
  return runProcess('setpriv', [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', command, ...args], { timeoutMs: 60_000 });
}
