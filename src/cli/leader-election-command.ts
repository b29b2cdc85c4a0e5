// `conveyor leader-election`: Kafka's kafka-leader-election tool for Conveyor. Asks the cluster
// (ElectLeaders, which a broker forwards to the active controller) for a preferred or unclean
// leader election on one partition (--topic/--partition), on the partitions a JSON file lists
// (--path-to-json-file, Kafka's {"partitions":[{"topic":"t","partition":0}]}) or on every partition
// (--all-topic-partitions), and prints Kafka's lines: partitions elected, partitions whose valid
// replica already leads (ELECTION_NOT_NEEDED, not a failure) and one line per failed partition; any
// failure makes the exit status non-zero. For every partition the request is sent with null
// partitions, as Kafka's tool does; the controller then lists only the partitions an election was
// needed for, so this tool names the partitions the cluster metadata has and the answer leaves out
// as already elected (Kafka's tool prints nothing for them).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ErrorCode, errorName } from '../base/error-codes.js';
import { type ClusterClient, KafkaResponseError, REQUEST_TIMEOUT_MS, ToolError } from '../client/cluster-client.js';
import { ElectLeadersApi, type ElectLeadersResponse } from '../protocol/messages/index.js';
import { type ToolOptions, integerOption, openCluster, print, toolOptions } from './output.js';

/** ElectLeaders' ElectionType codes, by the names the tool takes. */
const ELECTION_TYPES = { PREFERRED: 0, UNCLEAN: 1 } as const;
type ElectionTypeName = keyof typeof ELECTION_TYPES;

interface LeaderElectionOptions extends ToolOptions {
  electionType?: string;
  topic?: string;
  partition?: string;
  allTopicPartitions?: boolean;
  pathToJsonFile?: string;
}

interface TopicPartition {
  topic: string;
  partition: number;
}

type Outcome = 'elected' | 'already-elected' | 'failed';

interface PartitionOutcome extends TopicPartition {
  outcome: Outcome;
  /** Kafka's error name (ELECTION_NOT_NEEDED for an already elected partition), or null. */
  error: string | null;
  message: string | null;
}

export function registerLeaderElectionCommand(program: Command): void {
  toolOptions(program.command('leader-election').description('elect the preferred (or, uncleanly, any available) replica as leader of partitions'))
    .option('--election-type <type>', 'PREFERRED (the first replica, if in sync) or UNCLEAN (any live replica of a leaderless partition)')
    .option('--topic <name>', 'the topic of the one partition to elect a leader for (with --partition)')
    .option('--partition <n>', 'the partition of --topic')
    .option('--all-topic-partitions', 'every partition of every topic')
    .option('--path-to-json-file <file>', 'the partitions listed in a JSON file: {"partitions":[{"topic":"t","partition":0},...]}')
    .action((options: LeaderElectionOptions) => leaderElection(options));
}

async function leaderElection(options: LeaderElectionOptions): Promise<void> {
  const electionType = electionTypeOf(options.electionType);
  const requested = await partitionsOf(options);
  const cluster = await openCluster(options);
  let outcomes: PartitionOutcome[];
  try {
    // Every partition: the metadata says which partitions there are before the controller answers.
    const known = requested === null ? await everyPartition(cluster) : [];
    const response = await cluster.request(
      ElectLeadersApi,
      {
        electionType: ELECTION_TYPES[electionType],
        topicPartitions: requested === null ? null : groupByTopic(requested),
        timeoutMs: REQUEST_TIMEOUT_MS,
      },
      // v0 has no election type: it is always preferred.
      { minVersion: electionType === 'PREFERRED' ? 0 : 1 },
    );
    outcomes = outcomesOf(response, requested, known);
  } finally {
    cluster.close();
  }
  const succeeded = outcomes.filter((entry) => entry.outcome === 'elected');
  const noop = outcomes.filter((entry) => entry.outcome === 'already-elected');
  const failed = outcomes.filter((entry) => entry.outcome === 'failed');
  print(options, { electionType, partitions: outcomes }, () => {
    const lines: string[] = [];
    if (succeeded.length > 0) lines.push(`Successfully completed leader election (${electionType}) for partitions ${succeeded.map(name).join(', ')}`);
    if (noop.length > 0) lines.push(`Valid replica already elected for partitions ${noop.map(name).join(', ')}`);
    for (const entry of failed) lines.push(`Error completing leader election (${electionType}) for partition: ${name(entry)}: ${entry.error}${entry.message ? `: ${entry.message}` : ''}`);
    if (lines.length === 0) lines.push('No partitions to elect leaders for');
    return lines.join('\n');
  });
  if (failed.length > 0) throw new ToolError(`${failed.length} replica(s) could not be elected`);
}

function electionTypeOf(text: string | undefined): ElectionTypeName {
  if (text === undefined) throw new ToolError('--election-type is required: PREFERRED or UNCLEAN');
  const upper = text.trim().toUpperCase();
  if (upper !== 'PREFERRED' && upper !== 'UNCLEAN') throw new ToolError(`--election-type must be PREFERRED or UNCLEAN (any case), got '${text}'`);
  return upper;
}

/** The partitions the options name, or null for every partition. Exactly one way must be used. */
async function partitionsOf(options: LeaderElectionOptions): Promise<TopicPartition[] | null> {
  const ways = [options.topic !== undefined && '--topic', options.allTopicPartitions === true && '--all-topic-partitions', options.pathToJsonFile !== undefined && '--path-to-json-file'].filter(
    (way): way is string => way !== false,
  );
  if (ways.length !== 1) {
    const given = ways.length === 0 ? 'none was given' : `got ${ways.join(' and ')}`;
    throw new ToolError(`exactly one of --topic (with --partition), --all-topic-partitions or --path-to-json-file is required; ${given}`);
  }
  if (options.partition !== undefined && options.topic === undefined) throw new ToolError('--partition needs --topic');
  if (options.topic !== undefined) {
    if (options.topic === '') throw new ToolError('--topic must name a topic');
    if (options.partition === undefined) throw new ToolError('--topic needs --partition');
    return [{ topic: options.topic, partition: integerOption('--partition', options.partition)! }];
  }
  if (options.allTopicPartitions) return null;
  return readPartitionsFile(options.pathToJsonFile!);
}

/** Kafka's election file: {"partitions":[{"topic":"t","partition":0},...]}, no partition twice. */
async function readPartitionsFile(path: string): Promise<TopicPartition[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ToolError(`cannot read --path-to-json-file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const malformed = (why: string) => new ToolError(`--path-to-json-file ${path} is not a valid election file (${why}); expected {"partitions":[{"topic":"t","partition":0},...]}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw malformed(`not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as { partitions?: unknown }).partitions : undefined;
  if (!Array.isArray(list)) throw malformed('no "partitions" array');
  if (list.length === 0) throw malformed('"partitions" is empty');
  const partitions = list.map((entry: unknown, index): TopicPartition => {
    const { topic, partition } = (typeof entry === 'object' && entry !== null ? entry : {}) as { topic?: unknown; partition?: unknown };
    if (typeof topic !== 'string' || topic === '') throw malformed(`partitions[${index}] has no "topic" string`);
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) throw malformed(`partitions[${index}] has no non-negative integer "partition"`);
    return { topic, partition };
  });
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const entry of partitions) (seen.has(name(entry)) ? duplicates : seen).add(name(entry));
  if (duplicates.size > 0) throw new ToolError(`--path-to-json-file ${path} lists partitions more than once: ${[...duplicates].join(', ')}`);
  return partitions;
}

/** Every partition of every topic (internal ones too: null elects those as well) in the metadata. */
async function everyPartition(cluster: ClusterClient): Promise<TopicPartition[]> {
  const metadata = await cluster.metadata();
  return metadata.topics.flatMap((topic) =>
    topic.name === null || topic.errorCode !== ErrorCode.NONE ? [] : topic.partitions.map((partition) => ({ topic: topic.name!, partition: partition.partitionIndex })),
  );
}

function groupByTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([topic, ids]) => ({ topic, partitions: ids }));
}

/** Each partition's result; for every partition, those the answer leaves out needed no election. */
function outcomesOf(response: ElectLeadersResponse, requested: TopicPartition[] | null, known: TopicPartition[]): PartitionOutcome[] {
  const results = new Map<string, PartitionOutcome>();
  for (const { topic, partitionResult } of response.replicaElectionResults) {
    for (const { partitionId, errorCode, errorMessage } of partitionResult) {
      const outcome: Outcome = errorCode === ErrorCode.NONE ? 'elected' : errorCode === ErrorCode.ELECTION_NOT_NEEDED ? 'already-elected' : 'failed';
      results.set(name({ topic, partition: partitionId }), { topic, partition: partitionId, outcome, error: errorCode === ErrorCode.NONE ? null : errorName(errorCode), message: errorMessage });
    }
  }
  const topLevel = response.errorCode ?? ErrorCode.NONE;
  // A request-wide error (v1+) with no partition listed: nothing was elected.
  if (topLevel !== ErrorCode.NONE && results.size === 0) throw new KafkaResponseError(topLevel, 'leader election');
  for (const entry of requested ?? known) {
    if (results.has(name(entry))) continue;
    results.set(
      name(entry),
      requested === null
        ? { ...entry, outcome: 'already-elected', error: errorName(ErrorCode.ELECTION_NOT_NEEDED), message: null }
        : { ...entry, outcome: 'failed', error: errorName(topLevel === ErrorCode.NONE ? ErrorCode.UNKNOWN_SERVER_ERROR : topLevel), message: 'the broker did not answer for this partition' },
    );
  }
  return [...results.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

function name({ topic, partition }: TopicPartition): string {
  return `${topic}-${partition}`;
}
