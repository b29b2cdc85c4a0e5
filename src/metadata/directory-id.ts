// Log directory ids (KIP-858, Kafka's DirectoryId): each log dir of a broker has a Kafka Uuid in
// its meta.properties (`directory.id`); the broker registers its online dirs, and every partition
// records, aligned with its replicas, the directory each replica lives in. Ids whose first 64
// bits are zero and whose last 64 bits are below 100 are reserved; three of them stand for a
// replica whose directory is not a real one:
// - MIGRATING (the zero uuid): a replica placed on a broker that registered no directories (a
//   log written before directory assignment, or a broker that does not report them). Online.
// - UNASSIGNED: placed, but the broker has not yet said in which of its directories (it has
//   several). Online: the broker reports its choice with AssignReplicasToDirs.
// - LOST: its directory is gone. Never online.
import { uuidToBytes } from '../base/uuid.js';

export const DirectoryId = {
  MIGRATING: 'AAAAAAAAAAAAAAAAAAAAAA',
  UNASSIGNED: 'AAAAAAAAAAAAAAAAAAAAAQ',
  LOST: 'AAAAAAAAAAAAAAAAAAAAAg',
} as const;

/** Whether `id` is one of the reserved ids (first 64 bits zero, last 64 bits below 100): never a real directory's. */
export function isReservedDirectoryId(id: string): boolean {
  let bytes: Buffer;
  try {
    bytes = uuidToBytes(id);
  } catch {
    return false;
  }
  return bytes.readBigUInt64BE(0) === 0n && bytes.readBigUInt64BE(8) < 100n;
}

/**
 * Whether a replica in directory `directoryId` is online on a broker whose registered online
 * directories are `onlineDirs` (Kafka's DirectoryId.isOnline): MIGRATING and UNASSIGNED are, LOST
 * is not; a broker that registered no directories has every directory online (nothing is known
 * of them); otherwise the directory must be one it registered.
 */
export function isDirectoryOnline(directoryId: string, onlineDirs: readonly string[]): boolean {
  if (directoryId === DirectoryId.UNASSIGNED || directoryId === DirectoryId.MIGRATING) return true;
  if (directoryId === DirectoryId.LOST) return false;
  return onlineDirs.length === 0 || onlineDirs.includes(directoryId);
}

/**
 * The directory a new replica on a broker starts in (Kafka's ClusterControlManager.defaultDir):
 * its only directory if it registered exactly one, MIGRATING if it registered none, else
 * UNASSIGNED (the broker picks one and tells the controller); UNASSIGNED for an unknown broker.
 */
export function defaultDirectory(logDirs: readonly string[] | undefined): string {
  if (logDirs === undefined) return DirectoryId.UNASSIGNED;
  if (logDirs.length === 0) return DirectoryId.MIGRATING;
  if (logDirs.length === 1) return logDirs[0]!;
  return DirectoryId.UNASSIGNED;
}

/** `count` MIGRATING entries: the directories of a partition recorded without any. */
export function migratingDirectories(count: number): string[] {
  return Array.from({ length: count }, () => DirectoryId.MIGRATING);
}
