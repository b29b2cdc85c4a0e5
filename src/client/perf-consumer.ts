// The load generator behind `conveyor perf consume` and the reading half of `perf e2e`: consumers
// (one connection each, partitions split between them) fetch in a loop without a group, count
// records from batch headers only, and in end-to-end runs read each record's stamped send time.
import { performance } from 'node:perf_hooks';
import { FetchApi } from '../protocol/messages/index.js';
import { readLastOffset, readRecordsCount } from '../protocol/records/batch-header.js';
import type { Connector } from './byte-stream.js';
import { TOOL_REQUEST_TIMEOUT_MS } from './kafka-connection.js';
import { LatencyHistogram } from './latency-histogram.js';
import { forEachBatch, valueOffsets } from './perf-batches.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, listOffsets, partitionCount } from './perf-topics.js';
import { PipelinedConnection } from './pipelined-connection.js';

/** Fetch v11: the newest non-flexible version, with topic names. */
const FETCH_VERSION = 11;

export interface PerfConsumerOptions {
  /** Opens the connections (src/node's connectTcp for TCP). */
  connect: Connector;
  bootstrapServer: string;
  topic: string;
  /** Stop after this many records (all consumers together)... */
  recordCount?: number | undefined;
  /** ...or after this long; whichever comes first. */
  durationMs?: number | undefined;
  /** Start at the log start ('earliest') or at the end ('latest', end-to-end runs). */
  startAt: 'earliest' | 'latest';
  consumers: number;
  fetchMaxBytes: number;
  partitionMaxBytes: number;
  fetchMaxWaitMs: number;
  /** Read the send time stamped at the start of each value and record produce-to-consume latency. */
  measureEndToEnd?: boolean;
}

export interface PerfConsumeProgress {
  records: number;
  /** Bytes of record batches received. */
  batchBytes: number;
  elapsedMs: number;
  latency: LatencyHistogram;
}

export class PerfConsumer {
  readonly latency = new LatencyHistogram();
  private records = 0;
  private batchBytes = 0;
  private startMs = 0;
  private endMs = 0;
  private stopped = false;
  private readyResolve!: () => void;
  /** Resolves once every consumer knows its start offsets (end-to-end runs start producing then). */
  readonly ready = new Promise<void>((resolve) => {
    this.readyResolve = resolve;
  });

  /** End-to-end runs: records stamped before it (a warm-up) are counted but not timed. */
  #latencyFromMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: PerfConsumerOptions) {}

  /** End-to-end runs: from now on, only records stamped at or after `stampMs` are timed. */
  timeFrom(stampMs: number): void {
    this.#latencyFromMs = stampMs;
  }

  async run(): Promise<void> {
    const { options } = this;
    const count = Math.max(1, options.consumers);
    const connections = await Promise.all(Array.from({ length: count }, () => PipelinedConnection.open(options.connect, options.bootstrapServer)));
    try {
      const partitions = await partitionCount(connections[0]!, options.topic);
      if (partitions === 0) throw new Error(`topic ${options.topic} does not exist`);
      const all = [...Array(partitions).keys()];
      const timestamp = options.startAt === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP;
      const offsets = await listOffsets(connections[0]!, options.topic, all, timestamp);
      this.startMs = performance.now();
      this.readyResolve();
      const lanes = connections.map((connection, lane) => {
        const mine = new Map(all.filter((partition) => partition % count === lane).map((partition) => [partition, offsets.get(partition) ?? 0]));
        return mine.size > 0 ? this.runLane(connection, mine) : Promise.resolve();
      });
      await Promise.all(lanes);
    } finally {
      this.readyResolve();
      this.endMs = performance.now();
      for (const connection of connections) connection.close();
    }
  }

  stop(): void {
    this.stopped = true;
  }

  progress(): PerfConsumeProgress {
    const now = this.endMs > 0 ? this.endMs : performance.now();
    return { records: this.records, batchBytes: this.batchBytes, elapsedMs: this.startMs === 0 ? 0 : now - this.startMs, latency: this.latency };
  }

  private finished(): boolean {
    const { recordCount, durationMs } = this.options;
    if (this.stopped) return true;
    if (recordCount !== undefined && this.records >= recordCount) return true;
    return durationMs !== undefined && performance.now() - this.startMs >= durationMs;
  }

  private async runLane(connection: PipelinedConnection, offsets: Map<number, number>): Promise<void> {
    const { options } = this;
    while (!this.finished()) {
      const remainingMs = options.durationMs === undefined ? options.fetchMaxWaitMs : options.durationMs - (performance.now() - this.startMs);
      const maxWaitMs = Math.max(0, Math.min(options.fetchMaxWaitMs, Math.ceil(remainingMs)));
      const request = {
        replicaId: -1,
        maxWaitMs,
        minBytes: 1,
        maxBytes: options.fetchMaxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: options.topic,
            partitions: [...offsets].map(([partition, fetchOffset]) => ({
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: BigInt(fetchOffset),
              logStartOffset: -1n,
              partitionMaxBytes: options.partitionMaxBytes,
            })),
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      };
      // As Kafka's consumer: the long poll's wait comes on top of the request timeout.
      const response = await connection.send(FetchApi, FETCH_VERSION, request, true, TOOL_REQUEST_TIMEOUT_MS + maxWaitMs);
      const receivedMs = performance.timeOrigin + performance.now();
      for (const topic of response.responses) {
        for (const partition of topic.partitions) {
          if (partition.errorCode !== 0) throw new Error(`fetch from ${options.topic}-${partition.partitionIndex} failed: error ${partition.errorCode}`);
          if (partition.records) this.take(partition.records, partition.partitionIndex, offsets, receivedMs);
        }
      }
    }
  }

  /** Counts whole batches at or after the fetch offset and moves the partition's offset past them. */
  private take(records: Buffer, partition: number, offsets: Map<number, number>, receivedMs: number): void {
    let next = offsets.get(partition) ?? 0;
    forEachBatch(records, (position, size) => {
      const lastOffset = readLastOffset(records, position);
      if (lastOffset < next) return;
      this.records += readRecordsCount(records, position);
      this.batchBytes += size;
      if (this.options.measureEndToEnd) this.recordLatencies(records, position, receivedMs);
      next = lastOffset + 1;
    });
    offsets.set(partition, next);
  }

  private recordLatencies(records: Buffer, position: number, receivedMs: number): void {
    const fromMs = this.#latencyFromMs;
    for (const at of valueOffsets(records, position)) {
      if (at < 0 || at + 8 > records.length) continue;
      const stampedMs = records.readDoubleLE(at);
      if (stampedMs >= fromMs) this.latency.record(receivedMs - stampedMs);
    }
  }
}
