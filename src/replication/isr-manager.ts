// The leader's side of the ISR (Kafka's AlterPartition flow): a follower that has caught up with
// the high watermark (and reached the current leader epoch) is proposed for the ISR at once; an
// ISR member that has not caught up with the leader's log end for replica.lag.time.max.ms is
// proposed for removal by a periodic check. A proposal goes to the active controller with the
// partition's leader and partition epochs; the change takes effect only when the controller has
// committed it and the image hands the new ISR back (ReplicaManager.host). Proposals go together
// in one AlterPartition, one request in flight at a time (after a broker comes back, every leader
// it follows wants it in the ISR at once); a refused or failed one is tried again after a backoff.
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import type { Partition } from './partition.js';

/** One partition's proposed ISR, as AlterPartition carries it. */
export interface IsrProposal {
  readonly topicId: string;
  readonly topic: string;
  readonly partitionIndex: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly number[];
  /**
   * Each member's broker epoch as of the fetches the proposal rests on (-1: not known, the
   * controller does not check it): a follower that restarted since is refused (INELIGIBLE_REPLICA).
   */
  readonly memberEpochs: readonly number[];
}

export interface IsrManagerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** replica.lag.time.max.ms */
  readonly lagTimeMaxMs: number;
  /**
   * Sends proposals to the active controller in one AlterPartition and resolves with each one's
   * error code (0: made), in order; rejects when the request failed as a whole.
   */
  readonly alterPartition: (proposals: readonly IsrProposal[]) => Promise<number[]>;
  /** The partitions this broker leads now. */
  readonly ledPartitions: () => Iterable<Partition>;
  /**
   * Whether a follower may join an ISR, as this broker's metadata knows it (Kafka's
   * isReplicaIsrEligible): registered, unfenced, and in the broker epoch it fetched with (-1: not
   * known). The controller refuses any other with INELIGIBLE_REPLICA; a leader that proposed it
   * anyway would propose again after every backoff for as long as a fenced broker keeps fetching.
   * Absent: every follower may.
   */
  readonly isrEligible?: (brokerId: number, fetchedBrokerEpoch: number) => boolean;
}

/** How long a leader waits after a refused or failed proposal before it proposes again in the same partition epoch. */
export const ISR_RETRY_BACKOFF_MS = 500;
/** Partitions one AlterPartition carries at most. */
export const ISR_PROPOSALS_PER_REQUEST = 1000;

export class IsrManager {
  /** Partitions with a proposal queued or in flight, with the partition epoch it was made against. */
  readonly #inFlight = new Map<Partition, number>();
  /** Proposals waiting for the request in flight to end: Kafka's one AlterPartition at a time. */
  readonly #queued = new Map<Partition, IsrProposal>();
  #sending = false;
  /** Partitions whose last proposal failed: the partition epoch it was made in, and when to try again. */
  readonly #backoff = new Map<Partition, { partitionEpoch: number; untilMs: number }>();
  #cancelCheck: (() => void) | undefined;
  #stopped = false;
  /** ISR changes the controller made for this leader that removed a member (Kafka's IsrShrinksPerSec), or added one (IsrExpandsPerSec). */
  isrShrinks = 0;
  isrExpands = 0;
  /** The ISR each queued or in-flight proposal changes (what it shrinks or expands). */
  readonly #proposedFrom = new Map<IsrProposal, readonly number[]>();

  constructor(private readonly options: IsrManagerOptions) {}

  /** Starts the periodic shrink check (every half of replica.lag.time.max.ms, as Kafka checks). */
  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      for (const partition of this.options.ledPartitions()) this.check(partition);
      this.#cancelCheck = this.options.clock.schedule(Math.max(1, Math.floor(this.options.lagTimeMaxMs / 2)), tick);
    };
    this.#cancelCheck = this.options.clock.schedule(Math.max(1, Math.floor(this.options.lagTimeMaxMs / 2)), tick);
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelCheck?.();
  }

  /** Proposes the ISR `partition` should have now, if it differs from its current one. */
  check(partition: Partition): void {
    if (this.#stopped || !partition.isLeader) return;
    const { assignment } = partition;
    const pendingEpoch = this.#inFlight.get(partition);
    if (pendingEpoch !== undefined && pendingEpoch === assignment.partitionEpoch) return;
    const nowMs = this.options.clock.monotonicMs();
    // After a refusal (a stale epoch: the image has not caught up yet) wait, unless the epoch moved.
    const backoff = this.#backoff.get(partition);
    if (backoff && backoff.partitionEpoch === assignment.partitionEpoch && nowMs < backoff.untilMs) return;
    this.#backoff.delete(partition);
    const wanted = wantedIsr(partition, nowMs, this.options.lagTimeMaxMs, this.options.isrEligible);
    if (!wanted) return;
    this.#inFlight.set(partition, assignment.partitionEpoch);
    this.options.logger.info('proposing an ISR change', { topic: partition.topic, partition: partition.partitionIndex, from: assignment.isr.join(','), to: wanted.join(',') });
    const memberEpochs = wanted.map((id) => partition.followers.get(id)?.brokerEpoch ?? -1);
    const proposal = { topicId: partition.topicId, topic: partition.topic, partitionIndex: partition.partitionIndex, leaderEpoch: assignment.leaderEpoch, partitionEpoch: assignment.partitionEpoch, isr: wanted, memberEpochs };
    const replaced = this.#queued.get(partition);
    if (replaced !== undefined) this.#proposedFrom.delete(replaced);
    this.#queued.set(partition, proposal);
    this.#proposedFrom.set(proposal, assignment.isr);
    this.#send();
  }

  /** Sends what is queued in one request, unless one is in flight (its end sends the rest). */
  #send(): void {
    if (this.#sending || this.#queued.size === 0 || this.#stopped) return;
    const batch = [...this.#queued].slice(0, ISR_PROPOSALS_PER_REQUEST);
    for (const [partition] of batch) this.#queued.delete(partition);
    this.#sending = true;
    const proposals = batch.map(([, proposal]) => proposal);
    this.options
      .alterPartition(proposals)
      .then(
        (errorCodes) => batch.forEach(([partition, proposal], index) => this.#settle(partition, proposal, errorCodes[index] ?? -1)),
        (error: unknown) => {
          this.options.logger.warn('ISR changes not made', { partitions: batch.length, error: String(error) });
          for (const [partition, proposal] of batch) this.#settle(partition, proposal, -1);
        },
      )
      .finally(() => {
        this.#sending = false;
        this.#send();
      });
  }

  #settle(partition: Partition, proposal: IsrProposal, errorCode: number): void {
    if (this.#inFlight.get(partition) === proposal.partitionEpoch) this.#inFlight.delete(partition);
    const from = this.#proposedFrom.get(proposal) ?? proposal.isr;
    this.#proposedFrom.delete(proposal);
    if (errorCode === 0) {
      if (from.some((member) => !proposal.isr.includes(member))) this.isrShrinks += 1;
      if (proposal.isr.some((member) => !from.includes(member))) this.isrExpands += 1;
      return;
    }
    if (errorCode > 0) this.options.logger.warn('ISR change refused', { topic: partition.topic, partition: partition.partitionIndex, errorCode });
    this.#backoff.set(partition, { partitionEpoch: proposal.partitionEpoch, untilMs: this.options.clock.monotonicMs() + ISR_RETRY_BACKOFF_MS });
  }
}

/**
 * The ISR the leader wants: members that fell behind for longer than `lagTimeMaxMs` leave, and
 * replicas that reached the high watermark and the current epoch's start join if `eligible`;
 * undefined when that is the current ISR. The leader itself always stays.
 */
export function wantedIsr(partition: Partition, nowMs: number, lagTimeMaxMs: number, eligible: (brokerId: number, fetchedBrokerEpoch: number) => boolean = () => true): number[] | undefined {
  const { assignment, log } = partition;
  const epochStart = log.leaderEpochCache.entries.find((entry) => entry.epoch === assignment.leaderEpoch)?.startOffset ?? log.logEndOffset;
  const next: number[] = [];
  for (const replica of assignment.replicas) {
    if (replica === partition.localBrokerId) {
      next.push(replica);
      continue;
    }
    const position = partition.followers.get(replica);
    if (!position) continue;
    const inIsr = assignment.isr.includes(replica);
    const caughtUp = position.logEndOffset >= log.highWatermark && position.logEndOffset >= epochStart;
    if (inIsr ? nowMs - position.lastCaughtUpMs <= lagTimeMaxMs : caughtUp && eligible(replica, position.brokerEpoch)) next.push(replica);
  }
  const same = next.length === assignment.isr.length && next.every((replica) => assignment.isr.includes(replica));
  return same ? undefined : next;
}
