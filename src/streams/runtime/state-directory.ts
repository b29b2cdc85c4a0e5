// An application's state directory (`<state.dir>/<application.id>`), as Kafka Streams keeps it when
// the topology has persistent stores:
// - a lock, so two instances never share one directory (their LevelDB stores, checkpoints and
//   process id): the `.lock` file, created exclusively, holds the owner's pid; a file left by a
//   process that is gone (a kill -9) is taken over, one whose process still runs is refused with a
//   message naming it (a pid is only meaningful on one host: not for a directory shared across
//   hosts, which Kafka Streams does not support either);
// - the process id, kept in `kafka-streams-process-metadata` across restarts. The exactly_once_v2
//   transactional id is `<application.id>-<process id>-1`, so an instance restarted on its directory
//   after a crash fences its previous incarnation at once (InitProducerId aborts the transaction it
//   left open) instead of leaving that transaction open until its timeout, and the sticky
//   assignor sees the same process again and gives it back the tasks whose state it has.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const LOCK_FILE = '.lock';
const PROCESS_FILE = 'kafka-streams-process-metadata';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A state directory another instance holds (Kafka Streams throws a StreamsException there). */
export class StateDirectoryLockedError extends Error {
  override readonly name = 'StateDirectoryLockedError';
}

/** Directories locked by instances of this process (a pid cannot tell two instances of one process apart). */
const lockedHere = new Set<string>();

export interface StateDirectoryLock {
  readonly processId: string;
  /** Gives the directory up (close, or a kill in a test: a crashed process's lock is stale by its pid). */
  release(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/**
 * Creates the lock file exclusively (a process that races this one for a free or stale lock either
 * wins or finds the winner's live pid there). A stale file, whose process is gone or is this one,
 * is removed first.
 */
async function takeLockFile(lockPath: string, directory: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
    }
    const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
      throw new StateDirectoryLockedError(`state.dir: ${directory} is in use by process ${owner} (${lockPath}); give each instance its own state.dir, or delete that file if the process is not a KafkaStreams instance`);
    }
    await rm(lockPath, { force: true });
  }
}

/** Locks `directory` for this instance and reads (or creates) the process id kept there. */
export async function lockStateDirectory(directory: string): Promise<StateDirectoryLock> {
  const key = resolve(directory);
  if (lockedHere.has(key)) throw new StateDirectoryLockedError(`state.dir: ${key} is in use by another KafkaStreams instance in this process; give each instance its own state.dir`);
  await mkdir(key, { recursive: true });
  const lockPath = join(key, LOCK_FILE);
  lockedHere.add(key);
  let processId: string;
  try {
    await takeLockFile(lockPath, key);
    const processPath = join(key, PROCESS_FILE);
    const kept = await readFile(processPath, 'utf8').then((text) => (JSON.parse(text) as { processId?: unknown }).processId).catch(() => undefined);
    if (typeof kept === 'string' && UUID.test(kept)) processId = kept;
    else {
      processId = randomUUID();
      await writeAtomically(processPath, `${JSON.stringify({ version: 0, processId })}\n`);
    }
  } catch (error) {
    lockedHere.delete(key);
    throw error;
  }
  let released = false;
  return {
    processId,
    async release() {
      if (released) return;
      released = true;
      lockedHere.delete(key);
      const current = await readFile(lockPath, 'utf8').catch(() => '');
      if (current === String(process.pid)) await rm(lockPath, { force: true });
    },
  };
}
