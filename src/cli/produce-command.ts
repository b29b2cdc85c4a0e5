// `conveyor produce TOPIC`: Kafka's console producer for Conveyor. Each line of stdin (or --file)
// becomes one record; with --key-separator the text before it is the key, and a key or value equal
// to --null-marker is sent as null (a value of null is a tombstone). Records go out in
// batches; a progress bar shows on a terminal when reading a file; the exit status is non-zero
// if any record failed, and the first failures are named.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { AdminClient } from '../client/admin-client.js';
import { ToolError } from '../client/cluster-client.js';
import { type ProducerRecord, Producer, checkPartition } from '../client/producer.js';
import { CompressionType } from '../protocol/records/batch-header.js';
import { type ToolOptions, collect, integerOption, print, toolOptions, withAdmin } from './output.js';

interface ProduceOptions extends ToolOptions {
  file?: string;
  keySeparator?: string;
  nullMarker?: string;
  header: string[];
  partition?: string;
  compression: string;
  acks: string;
  batchSize: string;
}

/** Failures named on stderr before the rest are only counted. */
const REPORTED_FAILURES_MAX = 5;
const BATCH_BYTES_MAX = 512 * 1024;

export function registerProduceCommand(program: Command): void {
  toolOptions(program.command('produce <topic>').description('produce lines from stdin or a file as records'))
    .option('--file <path>', 'read lines from this file instead of stdin')
    .option('--key-separator <text>', 'split each line into key and value at the first occurrence')
    .option('--null-marker <text>', 'a key or value equal to this text is sent as null (a null value is a tombstone), as Kafka\'s null.marker')
    .option('--header <key=value>', 'a header for every record (repeatable)', collect, [])
    .option('--partition <n>', 'produce to this partition (default: by key, round-robin without)')
    .option('--compression <codec>', 'none, gzip, snappy, lz4 or zstd', 'none')
    .option('--acks <acks>', "'all' (-1) or 1", 'all')
    .option('--batch-size <records>', 'records per produce request', '1000')
    .action((topic: string, options: ProduceOptions) => withAdmin(options, (admin) => produce(admin, topic, options)));
}

function compressionOf(name: string): number {
  const codec = (CompressionType as Record<string, number>)[name === 'uncompressed' ? 'none' : name];
  if (codec === undefined) throw new ToolError(`--compression must be none, gzip, snappy, lz4 or zstd, got '${name}'`);
  return codec;
}

function headersOf(options: ProduceOptions): ProducerRecord['headers'] {
  return options.header.map((text) => {
    const equals = text.indexOf('=');
    if (equals <= 0) throw new ToolError(`--header expects key=value, got '${text}'`);
    return { key: text.slice(0, equals), value: Buffer.from(text.slice(equals + 1)) };
  });
}

function recordOf(line: string, options: ProduceOptions, headers: ProducerRecord['headers'], partition: number | undefined): ProducerRecord {
  const separator = options.keySeparator;
  const at = separator ? line.indexOf(separator) : -1;
  const bytes = (text: string) => (text === options.nullMarker ? null : Buffer.from(text));
  const key = at >= 0 ? bytes(line.slice(0, at)) : null;
  const value = bytes(at >= 0 ? line.slice(at + separator!.length) : line);
  return { key, value, headers, ...(partition === undefined ? {} : { partition }) };
}

async function produce(admin: AdminClient, topicName: string, options: ProduceOptions): Promise<void> {
  const acks = options.acks === 'all' || options.acks === '-1' ? -1 : options.acks === '1' ? 1 : undefined;
  if (acks === undefined) throw new ToolError(`--acks must be 'all', -1 or 1, got '${options.acks}'`);
  const batchSize = integerOption('--batch-size', options.batchSize, 1)!;
  const headers = headersOf(options);
  const topic = await admin.describeTopic(topicName);
  const partition = integerOption('--partition', options.partition);
  checkPartition(topic, partition);
  const producer = new Producer(admin.cluster, topic, { compression: compressionOf(options.compression), acks });
  const progress = options.file && process.stderr.isTTY ? new ProgressBar(statSync(options.file).size) : undefined;
  const input = options.file ? createReadStream(options.file) : process.stdin;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const tally = { produced: 0, failed: 0, failures: [] as string[] };
  let pending: ProducerRecord[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const results = await producer.send(pending);
    for (const result of results) {
      if (result.error === null) tally.produced++;
      else {
        tally.failed++;
        if (tally.failures.length < REPORTED_FAILURES_MAX) tally.failures.push(`partition ${result.partition}: ${result.error}`);
      }
    }
    progress?.update(pendingBytes);
    pending = [];
    pendingBytes = 0;
  };
  for await (const line of lines) {
    pending.push(recordOf(line, options, headers, partition));
    pendingBytes += Buffer.byteLength(line) + 1;
    if (pending.length >= batchSize || pendingBytes >= BATCH_BYTES_MAX) await flush();
  }
  await flush();
  progress?.finish();
  for (const failure of tally.failures) process.stderr.write(`failed: ${failure}\n`);
  print(options, { topic: topicName, produced: tally.produced, failed: tally.failed }, () => `produced ${tally.produced} record(s) to ${topicName}${tally.failed > 0 ? `, ${tally.failed} failed` : ''}`);
  if (tally.failed > 0) process.exitCode = 1;
}

/** A one-line progress bar on stderr, redrawn as bytes of the file are sent. */
class ProgressBar {
  private done = 0;
  private readonly width = 30;

  constructor(private readonly total: number) {}

  update(bytes: number): void {
    this.done = Math.min(this.total, this.done + bytes);
    const fraction = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(fraction * this.width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`);
  }

  finish(): void {
    this.update(this.total);
    process.stderr.write('\n');
  }
}
