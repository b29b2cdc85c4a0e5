// Runs consumer-group members of real clients as child processes (so one can be killed without
// leaving) and follows what they report: assignments, records processed and committed, errors.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KafkaConnection } from '../../../src/client/kafka-connection.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { ConsumerGroupDescribeApi, type ConsumerGroupDescribeResponse } from '../../../src/protocol/messages/index.js';
import { PYTHON } from '../../support/process.js';
import { waitFor } from '../../support/wait.js';

export type MemberClient = 'kafkajs' | 'platformatic' | 'kafka-python' | 'confluent' | 'platformatic-consumer' | 'librdkafka-consumer';

/** The members speaking KIP-848's consumer protocol (ConsumerGroupHeartbeat): their session timeout is the broker's. */
export const CONSUMER_PROTOCOL_CLIENTS: readonly MemberClient[] = ['platformatic-consumer', 'librdkafka-consumer'];

export interface MemberOptions {
  bootstrapServers: string;
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  /** Assignor names for the Python clients (kafkajs always offers RoundRobinAssigner). */
  assignors?: string;
  /** group.instance.id (static membership), for platformatic members. */
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
    let event: { event: string; partitions?: number[]; records?: [number, number][]; error?: string; at?: number };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.event === 'assigned') {
      this.assignments.push(event.partitions ?? []);
      this.assignmentChanges.push({ partitions: event.partitions ?? [], ...(event.at === undefined ? {} : { at: event.at }) });
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
    for (const [partition, offset] of event.records ?? []) {
      addOffset(this.committed, partition, offset);
      this.processed.push([partition, offset]);
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
      // TOPIC may be a regular expression ('^...'); the assignor is the broker's default.
      return node('librdkafka-member.ts', 'consumer');
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

/** A KIP-848 consumer group as ConsumerGroupDescribe v0 shows it. */
export type DescribedConsumerGroup = ConsumerGroupDescribeResponse['groups'][number];

/** ConsumerGroupDescribe v0 for one group, asked of the broker at `address` (host:port). */
export async function describeConsumerGroup(address: string, groupId: string): Promise<DescribedConsumerGroup> {
  const connection = await KafkaConnection.open(connectTcp, address, 'group-compat-describe', { connectTimeoutMs: 5_000, requestTimeoutMs: 10_000 });
  try {
    const response = await connection.send(ConsumerGroupDescribeApi, 0, { groupIds: [groupId], includeAuthorizedOperations: false });
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
