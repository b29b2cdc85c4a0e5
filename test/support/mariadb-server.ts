// A real MariaDB server for the MySQL/MariaDB change data capture tests: Debian's mariadb-server
// package (installed by .ci/run), a fresh data directory made by mariadb-install-db in a temporary
// directory, listening on a loopback port of its own (and a socket inside that directory), with
// the binary log on in row format with full row images, as change data capture needs. Under root
// the directory is handed to the unprivileged `nobody` user and the server runs as that user
// (mariadbd's --user). Stopped by its process id; restartable on the same directory and port.
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseProcess, freePort } from './database-process.js';
import { runProcess } from './process.js';

const NOBODY = 65534;
const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';

export interface MariadbServer {
  readonly host: string;
  readonly port: number;
  /** root, without a password, from 127.0.0.1. */
  readonly user: string;
  /** The directory of the server's socket, data and binary logs. */
  readonly dir: string;
  /** Stops the server (a clean shutdown) and starts it again on the same directory and port. */
  restart(): Promise<void>;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
  /** The process id of the running server (for a test that kills it). */
  readonly pid: number | undefined;
}

/** Why MariaDB cannot run here, or undefined when it can (for `skip:` in tests). */
export function mariadbUnavailable(): string | undefined {
  if (existsSync(MARIADBD) && existsSync(INSTALL_DB)) return undefined;
  const message = `MariaDB server binaries not found (${MARIADBD}, ${INSTALL_DB}; Debian package mariadb-server, which .ci/run installs)`;
  if (process.env.CONVEYOR_REQUIRE_ALL_CLIENTS === '1') throw new Error(message);
  return message;
}

/**
 * Starts a server. `settings` are extra mariadbd options without the leading dashes
 * (`{ 'binlog-format': 'STATEMENT' }` replaces a default, `{ 'binlog-row-metadata': 'FULL' }` adds one).
 */
export async function startMariadb(options: { settings?: Record<string, string> } = {}): Promise<MariadbServer> {
  if (mariadbUnavailable() !== undefined) throw new Error(mariadbUnavailable());
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-mariadb-'));
  const dataDir = join(dir, 'data');
  if (asRoot) chownSync(dir, NOBODY, NOBODY);
  const userArgs = asRoot ? ['--user=nobody'] : [];
  // Small InnoDB files: the default 96 MiB redo log is written in full at install time.
  const innodb = ['--innodb-log-file-size=8M', '--innodb-buffer-pool-size=32M'];

  const install = await runProcess(INSTALL_DB, ['--no-defaults', `--datadir=${dataDir}`, ...userArgs, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...innodb], { timeoutMs: 60_000 });
  if (install.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.code}): ${install.stderr}${install.stdout}`);
  }
  const port = await freePort();
  const settings: Record<string, string> = {
    'bind-address': '127.0.0.1',
    port: String(port),
    socket: join(dir, 'mariadb.sock'),
    'pid-file': join(dir, 'mariadb.pid'),
    'log-bin': join(dataDir, 'binlog'),
    'binlog-format': 'ROW',
    'binlog-row-image': 'FULL',
    'server-id': '1',
    'skip-name-resolve': '',
    'innodb-flush-log-at-trx-commit': '0',
    'sync-binlog': '0',
    ...options.settings,
  };
  const args = ['--no-defaults', `--datadir=${dataDir}`, ...userArgs, ...innodb,
    ...Object.entries(settings).map(([key, value]) => (value === '' ? `--${key}` : `--${key}=${value}`))];

  const server = new DatabaseProcess({
    name: 'mariadbd', command: MARIADBD, args,
    readyLine: 'ready for connections',
    stopSignal: 'SIGTERM', // a clean shutdown: ends sessions, closes the binary log
    stopGraceMs: 15_000,
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
    user: 'root',
    dir,
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
