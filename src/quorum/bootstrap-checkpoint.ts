// The bootstrap checkpoint of a dynamic quorum (KIP-853): `kafka-storage.sh format --standalone` or
// `--initial-controllers` writes `00000000000000000000-0000000000.checkpoint` into the metadata
// log's directory, a snapshot at offset 0 holding no metadata but the first voter set (a
// KRaftVersion and a VotersRecord after its header). A node formatted so knows its voters before
// its log holds any record; one formatted with `--no-initial-controllers` knows none and finds the
// quorum through controller.quorum.bootstrap.servers.
import { type FileSystem, joinPath, makeDirectoryDurably } from '../base/file-system.js';
import { createLogger } from '../base/logger.js';
import { METADATA_TOPIC } from './raft-node.js';
import { encodeSnapshot } from './snapshot-file.js';
import { SnapshotStore } from './snapshot-store.js';
import { type Voter, ZERO_UUID } from './voter-set.js';

const BOOTSTRAP_ID = { offset: 0, epoch: 0 };

export async function writeBootstrapCheckpoint(fs: FileSystem, logDir: string, voters: readonly Voter[], nowMs: number): Promise<void> {
  const dir = joinPath(logDir, `${METADATA_TOPIC}-0`);
  await makeDirectoryDurably(fs, dir);
  const store = await SnapshotStore.open(fs, dir, createLogger(() => {}, 'silent'));
  await store.write(BOOTSTRAP_ID, encodeSnapshot(BOOTSTRAP_ID, [], nowMs, voters));
}

/**
 * `--initial-controllers`: `id@host:port[:directoryId]` entries, comma-separated (Kafka's form; the
 * directory id may be left out here, as Conveyor keeps none yet).
 */
export function parseInitialControllers(value: string, listenerName: string): Voter[] {
  const voters: Voter[] = [];
  for (const entry of value.split(',').map((part) => part.trim()).filter((part) => part.length > 0)) {
    const match = /^(\d+)@(\[[^\]]+\]|[^:@[\]]+):(\d+)(?::([A-Za-z0-9_-]{22}))?$/.exec(entry);
    if (!match) throw new Error(`--initial-controllers: '${entry}' is not id@host:port[:directoryId]`);
    const port = Number(match[3]);
    if (port < 1 || port > 65535) throw new Error(`--initial-controllers: '${entry}' has no valid port`);
    voters.push({ id: Number(match[1]), directoryId: match[4] ?? ZERO_UUID, endpoints: [{ name: listenerName, host: match[2]!.replace(/^\[|\]$/g, ''), port }] });
  }
  if (voters.length === 0) throw new Error('--initial-controllers names no controller');
  if (new Set(voters.map((voter) => voter.id)).size !== voters.length) throw new Error('--initial-controllers names a node id twice');
  return voters;
}
