// Kafka's `quorum-state` file in the metadata log's directory: the Raft epoch, the leader this node
// knows in it and the vote it cast. A node writes it durably (temporary file, fsync, rename, fsync
// of the directory) before it acts on a new epoch or vote, so a restart can never vote twice in an
// epoch or go back to an older one. The JSON is Kafka's QuorumStateData: version 1 (KIP-853: the
// vote names the candidate's directory too) is written; version 0 files are still read.
import type { FileSystem } from '../base/file-system.js';
import { isNotFoundError, joinPath, writeFileAtomically } from '../base/file-system.js';
import { ZERO_UUID } from '../base/uuid.js';

export const QUORUM_STATE_FILE = 'quorum-state';
export const NO_NODE = -1;

export interface ElectionState {
  readonly epoch: number;
  /** The leader known in this epoch, or -1. */
  readonly leaderId: number;
  /** The candidate this node voted for in this epoch (id -1: none). */
  readonly voted: ReplicaKey;
}

/** A replica as KIP-853 names it: its node id and the directory id of its metadata log (the zero uuid: unknown). */
export interface ReplicaKey {
  readonly id: number;
  readonly directoryId: string;
}

export const NO_VOTE: ReplicaKey = { id: NO_NODE, directoryId: ZERO_UUID };

/**
 * Whether a vote cast for `voted` is a vote for `candidate`: the same node, and the same directory
 * unless the vote did not record one (a version 0 file, a candidate that sent none), as Kafka.
 */
export function isVoteFor(voted: ReplicaKey, candidate: ReplicaKey): boolean {
  return voted.id === candidate.id && (voted.directoryId === ZERO_UUID || voted.directoryId === candidate.directoryId);
}

export const INITIAL_ELECTION_STATE: ElectionState = { epoch: 0, leaderId: NO_NODE, voted: NO_VOTE };

export class QuorumStateFile {
  readonly path: string;

  constructor(
    private readonly fs: FileSystem,
    directory: string,
  ) {
    this.path = joinPath(directory, QUORUM_STATE_FILE);
  }

  /** The stored state, or the initial one when the file does not exist yet. */
  async read(): Promise<ElectionState> {
    let text: string;
    try {
      text = (await this.fs.readFile(this.path)).toString('utf8');
    } catch (error) {
      if (isNotFoundError(error)) return INITIAL_ELECTION_STATE;
      throw error;
    }
    const data = JSON.parse(text) as Record<string, unknown>;
    const epoch = integerField(data, 'leaderEpoch');
    const leaderId = integerField(data, 'leaderId');
    const votedId = integerField(data, 'votedId');
    if (epoch < 0 && epoch !== -1) throw new Error(`${this.path}: leaderEpoch ${epoch} is invalid`);
    const directoryId = data.votedDirectoryId ?? ZERO_UUID;
    if (typeof directoryId !== 'string' || !UUID_TEXT.test(directoryId)) throw new Error(`${this.path}: votedDirectoryId is not a uuid`);
    return { epoch: Math.max(epoch, 0), leaderId, voted: votedId === NO_NODE ? NO_VOTE : { id: votedId, directoryId } };
  }

  async write(state: ElectionState): Promise<void> {
    const data = {
      leaderId: state.leaderId,
      leaderEpoch: state.epoch,
      votedId: state.voted.id,
      votedDirectoryId: state.voted.directoryId,
      data_version: 1,
    };
    await writeFileAtomically(this.fs, this.path, Buffer.from(JSON.stringify(data)));
  }
}

/** A uuid as Kafka writes it in JSON: 16 bytes in unpadded url-safe base64. */
const UUID_TEXT = /^[A-Za-z0-9_-]{22}$/;

function integerField(data: Record<string, unknown>, name: string): number {
  const value = data[name];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`quorum-state: ${name} is missing or not an integer`);
  return value;
}
