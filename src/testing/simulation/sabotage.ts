// Deliberate defects behind the quorum's ports, so a test can show that the simulation's
// invariants catch what they claim to: a log whose flush does nothing yet reports everything
// durable (a power loss then takes acknowledged data), and a quorum-state file that never writes
// (a restarted node forgets its epoch and its vote, and can vote twice), and snapshots that leave
// out a committed batch (a node that loads one has lost it).
import type { ElectionState } from '../../quorum/quorum-state-file.js';
import { QuorumStateFile } from '../../quorum/quorum-state-file.js';
import type { OffsetAndEpoch, RaftBatchInfo, RaftLog } from '../../quorum/raft-log.js';
import type { RecordInput } from '../../protocol/records/record.js';
import type { VoterHistory } from '../../quorum/voter-set.js';

export interface Sabotage {
  /** flush() returns at once and the log claims everything written is durable. */
  readonly flushLies?: boolean;
  /** The quorum-state file is never written. */
  readonly forgetsVotes?: boolean;
  /** A state machine's snapshots leave out the last batch they should hold. */
  readonly snapshotDropsLast?: boolean;
}

export class LyingFlushLog implements RaftLog {
  constructor(private readonly log: RaftLog) {}

  get startOffset(): number {
    return this.log.startOffset;
  }

  get endOffset(): number {
    return this.log.endOffset;
  }

  get flushedEndOffset(): number {
    return this.log.endOffset;
  }

  get voterHistory(): VoterHistory {
    return this.log.voterHistory;
  }

  get lastEpoch(): number {
    return this.log.lastEpoch;
  }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    return this.log.endOffsetForEpoch(epoch);
  }

  appendAsLeader(records: readonly RecordInput[], epoch: number, control?: boolean): Promise<RaftBatchInfo> {
    return this.log.appendAsLeader(records, epoch, control);
  }

  appendAsFollower(bytes: Buffer): Promise<void> {
    return this.log.appendAsFollower(bytes);
  }

  truncateTo(offset: number): Promise<void> {
    return this.log.truncateTo(offset);
  }

  deleteBefore(snapshot: OffsetAndEpoch): Promise<void> {
    return this.log.deleteBefore(snapshot);
  }

  resetTo(snapshot: OffsetAndEpoch): Promise<void> {
    return this.log.resetTo(snapshot);
  }

  async flush(): Promise<void> {}

  read(offset: number, maxBytes: number): Promise<Buffer> {
    return this.log.read(offset, maxBytes);
  }

  batches(): readonly RaftBatchInfo[] {
    return this.log.batches();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

export class ForgetfulStateFile extends QuorumStateFile {
  override async write(_state: ElectionState): Promise<void> {}
}
