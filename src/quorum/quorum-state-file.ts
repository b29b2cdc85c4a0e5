// Kafka's `quorum-state` file in the metadata log's directory: the Raft epoch, the leader this node
// knows in it and the vote it cast. A node writes it durably (temporary file, fsync, rename, fsync
// of the directory) before it acts on a new epoch or vote, so a restart can never vote twice in an
// epoch or go back to an older one. The JSON is Kafka's QuorumStateData version 0.
import type { FileSystem } from '../base/file-system.js';
import { isNotFoundError, joinPath, writeFileAtomically } from '../base/file-system.js';

export const QUORUM_STATE_FILE = 'quorum-state';
export const NO_NODE = -1;

export interface ElectionState {
  readonly epoch: number;
  /** The leader known in this epoch, or -1. */
  readonly leaderId: number;
  /** The candidate this node voted for in this epoch, or -1. */
  readonly votedId: number;
}

export const INITIAL_ELECTION_STATE: ElectionState = { epoch: 0, leaderId: NO_NODE, votedId: NO_NODE };

export class QuorumStateFile {
  readonly path: string;

  constructor(
    private readonly fs: FileSystem,
    directory: string,
    private readonly voters: readonly number[],
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
    return { epoch: Math.max(epoch, 0), leaderId, votedId };
  }

  async write(state: ElectionState): Promise<void> {
    const data = {
      clusterId: '',
      leaderId: state.leaderId,
      leaderEpoch: state.epoch,
      votedId: state.votedId,
      appliedOffset: 0,
      currentVoters: this.voters.map((voterId) => ({ voterId })),
      data_version: 0,
    };
    await writeFileAtomically(this.fs, this.path, Buffer.from(JSON.stringify(data)));
  }
}

function integerField(data: Record<string, unknown>, name: string): number {
  const value = data[name];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`quorum-state: ${name} is missing or not an integer`);
  return value;
}
