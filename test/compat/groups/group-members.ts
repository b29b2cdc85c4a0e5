// Runs consumer-group members of real clients as child processes (so one can be killed without
// leaving) and follows what they report: assignments, records processed and committed, errors.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Admin } from 'kafkajs';
import { fileURLToPath } from 'node:url';
import { KafkaConnection } from '../../../src/client/kafka-connection.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { ConsumerGroupDescribeApi, type ConsumerGroupDescribeResponse } from '../../../src/protocol/messages/index.js';
import type { TestBroker } from '../../support/broker.js';
import { PYTHON } from '../../support/process.js';
import { waitFor } from '../../support/wait.js';

export type MemberClient = 'kafkajs' | 'platformatic' | 'kafka-python' | 'confluent' | 'platformatic-consumer' | 'librdkafka-consumer' | 'librdkafka-classic';

/** The members speaking KIP-848's consumer protocol (ConsumerGroupHeartbeat): their session timeout is the broker's. */
export const CONSUMER_PROTOCOL_CLIENTS: readonly MemberClient[] = ['platformatic-consumer', 'librdkafka-consumer'];

export interface MemberOptions {
  bootstrapServers: string;
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  /** Assignor names for the Python clients and librdkafka (kafkajs always offers RoundRobinAssigner). */
  assignors?: string;
  /** group.instance.id (static membership), for platformatic and librdkafka members. */
  instanceId?: string;
}

/** One change of a member's partitions, with the wall-clock time the member reported it took effect (consumer protocol members). */
export interface AssignmentChange {
  partitions: number[];
  at?: number;
}

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export class GroupMember {
  readonly assignments: number[][] = [];
  /** The same changes as `assignments`, with their times where the member reports them. */
  readonly assignmentChanges: AssignmentChange[] = [];
  readonly errors: string[] = [];
  /** The same errors with the wall-clock time each was read from the member. */
  readonly errorLog: { at: number; error: string }[] = [];
  /** partition -> offsets this member processed (each batch is reported before its offsets are committed). */
  readonly committed = new Map<number, Set<number>>();
  /** Every record this member processed, in order, repeats included. */
  readonly processed: [number, number][] = [];
  /** partition -> offsets whose commit the member saw acknowledged (members that report it). */
  readonly acknowledged = new Map<number, Set<number>>();
  /** topic -> partitions, after every change (members subscribed to a regex report it). */
  readonly topicAssignments: Record<string, number[]>[] = [];
  /** topic -> 'partition:offset' of every record processed (members subscribed to a regex report the topic). */
  readonly recordsByTopic = new Map<string, Set<string>>();
  /** When the member stopped processing on its way out (wall clock, members that report it). */
  stoppedAt: number | undefined;
  /** When the test killed the member (wall clock). */
  killedAt: number | undefined;
  readonly exited: Promise<void>;
  private stderr = '';
  private alive = true;

  private constructor(
    readonly client: MemberClient,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.exited = new Promise((resolve) =>
      child.on('exit', () => {
        this.alive = false;
        resolve();
      }),
    );
  }

  static start(client: MemberClient, options: MemberOptions): GroupMember {
    return new GroupMember(client, spawnMember(client, options));
  }

  private onLine(line: string): void {
    let event: { event: string; partitions?: number[]; topics?: Record<string, number[]>; records?: [number, number, string?][]; error?: string; at?: number };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.event === 'assigned') {
      this.assignments.push(event.partitions ?? []);
      this.assignmentChanges.push({ partitions: event.partitions ?? [], ...(event.at === undefined ? {} : { at: event.at }) });
      if (event.topics !== undefined) this.topicAssignments.push(event.topics);
    }
    if (event.event === 'error') {
      this.errors.push(event.error ?? '');
      this.errorLog.push({ at: Date.now(), error: event.error ?? '' });
    }
    if (event.event === 'stopped') this.stoppedAt = event.at;
    if (event.event === 'committed') {
      for (const [partition, offset] of event.records ?? []) addOffset(this.acknowledged, partition, offset);
      return;
    }
    for (const [partition, offset, topic] of event.records ?? []) {
      addOffset(this.committed, partition, offset);
      this.processed.push([partition, offset]);
      if (topic !== undefined) {
        let records = this.recordsByTopic.get(topic);
        if (!records) this.recordsByTopic.set(topic, (records = new Set()));
        records.add(`${partition}:${offset}`);
      }
    }
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get currentAssignment(): number[] | undefined {
    return this.assignments.at(-1);
  }

  get output(): string {
    return this.stderr;
  }

  /** Closes the consumer cleanly, so it sends LeaveGroup. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.stdin.write('stop\n');
    const timer = setTimeout(() => this.kill(), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL by pid: the member disappears without leaving the group. */
  async kill(): Promise<void> {
    if (!this.alive || this.child.pid === undefined) return;
    this.killedAt = Date.now();
    process.kill(this.child.pid, 'SIGKILL');
    await this.exited;
  }
}

function addOffset(map: Map<number, Set<number>>, partition: number, offset: number): void {
  let offsets = map.get(partition);
  if (!offsets) map.set(partition, (offsets = new Set()));
  offsets.add(offset);
}

/** The member's child process: a Node script for the JavaScript clients, group_member.py for the Python ones. */
function spawnMember(client: MemberClient, options: MemberOptions): ChildProcessWithoutNullStreams {
  const { bootstrapServers, topic, groupId, sessionTimeoutMs } = options;
  const node = (script: string, ...args: string[]) => spawn(process.execPath, ['--import', 'tsx', here(script), bootstrapServers, topic, groupId, String(sessionTimeoutMs), ...args]);
  switch (client) {
    case 'kafkajs':
      return node('kafkajs-member.ts');
    case 'platformatic':
      return node('platformatic-member.ts', 'classic', options.instanceId ?? '');
    case 'platformatic-consumer':
      return node('platformatic-member.ts', 'consumer', options.instanceId ?? '');
    case 'librdkafka-consumer':
      // TOPIC may be a regular expression ('^...'); no assignor keeps the broker's default.
      return node('librdkafka-member.ts', 'consumer', options.assignors ?? '', options.instanceId ?? '');
    case 'librdkafka-classic':
      // No assignor keeps librdkafka's default (range,roundrobin: eager).
      return node('librdkafka-member.ts', 'classic', options.assignors ?? '', options.instanceId ?? '');
    default:
      return spawn(PYTHON, [here('group_member.py'), client, bootstrapServers, topic, groupId, options.assignors ?? 'range', String(sessionTimeoutMs)]);
  }
}

/** Waits until the live members' latest assignments partition 0..count-1 exactly, each member owning some. */
export function waitForCoverage(members: readonly GroupMember[], count: number, timeoutMs = 30_000): Promise<number[][]> {
  return waitFor(
    `${members.length} members to share ${count} partitions`,
    () => {
      const assignments = members.map((member) => member.currentAssignment);
      if (assignments.some((assignment) => assignment === undefined || assignment.length === 0)) return undefined;
      const all = assignments.flat() as number[];
      if (all.length !== count || new Set(all).size !== count) return undefined;
      return assignments as number[][];
    },
    timeoutMs,
    100,
  );
}

export function consumedOffsets(members: readonly GroupMember[]): Map<number, Set<number>> {
  const union = new Map<number, Set<number>>();
  for (const member of members) {
    for (const [partition, offsets] of member.committed) {
      let all = union.get(partition);
      if (!all) union.set(partition, (all = new Set()));
      for (const offset of offsets) all.add(offset);
    }
  }
  return union;
}

/** A KIP-848 consumer group as ConsumerGroupDescribe shows it. */
export type DescribedConsumerGroup = ConsumerGroupDescribeResponse['groups'][number];

/** ConsumerGroupDescribe (v0 unless told; v1 adds each member's type) for one group, asked of the broker at `address` (host:port). */
export async function describeConsumerGroup(address: string, groupId: string, version = 0): Promise<DescribedConsumerGroup> {
  const connection = await KafkaConnection.open(connectTcp, address, 'group-compat-describe', { connectTimeoutMs: 5_000, requestTimeoutMs: 10_000 });
  try {
    const response = await connection.send(ConsumerGroupDescribeApi, version, { groupIds: [groupId], includeAuthorizedOperations: false });
    return response.groups[0]!;
  } finally {
    connection.close();
  }
}

/** The partitions of `topic` in an assignment of ConsumerGroupDescribe, sorted. */
export function describedPartitions(assignment: { topicPartitions: { topicName: string; partitions: number[] }[] }, topic: string): number[] {
  return assignment.topicPartitions
    .filter((entry) => entry.topicName === topic)
    .flatMap((entry) => entry.partitions)
    .sort((a, b) => a - b);
}

/** Partitions ConsumerGroupDescribe lists in the current assignment of two members at once ('p3: m1, m2'). */
export function describedOverlaps(group: DescribedConsumerGroup, topic: string): string[] {
  const owners = new Map<number, string[]>();
  for (const member of group.members) {
    for (const partition of describedPartitions(member.assignment, topic)) owners.set(partition, [...(owners.get(partition) ?? []), member.memberId]);
  }
  return [...owners].filter(([, ids]) => ids.length > 1).map(([partition, ids]) => `p${partition}: ${ids.join(', ')}`);
}

interface Ownership {
  member: number;
  from: number;
  to: number;
}

/**
 * Times at which two members owned one partition at once, from the members' own reports: a member
 * owns a partition from the change that gave it (its `at`) until the change that took it away,
 * the moment it stopped processing on its way out, or the moment the test killed it. Touching
 * intervals (one ends in the millisecond the other starts) do not count: the clock has millisecond
 * resolution. Members whose changes carry no time are left out.
 */
export function ownershipOverlaps(members: readonly GroupMember[]): string[] {
  const byPartition = new Map<number, Ownership[]>();
  members.forEach((member, index) => {
    const changes = member.assignmentChanges;
    if (changes.some((change) => change.at === undefined)) return;
    const end = Math.min(member.stoppedAt ?? Number.POSITIVE_INFINITY, member.killedAt ?? Number.POSITIVE_INFINITY);
    changes.forEach((change, position) => {
      for (const partition of change.partitions) {
        if (position > 0 && changes[position - 1]!.partitions.includes(partition)) continue;
        const lost = changes.slice(position + 1).find((later) => !later.partitions.includes(partition));
        const to = Math.min(lost?.at ?? Number.POSITIVE_INFINITY, end);
        const intervals = byPartition.get(partition) ?? [];
        intervals.push({ member: index, from: change.at!, to });
        byPartition.set(partition, intervals);
      }
    });
  });
  const overlaps: string[] = [];
  for (const [partition, intervals] of byPartition) {
    for (const first of intervals) {
      for (const second of intervals) {
        if (first.member < second.member && first.from < second.to && second.from < first.to) {
          overlaps.push(`p${partition}: member ${first.member} [${first.from}, ${first.to}) and member ${second.member} [${second.from}, ${second.to})`);
        }
      }
    }
  }
  return overlaps;
}

/** Records (partition:offset) processed more than once across the members, with how many times. */
export function duplicateRecords(members: readonly GroupMember[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const member of members) for (const [partition, offset] of member.processed) counts.set(`${partition}:${offset}`, (counts.get(`${partition}:${offset}`) ?? 0) + 1);
  return new Map([...counts].filter(([, count]) => count > 1));
}

/** The partitions of the consumer-protocol tests' topics. */
export const GROUP_PARTITIONS = 6;
/** Generous for a loaded machine; a reassignment takes about a heartbeat interval. */
export const GROUP_WAIT_MS = 45_000;
/** The session timeout classic members are given (consumer-protocol members take the broker's). */
const GROUP_SESSION_TIMEOUT_MS = 6_000;

/** Fast KIP-848 groups: a short broker-side session and heartbeat interval (add to GROUP_TEST_CONFIG). */
export function consumerGroupSettings(sessionTimeoutMs: number, heartbeatIntervalMs: number) {
  return {
    'group.consumer.min.session.timeout.ms': 1_000,
    'group.consumer.session.timeout.ms': sessionTimeoutMs,
    'group.consumer.min.heartbeat.interval.ms': 100,
    'group.consumer.heartbeat.interval.ms': heartbeatIntervalMs,
  };
}

export interface GroupRun {
  broker: TestBroker;
  topic: string;
  groupId: string;
  members: GroupMember[];
  start: (client?: MemberClient, instanceId?: string, assignors?: string) => GroupMember;
}

/** Starts members of `client` in one group; on failure, the error carries every member's reports. */
export function groupRun(broker: TestBroker, topic: string, groupId: string, sessionTimeoutMs = GROUP_SESSION_TIMEOUT_MS): GroupRun {
  const members: GroupMember[] = [];
  const start = (client: MemberClient = 'platformatic-consumer', instanceId?: string, assignors?: string) => {
    const member = GroupMember.start(client, { bootstrapServers: broker.bootstrapServers, topic, groupId, sessionTimeoutMs, ...(instanceId === undefined ? {} : { instanceId }), ...(assignors === undefined ? {} : { assignors }) });
    members.push(member);
    return member;
  };
  return { broker, topic, groupId, members, start };
}

export function withMemberLogs(error: unknown, members: readonly GroupMember[]): Error {
  const logs = members
    .map((member, index) => `member ${index} (${member.client}): assignments ${JSON.stringify(member.assignmentChanges)} errors ${JSON.stringify(member.errors)}\n${member.output}`)
    .join('\n');
  return new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
}

/** Every offset in [from, to) of every partition processed by some member. */
export function everyRecordProcessed(members: readonly GroupMember[], to: number, from = 0): boolean {
  const union = consumedOffsets(members);
  for (let partition = 0; partition < GROUP_PARTITIONS; partition++) {
    for (let offset = from; offset < to; offset++) if (!union.get(partition)?.has(offset)) return false;
  }
  return true;
}

/** Waits until the group's committed offset of every partition is `end` (OffsetFetch without a member, as an admin asks). */
export async function waitForCommitted(admin: Admin, groupId: string, topic: string, end: number): Promise<void> {
  await waitFor(
    `${groupId}'s committed offsets to reach ${end}`,
    async () => {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return committed!.partitions.length === GROUP_PARTITIONS && committed!.partitions.every((partition) => Number(partition.offset) === end) ? true : undefined;
    },
    GROUP_WAIT_MS,
    200,
  );
}

/** Waits for the live members to share the partitions as evenly as the uniform assignor spreads them (counts differ by at most one). */
export async function waitForEvenSpread(members: readonly GroupMember[]): Promise<number[][]> {
  return waitFor(
    `${members.length} members to share ${GROUP_PARTITIONS} partitions evenly`,
    () => {
      const assignments = members.map((member) => member.currentAssignment ?? []);
      const all = assignments.flat();
      if (all.length !== GROUP_PARTITIONS || new Set(all).size !== GROUP_PARTITIONS) return undefined;
      const sizes = assignments.map((assignment) => assignment.length);
      return Math.max(...sizes) - Math.min(...sizes) <= 1 ? assignments : undefined;
    },
    GROUP_WAIT_MS,
    50,
  );
}

/**
 * Polls ConsumerGroupDescribe while the scenario runs and keeps every answer in which a partition
 * is in two members' current assignments at once.
 */
export function watchDescribedOwnership(address: string, groupId: string, topic: string) {
  const overlaps: string[] = [];
  /** Every distinct answer, timed, for the failure message. */
  const history: string[] = [];
  let polls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const group = await describeConsumerGroup(address, groupId);
        polls++;
        const line = `${group.groupState} ${group.groupEpoch}/${group.assignmentEpoch} ${group.members.map((member) => `${member.memberId.slice(0, 8)}@${member.memberEpoch} ${JSON.stringify(describedPartitions(member.assignment, topic))}->${JSON.stringify(describedPartitions(member.targetAssignment, topic))}`).join(' ')}`;
        if (history.at(-1)?.endsWith(line) !== true) history.push(`${Date.now()} ${line}`);
        for (const overlap of describedOverlaps(group, topic)) overlaps.push(`group epoch ${group.groupEpoch}: ${overlap}`);
      } catch {
        // The broker restarts or the group is not there yet: the next poll tries again.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    overlaps,
    history,
    get polls() {
      return polls;
    },
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** A settled group: Stable, 'uniform', every member's assignment its target, every member at the group's epoch. */
export async function waitForSettled(address: string, groupId: string, topic: string, memberCount: number): Promise<DescribedConsumerGroup> {
  return waitFor(
    `${groupId} to settle with ${memberCount} members`,
    async () => {
      const group = await describeConsumerGroup(address, groupId);
      if (group.errorCode !== 0 || group.members.length !== memberCount || group.groupState !== 'Stable') return undefined;
      const reconciled = group.members.every((member) => JSON.stringify(describedPartitions(member.assignment, topic)) === JSON.stringify(describedPartitions(member.targetAssignment, topic)));
      return reconciled ? group : undefined;
    },
    GROUP_WAIT_MS,
    100,
  );
}
