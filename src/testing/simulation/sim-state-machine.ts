// The state machine a simulated node runs on top of its Raft node, standing in for the metadata
// image so the simulation exercises snapshots (KIP-630): its state is the list of committed batches
// it has applied, in order; every few batches it writes that list as a snapshot, after which Raft
// drops the log before it; when the newest snapshot is past what it applied (at start-up, or when
// the leader sent one), it loads it. The invariants compare its state with what was committed.
import { SerialQueue } from '../../log/serial-queue.js';
import type { RaftBatchInfo } from '../../quorum/raft-log.js';
import type { RaftNode } from '../../quorum/raft-node.js';

export class SimStateMachine {
  /** The committed batches applied, oldest first: the whole state. */
  applied: RaftBatchInfo[] = [];
  /** The offset after the last batch applied. */
  nextOffset = 0;
  /** How many snapshots replaced the state (the invariants check a replaced state from the start). */
  loads = 0;
  #raft: RaftNode | undefined;
  #sinceSnapshot = 0;
  #scheduled = false;
  readonly #queue = new SerialQueue();

  constructor(
    /** Committed batches between snapshots; 0: never snapshot. */
    private readonly snapshotEvery: number,
    private readonly onError: (error: unknown) => void,
    /** Sabotage: snapshots leave out the last batch applied. */
    private readonly dropsLast = false,
  ) {}

  attach(raft: RaftNode): void {
    this.#raft = raft;
    this.poke();
  }

  /** Something was committed or installed: apply it (one pass at a time). */
  poke(): void {
    if (!this.#raft || this.#scheduled) return;
    this.#scheduled = true;
    this.#queue
      .run(async () => {
        this.#scheduled = false;
        await this.#catchUp(this.#raft!);
      })
      .catch((error: unknown) => this.onError(error));
  }

  async #catchUp(raft: RaftNode): Promise<void> {
    for (;;) {
      const snapshot = raft.latestSnapshot;
      if (snapshot && snapshot.offset > this.nextOffset) {
        this.applied = decodeState(await raft.readSnapshot(snapshot));
        this.nextOffset = snapshot.offset;
        this.loads++;
        this.#sinceSnapshot = 0;
        continue;
      }
      const highWatermark = raft.highWatermark;
      const fresh = raft.log.batches().filter((batch) => batch.baseOffset >= this.nextOffset && batch.lastOffset < highWatermark);
      if (fresh.length === 0) return;
      for (const batch of fresh) {
        if (batch.baseOffset !== this.nextOffset) throw new Error(`node ${raft.nodeId} would apply ${batch.baseOffset} after ${this.nextOffset - 1}: a gap`);
        this.applied.push({ ...batch });
        this.nextOffset = batch.lastOffset + 1;
        this.#sinceSnapshot++;
      }
      if (this.snapshotEvery > 0 && this.#sinceSnapshot >= this.snapshotEvery) {
        this.#sinceSnapshot = 0;
        await raft.createSnapshot(this.nextOffset, [encodeState(this.dropsLast ? this.applied.slice(0, -1) : this.applied)]);
      }
    }
  }
}

function encodeState(applied: readonly RaftBatchInfo[]): Buffer {
  return Buffer.from(JSON.stringify(applied.map((batch) => [batch.baseOffset, batch.lastOffset, batch.epoch, batch.crc])));
}

function decodeState(values: readonly Buffer[]): RaftBatchInfo[] {
  if (values.length !== 1) throw new Error(`a simulated snapshot holds one record, not ${values.length}`);
  const rows = JSON.parse(values[0]!.toString()) as [number, number, number, number][];
  return rows.map(([baseOffset, lastOffset, epoch, crc]) => ({ baseOffset, lastOffset, epoch, crc }));
}
