// The load generator behind `conveyor perf produce` and `perf e2e`: producers (one connection
// each) fill batches of identical records, sticky to one partition at a time as Kafka's default
// partitioner does, send them with bounded pipelining, and record each record's latency from the
// moment it was due (its place in the target rate) to its acknowledgement.
import { performance } from 'node:perf_hooks';
import { CompressionType } from '../protocol/records/batch-header.js';
import { ProduceApi } from '../protocol/messages/index.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { Connector } from './byte-stream.js';
import { BatchFactory, makePayload } from './perf-batches.js';
import { PipelinedConnection } from './pipelined-connection.js';
import { ensureTopic } from './perf-topics.js';

/** Produce v8: the newest non-flexible version, which every Conveyor build serves. */
const PRODUCE_VERSION = 8;
const PRODUCE_TIMEOUT_MS = 30_000;

export interface PerfProducerOptions {
  /** Opens the connections (src/node's connectTcp for TCP). */
  connect: Connector;
  bootstrapServer: string;
  topic: string;
  /** Partitions to create when the topic is missing. */
  partitions?: number | undefined;
  recordSizeBytes: number;
  /** Stop after this many records (all producers together)... */
  recordCount?: number | undefined;
  /** ...or after this long; whichever comes first. */
  durationMs?: number | undefined;
  /** Records per second over all producers; 0 or less means as fast as possible. */
  throughputRecordsPerSec: number;
  acks: number;
  batchSizeBytes: number;
  lingerMs: number;
  compression: number;
  producers: number;
  maxInFlightPerProducer: number;
  /** End-to-end runs: each record's value starts with its due time (performance.now() + timeOrigin). */
  stampSendTimes?: boolean;
}

export interface PerfProgress {
  records: number;
  payloadBytes: number;
  elapsedMs: number;
  errors: number;
  latency: LatencyHistogram;
}

interface OpenBatch {
  partition: number;
  count: number;
  /** Due time of the first record and the spacing of the rest (0 when unthrottled). */
  firstDueMs: number;
  intervalMs: number;
}

export class PerfProducer {
  readonly latency = new LatencyHistogram();
  private acked = 0;
  private errors = 0;
  private firstError: string | undefined;
  private startMs = 0;
  private endMs = 0;
  private stopped = false;

  constructor(private readonly options: PerfProducerOptions) {}

  /** Runs to the record count or duration; resolves once every sent batch is acknowledged. */
  async run(): Promise<void> {
    const { options } = this;
    const admin = await PipelinedConnection.open(options.connect, options.bootstrapServer);
    const partitionCount = await ensureTopic(admin, options.topic, options.partitions).finally(() => admin.close());
    const lanes = Array.from({ length: Math.max(1, options.producers) }, (_unused, lane) =>
      [...Array(partitionCount).keys()].filter((partition) => partition % Math.max(1, options.producers) === lane),
    ).filter((partitions) => partitions.length > 0);
    const connections = await Promise.all(lanes.map(() => PipelinedConnection.open(options.connect, options.bootstrapServer)));
    this.startMs = performance.now();
    try {
      await Promise.all(lanes.map((partitions, index) => this.runLane(connections[index]!, partitions, lanes.length)));
    } finally {
      this.endMs = performance.now();
      for (const connection of connections) connection.close();
    }
    if (this.acked === 0 && this.firstError !== undefined) throw new Error(this.firstError);
  }

  /** Ends the run early (Ctrl-C): no new records, in-flight ones still count. */
  stop(): void {
    this.stopped = true;
  }

  progress(): PerfProgress {
    const now = this.endMs > 0 ? this.endMs : performance.now();
    return {
      records: this.acked,
      payloadBytes: this.acked * this.options.recordSizeBytes,
      elapsedMs: this.startMs === 0 ? 0 : now - this.startMs,
      errors: this.errors,
      latency: this.latency,
    };
  }

  get errorMessage(): string | undefined {
    return this.firstError;
  }

  private async runLane(connection: PipelinedConnection, partitions: number[], laneCount: number): Promise<void> {
    const { options } = this;
    const factory = new BatchFactory(makePayload(options.recordSizeBytes), options.compression);
    const perBatch = factory.recordsPerBatch(options.batchSizeBytes);
    const laneRecords = options.recordCount === undefined ? Number.POSITIVE_INFINITY : Math.ceil(options.recordCount / laneCount);
    const ratePerMs = options.throughputRecordsPerSec > 0 ? options.throughputRecordsPerSec / laneCount / 1000 : 0;
    const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : this.startMs + options.durationMs;
    const laneStartMs = this.startMs;
    const inFlight = new Set<Promise<void>>();
    let created = 0;
    let partitionCursor = 0;
    let open: OpenBatch | undefined;

    const send = (batch: OpenBatch) => {
      const promise = this.sendBatch(connection, factory, batch).finally(() => inFlight.delete(promise));
      inFlight.add(promise);
      partitionCursor = (partitionCursor + 1) % partitions.length;
    };

    for (;;) {
      const now = performance.now();
      const finished = this.stopped || now >= deadline || created >= laneRecords;
      const due = finished ? created : ratePerMs > 0 ? Math.min(laneRecords, Math.floor((now - this.startMs) * ratePerMs)) : laneRecords;
      while (created < due && inFlight.size < options.maxInFlightPerProducer) {
        if (open === undefined) open = { partition: partitions[partitionCursor]!, count: 0, firstDueMs: dueTime(created, now), intervalMs: ratePerMs > 0 ? 1 / ratePerMs : 0 };
        const take = Math.min(due - created, perBatch - open.count);
        open.count += take;
        created += take;
        if (open.count >= perBatch) {
          send(open);
          open = undefined;
        }
      }
      const lingered = open !== undefined && (finished || now - open.firstDueMs >= options.lingerMs);
      if (open !== undefined && lingered && inFlight.size < options.maxInFlightPerProducer) {
        send(open);
        open = undefined;
      }
      if (finished && open === undefined) break;
      await this.waitForWork(inFlight, options, open, ratePerMs, created);
    }
    await Promise.all(inFlight);

    function dueTime(index: number, now: number): number {
      return ratePerMs > 0 ? Math.min(now, laneStartMs + index / ratePerMs) : now;
    }
  }

  /** Sleeps until a response frees a slot, the next record is due, or the open batch's linger ends. */
  private async waitForWork(inFlight: Set<Promise<void>>, options: PerfProducerOptions, open: OpenBatch | undefined, ratePerMs: number, created: number): Promise<void> {
    const slotFree = inFlight.size < options.maxInFlightPerProducer;
    if (!slotFree || (ratePerMs === 0 && open === undefined)) {
      if (inFlight.size > 0) await Promise.race(inFlight);
      return;
    }
    const now = performance.now();
    let wakeAt = ratePerMs > 0 ? this.startMs + (created + 1) / ratePerMs : now;
    if (open !== undefined) wakeAt = Math.min(wakeAt, open.firstDueMs + options.lingerMs);
    // Something already due runs at once; otherwise node's timers wake us with 1 ms granularity.
    const delayMs = wakeAt - now;
    await new Promise<void>((resolve) => {
      if (delayMs <= 0) setImmediate(resolve);
      else setTimeout(resolve, Math.max(1, delayMs));
    });
  }

  private async sendBatch(connection: PipelinedConnection, factory: BatchFactory, open: OpenBatch): Promise<void> {
    const sendTimes = this.options.stampSendTimes ? dueTimes(open) : undefined;
    const batch = factory.build(open.count, Date.now(), sendTimes);
    const request = {
      transactionalId: null,
      acks: this.options.acks,
      timeoutMs: PRODUCE_TIMEOUT_MS,
      topicData: [{ name: this.options.topic, partitionData: [{ index: open.partition, records: batch }] }],
    };
    try {
      const response = await connection.send(ProduceApi, PRODUCE_VERSION, request, this.options.acks !== 0);
      // Answered (or, with acks=0, written): the socket is done with the batch. After a failure it
      // may not be, so the batch is then left to the garbage collector.
      factory.release(batch);
      const errorCode = response?.responses[0]?.partitionResponses[0]?.errorCode ?? 0;
      if (errorCode !== 0) return this.fail(open, `produce to ${this.options.topic}-${open.partition} failed: error ${errorCode}`);
    } catch (error) {
      return this.fail(open, error instanceof Error ? error.message : String(error));
    }
    this.recordAck(open, performance.now());
  }

  private recordAck(open: OpenBatch, ackMs: number): void {
    this.acked += open.count;
    if (open.intervalMs === 0) {
      this.latency.record(ackMs - open.firstDueMs, open.count);
      return;
    }
    for (let index = 0; index < open.count; index++) this.latency.record(ackMs - (open.firstDueMs + index * open.intervalMs));
  }

  private fail(open: OpenBatch, message: string): void {
    this.errors += open.count;
    this.firstError ??= message;
  }
}

/** Wall-clock due times (performance.timeOrigin based) so another process could compare them too. */
function dueTimes(open: OpenBatch): Float64Array {
  const times = new Float64Array(open.count);
  for (let index = 0; index < open.count; index++) times[index] = performance.timeOrigin + open.firstDueMs + index * open.intervalMs;
  return times;
}

export const COMPRESSION_CODECS: Record<string, number> = {
  none: CompressionType.none,
  gzip: CompressionType.gzip,
  snappy: CompressionType.snappy,
  lz4: CompressionType.lz4,
  zstd: CompressionType.zstd,
};
