/**
 * The task assignor of the live runtime: the group leader turns the topology's sub-topologies and
 * the source topics' partition counts into tasks (`<subtopology>_<partition>`), and spreads them
 * over the members. It keeps a task where it was (sticky, so a rebalance moves little state),
 * balances the rest by count, and puts each standby replica on another member than the active one.
 * The assignment travels in the consumer protocol (the active tasks' partitions, so tools see who
 * reads what) with JSON user data: the member's tasks and every instance's `application.server`.
 */
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '../../protocol/messages/records/index.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import type { SubtopologyInfo } from '../topology/topology.js';

/** `<subtopology>_<partition>`, as Kafka Streams names tasks (and their state directories). */
export type TaskName = string;

export const taskName = (subtopology: number, partition: number): TaskName => `${subtopology}_${partition}`;

export function parseTaskName(name: TaskName): { subtopology: number; partition: number } {
  const [subtopology, partition] = name.split('_').map(Number);
  return { subtopology: subtopology!, partition: partition! };
}

/** What each member tells the leader when it joins. */
export interface MemberInfo {
  readonly processId: string;
  /** `application.server` (host:port) for interactive queries, or '' when not set. */
  readonly host: string;
  readonly previousActive: readonly TaskName[];
  readonly previousStandby: readonly TaskName[];
  /** The instance's uncaught-exception handler answered SHUTDOWN_APPLICATION. */
  readonly shutdownRequested?: boolean;
}

/** What the leader gives each member. */
export interface MemberAssignment {
  readonly active: TaskName[];
  readonly standby: TaskName[];
  /** Every instance's host and the active tasks it runs (for metadataForKey). */
  readonly hosts: Record<string, TaskName[]>;
  /** Partitions per task (the source topics' count), so every member can map keys to tasks. */
  readonly partitionsPerSubtopology: Record<number, number>;
  /** Every member shuts down (Kafka's AssignorError.SHUTDOWN_REQUESTED). */
  readonly shutdownRequested?: boolean;
}

/** The tasks of every non-global sub-topology: one per partition of its source topics. */
export function tasksOf(subtopologies: readonly SubtopologyInfo[], partitionCount: (topic: string) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const subtopology of subtopologies) {
    if (subtopology.global) continue;
    // Co-partitioned sources share partition p; Kafka refuses unequal counts, the largest is taken here.
    counts.set(subtopology.id, Math.max(0, ...subtopology.sourceTopics.map(partitionCount)));
  }
  return counts;
}

/**
 * Active tasks: each stays with the member that ran it if that member is under its fair share,
 * the rest go to the member with the fewest tasks. Standbys: `standbyReplicas` per task, each on a
 * member without a copy, preferring one that had it (its state is warm), then the least loaded.
 */
export function assignTasks(
  members: ReadonlyMap<string, MemberInfo>,
  partitionsPerSubtopology: ReadonlyMap<number, number>,
  standbyReplicas: number,
  /** Sub-topologies with state stores: only their tasks get standbys (a stateless task has nothing to keep warm). */
  statefulSubtopologies: ReadonlySet<number> = new Set(partitionsPerSubtopology.keys()),
): Map<string, MemberAssignment> {
  const memberIds = [...members.keys()].sort();
  const tasks: TaskName[] = [];
  for (const [subtopology, count] of [...partitionsPerSubtopology].sort((a, b) => a[0] - b[0])) {
    for (let partition = 0; partition < count; partition++) tasks.push(taskName(subtopology, partition));
  }
  const active = new Map(memberIds.map((id) => [id, [] as TaskName[]]));
  const standby = new Map(memberIds.map((id) => [id, [] as TaskName[]]));
  const memberCount = Math.max(1, memberIds.length);
  const capacity = Math.ceil(tasks.length / memberCount);
  // Each sub-topology is spread too (as Kafka's assignor does): one member with every task of a
  // stage and another with every task of the next would leave one idle while the other works.
  const subtopologyOf = (task: TaskName) => parseTaskName(task).subtopology;
  const subtopologyCapacity = (task: TaskName) => Math.ceil((partitionsPerSubtopology.get(subtopologyOf(task)) ?? 0) / memberCount);
  const sameSubtopology = (id: string, task: TaskName) => active.get(id)!.filter((t) => subtopologyOf(t) === subtopologyOf(task)).length;
  const hasRoom = (id: string, task: TaskName) => active.get(id)!.length < capacity && sameSubtopology(id, task) < subtopologyCapacity(task);
  const unassigned: TaskName[] = [];
  for (const task of tasks) {
    const previous = memberIds.find((id) => members.get(id)!.previousActive.includes(task) && hasRoom(id, task));
    if (previous) active.get(previous)!.push(task);
    else unassigned.push(task);
  }
  const leastLoaded = (candidates: string[], load: Map<string, TaskName[]>) =>
    candidates.reduce((best, id) => (load.get(id)!.length < load.get(best)!.length ? id : best), candidates[0]!);
  for (const task of unassigned) {
    // A member that kept the task's state as a standby restores least.
    const warm = memberIds.filter((id) => members.get(id)!.previousStandby.includes(task) && hasRoom(id, task));
    const roomy = memberIds.filter((id) => hasRoom(id, task));
    active.get(warm.length > 0 ? warm[0]! : leastLoaded(roomy.length > 0 ? roomy : memberIds, active))!.push(task);
  }
  for (const task of tasks) {
    if (!statefulSubtopologies.has(subtopologyOf(task))) continue;
    const owner = memberIds.find((id) => active.get(id)!.includes(task));
    for (let replica = 0; replica < standbyReplicas; replica++) {
      const candidates = memberIds.filter((id) => id !== owner && !standby.get(id)!.includes(task));
      if (candidates.length === 0) break;
      const warm = candidates.filter((id) => members.get(id)!.previousStandby.includes(task) || members.get(id)!.previousActive.includes(task));
      standby.get(leastLoaded(warm.length > 0 ? warm : candidates, standby))!.push(task);
    }
  }
  const hosts: Record<string, TaskName[]> = {};
  for (const id of memberIds) {
    const host = members.get(id)!.host;
    if (host !== '') hosts[host] = [...(hosts[host] ?? []), ...active.get(id)!];
  }
  const counts = Object.fromEntries(partitionsPerSubtopology);
  return new Map(memberIds.map((id) => [id, { active: active.get(id)!, standby: standby.get(id)!, hosts, partitionsPerSubtopology: counts }]));
}

export function encodeSubscription(topics: readonly string[], info: MemberInfo): Buffer {
  const writer = new Writer();
  writer.writeInt16(0);
  encodeConsumerProtocolSubscription(writer, 0, { topics: [...topics], userData: Buffer.from(JSON.stringify(info)) });
  return writer.toBuffer();
}

export function decodeSubscription(metadata: Buffer): MemberInfo {
  const reader = new Reader(metadata);
  const version = Math.min(Math.max(reader.readInt16(), 0), 3);
  const { userData } = decodeConsumerProtocolSubscription(reader, version);
  if (!userData) return { processId: '', host: '', previousActive: [], previousStandby: [] };
  return JSON.parse(Buffer.from(userData).toString('utf8')) as MemberInfo;
}

export function encodeAssignment(partitions: ReadonlyMap<string, number[]>, assignment: MemberAssignment): Buffer {
  const writer = new Writer();
  writer.writeInt16(0);
  encodeConsumerProtocolAssignment(writer, 0, {
    assignedPartitions: [...partitions].map(([topic, list]) => ({ topic, partitions: list })),
    userData: Buffer.from(JSON.stringify(assignment)),
  });
  return writer.toBuffer();
}

export function decodeAssignment(blob: Buffer): MemberAssignment {
  const empty: MemberAssignment = { active: [], standby: [], hosts: {}, partitionsPerSubtopology: {} };
  if (blob.length < 2) return empty;
  const reader = new Reader(blob);
  const version = Math.min(Math.max(reader.readInt16(), 0), 3);
  const { userData } = decodeConsumerProtocolAssignment(reader, version);
  return userData ? (JSON.parse(Buffer.from(userData).toString('utf8')) as MemberAssignment) : empty;
}
