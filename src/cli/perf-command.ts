// `conveyor perf produce|consume|e2e`: load tools in the manner of Kafka's producer, consumer and
// end-to-end latency perf tools, built on the internal client (src/client/perf-*.ts).
import type { Command } from 'commander';
import { PerfConsumer, type PerfConsumerOptions } from '../client/perf-consumer.js';
import { COMPRESSION_CODECS, PerfProducer, type PerfProducerOptions } from '../client/perf-producer.js';
import { ensureTopic } from '../client/perf-topics.js';
import { PipelinedConnection } from '../client/pipelined-connection.js';
import { connectTcp } from '../node/tcp-byte-stream.js';
import { formatReport, makeReport, type PerfReport } from './perf/perf-report.js';
import { startProgressTicker } from './perf/progress-ticker.js';
import { commandConfigOption, connectorFor } from './output.js';

interface CommonOptions {
  bootstrapServer: string;
  commandConfig?: string;
  topic: string;
  numRecords?: string;
  durationMs?: string;
  json?: boolean;
}

interface ProduceOptions extends CommonOptions {
  recordSize: string;
  throughput: string;
  acks: string;
  batchSize: string;
  lingerMs: string;
  compression: string;
  partitions?: string;
  producers: string;
  maxInFlight: string;
}

interface EndToEndOptions extends ProduceOptions, ConsumeOptions {
  warmupMs: string;
}

interface ConsumeOptions extends CommonOptions {
  consumers: string;
  fetchMaxBytes: string;
  partitionMaxBytes: string;
  fetchMaxWaitMs: string;
  from: 'earliest' | 'latest';
}

export function registerPerfCommand(program: Command): void {
  const perf = program.command('perf').description('load tools: produce, consume and end-to-end latency');
  withProduceOptions(withCommonOptions(perf.command('produce').description('produce records as fast as allowed and report throughput and latency')))
    .action((options: ProduceOptions) => runProduce(options));
  withConsumeOptions(withCommonOptions(perf.command('consume').description('consume records without a group and report throughput')))
    .action((options: ConsumeOptions) => runConsume(options));
  withConsumeOptions(withProduceOptions(withCommonOptions(perf.command('e2e').description('produce at a fixed rate and measure produce-to-consume latency'))))
    .option('--warmup-ms <ms>', 'time the records due after this much of the run only (both ends warm up their JIT first)', '0')
    .action((options: EndToEndOptions) => runEndToEnd(options));
}

function withCommonOptions(command: Command): Command {
  return commandConfigOption(command)
    .option('-b, --bootstrap-server <host:port>', 'broker address', 'localhost:9092')
    .requiredOption('-t, --topic <name>', 'topic (created when missing)')
    .option('-n, --num-records <count>', 'stop after this many records')
    .option('--duration-ms <ms>', 'stop after this long (default 10000 when no record count is given)')
    .option('--json', 'print the result as JSON');
}

function withProduceOptions(command: Command): Command {
  return command
    .option('--record-size <bytes>', 'value size of each record', '1024')
    .option('--throughput <records/s>', 'target records per second; -1 for as fast as possible', '-1')
    .option('--acks <acks>', '0, 1 or all', '1')
    .option('--batch-size <bytes>', 'records per batch, in bytes (batch.size)', '262144')
    .option('--linger-ms <ms>', 'how long a batch waits to fill (linger.ms)', '5')
    .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .option('--partitions <count>', 'partitions of the topic when it is created')
    .option('--producers <count>', 'producer connections', '1')
    .option('--max-in-flight <count>', 'requests in flight per connection', '5');
}

function withConsumeOptions(command: Command): Command {
  return command
    .option('--consumers <count>', 'consumer connections', '1')
    .option('--fetch-max-bytes <bytes>', 'fetch.max.bytes', String(50 * 1024 * 1024))
    .option('--partition-max-bytes <bytes>', 'max.partition.fetch.bytes', String(1024 * 1024))
    .option('--fetch-max-wait-ms <ms>', 'fetch.max.wait.ms', '500')
    .option('--from <where>', "'earliest' or 'latest'", 'earliest');
}

function producerOptions(options: ProduceOptions, stampSendTimes: boolean): PerfProducerOptions {
  const compression = COMPRESSION_CODECS[options.compression];
  if (compression === undefined) throw new Error(`unknown compression ${options.compression}`);
  const acks = options.acks === 'all' ? -1 : Number(options.acks);
  if (![0, 1, -1].includes(acks)) throw new Error(`--acks must be 0, 1 or all, not ${options.acks}`);
  return {
    connect: connectTcp,
    bootstrapServer: options.bootstrapServer,
    topic: options.topic,
    partitions: optionalInt(options.partitions, '--partitions'),
    recordSizeBytes: positiveInt(options.recordSize, '--record-size'),
    ...limits(options),
    throughputRecordsPerSec: Number(options.throughput),
    acks,
    batchSizeBytes: positiveInt(options.batchSize, '--batch-size'),
    lingerMs: Number(options.lingerMs),
    compression,
    producers: positiveInt(options.producers, '--producers'),
    maxInFlightPerProducer: positiveInt(options.maxInFlight, '--max-in-flight'),
    stampSendTimes,
  };
}

function consumerOptions(options: ConsumeOptions, endToEnd: boolean): PerfConsumerOptions {
  if (options.from !== 'earliest' && options.from !== 'latest') throw new Error(`--from must be earliest or latest, not ${options.from}`);
  return {
    connect: connectTcp,
    bootstrapServer: options.bootstrapServer,
    topic: options.topic,
    ...limits(options),
    startAt: endToEnd ? 'latest' : options.from,
    consumers: positiveInt(options.consumers, '--consumers'),
    fetchMaxBytes: positiveInt(options.fetchMaxBytes, '--fetch-max-bytes'),
    partitionMaxBytes: positiveInt(options.partitionMaxBytes, '--partition-max-bytes'),
    fetchMaxWaitMs: Number(options.fetchMaxWaitMs),
    measureEndToEnd: endToEnd,
  };
}

/** A record count, a duration, or both; neither means ten seconds. */
function limits(options: CommonOptions): { recordCount: number | undefined; durationMs: number | undefined } {
  const recordCount = optionalInt(options.numRecords, '--num-records');
  const durationMs = optionalInt(options.durationMs, '--duration-ms');
  return { recordCount, durationMs: recordCount === undefined && durationMs === undefined ? 10_000 : durationMs };
}

async function runProduce(options: ProduceOptions): Promise<void> {
  const producer = new PerfProducer({ ...producerOptions(options, false), connect: await connectorFor(options) });
  await withTicker(producer, () => {
    const progress = producer.progress();
    return { records: progress.records, bytes: progress.payloadBytes, elapsedMs: progress.elapsedMs };
  }, () => producer.run());
  const progress = producer.progress();
  if (producer.errorMessage) process.stderr.write(`first error: ${producer.errorMessage}\n`);
  print(options, makeReport('produce', progress.records, progress.payloadBytes, progress.elapsedMs, progress.errors, progress.latency.summary()));
}

async function runConsume(options: ConsumeOptions): Promise<void> {
  const consumer = new PerfConsumer({ ...consumerOptions(options, false), connect: await connectorFor(options) });
  await withTicker(consumer, () => {
    const progress = consumer.progress();
    return { records: progress.records, bytes: progress.batchBytes, elapsedMs: progress.elapsedMs };
  }, () => consumer.run());
  const progress = consumer.progress();
  print(options, makeReport('consume', progress.records, progress.batchBytes, progress.elapsedMs, 0, undefined));
}

/** Starts the consumer at the log end, then produces at the target rate; latency is due time to receipt. */
async function runEndToEnd(options: EndToEndOptions): Promise<void> {
  const connect = await connectorFor(options);
  const produceOptions = { ...producerOptions(options, true), connect };
  if (produceOptions.compression !== 0) throw new Error('perf e2e stamps send times into values and needs --compression none');
  const producer = new PerfProducer(produceOptions);
  const consumerSettings = { ...consumerOptions(options, true), connect };
  // The consumer waits for everything produced, bounded by the producer's run plus a grace period.
  const consumer = new PerfConsumer({ ...consumerSettings, recordCount: undefined, durationMs: undefined });
  await ensureTopicFor(produceOptions);
  const warmupMs = nonNegativeInt(options.warmupMs, '--warmup-ms');
  const consuming = consumer.run();
  await consumer.ready;
  // Stamps are performance.timeOrigin + performance.now() at each record's due time.
  consumer.timeFrom(performance.timeOrigin + performance.now() + warmupMs);
  const stopTicker = startProgressTicker(() => {
    const progress = consumer.progress();
    return { records: progress.records, bytes: progress.records * produceOptions.recordSizeBytes, elapsedMs: progress.elapsedMs };
  });
  try {
    await producer.run();
    const sent = producer.progress().records;
    const deadline = Date.now() + 10_000;
    while (consumer.progress().records < sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    consumer.stop();
    stopTicker();
  }
  await consuming;
  const produced = producer.progress();
  const received = consumer.progress();
  print(options, makeReport('e2e', received.records, received.records * produceOptions.recordSizeBytes, produced.elapsedMs, produced.errors, received.latency.summary()));
}

async function ensureTopicFor(options: PerfProducerOptions): Promise<void> {
  const connection = await PipelinedConnection.open(options.connect, options.bootstrapServer);
  try {
    await ensureTopic(connection, options.topic, options.partitions);
  } finally {
    connection.close();
  }
}

/** Runs with the progress line; Ctrl-C ends the run early and still prints the result. */
async function withTicker(runner: { stop(): void }, read: () => { records: number; bytes: number; elapsedMs: number }, run: () => Promise<void>): Promise<void> {
  const stopTicker = startProgressTicker(read);
  const onSignal = () => runner.stop();
  process.once('SIGINT', onSignal);
  try {
    await run();
  } finally {
    process.off('SIGINT', onSignal);
    stopTicker();
  }
}

function print(options: CommonOptions, report: PerfReport): void {
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatReport(report));
}

function positiveInt(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer, not ${value}`);
  return parsed;
}

function nonNegativeInt(value: string, name: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be zero or a positive integer, not ${value}`);
  return parsed;
}

function optionalInt(value: string | undefined, name: string): number | undefined {
  return value === undefined ? undefined : positiveInt(value, name);
}
