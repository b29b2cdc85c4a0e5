// What a broker counts for its metrics endpoint, in plain numbers on the hot path: requests per
// API with the time each spent queued, handled locally, waiting for other brokers and being sent
// (Kafka's RequestMetrics), and produce and fetch traffic per topic (BrokerTopicMetrics). It exists
// only while metrics are on (BrokerServices.metrics), so a broker without them pays nothing; the
// endpoint (prometheus.ts) turns these counts, and gauges it reads from the broker's state at
// scrape time, into Prometheus's text format.

/**
 * Upper bounds (ms) of the latency histograms' buckets, from a fraction of a millisecond (a
 * request answered from memory) to the 30 s of a long request timeout.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

/** A cumulative-at-export histogram: a count per bucket, the sum and the count. */
export class LatencyHistogram {
  /** One slot per bound, and a last one for values above every bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  sum = 0;
  count = 0;

  observe(valueMs: number): void {
    let index = 0;
    while (index < LATENCY_BUCKETS_MS.length && valueMs > LATENCY_BUCKETS_MS[index]!) index += 1;
    this.buckets[index]! += 1;
    this.sum += valueMs;
    this.count += 1;
  }
}

/** Kafka's request phases (RequestMetrics' *TimeMs), each a histogram per API. */
export const REQUEST_PHASES = ['TotalTimeMs', 'RequestQueueTimeMs', 'LocalTimeMs', 'RemoteTimeMs', 'ResponseSendTimeMs', 'ThrottleTimeMs'] as const;
export type RequestPhase = (typeof REQUEST_PHASES)[number];

/** One API's request counters (Kafka's request name, e.g. Produce, FetchConsumer, FetchFollower). */
export interface RequestCounters {
  /** Requests by version (index: the version; holes for versions not seen). */
  readonly byVersion: number[];
  readonly phases: Record<RequestPhase, LatencyHistogram>;
  /** Error codes in the answers, NONE (0) included (Kafka's ErrorsPerSec per request and error). */
  readonly errors: Map<number, number>;
}

/** BrokerTopicMetrics of one topic (and, under the empty name, of all topics together). */
export interface TopicCounters {
  messagesIn: number;
  bytesIn: number;
  bytesOut: number;
  replicationBytesOut: number;
  totalProduceRequests: number;
  failedProduceRequests: number;
  totalFetchRequests: number;
  failedFetchRequests: number;
}

/** The key of the all-topics counters (the topic-less series, as Kafka's broker-wide meters). */
export const ALL_TOPICS = '';

function newTopicCounters(): TopicCounters {
  return { messagesIn: 0, bytesIn: 0, bytesOut: 0, replicationBytesOut: 0, totalProduceRequests: 0, failedProduceRequests: 0, totalFetchRequests: 0, failedFetchRequests: 0 };
}

/**
 * One request's timing, from the dispatcher to its answer written (the only object metrics add
 * per request): the handler marks the time it waits for other brokers (acks=all, a fetch's long
 * poll, the rest of a rebalance), possibly for several partitions at once; the union of those
 * waits is the remote time. `answered` is called when the answer is ready, `sent` when the
 * socket took it (or at once when nothing is sent), which records every phase.
 */
export class RequestTimer {
  /** Also recorded under these counters (Kafka's FetchConsumer and FetchFollower beside Fetch). */
  alsoAs: RequestCounters | undefined;
  #remoteStartMs = -1;
  #remoteEndMs = -1;
  #waiting = 0;
  #readyMs = 0;
  #throttleMs = 0;

  constructor(
    private readonly counters: RequestCounters,
    private readonly apiVersion: number,
    /** When the frame's last byte arrived: the start of its queue time. */
    private readonly receivedAtMs: number,
    /** When the dispatcher took the frame: the end of its queue time. */
    private readonly startMs: number,
    private readonly nowMs: () => number,
  ) {}

  /** The handler starts waiting for other brokers (for one partition, or the whole request). */
  remoteStarted(): void {
    if (this.#waiting === 0 && this.#remoteStartMs < 0) this.#remoteStartMs = this.nowMs();
    this.#waiting += 1;
  }

  /** One wait started with remoteStarted is over. */
  remoteEnded(): void {
    this.#waiting -= 1;
    this.#remoteEndMs = this.nowMs();
  }

  /** The time from the first wait's start to the last one's end; 0 without one. */
  get remoteMs(): number {
    return this.#remoteStartMs < 0 || this.#remoteEndMs < this.#remoteStartMs ? 0 : this.#remoteEndMs - this.#remoteStartMs;
  }

  /** Counts the error codes of the answer (Kafka's errorCounts: every `errorCode` in it). */
  answeredWith(response: unknown): void {
    // One walk over the answer, also for the FetchConsumer / FetchFollower counters.
    if (this.alsoAs === undefined) countErrorCodes(response, this.counters.errors);
    else countErrorCodes(response, this.counters.errors, this.alsoAs.errors);
  }

  /** The answer is ready (encoded), carrying `throttleMs`. */
  answered(throttleMs: number): void {
    this.#readyMs = this.nowMs();
    this.#throttleMs = throttleMs;
  }

  /** The socket took the answer (or nothing was sent): records the request. */
  sent(): void {
    const sentMs = this.nowMs();
    const remoteMs = this.remoteMs;
    const readyMs = this.#readyMs === 0 ? sentMs : this.#readyMs;
    observeRequest(this.counters, this.apiVersion, this.receivedAtMs, this.startMs, readyMs, sentMs, remoteMs, this.#throttleMs);
    if (this.alsoAs !== undefined) observeRequest(this.alsoAs, this.apiVersion, this.receivedAtMs, this.startMs, readyMs, sentMs, remoteMs, this.#throttleMs);
  }
}

function observeRequest(counters: RequestCounters, apiVersion: number, receivedAtMs: number, startMs: number, readyMs: number, sentMs: number, remoteMs: number, throttleMs: number): void {
  counters.byVersion[apiVersion] = (counters.byVersion[apiVersion] ?? 0) + 1;
  const { phases } = counters;
  phases.TotalTimeMs.observe(sentMs - receivedAtMs);
  phases.RequestQueueTimeMs.observe(Math.max(0, startMs - receivedAtMs));
  phases.LocalTimeMs.observe(Math.max(0, readyMs - startMs - remoteMs));
  phases.RemoteTimeMs.observe(remoteMs);
  phases.ResponseSendTimeMs.observe(sentMs - readyMs);
  phases.ThrottleTimeMs.observe(throttleMs);
}

/**
 * Adds every `errorCode` field of a decoded answer to `into`, at any depth (the top-level code and
 * each topic's, partition's or group's), as Kafka's per-API errorCounts do; record bytes are not
 * looked into. An answer without any errorCode counts nothing.
 */
export function countErrorCodes(response: unknown, into: Map<number, number>, alsoInto?: Map<number, number>): void {
  if (typeof response !== 'object' || response === null || ArrayBuffer.isView(response)) return;
  if (Array.isArray(response)) {
    for (const item of response) if (typeof item === 'object' && item !== null) countErrorCodes(item, into, alsoInto);
    return;
  }
  for (const key in response) {
    const field = (response as Record<string, unknown>)[key];
    if (key === 'errorCode') {
      if (typeof field !== 'number') continue;
      into.set(field, (into.get(field) ?? 0) + 1);
      alsoInto?.set(field, (alsoInto.get(field) ?? 0) + 1);
    } else if (typeof field === 'object' && field !== null) {
      countErrorCodes(field, into, alsoInto);
    }
  }
}

/** Awaits `work` as time spent waiting for others (a rebalance's other members), when the request is timed. */
export function waitingRemotely<T>(timer: RequestTimer | undefined, work: Promise<T>): Promise<T> {
  if (timer === undefined) return work;
  timer.remoteStarted();
  return work.finally(() => timer.remoteEnded());
}

export class BrokerMetrics {
  readonly requests = new Map<string, RequestCounters>();
  readonly topics = new Map<string, TopicCounters>([[ALL_TOPICS, newTopicCounters()]]);
  /** ISR changes this broker made as a partition leader (Kafka's ReplicaManager IsrShrinksPerSec / IsrExpandsPerSec). */
  isrShrinks = 0;
  isrExpands = 0;

  /** The counters of the requests named `requestName` (created on first use; callers keep them). */
  countersFor(requestName: string): RequestCounters {
    let counters = this.requests.get(requestName);
    if (counters === undefined) {
      counters = { byVersion: [], errors: new Map(), phases: Object.fromEntries(REQUEST_PHASES.map((phase) => [phase, new LatencyHistogram()])) as Record<RequestPhase, LatencyHistogram> };
      this.requests.set(requestName, counters);
    }
    return counters;
  }

  /** A batch appended by a producer (not a follower): its records and bytes. */
  recordProduced(topic: string, bytes: number, records: number): void {
    for (const counters of this.#topicAndAll(topic)) {
      counters.totalProduceRequests += 1;
      counters.bytesIn += bytes;
      counters.messagesIn += records;
    }
  }

  /** A partition of a produce request that was refused or failed. */
  recordProduceFailed(topic: string): void {
    for (const counters of this.#topicAndAll(topic)) {
      counters.totalProduceRequests += 1;
      counters.failedProduceRequests += 1;
    }
  }

  /** A partition of a fetch answered: `bytes` of records to a consumer or, `follower`, to another broker's replica. */
  recordFetched(topic: string, bytes: number, follower: boolean, failed: boolean): void {
    for (const counters of this.#topicAndAll(topic)) {
      counters.totalFetchRequests += 1;
      if (failed) counters.failedFetchRequests += 1;
      else if (follower) counters.replicationBytesOut += bytes;
      else counters.bytesOut += bytes;
    }
  }

  /** The counters of `topic` and of all topics. */
  #topicAndAll(topic: string): [TopicCounters, TopicCounters] {
    let counters = this.topics.get(topic);
    if (counters === undefined) {
      counters = newTopicCounters();
      this.topics.set(topic, counters);
    }
    return [counters, this.topics.get(ALL_TOPICS)!];
  }

  /** Forgets the counters of topics that no longer exist (Kafka removes a deleted topic's BrokerTopicMetrics). */
  retainTopics(exists: (topic: string) => boolean): void {
    for (const topic of this.topics.keys()) if (topic !== ALL_TOPICS && !exists(topic)) this.topics.delete(topic);
  }
}
