// `conveyor groups`: Kafka's kafka-consumer-groups tool for Conveyor: list groups (classic,
// KIP-848 consumer and KIP-932 share groups), describe one (members, assignments, committed offsets,
// log end offsets and lag; for a consumer group also its epochs, assignor and each member's epoch
// and target assignment, from ConsumerGroupDescribe; for a share group, as kafka-share-groups.sh,
// its epochs and members from ShareGroupDescribe and per share-partition the START-OFFSET and LAG
// from DescribeShareGroupOffsets, LAG being the records not yet acknowledged: in flight or not yet
// delivered), reset a group's offsets
// (a dry run unless --execute, as Kafka's tool) and delete groups. Talks to the broker over the
// Kafka protocol through src/client, so it works against any running broker.
import type { Command } from 'commander';
import type { KafkaConnection } from '../client/kafka-connection.js';
import { type GroupRequest, type SharePartitionOffsetView, describeGroupsAt, describeShareGroupsAt, listGroupsAt, shareGroupOffsetsAt } from '../client/consumer-groups.js';
import { commandConfigOption, withConnection } from './output.js';
import { ErrorCode, errorName } from '../base/error-codes.js';
import { ApiVersionsApi, DeleteGroupsApi, DescribeShareGroupOffsetsApi, ListOffsetsApi, MetadataApi, OffsetCommitApi, OffsetFetchApi, ShareGroupDescribeApi } from '../protocol/messages/index.js';

interface CommonOptions {
  bootstrapServer: string;
  commandConfig?: string;
  json?: boolean;
}

interface ResetOptions extends CommonOptions {
  topic: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toDatetime?: string;
  execute?: boolean;
}

const EARLIEST_TIMESTAMP = -2n;
const LATEST_TIMESTAMP = -1n;

function print(options: CommonOptions, json: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
  return rows.map((row) => row.map((cell, column) => String(cell).padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

function checked(errorCode: number, what: string): void {
  if (errorCode !== 0) throw new Error(`${what}: ${errorName(errorCode)}`);
}

async function listGroups(options: CommonOptions): Promise<void> {
  const groups = await withConnection(options, (connection) => listGroupsAt(requestOn(connection)));
  print(
    options,
    groups,
    groups.length === 0 ? '(no groups)' : table([['GROUP', 'TYPE', 'STATE', 'PROTOCOL-TYPE'], ...groups.map((group) => [group.groupId, group.type, group.state, group.protocolType])]),
  );
}

interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  host: string;
  assignment: { topic: string; partitions: number[] }[];
  /** Consumer groups only: the member's epoch and the assignment it is reconciling towards. */
  memberEpoch?: number;
  targetAssignment?: { topic: string; partitions: number[] }[];
}

interface DescribedGroup {
  type: 'classic' | 'consumer' | 'share';
  state: string;
  protocolType: string;
  protocol: string;
  members: DescribedMember[];
  /** Consumer and share groups only. */
  groupEpoch?: number;
  assignmentEpoch?: number;
  assignor?: string;
}

/** Requests on the tool's one connection, at the newest version the tool speaks. */
function requestOn(connection: KafkaConnection): GroupRequest {
  return (api, request, maxVersion) => connection.send(api, maxVersion, request);
}

/**
 * A group of either kind (src/client/consumer-groups.ts): DescribeGroups for a classic group; a
 * KIP-848 consumer group answers it GROUP_ID_NOT_FOUND (as Kafka 4), and is described with
 * ConsumerGroupDescribe instead.
 */
async function describeAnyGroup(connection: KafkaConnection, groupId: string): Promise<DescribedGroup> {
  const [group] = await describeGroupsAt(requestOn(connection), [groupId]);
  if (group === undefined) return describeShareGroup(connection, groupId);
  if (group.type === 'classic') {
    return {
      type: 'classic',
      state: group.state,
      protocolType: group.protocolType,
      protocol: group.protocol,
      members: group.members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.instanceId, clientId: member.clientId, host: member.host, assignment: member.assignment })),
    };
  }
  return {
    type: 'consumer',
    state: group.state,
    protocolType: 'consumer',
    protocol: group.assignor,
    groupEpoch: group.groupEpoch,
    assignmentEpoch: group.assignmentEpoch,
    assignor: group.assignor,
    members: group.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.instanceId,
      clientId: member.clientId,
      host: member.host,
      memberEpoch: member.memberEpoch,
      assignment: member.assignment,
      targetAssignment: member.targetAssignment,
    })),
  };
}

/**
 * Whether the broker serves `apiKey`: one it does not serve closes the connection (as Kafka's
 * brokers do), so a broker without share groups is asked first.
 */
async function serves(connection: KafkaConnection, apiKey: number): Promise<boolean> {
  const versions = await connection.send(ApiVersionsApi, 3, { clientSoftwareName: 'conveyor', clientSoftwareVersion: '0.1.0' });
  return versions.errorCode === 0 && versions.apiKeys.some((key) => key.apiKey === apiKey);
}

/** A share group (ShareGroupDescribe), asked once neither DescribeGroups nor ConsumerGroupDescribe knew the id. */
async function describeShareGroup(connection: KafkaConnection, groupId: string): Promise<DescribedGroup> {
  const [group] = (await serves(connection, ShareGroupDescribeApi.apiKey)) ? await describeShareGroupsAt(requestOn(connection), [groupId]) : [];
  if (group === undefined) throw new Error(`describing ${groupId}: ${errorName(ErrorCode.GROUP_ID_NOT_FOUND)}`);
  return {
    type: 'share',
    state: group.state,
    protocolType: 'share',
    protocol: group.assignor,
    groupEpoch: group.groupEpoch,
    assignmentEpoch: group.assignmentEpoch,
    assignor: group.assignor,
    members: group.members.map((member) => ({ memberId: member.memberId, groupInstanceId: null, clientId: member.clientId, host: member.host, memberEpoch: member.memberEpoch, assignment: member.assignment })),
  };
}

async function endOffsets(connection: KafkaConnection, partitions: { topic: string; partition: number }[], timestamp: bigint): Promise<Map<string, number>> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  const response = await connection.send(ListOffsetsApi, 2, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [...byTopic].map(([name, indexes]) => ({ name, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp, currentLeaderEpoch: -1 })) })),
  });
  const offsets = new Map<string, number>();
  for (const topic of response.topics) for (const partition of topic.partitions) offsets.set(`${topic.name}:${partition.partitionIndex}`, Number(partition.offset ?? -1n));
  return offsets;
}

const partitionsText = (assignment: { topic: string; partitions: number[] }[] | undefined) => (assignment ?? []).map(({ topic, partitions }) => `${topic}:${partitions.join(',')}`).join(' ') || '-';

/**
 * A share group as kafka-share-groups.sh --describe shows it: state and epochs, members (with
 * Kafka's column names), and per share-partition the start offset and lag. A share group commits
 * no offsets, so there is no OffsetFetch; LAG counts the records in flight or not yet delivered.
 */
async function describeShare(connection: KafkaConnection, groupId: string, group: DescribedGroup, options: CommonOptions): Promise<void> {
  let offsets: SharePartitionOffsetView[] = [];
  let offsetsError: string | null = null;
  // A broker without DescribeShareGroupOffsets still describes the group and its members.
  if (!(await serves(connection, DescribeShareGroupOffsetsApi.apiKey))) offsetsError = 'the broker does not serve DescribeShareGroupOffsets';
  else {
    try {
      offsets = await shareGroupOffsetsAt(requestOn(connection), groupId);
    } catch (error) {
      offsetsError = error instanceof Error ? error.message : String(error);
    }
  }
  const heading = `GROUP ${groupId}  TYPE share  STATE ${group.state}  GROUP-EPOCH ${group.groupEpoch}  ASSIGNMENT-EPOCH ${group.assignmentEpoch}  ASSIGNOR ${group.assignor}  MEMBERS ${group.members.length}`;
  const offsetRows = offsets.map((row) => [row.topic, row.partition, row.startOffset ?? '-', row.lag ?? '-', row.error ?? '']);
  const offsetsText =
    offsetsError !== null
      ? `(share-partition offsets unavailable: ${offsetsError})`
      : offsetRows.length === 0
        ? '(no share-partition offsets yet)'
        : table([['TOPIC', 'PARTITION', 'START-OFFSET', 'LAG', ...(offsets.some((row) => row.error !== null) ? ['ERROR'] : [])], ...offsetRows]);
  const memberRows = group.members.map((member) => [member.memberId, member.host, member.clientId, member.assignment.reduce((sum, { partitions }) => sum + partitions.length, 0), member.memberEpoch ?? '-', partitionsText(member.assignment)]);
  const text = [heading, offsetsText, ...(memberRows.length > 0 ? ['', table([['CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'MEMBER-EPOCH', 'ASSIGNMENT'], ...memberRows])] : [])].join('\n');
  print(options, { groupId, ...group, offsets, ...(offsetsError !== null ? { offsetsError } : {}) }, text);
}

async function describeGroup(groupId: string, options: CommonOptions): Promise<void> {
  let shown = false;
  const described = await withConnection(options, async (connection) => {
    const group = await describeAnyGroup(connection, groupId);
    if (group.type === 'share') {
      await describeShare(connection, groupId, group, options);
      shown = true;
      return undefined;
    }
    const fetched = await connection.send(OffsetFetchApi, 7, { groupId, topics: null, requireStable: false });
    checked(fetched.errorCode ?? 0, `fetching offsets of ${groupId}`);
    const owners = new Map<string, DescribedMember>();
    for (const member of group.members) {
      for (const { topic, partitions } of member.assignment) for (const partition of partitions) owners.set(`${topic}:${partition}`, member);
    }
    const committed = new Map<string, number>();
    for (const topic of fetched.topics ?? []) for (const partition of topic.partitions) committed.set(`${topic.name}:${partition.partitionIndex}`, Number(partition.committedOffset));
    const keys = [...new Set([...committed.keys(), ...owners.keys()])].sort();
    const partitions = keys.map((key) => ({ topic: key.slice(0, key.lastIndexOf(':')), partition: Number(key.slice(key.lastIndexOf(':') + 1)) }));
    const logEnd = partitions.length > 0 ? await endOffsets(connection, partitions, LATEST_TIMESTAMP) : new Map<string, number>();
    return {
      groupId,
      ...group,
      offsets: partitions.map(({ topic, partition }) => {
        const key = `${topic}:${partition}`;
        const current = committed.get(key) ?? -1;
        const end = logEnd.get(key) ?? -1;
        const owner = owners.get(key);
        return { topic, partition, currentOffset: current, logEndOffset: end, lag: current >= 0 && end >= 0 ? end - current : null, memberId: owner?.memberId ?? null, host: owner?.host ?? null, clientId: owner?.clientId ?? null };
      }),
    };
  });
  if (shown || described === undefined) return;
  const rows = described.offsets.map((row) => [row.topic, row.partition, row.currentOffset < 0 ? '-' : row.currentOffset, row.logEndOffset, row.lag ?? '-', row.memberId ?? '-', row.host ?? '-', row.clientId ?? '-']);
  const heading =
    described.type === 'consumer'
      ? `GROUP ${described.groupId}  TYPE consumer  STATE ${described.state}  GROUP-EPOCH ${described.groupEpoch}  ASSIGNMENT-EPOCH ${described.assignmentEpoch}  ASSIGNOR ${described.assignor}  MEMBERS ${described.members.length}`
      : `GROUP ${described.groupId}  STATE ${described.state}  PROTOCOL ${described.protocol || '-'}  MEMBERS ${described.members.length}`;
  const memberRows = described.members.map((member) => [member.memberId, member.memberEpoch ?? '-', member.groupInstanceId ?? '-', member.clientId, member.host, partitionsText(member.assignment), partitionsText(member.targetAssignment)]);
  const text = [
    heading,
    rows.length === 0 ? '(no committed offsets or assignments)' : table([['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], ...rows]),
    ...(described.type === 'consumer' && memberRows.length > 0 ? ['', table([['MEMBER-ID', 'EPOCH', 'INSTANCE-ID', 'CLIENT-ID', 'HOST', 'ASSIGNMENT', 'TARGET-ASSIGNMENT'], ...memberRows])] : []),
  ].join('\n');
  print(options, described, text);
}

function resetTimestamp(options: ResetOptions): bigint | undefined {
  const chosen = [options.toEarliest, options.toLatest, options.toOffset !== undefined, options.toDatetime !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new Error('give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime');
  if (options.toEarliest) return EARLIEST_TIMESTAMP;
  if (options.toLatest) return LATEST_TIMESTAMP;
  if (options.toDatetime !== undefined) {
    const ms = Date.parse(options.toDatetime);
    if (Number.isNaN(ms)) throw new Error(`--to-datetime: not an ISO date-time: ${options.toDatetime}`);
    return BigInt(ms);
  }
  return undefined;
}

async function resetOffsets(groupId: string, options: ResetOptions): Promise<void> {
  const timestamp = resetTimestamp(options);
  const plan = await withConnection(options, async (connection) => {
    const group = await describeAnyGroup(connection, groupId);
    // Kafka resets a share group's start offsets with kafka-share-groups.sh (AlterShareGroupOffsets), not by committing.
    if (group.type === 'share') throw new Error(`group ${groupId} is a share group: it has no committed offsets to reset`);
    if (group.state !== 'Empty' && group.state !== 'Dead') throw new Error(`group ${groupId} is ${group.state}: stop its consumers before resetting offsets`);
    const metadata = await connection.send(MetadataApi, 1, { topics: [{ name: options.topic }] });
    const topic = metadata.topics.find((candidate) => candidate.name === options.topic);
    if (!topic || topic.errorCode !== 0) throw new Error(`topic ${options.topic}: ${errorName(topic?.errorCode ?? 3)}`);
    const partitions = topic.partitions.map((partition) => ({ topic: options.topic, partition: partition.partitionIndex })).sort((a, b) => a.partition - b.partition);
    const targets = timestamp === undefined ? null : await endOffsets(connection, partitions, timestamp);
    // A date-time after the last record has no offset: Kafka's tool then uses the log end.
    const latest = timestamp !== undefined && timestamp >= 0n ? await endOffsets(connection, partitions, LATEST_TIMESTAMP) : null;
    const planned = partitions.map(({ topic: name, partition }) => {
      const key = `${name}:${partition}`;
      const found = targets?.get(key) ?? -1;
      const offset = targets === null ? Number(options.toOffset) : found >= 0 ? found : (latest?.get(key) ?? found);
      return { topic: name, partition, newOffset: offset };
    });
    if (options.execute) {
      const response = await connection.send(OffsetCommitApi, 7, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: options.topic, partitions: planned.map(({ partition, newOffset }) => ({ partitionIndex: partition, committedOffset: BigInt(newOffset), committedLeaderEpoch: -1, committedMetadata: '' })) }],
      });
      for (const partition of response.topics[0]?.partitions ?? []) checked(partition.errorCode, `committing ${options.topic}-${partition.partitionIndex}`);
    }
    return planned;
  });
  const header = options.execute ? `reset offsets of group ${groupId}` : `dry run (add --execute to apply) for group ${groupId}`;
  print(options, { groupId, executed: Boolean(options.execute), offsets: plan }, `${header}\n${table([['TOPIC', 'PARTITION', 'NEW-OFFSET'], ...plan.map((row) => [row.topic, row.partition, row.newOffset])])}`);
}

async function deleteGroups(groupIds: string[], options: CommonOptions): Promise<void> {
  const response = await withConnection(options, (connection) => connection.send(DeleteGroupsApi, 2, { groupsNames: groupIds }));
  const results = response.results.map((result) => ({ groupId: result.groupId, error: result.errorCode === 0 ? null : errorName(result.errorCode) }));
  print(options, results, results.map((result) => `${result.groupId}: ${result.error ?? 'deleted'}`).join('\n'));
  if (results.some((result) => result.error !== null)) process.exitCode = 1;
}

export function registerGroupsCommand(program: Command): void {
  const groups = program.command('groups').description('list, describe, reset offsets of and delete consumer and share groups');
  const common = (command: Command) => commandConfigOption(command.option('--bootstrap-server <host:port>', 'a broker to talk to', 'localhost:9092')).option('--json', 'print JSON');
  common(groups.command('list').description('list the groups (classic, consumer and share)')).action((options: CommonOptions) => listGroups(options));
  common(groups.command('describe <group>').description('members, assignments, committed offsets and lag of a group; for a share group START-OFFSET and LAG per partition (LAG: records not yet acknowledged, in flight or not yet delivered)')).action((groupId: string, options: CommonOptions) => describeGroup(groupId, options));
  common(
    groups
      .command('reset-offsets <group>')
      .description("reset a group's committed offsets for a topic (dry run unless --execute)")
      .requiredOption('--topic <topic>', 'the topic whose offsets to reset')
      .option('--to-earliest', 'to the log start offset')
      .option('--to-latest', 'to the log end offset')
      .option('--to-offset <offset>', 'to this offset')
      .option('--to-datetime <iso>', 'to the first offset at or after this time')
      .option('--execute', 'apply the reset (without it, only show the plan)'),
  ).action((groupId: string, options: ResetOptions) => resetOffsets(groupId, options));
  common(groups.command('delete <groups...>').description('delete empty groups with their offsets')).action((groupIds: string[], options: CommonOptions) => deleteGroups(groupIds, options));
}
