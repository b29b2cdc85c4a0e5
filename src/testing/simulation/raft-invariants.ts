// The safety properties of the quorum, checked after every simulation step:
// - at most one leader per epoch, ever;
// - no node's epoch goes down, across restarts (the quorum-state file is written before acting);
// - no node's high watermark goes down while it runs;
// - a committed batch (below some node's high watermark) never changes and is identical on every
//   node that counts it committed (a lagging node may still hold an older, uncommitted batch at
//   that offset: it is truncated when the node next fetches, and never counted as committed);
// - every committed batch is held durably by a majority of the voters (running or down), in its
//   log or below its newest snapshot;
// - each node's state machine holds exactly the committed batches, in order, from offset 0 (what
//   it applied from the log, or loaded from a snapshot);
// - every acknowledged append is committed at the offset it was acknowledged with.
import type { RaftBatchInfo } from '../../quorum/raft-log.js';
import { describeBatch, durablePrefix, type RaftCluster, sameBatch, type SimNode } from './raft-cluster.js';

export class RaftInvariants {
  readonly violations: string[] = [];
  readonly #leaderOfEpoch = new Map<number, number>();
  readonly #epochOf = new Map<number, number>();
  readonly #highWatermarkOf = new Map<number, { incarnation: number; highWatermark: number }>();
  /** Committed batches by base offset. */
  readonly #committed = new Map<number, RaftBatchInfo>();
  /** The voter set in effect where each committed batch was first seen committed (KIP-853 changes it). */
  readonly #committedBy = new Map<number, readonly number[]>();
  /** The largest high watermark any node has reported. */
  #commitEnd = 0;
  readonly #acknowledged: { lastOffset: number }[] = [];
  /** Per node, how much of its state machine's state was checked already. */
  readonly #checkedState = new Map<number, { machine: unknown; loads: number; checked: number }>();

  constructor(private readonly cluster: RaftCluster) {}

  get commitEnd(): number {
    return this.#commitEnd;
  }

  get committedBatches(): number {
    return this.#committed.size;
  }

  violation(message: string): void {
    if (this.violations.length < 20) this.violations.push(message);
  }

  /** An append the leader acknowledged as committed at `lastOffset`. */
  acknowledged(lastOffset: number): void {
    this.#acknowledged.push({ lastOffset });
  }

  /** The cheap checks, after every step. */
  checkStep(): void {
    for (const simNode of this.cluster.nodes.values()) {
      const raft = simNode.raft;
      if (!raft) continue;
      const id = raft.nodeId;
      if (raft.role.kind === 'leader') {
        const known = this.#leaderOfEpoch.get(raft.epoch);
        if (known === undefined) this.#leaderOfEpoch.set(raft.epoch, id);
        else if (known !== id) this.violation(`two leaders in epoch ${raft.epoch}: ${known} and ${id}`);
      }
      const lastEpoch = this.#epochOf.get(id) ?? 0;
      if (raft.epoch < lastEpoch) this.violation(`node ${id} went back from epoch ${lastEpoch} to ${raft.epoch}`);
      this.#epochOf.set(id, Math.max(lastEpoch, raft.epoch));
      const lastHighWatermark = this.#highWatermarkOf.get(id);
      if (lastHighWatermark && lastHighWatermark.incarnation === simNode.incarnation && raft.highWatermark < lastHighWatermark.highWatermark) {
        this.violation(`node ${id} high watermark went back from ${lastHighWatermark.highWatermark} to ${raft.highWatermark}`);
      }
      this.#highWatermarkOf.set(id, { incarnation: simNode.incarnation, highWatermark: raft.highWatermark });
      this.#recordCommitted(id, raft.log.batches(), raft.highWatermark, raft.voters);
      this.#checkStateMachine(simNode, raft.voters);
    }
  }

  #checkStateMachine(simNode: SimNode, voters: readonly number[]): void {
    const machine = simNode.stateMachine;
    if (!machine) return;
    let progress = this.#checkedState.get(simNode.id);
    if (!progress || progress.machine !== machine || progress.loads !== machine.loads) {
      progress = { machine, loads: machine.loads, checked: 0 };
      this.#checkedState.set(simNode.id, progress);
    }
    const applied = machine.applied;
    for (let index = progress.checked; index < applied.length; index++) {
      const batch = applied[index]!;
      const expectedBase = index === 0 ? 0 : applied[index - 1]!.lastOffset + 1;
      const known = this.#committed.get(batch.baseOffset);
      if (batch.baseOffset !== expectedBase) this.violation(`node ${simNode.id}'s state has ${describeBatch(batch)} where offset ${expectedBase} should start`);
      // It applied only below its high watermark, so the batch is committed even if no log shows
      // it any more (applied, snapshot and trimmed within one event).
      else if (!known) {
        this.#committed.set(batch.baseOffset, batch);
        this.#committedBy.set(batch.baseOffset, voters);
      }
      else if (!sameBatch(known, batch)) this.violation(`node ${simNode.id}'s state has ${describeBatch(batch)} where ${describeBatch(known)} was committed`);
    }
    progress.checked = applied.length;
  }

  /** The costlier checks: majority durability and acknowledged appends (every few steps, and at the end). */
  checkDurability(): void {
    const durable = [...this.cluster.nodes.values()].map((node) => {
      const batches = node.raft ? durablePrefix(node.raft) : node.durableAtCrash;
      const snapshotEnd = (node.raft ? node.raft.latestSnapshot : node.snapshotAtCrash)?.offset ?? 0;
      return { id: node.id, snapshotEnd, batches: new Map(batches.map((batch) => [batch.baseOffset, batch])) };
    });
    for (const batch of this.#committed.values()) {
      // Durability counts the voters that committed it: an observer's copy does not make an entry committed.
      const voters = this.#committedBy.get(batch.baseOffset) ?? this.cluster.voters;
      const majority = Math.floor(voters.length / 2) + 1;
      const holders = durable.filter((held) => {
        if (!voters.includes(held.id)) return false;
        // A snapshot holds what the batches below it said (its content is checked when loaded).
        if (batch.lastOffset < held.snapshotEnd) return true;
        const found = held.batches.get(batch.baseOffset);
        return found !== undefined && sameBatch(found, batch);
      }).length;
      if (holders < majority) this.violation(`committed batch ${describeBatch(batch)} is durable on ${holders} of voters ${voters.join(',')}, fewer than a majority`);
    }
    for (const ack of this.#acknowledged) {
      if (ack.lastOffset >= this.#commitEnd) this.violation(`append acknowledged at ${ack.lastOffset} but the commit point is ${this.#commitEnd}`);
    }
  }

  #recordCommitted(nodeId: number, batches: readonly RaftBatchInfo[], highWatermark: number, voters: readonly number[]): void {
    if (highWatermark > this.#commitEnd) this.#commitEnd = highWatermark;
    for (const batch of batches) {
      if (batch.lastOffset >= highWatermark) break;
      const known = this.#committed.get(batch.baseOffset);
      if (!known) {
        this.#committed.set(batch.baseOffset, batch);
        this.#committedBy.set(batch.baseOffset, voters);
      }
      else if (!sameBatch(known, batch)) {
        this.violation(`node ${nodeId} committed ${describeBatch(batch)} where ${describeBatch(known)} was committed`);
      }
    }
  }

}
