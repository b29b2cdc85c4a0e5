// `conveyor consume TOPIC`: Kafka's console consumer for Conveyor. Reads from the latest offset by
// default, or --from-beginning, --offset N|earliest|latest, or --from-time; one --partition or all;
// with --group as a group member (committed offsets, commits on exit). Prints each value, a
// --format template ({key} {value} {headers} {offset} {partition} {timestamp}) or JSON lines.
// Stops after --max-messages, after --timeout-ms without records, or on Ctrl-C.
import type { Command } from 'commander';
import { type AdminClient, OffsetSpec, type TopicInfo } from '../client/admin-client.js';
import { ToolError } from '../client/cluster-client.js';
import { type ConsumedRecord, Consumer } from '../client/consumer.js';
import { GroupMember } from '../client/group-member.js';
import { checkPartition } from '../client/producer.js';
import { ApiKey } from '../protocol/messages/index.js';
import { type ToolOptions, integerOption, toolOptions, withAdmin } from './output.js';

interface ConsumeOptions extends ToolOptions {
  fromBeginning?: boolean;
  offset?: string;
  fromTime?: string;
  partition?: string;
  group?: string;
  maxMessages?: string;
  timeoutMs?: string;
  format?: string;
}

const POLL_WAIT_MS = 500;

export function registerConsumeCommand(program: Command): void {
  toolOptions(program.command('consume <topic>').description('print records of a topic'))
    .option('--from-beginning', 'start at the earliest offset instead of the latest')
    .option('--offset <offset>', "start offset: a number, 'earliest' or 'latest' (with --partition for a number)")
    .option('--from-time <time>', 'start at the first record at or after this time (ISO 8601 or epoch ms)')
    .option('--partition <n>', 'read only this partition')
    .option('--group <id>', 'consume as a member of this consumer group, committing offsets')
    .option('--max-messages <n>', 'stop after this many records')
    .option('--timeout-ms <ms>', 'stop when no record arrives for this long')
    .option('--format <template>', 'output template with {key} {value} {headers} {offset} {partition} {timestamp}')
    .action((topic: string, options: ConsumeOptions) => withAdmin(options, (admin) => consume(admin, topic, options)));
}

function timeOf(text: string): number {
  const time = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(time)) throw new ToolError(`--from-time must be ISO 8601 or epoch milliseconds, got '${text}'`);
  return time;
}

/** Where each partition starts when no group offset decides it. */
async function startOffsets(admin: AdminClient, topic: TopicInfo, options: ConsumeOptions, partitions: number[]): Promise<Map<number, number>> {
  const wanted = { ...topic, partitions: topic.partitions.filter((info) => partitions.includes(info.partition)) };
  if (options.offset !== undefined && /^\d+$/.test(options.offset)) {
    if (options.partition === undefined) throw new ToolError('--offset N needs --partition: offsets belong to one partition');
    return new Map([[partitions[0]!, Number(options.offset)]]);
  }
  if (options.offset !== undefined && options.offset !== 'earliest' && options.offset !== 'latest') throw new ToolError(`--offset must be a number, 'earliest' or 'latest', got '${options.offset}'`);
  if (options.fromTime !== undefined) {
    const byTime = await admin.listOffsets(wanted, timeOf(options.fromTime));
    const latest = await admin.listOffsets(wanted, OffsetSpec.latest);
    return new Map(partitions.map((partition) => [partition, (byTime.get(partition) ?? -1) >= 0 ? byTime.get(partition)! : latest.get(partition)!]));
  }
  const earliest = options.fromBeginning || options.offset === 'earliest';
  return admin.listOffsets(wanted, earliest ? OffsetSpec.earliest : OffsetSpec.latest);
}

async function consume(admin: AdminClient, topicName: string, options: ConsumeOptions): Promise<void> {
  const maxMessages = integerOption('--max-messages', options.maxMessages, 1) ?? Number.POSITIVE_INFINITY;
  const timeoutMs = integerOption('--timeout-ms', options.timeoutMs, 1) ?? Number.POSITIVE_INFINITY;
  const topic = await admin.describeTopic(topicName);
  const partition = integerOption('--partition', options.partition);
  checkPartition(topic, partition);
  let member: GroupMember | undefined;
  let partitions = partition === undefined ? topic.partitions.map((info) => info.partition) : [partition];
  let positions: Map<number, number>;
  if (options.group !== undefined) {
    if (partition !== undefined) throw new ToolError('--group and --partition do not mix: the group assigns partitions');
    if ((await admin.cluster.versionOf(ApiKey.FindCoordinator)) < 0) {
      throw new ToolError('this broker has no group coordinator yet (it does not serve FindCoordinator): consume without --group');
    }
    member = new GroupMember(admin.cluster, options.group, new Map([[topic.name, topic.partitions.length]]));
    partitions = (await member.join()).get(topic.name) ?? [];
    positions = await groupPositions(admin, member, topic, options, partitions);
  } else {
    positions = await startOffsets(admin, topic, options, partitions);
  }
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const consumed = new Map<number, number>();
  let count = 0;
  let lastRecordAt = Date.now();
  let consumer = new Consumer(admin.cluster, topic, positions);
  try {
    while (!stopping && count < maxMessages && Date.now() - lastRecordAt < timeoutMs) {
      if (member?.rebalanceNeeded) {
        await member.commit(new Map([[topic.name, consumed]]));
        partitions = (await member.join()).get(topic.name) ?? [];
        consumer = new Consumer(admin.cluster, topic, await groupPositions(admin, member, topic, options, partitions));
      }
      const waitMs = Math.max(0, Math.min(POLL_WAIT_MS, timeoutMs - (Date.now() - lastRecordAt)));
      const records = await consumer.poll(waitMs);
      if (records.length > 0) lastRecordAt = Date.now();
      for (const record of records) {
        if (count >= maxMessages) break;
        process.stdout.write(`${formatRecord(record, options)}\n`);
        consumed.set(record.partition, record.offset + 1);
        count++;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (member) {
      await member.commit(new Map([[topic.name, consumed]]));
      await member.leave();
    }
  }
  process.stderr.write(`consumed ${count} record(s)\n`);
}

async function groupPositions(admin: AdminClient, member: GroupMember, topic: TopicInfo, options: ConsumeOptions, partitions: number[]): Promise<Map<number, number>> {
  const committed = (await member.committed(new Map([[topic.name, partitions]]))).get(topic.name) ?? new Map<number, number>();
  const missing = partitions.filter((partition) => !committed.has(partition));
  const fallback = missing.length > 0 ? await startOffsets(admin, topic, options, missing) : new Map<number, number>();
  return new Map(partitions.map((partition) => [partition, committed.get(partition) ?? fallback.get(partition)!]));
}

function text(buffer: Buffer | null): string {
  return buffer === null ? 'null' : buffer.toString('utf8');
}

function formatRecord(record: ConsumedRecord, options: ConsumeOptions): string {
  const headers = record.headers.map((header) => `${header.key}=${text(header.value)}`).join(',');
  if (options.json) {
    return JSON.stringify({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key === null ? null : text(record.key),
      value: record.value === null ? null : text(record.value),
      headers: Object.fromEntries(record.headers.map((header) => [header.key, header.value === null ? null : text(header.value)])),
    });
  }
  if (options.format === undefined) return text(record.value);
  const fields: Record<string, string> = {
    key: text(record.key),
    value: text(record.value),
    headers,
    offset: String(record.offset),
    partition: String(record.partition),
    timestamp: String(record.timestamp),
    topic: record.topic,
  };
  return options.format.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole).replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}
