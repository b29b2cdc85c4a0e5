// The leader's side of the ISR (Kafka's AlterPartition flow): a follower that has caught up with
// the high watermark (and reached the current leader epoch) is proposed for the ISR at once; an
// ISR member that has not caught up with the leader's log end for replica.lag.time.max.ms is
// proposed for removal by a periodic check. A proposal goes to the active controller with the
// partition's leader and partition epochs; the change takes effect only when the controller has
// committed it and the image hands the new ISR back (ReplicaManager.host). One proposal per
// partition is in flight at a time; a refused or failed one is tried again at the next check.
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
}

export interface IsrManagerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** replica.lag.time.max.ms */
  readonly lagTimeMaxMs: number;
  /** Sends a proposal to the active controller; resolves once answered (an error leaves the ISR as it was). */
  readonly alterPartition: (proposal: IsrProposal) => Promise<void>;
  /** The partitions this broker leads now. */
  readonly ledPartitions: () => Iterable<Partition>;
}

/** How long a leader waits after a refused or failed proposal before it proposes again in the same partition epoch. */
export const ISR_RETRY_BACKOFF_MS = 500;

export class IsrManager {
  /** Partitions with a proposal in flight, with the partition epoch it was made against. */
  readonly #inFlight = new Map<Partition, number>();
  /** Partitions whose last proposal failed: the partition epoch it was made in, and when to try again. */
  readonly #backoff = new Map<Partition, { partitionEpoch: number; untilMs: number }>();
  #cancelCheck: (() => void) | undefined;
  #stopped = false;

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
    const wanted = wantedIsr(partition, nowMs, this.options.lagTimeMaxMs);
    if (!wanted) return;
    this.#inFlight.set(partition, assignment.partitionEpoch);
    this.options.logger.info('proposing an ISR change', { topic: partition.topic, partition: partition.partitionIndex, from: assignment.isr.join(','), to: wanted.join(',') });
    this.options
      .alterPartition({ topicId: partition.topicId, topic: partition.topic, partitionIndex: partition.partitionIndex, leaderEpoch: assignment.leaderEpoch, partitionEpoch: assignment.partitionEpoch, isr: wanted })
      .catch((error: unknown) => {
        this.options.logger.warn('ISR change not made', { topic: partition.topic, partition: partition.partitionIndex, error: String(error) });
        this.#backoff.set(partition, { partitionEpoch: assignment.partitionEpoch, untilMs: this.options.clock.monotonicMs() + ISR_RETRY_BACKOFF_MS });
      })
      .finally(() => {
        if (this.#inFlight.get(partition) === assignment.partitionEpoch) this.#inFlight.delete(partition);
      });
  }
}

/**
 * The ISR the leader wants: members that fell behind for longer than `lagTimeMaxMs` leave, and
 * replicas that reached the high watermark and the current epoch's start join; undefined when
 * that is the current ISR. The leader itself always stays.
 */
export function wantedIsr(partition: Partition, nowMs: number, lagTimeMaxMs: number): number[] | undefined {
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
    if (inIsr ? nowMs - position.lastCaughtUpMs <= lagTimeMaxMs : caughtUp) next.push(replica);
  }
  const same = next.length === assignment.isr.length && next.every((replica) => assignment.isr.includes(replica));
  return same ? undefined : next;
}
