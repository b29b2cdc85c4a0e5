// `conveyor reassign-partitions`: Kafka's kafka-reassign-partitions tool for Conveyor, with its
// options, JSON files and wording. One action per run:
// - --generate: from a topics file ({"topics":[{"topic":"foo"}],"version":1}) and --broker-list,
//   prints the topics' current assignment and a proposal spreading their partitions over those
//   brokers (same replication factor; rack-aware, as Kafka's tool, unless --disable-rack-aware),
//   both as reassignment JSON ({"version":1,"partitions":[{"topic","partition","replicas","log_dirs"}]}).
// - --execute: prints the current assignment of the file's partitions to save for rollback, with
//   --throttle sets the replication throttles as Kafka's tool does (leader/follower
//   .replication.throttled.rate on every broker a move involves; on each moving topic
//   leader.replication.throttled.replicas = the existing replicas, follower... = the added ones),
//   then starts the moves (AlterPartitionReassignments) and reports each partition. Replicas the
//   file gives a log directory ("log_dirs": absolute paths, "any" for the broker's choice) are
//   then moved there with AlterReplicaLogDirs to their broker, as Kafka's tool does after the
//   reassignment: a replica the broker does not host yet (REPLICA_NOT_AVAILABLE: a broker the
//   reassignment adds) is asked again every 100 ms until its move starts or --timeout passes.
// - --verify: per partition, completed or still in progress (ListPartitionReassignments and the
//   metadata); per replica given a log directory, whether it is there (DescribeLogDirs to its
//   broker, as Kafka's describeReplicaLogDirs); once nothing is in progress, removes the throttles
//   unless --preserve-throttles.
// - --cancel: cancels the file's partition moves in progress (null replicas); then, as Kafka's
//   cancelAssignment, each replica the file gives a log directory that its broker is copying to
//   another directory (DescribeLogDirs lists a future replica beside the current one) is asked
//   back to its current directory (AlterReplicaLogDirs), which makes the broker give the copy up;
//   then removes the throttles unless --preserve-throttles.
// - --list: the reassignments in progress with their replicas, adding and removing.
// Bad input (malformed JSON, an unknown topic, partition or broker, a broker listed twice, a
// missing or misplaced option) is refused before anything changes, with a message naming it.
// Deviations from Kafka: a log directory that is not one of its broker's (or is offline) is refused
// before anything changes, where Kafka's tool fails once the reassignment has started; --verify
// exits non-zero when a partition has no move in progress yet is not on its target replicas, or a
// replica is not in its target log directory and not moving there; --cancel prints "None of the
// specified partition moves are active." on a line of its own (Kafka's Java tool leaves the line
// unended, so what follows shares it; its Scala one ended it); there is no
// --replica-alter-log-dirs-throttle (the broker has no such throttle).
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { ErrorCode } from '../base/error-codes.js';
import {
  type AdminClient,
  AlterOperation,
  type BrokerInfo,
  ConfigResource,
  type ConfigResourceChanges,
  type OngoingReassignment,
  type LogDirInfo,
  type PartitionResult,
  type TopicPartition,
} from '../client/admin-client.js';
import { KafkaResponseError, ToolError } from '../client/cluster-client.js';
import { type ToolOptions, integerOption, print, toolOptions, withAdmin } from './output.js';

export const THROTTLE_RATE_KEYS = ['leader.replication.throttled.rate', 'follower.replication.throttled.rate'] as const;
export const LEADER_THROTTLED_REPLICAS = 'leader.replication.throttled.replicas';
export const FOLLOWER_THROTTLED_REPLICAS = 'follower.replication.throttled.replicas';

/** How long --verify waits for a broker's metadata to catch up with the controller's. */
const METADATA_SETTLE_MS = 3_000;

/** Kafka's default --timeout. */
const DEFAULT_TIMEOUT_MS = 10_000;

/** How often --execute asks again for a log directory move its broker cannot start yet (Kafka's pause). */
const LOG_DIR_RETRY_MS = 100;

/** Kafka's word for "the broker chooses the log directory". */
const ANY_LOG_DIR = 'any';

const ACTIONS = ['generate', 'execute', 'verify', 'cancel', 'list'] as const;
type Action = (typeof ACTIONS)[number];

interface ReassignOptions extends ToolOptions {
  generate?: boolean;
  execute?: boolean;
  verify?: boolean;
  cancel?: boolean;
  list?: boolean;
  topicsToMoveJsonFile?: string;
  brokerList?: string;
  disableRackAware?: boolean;
  reassignmentJsonFile?: string;
  throttle?: string;
  additional?: boolean;
  timeout?: string;
  preserveThrottles?: boolean;
}

/** One partition of a reassignment file: where its replicas should be. */
export interface PartitionAssignment extends TopicPartition {
  replicas: number[];
  /** One per replica, "any" or an absolute path; absent when the file has no "log_dirs". */
  logDirs?: string[];
}

/** A replica the reassignment file puts in a specific log directory of its broker. */
export interface ReplicaLogDirTarget extends TopicPartition {
  broker: number;
  logDir: string;
}

/** Kafka's reassignment JSON, one line: {"version":1,"partitions":[{"topic","partition","replicas","log_dirs"}]}. */
export function reassignmentJson(partitions: readonly PartitionAssignment[]): string {
  return JSON.stringify({
    version: 1,
    partitions: sortPartitions(partitions).map(({ topic, partition, replicas }) => ({ topic, partition, replicas, log_dirs: replicas.map(() => ANY_LOG_DIR) })),
  });
}

export function registerReassignPartitionsCommand(program: Command): void {
  toolOptions(program.command('reassign-partitions').description("move partitions' replicas between brokers (Kafka's kafka-reassign-partitions)"))
    .option('--generate', 'propose an assignment of the topics in --topics-to-move-json-file over the brokers in --broker-list')
    .option('--execute', 'start the reassignment in --reassignment-json-file')
    .option('--verify', 'report whether the reassignment in --reassignment-json-file is complete; once it is, remove the throttles')
    .option('--cancel', 'cancel the moves in --reassignment-json-file that are in progress (between brokers, and between log directories of its replicas given one), and remove the throttles')
    .option('--list', 'list the reassignments in progress')
    .option('--topics-to-move-json-file <file>', 'with --generate: the topics to move, {"topics":[{"topic":"foo"}],"version":1}')
    .option('--broker-list <ids>', 'with --generate: the brokers to move the topics to, e.g. 1,2,3')
    .option('--disable-rack-aware', 'with --generate: ignore the brokers\' racks')
    .option('--reassignment-json-file <file>', 'the reassignment, {"version":1,"partitions":[{"topic":"foo","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}')
    .option('--throttle <bytes-per-sec>', 'with --execute: limit the replication traffic of the moves to this many bytes/s per broker')
    .option('--additional', 'with --execute: start this reassignment while others are in progress (or change the throttle of one)')
    .option('--timeout <ms>', 'with --execute or --cancel: how long the controller may take to accept the request, and how long to keep trying to start (or, with --cancel, call back) the log directory moves (default 10000)')
    .option('--preserve-throttles', 'with --verify or --cancel: leave the throttle configs in place')
    .action((options: ReassignOptions) => reassignPartitions(options));
}

async function reassignPartitions(options: ReassignOptions): Promise<void> {
  const action = checkedAction(options);
  switch (action) {
    case 'generate': {
      const topics = await readTopicsFile(options.topicsToMoveJsonFile!);
      const brokers = parseBrokerList(options.brokerList!);
      return withAdmin(options, (admin) => generate(admin, options, topics, brokers));
    }
    case 'execute': {
      const throttle = options.throttle === undefined ? -1 : integerOption('--throttle', options.throttle, 1)!;
      const timeoutMs = (integerOption('--timeout', options.timeout, 1) ?? DEFAULT_TIMEOUT_MS);
      const proposed = await readReassignmentFile(options.reassignmentJsonFile!);
      return withAdmin(options, (admin) => execute(admin, options, proposed, throttle, timeoutMs));
    }
    case 'verify': {
      const proposed = await readReassignmentFile(options.reassignmentJsonFile!);
      return withAdmin(options, (admin) => verify(admin, options, proposed));
    }
    case 'cancel': {
      const timeoutMs = (integerOption('--timeout', options.timeout, 1) ?? DEFAULT_TIMEOUT_MS);
      const proposed = await readReassignmentFile(options.reassignmentJsonFile!);
      return withAdmin(options, (admin) => cancel(admin, options, proposed, timeoutMs));
    }
    case 'list':
      return withAdmin(options, (admin) => list(admin, options));
  }
}

/** Exactly one action, with the options it needs and none it does not take (as Kafka's tool checks). */
function checkedAction(options: ReassignOptions): Action {
  const given = ACTIONS.filter((action) => options[action] === true);
  if (given.length !== 1) {
    const what = given.length === 0 ? 'none was given' : `got ${given.map((action) => `--${action}`).join(' and ')}`;
    throw new ToolError(`the command must include exactly one action: --generate, --execute, --verify, --cancel or --list; ${what}`);
  }
  const action = given[0]!;
  const required: Record<Action, (keyof ReassignOptions)[]> = {
    generate: ['topicsToMoveJsonFile', 'brokerList'],
    execute: ['reassignmentJsonFile'],
    verify: ['reassignmentJsonFile'],
    cancel: ['reassignmentJsonFile'],
    list: [],
  };
  const allowed: Record<Action, (keyof ReassignOptions)[]> = {
    generate: ['topicsToMoveJsonFile', 'brokerList', 'disableRackAware'],
    execute: ['reassignmentJsonFile', 'throttle', 'additional', 'timeout'],
    verify: ['reassignmentJsonFile', 'preserveThrottles'],
    cancel: ['reassignmentJsonFile', 'preserveThrottles', 'timeout'],
    list: [],
  };
  for (const key of required[action]) {
    if (options[key] === undefined || options[key] === '') throw new ToolError(`--${action} needs ${flag(key)}`);
  }
  const optional: (keyof ReassignOptions)[] = ['topicsToMoveJsonFile', 'brokerList', 'disableRackAware', 'reassignmentJsonFile', 'throttle', 'additional', 'timeout', 'preserveThrottles'];
  for (const key of optional) {
    if (options[key] !== undefined && !allowed[action].includes(key)) throw new ToolError(`${flag(key)} cannot be used with --${action}`);
  }
  return action;
}

function flag(key: keyof ReassignOptions): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

// ---- Input files -------------------------------------------------------------------------------

async function readJson(option: string, path: string, expected: string): Promise<{ parsed: unknown; malformed: (why: string) => ToolError }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ToolError(`cannot read ${option} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const malformed = (why: string) => new ToolError(`${option} ${path} is not valid (${why}); expected ${expected}`);
  try {
    return { parsed: JSON.parse(text), malformed };
  } catch (error) {
    throw malformed(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkVersion(document: Record<string, unknown>, malformed: (why: string) => ToolError): void {
  if (document.version !== undefined && document.version !== 1) throw malformed(`"version" ${JSON.stringify(document.version)} is not supported, only 1`);
}

/** Kafka's topics-to-move file: {"topics":[{"topic":"foo"},...],"version":1}, no topic twice. */
export async function readTopicsFile(path: string): Promise<string[]> {
  const { parsed, malformed } = await readJson('--topics-to-move-json-file', path, '{"topics":[{"topic":"foo"}],"version":1}');
  if (!isObject(parsed)) throw malformed('not a JSON object');
  checkVersion(parsed, malformed);
  if (!Array.isArray(parsed.topics)) throw malformed('no "topics" array');
  if (parsed.topics.length === 0) throw malformed('"topics" is empty');
  const topics = parsed.topics.map((entry: unknown, index) => {
    const topic = isObject(entry) ? entry.topic : undefined;
    if (typeof topic !== 'string' || topic === '') throw malformed(`topics[${index}] has no "topic" string`);
    return topic;
  });
  const twice = duplicates(topics);
  if (twice.length > 0) throw new ToolError(`--topics-to-move-json-file ${path} lists topics more than once: ${twice.join(', ')}`);
  return topics;
}

/** Kafka's reassignment file; each partition once, each replica once per partition, log_dirs "any" or absolute paths. */
export async function readReassignmentFile(path: string): Promise<PartitionAssignment[]> {
  const { parsed, malformed } = await readJson(
    '--reassignment-json-file',
    path,
    '{"version":1,"partitions":[{"topic":"foo","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}',
  );
  if (!isObject(parsed)) throw malformed('not a JSON object');
  checkVersion(parsed, malformed);
  if (!Array.isArray(parsed.partitions)) throw malformed('no "partitions" array');
  if (parsed.partitions.length === 0) throw malformed('the partition reassignment list is empty');
  const partitions = parsed.partitions.map((entry: unknown, index): PartitionAssignment => {
    if (!isObject(entry)) throw malformed(`partitions[${index}] is not an object`);
    const { topic, partition, replicas, log_dirs: logDirs } = entry;
    if (typeof topic !== 'string' || topic === '') throw malformed(`partitions[${index}] has no "topic" string`);
    if (!isNonNegativeInteger(partition)) throw malformed(`partitions[${index}] has no non-negative integer "partition"`);
    if (!Array.isArray(replicas) || replicas.length === 0) throw malformed(`partitions[${index}] (${topic}-${partition}) has no non-empty "replicas" array`);
    if (!replicas.every(isNonNegativeInteger)) throw malformed(`partitions[${index}] (${topic}-${partition}) has "replicas" that are not all non-negative integer broker ids`);
    if (logDirs !== undefined) {
      if (!Array.isArray(logDirs) || logDirs.length !== replicas.length) throw malformed(`partitions[${index}] (${topic}-${partition}) has "log_dirs" that is not an array with one entry per replica`);
      for (const dir of logDirs) {
        if (typeof dir !== 'string' || (dir !== ANY_LOG_DIR && !isAbsolute(dir))) {
          throw malformed(`partitions[${index}] (${topic}-${partition}) has ${JSON.stringify(dir)} in "log_dirs", which is neither "any" nor an absolute path`);
        }
      }
    }
    return logDirs === undefined ? { topic, partition, replicas: replicas as number[] } : { topic, partition, replicas: replicas as number[], logDirs: logDirs as string[] };
  });
  const twice = duplicates(partitions.map(name));
  if (twice.length > 0) throw new ToolError(`--reassignment-json-file ${path} lists partitions more than once: ${twice.join(', ')}`);
  for (const entry of partitions) {
    const repeated = duplicates(entry.replicas.map(String));
    if (repeated.length > 0) throw new ToolError(`--reassignment-json-file ${path}: the replicas of ${name(entry)} list broker ${repeated.join(', ')} more than once`);
  }
  return partitions;
}

/** --broker-list: comma-separated broker ids, none twice. */
export function parseBrokerList(text: string): number[] {
  const items = text.split(',').map((item) => item.trim());
  const bad = items.filter((item) => !/^\d+$/.test(item));
  if (items.length === 0 || bad.length > 0) throw new ToolError(`--broker-list must be comma-separated broker ids such as 1,2,3; got '${text}'`);
  const ids = items.map(Number);
  const twice = duplicates(ids.map(String));
  if (twice.length > 0) throw new ToolError(`--broker-list lists broker ${twice.join(', ')} more than once`);
  return ids;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0x7fffffff;
}

function duplicates(items: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const item of items) (seen.has(item) ? twice : seen).add(item);
  return [...twice];
}

// ---- The cluster's view ------------------------------------------------------------------------

/** The current replicas of every partition of `topics`, by "topic-partition"; unknown topics are refused. */
async function currentAssignment(admin: AdminClient, topics: readonly string[]): Promise<Map<string, PartitionAssignment>> {
  const metadata = await admin.cluster.metadata([...new Set(topics)]);
  const missing: string[] = [];
  const assignment = new Map<string, PartitionAssignment>();
  for (const topic of metadata.topics) {
    if (topic.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || topic.errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION) {
      missing.push(topic.name ?? '?');
      continue;
    }
    if (topic.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(topic.errorCode, `topic '${topic.name}'`);
    for (const partition of topic.partitions) {
      assignment.set(name({ topic: topic.name!, partition: partition.partitionIndex }), { topic: topic.name!, partition: partition.partitionIndex, replicas: partition.replicaNodes });
    }
  }
  for (const topic of topics) if (!metadata.topics.some((entry) => entry.name === topic) && !missing.includes(topic)) missing.push(topic);
  if (missing.length > 0) throw new ToolError(`unknown topic${missing.length === 1 ? '' : 's'}: ${missing.join(', ')} (UNKNOWN_TOPIC_OR_PARTITION)`);
  return assignment;
}

/** The current replicas of each proposed partition; a partition the topic lacks is refused. */
async function currentOf(admin: AdminClient, proposed: readonly PartitionAssignment[]): Promise<PartitionAssignment[]> {
  const current = await currentAssignment(admin, proposed.map((entry) => entry.topic));
  const missing = proposed.filter((entry) => !current.has(name(entry)));
  if (missing.length > 0) throw new ToolError(`unknown partition${missing.length === 1 ? '' : 's'}: ${missing.map(name).join(', ')} (UNKNOWN_TOPIC_OR_PARTITION)`);
  return proposed.map((entry) => current.get(name(entry))!);
}

function checkBrokersKnown(brokers: readonly BrokerInfo[], wanted: Iterable<number>, where: string): void {
  const known = new Set(brokers.map((broker) => broker.nodeId));
  const unknown = [...new Set(wanted)].filter((id) => !known.has(id)).sort((a, b) => a - b);
  if (unknown.length > 0) {
    throw new ToolError(`unknown broker id${unknown.length === 1 ? '' : 's'} ${where}: ${unknown.join(', ')} (the cluster has ${[...known].sort((a, b) => a - b).join(', ') || 'no live brokers'})`);
  }
}

// ---- --generate --------------------------------------------------------------------------------

async function generate(admin: AdminClient, options: ReassignOptions, topics: string[], brokerIds: number[]): Promise<void> {
  const brokers = await admin.describeBrokers();
  checkBrokersKnown(brokers, brokerIds, 'in --broker-list');
  const chosen = brokerIds.map((id) => brokers.find((broker) => broker.nodeId === id)!);
  let racks: Map<number, string> | undefined;
  if (!options.disableRackAware) {
    const withRack = chosen.filter((broker) => broker.rack !== null);
    if (withRack.length > 0 && withRack.length < chosen.length) {
      throw new ToolError(
        `not all brokers have rack information (${chosen.filter((broker) => broker.rack === null).map((broker) => broker.nodeId).join(', ')} have none); add --disable-rack-aware to assign replicas without racks`,
      );
    }
    if (withRack.length > 0) racks = new Map(chosen.map((broker) => [broker.nodeId, broker.rack!]));
  }
  const current = sortPartitions([...(await currentAssignment(admin, topics)).values()]);
  const proposed: PartitionAssignment[] = [];
  for (const topic of topics) {
    const partitions = current.filter((entry) => entry.topic === topic);
    const replicationFactor = partitions[0]?.replicas.length ?? 0;
    if (replicationFactor > brokerIds.length) throw new ToolError(`topic '${topic}' has replication factor ${replicationFactor}, more than the ${brokerIds.length} broker(s) in --broker-list`);
    const assignment = assignReplicas(brokerIds, partitions.length, replicationFactor, racks);
    assignment.forEach((replicas, partition) => proposed.push({ topic, partition, replicas }));
  }
  print(options, { current: JSON.parse(reassignmentJson(current)), proposed: JSON.parse(reassignmentJson(proposed)) }, () =>
    ['Current partition replica assignment', reassignmentJson(current), '', 'Proposed partition reassignment configuration', reassignmentJson(proposed)].join('\n'),
  );
}

/**
 * Replicas for `partitions` partitions over `brokerIds`, as Kafka's assignment does it: the
 * leaders go round the brokers from a random start; each later replica is a shifted step further
 * round, the shift growing each time the leaders have gone round once, so that followers spread
 * too. With racks, the brokers are first ordered alternating between racks, and each replica goes
 * to a rack the partition has no replica on yet, while there is one.
 */
export function assignReplicas(brokerIds: readonly number[], partitions: number, replicationFactor: number, racks?: ReadonlyMap<number, string>, random: () => number = Math.random): number[][] {
  const brokers = racks ? alternateRacks(brokerIds, racks) : [...brokerIds];
  const count = brokers.length;
  const start = Math.floor(random() * count);
  let shift = Math.floor(random() * count);
  const rackCount = racks ? new Set(brokerIds.map((id) => racks.get(id))).size : 0;
  const result: number[][] = [];
  for (let partition = 0; partition < partitions; partition++) {
    if (partition > 0 && partition % count === 0) shift += 1;
    const first = (partition + start) % count;
    const replicas = [brokers[first]!];
    const usedRacks = new Set(racks ? [racks.get(brokers[first]!)] : []);
    for (let step = 0; replicas.length < replicationFactor && step < count - 1; step++) {
      const candidate = brokers[(first + 1 + ((shift + step) % (count - 1))) % count]!;
      if (replicas.includes(candidate)) continue;
      if (racks && usedRacks.size < rackCount && usedRacks.has(racks.get(candidate))) continue;
      replicas.push(candidate);
      if (racks) usedRacks.add(racks.get(candidate));
    }
    // With racks, some candidates were skipped for their rack: the rest fill up in ring order.
    for (let step = 1; replicas.length < replicationFactor && step < count; step++) {
      const candidate = brokers[(first + step) % count]!;
      if (!replicas.includes(candidate)) replicas.push(candidate);
    }
    result.push(replicas);
  }
  return result;
}

/** The brokers ordered rack by rack in turn (racks and brokers in id order): r1's first, r2's first, ..., r1's second, ... */
function alternateRacks(brokerIds: readonly number[], racks: ReadonlyMap<number, string>): number[] {
  const byRack = new Map<string, number[]>();
  for (const id of [...brokerIds].sort((a, b) => a - b)) byRack.set(racks.get(id)!, [...(byRack.get(racks.get(id)!) ?? []), id]);
  const groups = [...byRack].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ids]) => ids);
  const ordered: number[] = [];
  for (let index = 0; ordered.length < brokerIds.length; index++) for (const group of groups) if (index < group.length) ordered.push(group[index]!);
  return ordered;
}

// ---- --execute ---------------------------------------------------------------------------------

/** A partition's move: the replicas it has (the sources) and those it gains (the destinations). */
interface PartitionMove extends TopicPartition {
  sources: number[];
  destinations: number[];
}

async function execute(admin: AdminClient, options: ReassignOptions, proposed: PartitionAssignment[], throttle: number, timeoutMs: number): Promise<void> {
  const current = await currentOf(admin, proposed);
  checkBrokersKnown(await admin.describeBrokers(), proposed.flatMap((entry) => entry.replicas), 'in --reassignment-json-file');
  const ongoing = await admin.listPartitionReassignments();
  if (ongoing.length > 0 && !options.additional) {
    throw new ToolError(
      `cannot execute because there are reassignments in progress (${ongoing.map(name).join(', ')}); use --additional to start this one in addition to them (or to change the throttle by resubmitting the current reassignment)`,
    );
  }
  const logDirTargets = replicaLogDirTargets(proposed);
  await checkLogDirs(admin, options, logDirTargets);
  // To roll back a partition that is already moving is to go back to where it was before that move.
  const ongoingByName = new Map(ongoing.map((entry) => [name(entry), entry]));
  const rollback = current.map((entry) => {
    const inProgress = ongoingByName.get(name(entry));
    return inProgress ? { ...entry, replicas: inProgress.replicas.filter((id) => !inProgress.addingReplicas.includes(id)) } : entry;
  });
  const text: string[] = ['Current partition replica assignment', '', reassignmentJson(rollback), '', 'Save this to use as the --reassignment-json-file option during rollback'];
  const throttled: { brokers: number[]; topics: Record<string, { leader: string; follower: string }> } | null =
    throttle >= 0 ? await setThrottles(admin, movesOf(proposed, current, ongoing), throttle) : null;
  if (throttle >= 0) {
    text.push('Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.');
    text.push(`The inter-broker throttle limit was set to ${throttle} B/s`);
  }
  const results = await admin.alterPartitionReassignments(proposed, timeoutMs);
  const started = results.filter((result) => result.errorCode === ErrorCode.NONE);
  const failed = results.filter((result) => result.errorCode !== ErrorCode.NONE);
  if (started.length > 0) text.push(`Successfully started partition reassignment${started.length === 1 ? '' : 's'} for ${started.map(name).join(',')}`);
  if (failed.length > 0) text.push(`Error reassigning partition(s):\n${failed.map(failureLine).join('\n')}`);
  const moves: LogDirMoves = { started: [], pending: [], failure: null };
  const json = () => ({
    current: JSON.parse(reassignmentJson(rollback)),
    throttle: throttled && { rate: throttle, ...throttled },
    results: results.map(resultJson),
    logDirMoves: logDirTargets.map((target) => ({ topic: target.topic, partition: target.partition, broker: target.broker, logDir: target.logDir, started: moves.started.includes(target) })),
  });
  // As Kafka's tool: the log directory moves only once every partition reassignment has started.
  if (failed.length === 0 && logDirTargets.length > 0) {
    try {
      await executeLogDirMoves(admin, logDirTargets, timeoutMs, moves);
    } catch (error) {
      moves.failure = error instanceof Error ? error.message : String(error);
    }
    for (const target of moves.started) text.push(`Successfully started moving log directory to ${target.logDir} for replica ${name(target)} with broker ${target.broker}`);
    if (moves.failure !== null) text.push(moves.failure);
    else if (moves.pending.length > 0) text.push(`Timed out before log directory move${moves.pending.length === 1 ? '' : 's'} could be started for: ${moves.pending.map(replicaName).join(',')}`);
  }
  print(options, json(), () => text.join('\n'));
  if (failed.length > 0) throw new ToolError(`${failed.length} partition reassignment(s) could not be started`);
  if (moves.failure !== null) throw new ToolError(moves.failure);
  if (moves.pending.length > 0) throw new ToolError(`${moves.pending.length} log directory move(s) could not be started within ${timeoutMs} ms (--timeout): ${moves.pending.map(replicaName).join(',')}`);
}

/** The replicas the file gives a log directory (not "any"), in Kafka's order: by broker, topic, partition. */
function replicaLogDirTargets(proposed: readonly PartitionAssignment[]): ReplicaLogDirTarget[] {
  const targets = proposed.flatMap(({ topic, partition, replicas, logDirs }) =>
    replicas.flatMap((broker, index) => (logDirs === undefined || logDirs[index] === ANY_LOG_DIR ? [] : [{ topic, partition, broker, logDir: logDirs[index]! }])),
  );
  return targets.sort((a, b) => a.broker - b.broker || (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

/**
 * Refuses, before anything changes, a log directory that its broker does not have or that is
 * offline there (Kafka's tool would hear LOG_DIR_NOT_FOUND or KAFKA_STORAGE_ERROR from
 * AlterReplicaLogDirs only after starting the reassignment). Paths are compared resolved, as the
 * broker compares them.
 */
async function checkLogDirs(admin: AdminClient, options: ReassignOptions, targets: readonly ReplicaLogDirTarget[]): Promise<void> {
  const problems: string[] = [];
  for (const [broker, ofBroker] of byBroker(targets)) {
    const dirs = await admin.describeLogDirs(broker, []);
    for (const target of ofBroker) {
      const dir = findLogDir(dirs, target.logDir);
      if (dir === undefined) problems.push(`${JSON.stringify(target.logDir)} for ${name(target)} on broker ${broker} (its log directories: ${dirs.map((entry) => entry.path).join(', ')})`);
      else if (dir.errorCode !== ErrorCode.NONE) problems.push(`${JSON.stringify(target.logDir)} for ${name(target)} is offline on broker ${broker} (${dir.error})`);
    }
  }
  if (problems.length > 0) {
    throw new ToolError(`--reassignment-json-file ${options.reassignmentJsonFile}: the reassignment names log directories its brokers cannot take: ${problems.join('; ')}; nothing was changed`);
  }
}

/** Where --execute's log directory moves stand: started, not started yet, or the error that stopped them. */
interface LogDirMoves {
  started: ReplicaLogDirTarget[];
  pending: ReplicaLogDirTarget[];
  failure: string | null;
}

/**
 * Asks each replica's broker to move it to its log directory (AlterReplicaLogDirs), as Kafka's
 * tool does: a replica the broker does not host yet (REPLICA_NOT_AVAILABLE, a broker the
 * reassignment adds) is asked again every LOG_DIR_RETRY_MS until `timeoutMs` has passed; any
 * other error stops the moves. Fills in `moves` as it goes.
 */
async function executeLogDirMoves(admin: AdminClient, targets: readonly ReplicaLogDirTarget[], timeoutMs: number, moves: LogDirMoves): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  moves.pending = [...targets];
  for (;;) {
    for (const [broker, ofBroker] of byBroker(moves.pending)) {
      const results = await admin.alterReplicaLogDirs(broker, ofBroker);
      results.forEach((result, index) => {
        const target = ofBroker[index]!;
        if (result.errorCode === ErrorCode.NONE) {
          moves.started.push(target);
          moves.pending = moves.pending.filter((entry) => entry !== target);
        } else if (result.errorCode !== ErrorCode.REPLICA_NOT_AVAILABLE && moves.failure === null) {
          moves.failure = `Failed to alter dir for ${replicaName(target)} to ${target.logDir}: ${result.error}`;
        }
      });
      if (moves.failure !== null) return;
    }
    if (moves.pending.length === 0 || Date.now() >= deadline) return;
    await delay(LOG_DIR_RETRY_MS);
  }
}

function byBroker<T extends { broker: number }>(items: readonly T[]): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) groups.set(item.broker, [...(groups.get(item.broker) ?? []), item]);
  return groups;
}

function findLogDir(dirs: readonly LogDirInfo[], path: string): LogDirInfo | undefined {
  return dirs.find((dir) => resolve(dir.path) === resolve(path));
}

/**
 * The moves the throttles are for: each proposed partition whose replica set grows by at least one
 * broker, and the moves already in progress on the same topics (so that --additional keeps them
 * throttled). The sources of a move in progress exclude the replicas it is adding.
 */
function movesOf(proposed: readonly PartitionAssignment[], current: readonly PartitionAssignment[], ongoing: readonly OngoingReassignment[]): PartitionMove[] {
  const moves = new Map<string, PartitionMove>();
  const topics = new Set(proposed.map((entry) => entry.topic));
  const ongoingByName = new Map(ongoing.map((entry) => [name(entry), entry]));
  for (const entry of ongoing) {
    if (!topics.has(entry.topic)) continue;
    moves.set(name(entry), { topic: entry.topic, partition: entry.partition, sources: entry.replicas.filter((id) => !entry.addingReplicas.includes(id)), destinations: entry.addingReplicas });
  }
  proposed.forEach((target, index) => {
    const inProgress = ongoingByName.get(name(target));
    const sources = inProgress ? inProgress.replicas.filter((id) => !inProgress.addingReplicas.includes(id)) : current[index]!.replicas;
    const destinations = target.replicas.filter((id) => !sources.includes(id));
    if (destinations.length > 0) moves.set(name(target), { topic: target.topic, partition: target.partition, sources, destinations });
    else moves.delete(name(target));
  });
  return sortPartitions([...moves.values()]);
}

/** Sets the throttles of `moves` as Kafka's tool does: the rate on every broker involved, the replica lists on each topic. */
async function setThrottles(admin: AdminClient, moves: readonly PartitionMove[], rate: number): Promise<{ brokers: number[]; topics: Record<string, { leader: string; follower: string }> }> {
  const topics: Record<string, { leader: string; follower: string }> = {};
  for (const topic of new Set(moves.map((move) => move.topic))) {
    const ofTopic = moves.filter((move) => move.topic === topic);
    const pairs = (pick: (move: PartitionMove) => number[]) => ofTopic.flatMap((move) => pick(move).map((broker) => `${move.partition}:${broker}`)).join(',');
    topics[topic] = { leader: pairs((move) => move.sources), follower: pairs((move) => move.destinations) };
  }
  const brokers = [...new Set(moves.flatMap((move) => [...move.sources, ...move.destinations]))].sort((a, b) => a - b);
  const changes: ConfigResourceChanges[] = [
    ...Object.entries(topics).map(([topic, lists]) => ({
      resourceType: ConfigResource.topic,
      resourceName: topic,
      changes: [
        { name: LEADER_THROTTLED_REPLICAS, operation: AlterOperation.set, value: lists.leader },
        { name: FOLLOWER_THROTTLED_REPLICAS, operation: AlterOperation.set, value: lists.follower },
      ],
    })),
    ...brokers.map((broker) => ({
      resourceType: ConfigResource.broker,
      resourceName: String(broker),
      changes: THROTTLE_RATE_KEYS.map((key) => ({ name: key, operation: AlterOperation.set, value: String(rate) })),
    })),
  ];
  const failed = (await admin.incrementalAlterConfigs(changes)).filter((result) => result.errorCode !== ErrorCode.NONE);
  if (failed.length > 0) {
    throw new ToolError(
      `could not set the replication throttle, so no reassignment was started:\n${failed.map((result) => `${resourceLabel(result.resourceType, result.resourceName)}: ${result.error}${result.message ? ` (${result.message})` : ''}`).join('\n')}`,
    );
  }
  return { brokers, topics };
}

// ---- --verify ----------------------------------------------------------------------------------

type PartitionState = 'completed' | 'in-progress' | 'not-on-target';

async function verify(admin: AdminClient, options: ReassignOptions, proposed: PartitionAssignment[]): Promise<void> {
  const states = await partitionStates(admin, proposed);
  const lines = ['Status of partition reassignment:'];
  for (const entry of states) {
    if (entry.state === 'completed') lines.push(`Reassignment of partition ${name(entry)} is completed.`);
    else if (entry.state === 'in-progress') lines.push(`Reassignment of partition ${name(entry)} is still in progress.`);
    else lines.push(`There is no active reassignment of partition ${name(entry)}, but replica set is ${listText(entry.replicas)} rather than ${listText(entry.target)}.`);
  }
  const currentReplicas = new Map(states.map((entry) => [name(entry), entry.replicas]));
  const moves = await logDirMoveStates(admin, replicaLogDirTargets(proposed), currentReplicas);
  for (const move of moves) lines.push(logDirMoveLine(move));
  const done = states.every((entry) => entry.state !== 'in-progress') && moves.every((move) => !move.inProgress);
  let cleared: Cleared | null = null;
  if (done && !options.preserveThrottles) cleared = await clearThrottles(admin, proposed, lines);
  print(options, { partitions: states, replicaLogDirs: moves, complete: done, throttlesCleared: cleared }, () => lines.join('\n'));
  const wrong = states.filter((entry) => entry.state === 'not-on-target');
  const misplaced = moves.filter((move) => !move.inProgress && move.state !== 'completed');
  const problems: string[] = [];
  if (wrong.length > 0) problems.push(`${wrong.length} partition(s) are not on their target replicas and have no reassignment in progress: ${wrong.map(name).join(', ')}`);
  if (misplaced.length > 0) problems.push(`${misplaced.length} replica(s) are not in their target log directory and not moving there: ${misplaced.map(replicaName).join(', ')}`);
  if (problems.length > 0) throw new ToolError(problems.join('; '));
}

/**
 * Where a replica stands against its target log directory, Kafka's LogDirMoveState:
 * - completed: it is in the target directory;
 * - moving: a future copy is being built in the target directory (Kafka's active move);
 * - moving-elsewhere: a future copy is being built in another directory;
 * - not-moving: it is in another directory, no copy under way (Kafka's cancelled move);
 * - missing-log-dir: the broker does not list it and has an offline log directory;
 * - missing-replica: the broker does not list it and is not one of the partition's replicas;
 * - unlisted: the broker does not list it, all its directories are online and it is one of the
 *   partition's replicas. Conveyor's broker stops serving a replica while it copies it to another
 *   directory (and lists it nowhere meanwhile), and a broker a reassignment adds lists a replica
 *   once it has created it: either way a move in progress.
 */
export type LogDirMoveStateName = 'completed' | 'moving' | 'moving-elsewhere' | 'not-moving' | 'missing-log-dir' | 'missing-replica' | 'unlisted';

export interface LogDirMoveState extends ReplicaLogDirTarget {
  state: LogDirMoveStateName;
  inProgress: boolean;
  currentLogDir: string | null;
  futureLogDir: string | null;
}

/** Each target replica's state, from one DescribeLogDirs per broker (Kafka's describeReplicaLogDirs). */
async function logDirMoveStates(admin: AdminClient, targets: readonly ReplicaLogDirTarget[], currentReplicas: ReadonlyMap<string, readonly number[]>): Promise<LogDirMoveState[]> {
  const states: LogDirMoveState[] = [];
  for (const [broker, ofBroker] of byBroker(targets)) {
    const dirs = await admin.describeLogDirs(broker, ofBroker);
    for (const target of ofBroker) states.push(logDirMoveState(dirs, target, currentReplicas.get(name(target))?.includes(broker) ?? false));
  }
  return states;
}

/** A replica's state from its broker's log directories; `assigned`: the metadata lists the broker among the partition's replicas. */
export function logDirMoveState(dirs: readonly LogDirInfo[], target: ReplicaLogDirTarget, assigned: boolean): LogDirMoveState {
  const holding = (future: boolean) => dirs.find((dir) => dir.partitions.some((entry) => entry.topic === target.topic && entry.partition === target.partition && entry.future === future))?.path ?? null;
  const currentLogDir = holding(false);
  const futureLogDir = holding(true);
  const inTarget = (dir: string) => resolve(dir) === resolve(target.logDir);
  let state: LogDirMoveStateName;
  if (futureLogDir !== null) state = inTarget(futureLogDir) ? 'moving' : 'moving-elsewhere';
  else if (currentLogDir !== null) state = inTarget(currentLogDir) ? 'completed' : 'not-moving';
  else if (dirs.some((dir) => dir.errorCode !== ErrorCode.NONE)) state = 'missing-log-dir';
  else state = assigned ? 'unlisted' : 'missing-replica';
  return { ...target, state, inProgress: state === 'moving' || state === 'moving-elsewhere' || state === 'unlisted', currentLogDir, futureLogDir };
}

/** Kafka's line for a replica's log directory move. */
export function logDirMoveLine(move: LogDirMoveState): string {
  switch (move.state) {
    case 'completed':
      return `Reassignment of replica ${replicaName(move)} completed successfully.`;
    case 'moving':
    case 'unlisted':
      return `Reassignment of replica ${replicaName(move)} is still in progress.`;
    case 'moving-elsewhere':
      return `Partition ${name(move)} on broker ${move.broker} is being moved to log dir ${move.futureLogDir} instead of ${move.logDir}.`;
    case 'not-moving':
      return `Partition ${name(move)} on broker ${move.broker} is not being moved from log dir ${move.currentLogDir} to ${move.logDir}.`;
    case 'missing-log-dir':
      return `Partition ${name(move)} is not found in any live log dir on broker ${move.broker}. There is likely an offline log directory on the broker.`;
    case 'missing-replica':
      return `Partition ${name(move)} cannot be found in any live log directory on broker ${move.broker}.`;
  }
}

/**
 * Where each partition stands. The moves in progress come from the active controller
 * (ListPartitionReassignments), the replicas from a broker's metadata, which follows the
 * controller's by up to a metadata fetch: a move the controller has just completed or cancelled
 * can still show there with its old replica list. So a partition with no move in progress and not
 * on its target is asked about again, for up to METADATA_SETTLE_MS, before it is reported so.
 */
async function partitionStates(admin: AdminClient, proposed: readonly PartitionAssignment[]) {
  const deadline = Date.now() + METADATA_SETTLE_MS;
  for (;;) {
    const ongoing = new Set((await admin.listPartitionReassignments(proposed)).map(name));
    const current = await currentOf(admin, proposed);
    const states = proposed.map((target, index) => {
      const replicas = current[index]!.replicas;
      const state: PartitionState = ongoing.has(name(target)) ? 'in-progress' : sameList(replicas, target.replicas) ? 'completed' : 'not-on-target';
      return { topic: target.topic, partition: target.partition, state, replicas, target: target.replicas };
    });
    if (states.every((entry) => entry.state !== 'not-on-target') || Date.now() >= deadline) return states;
    await delay(200);
  }
}

interface Cleared {
  brokers: number[];
  topics: string[];
}

/**
 * Removes the throttles, as Kafka's tool does: the rates on every broker in the cluster and the
 * replica lists on every topic of the reassignment; appends Kafka's lines to `lines`.
 */
async function clearThrottles(admin: AdminClient, proposed: readonly PartitionAssignment[], lines: string[]): Promise<Cleared> {
  const brokers = (await admin.describeBrokers()).map((broker) => broker.nodeId);
  const topics = [...new Set(proposed.map((entry) => entry.topic))].sort();
  const changes: ConfigResourceChanges[] = [
    ...brokers.map((broker) => ({
      resourceType: ConfigResource.broker,
      resourceName: String(broker),
      changes: THROTTLE_RATE_KEYS.map((key) => ({ name: key, operation: AlterOperation.delete, value: null })),
    })),
    ...topics.map((topic) => ({
      resourceType: ConfigResource.topic,
      resourceName: topic,
      changes: [LEADER_THROTTLED_REPLICAS, FOLLOWER_THROTTLED_REPLICAS].map((key) => ({ name: key, operation: AlterOperation.delete, value: null })),
    })),
  ];
  const failed = (await admin.incrementalAlterConfigs(changes)).filter((result) => result.errorCode !== ErrorCode.NONE);
  if (failed.length > 0) {
    throw new ToolError(`could not remove the replication throttles:\n${failed.map((result) => `${resourceLabel(result.resourceType, result.resourceName)}: ${result.error}${result.message ? ` (${result.message})` : ''}`).join('\n')}`);
  }
  lines.push(`Clearing broker-level throttles on brokers ${brokers.join(',')}`);
  for (const topic of topics) lines.push(`Clearing topic-level throttles on topic ${topic}`);
  return { brokers, topics };
}

// ---- --cancel ----------------------------------------------------------------------------------

async function cancel(admin: AdminClient, options: ReassignOptions, proposed: PartitionAssignment[], timeoutMs: number): Promise<void> {
  await currentOf(admin, proposed);
  const active = await admin.listPartitionReassignments(proposed);
  const results = await admin.alterPartitionReassignments(
    active.map(({ topic, partition }) => ({ topic, partition, replicas: null })),
    timeoutMs,
  );
  const cancelled = results.filter((result) => result.errorCode === ErrorCode.NONE);
  const failed = results.filter((result) => result.errorCode !== ErrorCode.NONE);
  const lines: string[] = [];
  if (active.length === 0) lines.push('None of the specified partition reassignments are active.');
  if (cancelled.length > 0) lines.push(`Successfully cancelled partition reassignment${cancelled.length === 1 ? '' : 's'} for: ${cancelled.map(name).join(',')}`);
  if (failed.length > 0) lines.push(`Error cancelling partition reassignment(s):\n${failed.map(failureLine).join('\n')}`);
  // As Kafka's tool, which stops at a failed cancellation: the log directory moves only after.
  const moves: LogDirMoves = { started: [], pending: [], failure: null };
  let copying: ReplicaLogDirTarget[] = [];
  if (failed.length === 0) {
    copying = await logDirCopiesUnderWay(admin, replicaLogDirTargets(proposed));
    if (copying.length === 0) lines.push('None of the specified partition moves are active.');
    else {
      try {
        await executeLogDirMoves(admin, copying, timeoutMs, moves);
      } catch (error) {
        moves.failure = error instanceof Error ? error.message : String(error);
      }
      for (const target of moves.started) lines.push(`Successfully started moving log directory to ${target.logDir} for replica ${name(target)} with broker ${target.broker}`);
      if (moves.failure !== null) lines.push(moves.failure);
      else if (moves.pending.length > 0) lines.push(`Timed out before log directory move${moves.pending.length === 1 ? '' : 's'} could be started for: ${moves.pending.map(replicaName).join(',')}`);
    }
  }
  const movesDone = moves.failure === null && moves.pending.length === 0;
  let cleared: Cleared | null = null;
  if (failed.length === 0 && movesDone && !options.preserveThrottles) cleared = await clearThrottles(admin, proposed, lines);
  const logDirMoves = copying.map((target) => ({ topic: target.topic, partition: target.partition, broker: target.broker, logDir: target.logDir, cancelled: moves.started.includes(target) }));
  print(options, { results: results.map(resultJson), logDirMoves, throttlesCleared: cleared }, () => lines.join('\n'));
  if (failed.length > 0) throw new ToolError(`${failed.length} partition reassignment(s) could not be cancelled`);
  if (moves.failure !== null) throw new ToolError(moves.failure);
  if (moves.pending.length > 0) throw new ToolError(`${moves.pending.length} log directory move(s) could not be cancelled within ${timeoutMs} ms (--timeout): ${moves.pending.map(replicaName).join(',')}`);
}

/**
 * The replicas of `targets` whose broker is copying them to another of its log directories (Kafka's
 * ActiveMoveState: DescribeLogDirs lists both the replica and a future replica), each with its
 * current directory as the one to go back to. A replica listed nowhere, or only as a future
 * replica, is left alone, as Kafka's tool leaves it.
 */
async function logDirCopiesUnderWay(admin: AdminClient, targets: readonly ReplicaLogDirTarget[]): Promise<ReplicaLogDirTarget[]> {
  const states = await logDirMoveStates(admin, targets, new Map());
  return states.flatMap((state) => (state.futureLogDir !== null && state.currentLogDir !== null ? [{ topic: state.topic, partition: state.partition, broker: state.broker, logDir: state.currentLogDir }] : []));
}

// ---- --list ------------------------------------------------------------------------------------

async function list(admin: AdminClient, options: ReassignOptions): Promise<void> {
  const ongoing = await admin.listPartitionReassignments();
  print(options, ongoing, () =>
    ongoing.length === 0
      ? 'No partition reassignments found.'
      : [
          'Current partition reassignments:',
          ...ongoing.map((entry) => `${name(entry)}: replicas: ${entry.replicas.join(',')}. adding: ${entry.addingReplicas.join(',')}. removing: ${entry.removingReplicas.join(',')}.`),
        ].join('\n'),
  );
}

// ---- Formatting --------------------------------------------------------------------------------

function name({ topic, partition }: TopicPartition): string {
  return `${topic}-${partition}`;
}

/** Kafka's TopicPartitionReplica: topic-partition-broker. */
function replicaName({ topic, partition, broker }: ReplicaLogDirTarget): string {
  return `${topic}-${partition}-${broker}`;
}

function sortPartitions<T extends TopicPartition>(partitions: readonly T[]): T[] {
  return [...partitions].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function listText(ids: readonly number[]): string {
  return `[${ids.join(', ')}]`;
}

function failureLine(result: PartitionResult): string {
  return `${name(result)}: ${result.error}${result.message ? `: ${result.message}` : ''}`;
}

function resultJson(result: PartitionResult): { topic: string; partition: number; error: string | null; message: string | null } {
  return { topic: result.topic, partition: result.partition, error: result.error, message: result.message };
}

function resourceLabel(resourceType: number, resourceName: string): string {
  return resourceType === ConfigResource.topic ? `topic ${resourceName}` : `broker ${resourceName}`;
}
