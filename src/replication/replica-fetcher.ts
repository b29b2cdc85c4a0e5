// Follower fetchers: one per leader broker, each with one Fetch in flight for every partition this
// broker follows on that leader (Kafka's ReplicaFetcherThread, without threads). A fetch carries
// the follower's log end, its last fetched epoch and the leader epoch it follows; the leader
// answers with batches, which are appended byte for byte, with its high watermark and log start,
// or with the DivergingEpoch this log must truncate to first (KIP-320). Partition errors pause
// that partition for replica.fetch.backoff.ms; the metadata image re-points it when leadership
// moves. Everything goes through the Transport port, so it runs on TCP or simulated alike.
// As a Kafka 4 follower does, it sends Fetch v17: the top-level ReplicaId is -1 and the ReplicaState
// tagged field names this broker and its current broker epoch (KIP-903: the leader records that
// incarnation with the fetch position, and refuses a fetch from an older one), and topics are named
// by topic id (KIP-516), which is how the answers are matched back: a topic deleted and re-created
// under the same name is a new Partition with a new id here, so what the leader says of the old id
// never reaches the new replica. UNKNOWN_TOPIC_ID and INCONSISTENT_TOPIC_ID (the leader's metadata
// does not have this id yet, or any more) pause the partition like any partition error, as Kafka's
// fetcher does; the image then drops or re-hosts it. A partition without a topic id (none in a
// cluster) is fetched with v12, by name, as Kafka's builder falls back when an id is missing.
// Follower-side replication throttle (KIP-73): with follower.replication.throttled.rate set on this
// broker, a partition its topic's follower.replication.throttled.replicas names (`*` or
// `partition:thisBroker`) is left out of the fetches while this replica is outside the ISR and not
// caught up, and the measured rate is above the bound; the bytes fetched for every throttled
// partition are measured.
import { ErrorCode } from '../base/error-codes.js';
import type { Clock } from '../base/clock.js';
import { ZERO_UUID } from '../base/uuid.js';
import type { Logger } from '../base/logger.js';
import { FetchApi, type FetchRequest, type FetchResponse } from '../protocol/messages/index.js';
import { BATCH_HEADER_BYTES, readLastOffset } from '../protocol/records/batch-header.js';
import { type Transport, TransportError } from '../protocol/transport.js';
import type { Partition } from './partition.js';
import type { ReplicationThrottle } from './replication-quota.js';

/** The newest Fetch the leaders serve (handlers/01-fetch.ts): topics by id, the follower in ReplicaState. */
const FETCH_VERSION = 17;
/** For partitions without a topic id: topics by name, the replica id in the top-level field. */
const FETCH_VERSION_BY_NAME = 12;
const BATCH_SIZE_OFFSET = 8;
const BATCH_LENGTH_FIELD_END = 12;

export interface ReplicaFetcherConfig {
  /** replica.fetch.wait.max.ms */
  readonly waitMaxMs: number;
  /** replica.fetch.min.bytes */
  readonly minBytes: number;
  /** replica.fetch.max.bytes (per partition) */
  readonly maxBytes: number;
  /** replica.fetch.response.max.bytes */
  readonly responseMaxBytes: number;
  /** replica.fetch.backoff.ms */
  readonly backoffMs: number;
  /** How long a fetch may take beyond its wait before it counts as failed. */
  readonly requestTimeoutMs: number;
}

export interface ReplicaFetcherOptions {
  readonly localBrokerId: number;
  /** Reaches other brokers by id on their inter-broker listener. */
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: ReplicaFetcherConfig;
  /** Whether `partition` is still hosted here as a follower (the image may have moved on). */
  readonly stillFollows: (partition: Partition) => boolean;
  /** Called after a partition appended or moved its high watermark (wakes waiting fetches). */
  readonly onProgress: (partition: Partition) => void;
  /** The follower-side replication throttle (follower.replication.throttled.rate); none: never throttled. */
  readonly throttle?: ReplicationThrottle;
  /**
   * This broker's current broker epoch (its registration's), sent in every fetch's ReplicaState;
   * -1 (or none given) before it registered, which leaders accept without the staleness check.
   */
  readonly brokerEpoch?: () => number;
}

/** Keeps one fetcher per leader broker and moves partitions between them as leadership changes. */
export class ReplicaFetcherManager {
  readonly #fetchers = new Map<number, ReplicaFetcher>();
  #closed = false;

  constructor(private readonly options: ReplicaFetcherOptions) {}

  /** (Re)points `partition` at its current leader, or stops fetching it if this broker leads it or dropped it. */
  follow(partition: Partition): void {
    for (const [leaderId, fetcher] of this.#fetchers) {
      if (fetcher.remove(partition) && fetcher.isEmpty) {
        fetcher.stop();
        this.#fetchers.delete(leaderId);
      }
    }
    if (this.#closed || partition.isLeader || !this.options.stillFollows(partition)) return;
    const leaderId = partition.assignment.leaderId;
    if (leaderId < 0) return;
    let fetcher = this.#fetchers.get(leaderId);
    if (!fetcher) {
      fetcher = new ReplicaFetcher(leaderId, this.options);
      this.#fetchers.set(leaderId, fetcher);
    }
    fetcher.add(partition);
  }

  /** Partitions being fetched, by leader id (for tools and tests). */
  get fetching(): ReadonlyMap<number, number> {
    return new Map([...this.#fetchers].map(([leaderId, fetcher]) => [leaderId, fetcher.size]));
  }

  close(): void {
    this.#closed = true;
    for (const fetcher of this.#fetchers.values()) fetcher.stop();
    this.#fetchers.clear();
  }
}

interface FetchState {
  pausedUntilMs: number;
  /** Whether the last fetch brought this replica up to the leader's high watermark (Kafka's isReplicaInSync). */
  caughtUp: boolean;
}

class ReplicaFetcher {
  readonly #partitions = new Map<Partition, FetchState>();
  #running = false;
  #stopped = false;
  #cancelWake: (() => void) | undefined;

  constructor(
    private readonly leaderId: number,
    private readonly options: ReplicaFetcherOptions,
  ) {}

  get isEmpty(): boolean {
    return this.#partitions.size === 0;
  }

  get size(): number {
    return this.#partitions.size;
  }

  add(partition: Partition): void {
    this.#partitions.set(partition, { pausedUntilMs: 0, caughtUp: false });
    this.#start();
  }

  remove(partition: Partition): boolean {
    return this.#partitions.delete(partition);
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelWake?.();
  }

  #start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    let failed = false;
    this.#loop()
      .catch((error: unknown) => {
        // A defect, not a fetch that failed: say so, and start over after a backoff rather than
        // leave the partitions unreplicated until leadership next moves.
        failed = true;
        this.options.logger.error('replica fetcher failed', { leaderId: this.leaderId, error: String(error) });
        return this.#sleep(this.options.config.backoffMs);
      })
      .finally(() => {
        this.#running = false;
        if (failed) this.#start();
      });
  }

  async #loop(): Promise<void> {
    const { clock, config } = this.options;
    while (!this.#stopped && this.#partitions.size > 0) {
      const now = clock.monotonicMs();
      const throttling = this.#throttling();
      const ready: Partition[] = [];
      // The earliest a partition left out now may be fetched: paused ones at the end of their
      // pause, throttled ones after a backoff (as Kafka's fetcher waits when it has nothing to ask).
      let next = Number.POSITIVE_INFINITY;
      for (const [partition, state] of this.#partitions) {
        if (throttling && state.pausedUntilMs <= now && this.#heldBack(partition, state)) next = Math.min(next, now + config.backoffMs);
        else if (state.pausedUntilMs <= now && this.options.stillFollows(partition)) ready.push(partition);
        else next = Math.min(next, state.pausedUntilMs);
      }
      if (ready.length === 0) {
        await this.#sleep(Math.max(1, Math.min(config.backoffMs, next - now)));
        continue;
      }
      // As Kafka's request builder: by topic id when every partition has one, else by name.
      const version = ready.every((partition) => partition.topicId !== ZERO_UUID) ? FETCH_VERSION : FETCH_VERSION_BY_NAME;
      // Where each partition's fetch starts and under which leader epoch: an answer applies only
      // while both still hold (Kafka's fetcher drops a partition's answer whose fetch state changed).
      const asked = new Map(ready.map((partition) => [partition, { fetchOffset: partition.log.logEndOffset, leaderEpoch: partition.leaderEpoch }]));
      let response: FetchResponse;
      try {
        response = await this.options.transport.send(this.leaderId, FetchApi, version, this.#request(asked), config.waitMaxMs + config.requestTimeoutMs);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        if (error.kind === 'closed') return;
        this.options.logger.debug('replica fetch failed', { leaderId: this.leaderId, kind: error.kind });
        await this.#sleep(config.backoffMs);
        continue;
      }
      if (this.#stopped) return;
      await this.#handle(asked, response, version);
    }
  }

  #request(asked: ReadonlyMap<Partition, FetchedFrom>): FetchRequest {
    const partitions = [...asked.keys()];
    const { config, localBrokerId } = this.options;
    // Grouped by topic id (and name): a topic re-created under its name while both are hosted here
    // is two topics, each with its own partitions.
    const byTopic = new Map<string, Partition[]>();
    for (const partition of partitions) {
      const key = topicKey(partition.topicId, partition.topic);
      const list = byTopic.get(key);
      if (list) list.push(partition);
      else byTopic.set(key, [partition]);
    }
    return {
      // v15+ carry the follower in ReplicaState and drop the top-level field; v12 reads this one.
      replicaId: localBrokerId,
      replicaState: { replicaId: localBrokerId, replicaEpoch: BigInt(this.options.brokerEpoch?.() ?? -1) },
      maxWaitMs: config.waitMaxMs,
      minBytes: config.minBytes,
      maxBytes: config.responseMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic.values()].map((list) => ({
        topic: list[0]!.topic,
        topicId: list[0]!.topicId,
        partitions: list.map((partition) => ({
          partition: partition.partitionIndex,
          currentLeaderEpoch: asked.get(partition)!.leaderEpoch,
          fetchOffset: BigInt(asked.get(partition)!.fetchOffset),
          lastFetchedEpoch: partition.log.leaderEpochCache.epochForOffset(partition.log.logEndOffset - 1),
          logStartOffset: BigInt(partition.log.logStartOffset),
          partitionMaxBytes: config.maxBytes,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    };
  }

  async #handle(asked: ReadonlyMap<Partition, FetchedFrom>, response: FetchResponse, version: number): Promise<void> {
    // Answers name topics the way the request did: by id from v13, by name before.
    const byId = version >= 13;
    const keyOf = (partition: Partition) => `${byId ? partition.topicId : partition.topic}\u0000${partition.partitionIndex}`;
    const byKey = new Map([...asked.keys()].map((partition) => [keyOf(partition), partition]));
    if ((response.errorCode ?? ErrorCode.NONE) !== ErrorCode.NONE) {
      for (const partition of asked.keys()) this.#pause(partition);
      return;
    }
    for (const topic of response.responses) {
      for (const data of topic.partitions) {
        const partition = byKey.get(`${(byId ? topic.topicId : topic.topic) ?? ''}\u0000${data.partitionIndex}`);
        // The image moved the partition (new epoch, new leader, deleted) while the fetch was out.
        if (!partition || !this.#partitions.has(partition) || !this.options.stillFollows(partition)) continue;
        // The log or the leader epoch moved while the fetch was out (another fetch truncated the log:
        // leadership went away and came back): this answer does not continue the log as it is now,
        // and appending it would leave a hole (a follower takes offset gaps, as compaction makes).
        const from = asked.get(partition)!;
        if (partition.log.logEndOffset !== from.fetchOffset || partition.leaderEpoch !== from.leaderEpoch) continue;
        try {
          await this.#apply(partition, data);
        } catch (error) {
          this.options.logger.warn('replica fetch could not be applied', { topic: partition.topic, partition: partition.partitionIndex, error: String(error) });
          this.#pause(partition);
        }
      }
    }
  }

  async #apply(partition: Partition, data: FetchResponse['responses'][number]['partitions'][number]): Promise<void> {
    const log = partition.log;
    if (data.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      const leaderStart = Number(data.logStartOffset ?? -1n);
      if (leaderStart > log.logEndOffset) {
        // Everything this replica holds is below the leader's log start: start over from there.
        this.options.logger.info('follower log below the leader log start, starting over', { topic: partition.topic, partition: partition.partitionIndex, leaderStart });
        await log.truncateFullyAndStartAt(leaderStart);
      } else {
        // Ahead of the leader (only after an unclean election): keep what the leader has committed.
        const leaderHighWatermark = Number(data.highWatermark);
        if (leaderHighWatermark < 0) return this.#pause(partition);
        await log.truncateTo(Math.min(log.logEndOffset, leaderHighWatermark));
      }
      this.options.onProgress(partition);
      return;
    }
    if (data.errorCode === ErrorCode.UNKNOWN_TOPIC_ID || data.errorCode === ErrorCode.INCONSISTENT_TOPIC_ID) {
      // Kafka's follower says so and backs off: the leader's metadata has not caught up with this
      // topic id, or has moved past it (deleted, re-created); the image here settles which.
      this.options.logger.warn('the leader does not know this topic id yet or any more, backing off', { topic: partition.topic, topicId: partition.topicId, partition: partition.partitionIndex, errorCode: data.errorCode });
      this.#pause(partition);
      return;
    }
    if (data.errorCode !== ErrorCode.NONE) {
      this.#pause(partition);
      return;
    }
    const diverging = data.divergingEpoch;
    if (diverging && diverging.epoch >= 0 && diverging.endOffset >= 0n) {
      const own = log.leaderEpochCache.endOffsetFor(diverging.epoch);
      // Kafka's rule: with the leader's epoch, to the earlier of both ends of it; without it, to this
      // log's own end of its largest epoch below (the next fetch finds the rest); with no epoch at
      // all, to the leader's end.
      let truncateTo: number;
      if (own.epoch === diverging.epoch) truncateTo = Math.min(Number(diverging.endOffset), own.endOffset);
      else if (own.epoch >= 0) truncateTo = Math.min(own.endOffset, log.logEndOffset);
      else truncateTo = Math.min(Number(diverging.endOffset), log.logEndOffset);
      this.options.logger.info('follower truncating to the leader log', { topic: partition.topic, partition: partition.partitionIndex, from: log.logEndOffset, to: truncateTo, epoch: diverging.epoch });
      await log.truncateTo(Math.max(truncateTo, 0));
      this.options.onProgress(partition);
      return;
    }
    const batches = wholeBatches(data.records, log.logEndOffset);
    await partition.appendAsFollower(batches, Number(data.highWatermark), Number(data.logStartOffset ?? -1n));
    const state = this.#partitions.get(partition);
    if (state) state.caughtUp = log.logEndOffset >= Number(data.highWatermark);
    const { throttle } = this.options;
    if (throttle?.active() && throttle.isThrottled(partition.topic, partition.partitionIndex)) throttle.quota.record(data.records?.length ?? 0);
    this.options.onProgress(partition);
  }

  /** Whether the follower quota is exceeded now (never without a follower rate). */
  #throttling(): boolean {
    const { throttle } = this.options;
    return throttle !== undefined && throttle.active() && throttle.quota.isExceeded();
  }

  /** Whether the throttle leaves `partition` out: throttled here, outside the ISR and behind the leader. */
  #heldBack(partition: Partition, state: FetchState): boolean {
    return !state.caughtUp && !partition.isr.includes(this.options.localBrokerId) && this.options.throttle!.isThrottled(partition.topic, partition.partitionIndex);
  }

  #pause(partition: Partition): void {
    const state = this.#partitions.get(partition);
    if (state) state.pausedUntilMs = this.options.clock.monotonicMs() + this.options.config.backoffMs;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.options.clock.schedule(ms, () => {
        this.#cancelWake = undefined;
        resolve();
      });
      this.#cancelWake = () => {
        cancel();
        this.#cancelWake = undefined;
        resolve();
      };
    });
  }
}

function topicKey(topicId: string, topic: string): string {
  return `${topicId}\u0000${topic}`;
}

/** Where a partition's fetch started and under which leader epoch. */
interface FetchedFrom {
  readonly fetchOffset: number;
  readonly leaderEpoch: number;
}

/**
 * The whole batches in a fetched records buffer from `fromOffset` on (a response may end in a
 * partial batch cut at the size limit, and may start with a batch below the fetch offset).
 */
function wholeBatches(records: Buffer | null, fromOffset: number): Buffer[] {
  const batches: Buffer[] = [];
  if (!records) return batches;
  for (let position = 0; position + BATCH_LENGTH_FIELD_END <= records.length; ) {
    const size = BATCH_LENGTH_FIELD_END + records.readInt32BE(position + BATCH_SIZE_OFFSET);
    if (size < BATCH_HEADER_BYTES || position + size > records.length) break;
    const batch = records.subarray(position, position + size);
    position += size;
    if (readLastOffset(batch) >= fromOffset) batches.push(Buffer.from(batch));
  }
  return batches;
}
