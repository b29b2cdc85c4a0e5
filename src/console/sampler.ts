// The live charts' data: every few seconds the console reads every partition's high watermark
// over the Kafka protocol (one ListOffsets per leader) and keeps, in a ring buffer, the records per
// second the cluster took in since the sample before, the busiest topics, and how long the
// ListOffsets round trip took (the cluster's answer latency as the console sees it); served by a
// broker that counts metrics, also that broker's own produce and fetch request times and bytes in
// and out. It also keeps
// the total lag of the groups someone looked at recently, for the lag-over-time chart.
import { ErrorCode } from '../base/error-codes.js';
import type { ClusterClient } from '../client/cluster-client.js';
import { hostPort } from '../client/cluster-client.js';
import { ListOffsetsApi } from '../protocol/messages/index.js';
import type { ClusterView } from './cluster-view.js';

export interface ThroughputSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** Records appended per second over the interval before this sample (all topics). */
  recordsPerSecond: number;
  /** The busiest topics of the interval: [name, records per second]. */
  topTopics: [string, number][];
  /** Milliseconds the slowest leader took to answer ListOffsets. */
  latencyMs: number;
  /** From the serving broker's own metrics (a broker with metrics.listeners), over the interval: average request times and bytes per second. */
  broker?: { produceMs: number | null; fetchMs: number | null; bytesInPerSecond: number; bytesOutPerSecond: number };
}

/** Running totals of the serving broker's metrics (Kafka's TotalTimeMs of Produce and FetchConsumer, BytesIn and BytesOut). */
export interface BrokerMetricsReading {
  produce: { sumMs: number; count: number };
  fetch: { sumMs: number; count: number };
  bytesIn: number;
  bytesOut: number;
}

export interface LagSample {
  at: number;
  lag: number;
}

/** About ten minutes at the default interval. */
const CAPACITY = 120;
/** A group's lag is sampled while someone looked at it within this long. */
const WATCH_MS = 5 * 60_000;
const MAX_WATCHED_GROUPS = 20;

/** A fixed-size ring of samples: the newest CAPACITY, oldest first when read. */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly capacity = CAPACITY) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  toArray(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

export class Sampler {
  readonly throughput = new Ring<ThroughputSample>();
  private readonly lagRings = new Map<string, { ring: Ring<LagSample>; watchedAt: number }>();
  private previous: { at: number; ends: Map<string, number>; broker: BrokerMetricsReading | undefined } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly cluster: ClusterClient,
    private readonly view: ClusterView,
    readonly intervalMs: number,
    private readonly brokerMetrics?: () => BrokerMetricsReading,
  ) {}

  start(): void {
    const tick = () => {
      if (this.running) return;
      this.running = true;
      this.sample()
        .catch(() => undefined) // A cluster that does not answer now leaves a gap in the chart.
        .finally(() => (this.running = false));
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** Marks a group as looked at (its lag is sampled from now on) and returns its lag history. */
  lagHistory(groupId: string): LagSample[] {
    let entry = this.lagRings.get(groupId);
    if (entry === undefined) {
      if (this.lagRings.size >= MAX_WATCHED_GROUPS) this.forgetOldestGroup();
      entry = { ring: new Ring<LagSample>(), watchedAt: Date.now() };
      this.lagRings.set(groupId, entry);
    }
    entry.watchedAt = Date.now();
    return entry.ring.toArray();
  }

  private forgetOldestGroup(): void {
    let oldest: string | undefined;
    for (const [groupId, entry] of this.lagRings) if (oldest === undefined || entry.watchedAt < this.lagRings.get(oldest)!.watchedAt) oldest = groupId;
    if (oldest !== undefined) this.lagRings.delete(oldest);
  }

  private async sample(): Promise<void> {
    const started = Date.now();
    const { ends, latencyMs } = await this.highWatermarks();
    const at = Date.now();
    const broker = this.brokerMetrics?.();
    if (this.previous !== undefined) {
      const seconds = Math.max(0.001, (at - this.previous.at) / 1000);
      const perTopic = new Map<string, number>();
      for (const [key, end] of ends) {
        const before = this.previous.ends.get(key);
        if (before === undefined || end < before) continue;
        const topic = key.slice(0, key.lastIndexOf(':'));
        perTopic.set(topic, (perTopic.get(topic) ?? 0) + (end - before));
      }
      const total = [...perTopic.values()].reduce((sum, count) => sum + count, 0);
      const topTopics = [...perTopic].filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([name, count]): [string, number] => [name, count / seconds]);
      const before = this.previous.broker;
      const average = (now: { sumMs: number; count: number }, then: { sumMs: number; count: number }) => (now.count > then.count ? (now.sumMs - then.sumMs) / (now.count - then.count) : null);
      const brokerSample = broker === undefined || before === undefined ? undefined : {
        produceMs: average(broker.produce, before.produce),
        fetchMs: average(broker.fetch, before.fetch),
        bytesInPerSecond: (broker.bytesIn - before.bytesIn) / seconds,
        bytesOutPerSecond: (broker.bytesOut - before.bytesOut) / seconds,
      };
      this.throughput.push({ at, recordsPerSecond: total / seconds, topTopics, latencyMs, ...(brokerSample === undefined ? {} : { broker: brokerSample }) });
    } else {
      this.throughput.push({ at, recordsPerSecond: 0, topTopics: [], latencyMs: at - started });
    }
    this.previous = { at, ends, broker };
    await this.sampleLags(at);
  }

  private async sampleLags(at: number): Promise<void> {
    for (const [groupId, entry] of [...this.lagRings]) {
      if (at - entry.watchedAt > WATCH_MS) {
        this.lagRings.delete(groupId);
        continue;
      }
      try {
        entry.ring.push({ at, lag: await this.view.totalLag(groupId) });
      } catch {
        // The group went away or the cluster did not answer: a gap.
      }
    }
  }

  /** Every partition's high watermark, as `topic:partition`, with one ListOffsets per leader. */
  private async highWatermarks(): Promise<{ ends: Map<string, number>; latencyMs: number }> {
    const metadata = await this.cluster.metadata(null);
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const topic of metadata.topics) {
      if (topic.errorCode !== ErrorCode.NONE || topic.name === null) continue;
      for (const partition of topic.partitions) {
        if (partition.leaderId < 0) continue;
        const topics = byLeader.get(partition.leaderId) ?? new Map<string, number[]>();
        byLeader.set(partition.leaderId, topics);
        topics.set(topic.name, [...(topics.get(topic.name) ?? []), partition.partitionIndex]);
      }
    }
    const ends = new Map<string, number>();
    let latencyMs = 0;
    await Promise.all([...byLeader].map(async ([leader, topics]) => {
      const broker = metadata.brokers.find((entry) => entry.nodeId === leader);
      if (broker === undefined) return;
      const started = Date.now();
      const response = await this.cluster.request(ListOffsetsApi, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...topics].map(([name, partitions]) => ({ name, partitions: partitions.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 })) })),
        timeoutMs: 10_000,
      }, { address: hostPort(broker.host, broker.port), minVersion: 1 });
      latencyMs = Math.max(latencyMs, Date.now() - started);
      for (const topic of response.topics) {
        for (const partition of topic.partitions) if (partition.errorCode === ErrorCode.NONE) ends.set(`${topic.name}:${partition.partitionIndex}`, Number(partition.offset ?? -1n));
      }
    }));
    return { ends, latencyMs };
  }
}
