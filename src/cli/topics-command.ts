// `conveyor topics create|list|describe|alter|delete`: Kafka's kafka-topics tool for Conveyor,
// with partitions, leaders, replicas, earliest and latest offsets and the topic's config overrides.
import type { Command } from 'commander';
import { AlterOperation, ConfigResource, type TopicInfo, type AdminClient } from '../client/admin-client.js';
import { KafkaResponseError, ToolError } from '../client/cluster-client.js';
import { ErrorCode } from '../base/error-codes.js';
import { type ToolOptions, collect, integerOption, parseConfigList, print, table, toolOptions, withAdmin } from './output.js';

interface TopicOptions extends ToolOptions {
  topic?: string;
  partitions?: string;
  replicationFactor?: string;
  config: string[];
  ifNotExists?: boolean;
  ifExists?: boolean;
  validateOnly?: boolean;
  includeInternal?: boolean;
}

function topicName(positional: string | undefined, options: TopicOptions): string {
  const name = positional ?? options.topic;
  if (!name) throw new ToolError('name the topic: conveyor topics <command> --topic NAME');
  return name;
}

function configsOf(options: TopicOptions): Record<string, string> {
  return Object.assign({}, ...options.config.map(parseConfigList));
}

export function registerTopicsCommand(program: Command): void {
  const topics = program.command('topics').description('create, list, describe, alter and delete topics');
  toolOptions(topics.command('list').description('list topics'))
    .option('--include-internal', 'also list internal topics such as __consumer_offsets')
    .action((options: TopicOptions) => withAdmin(options, (admin) => listTopics(admin, options)));
  toolOptions(topics.command('create [topic]').description('create a topic'))
    .option('--topic <name>', 'the topic')
    .option('--partitions <n>', 'number of partitions (default: the broker\'s num.partitions)')
    .option('--replication-factor <n>', 'replicas per partition (default: default.replication.factor)')
    .option('--config <key=value>', 'a topic config (repeatable; k=v,k2=v2 also works)', collect, [])
    .option('--if-not-exists', 'succeed if the topic already exists')
    .option('--validate-only', 'check the request without creating the topic')
    .action((positional: string | undefined, options: TopicOptions) => withAdmin(options, (admin) => createTopic(admin, topicName(positional, options), options)));
  toolOptions(topics.command('describe [topic]').description('partitions, leaders, offsets and configs of one topic or all'))
    .option('--topic <name>', 'the topic (default: every topic)')
    .option('--include-internal', 'with no topic named, also describe internal topics')
    .action((positional: string | undefined, options: TopicOptions) => withAdmin(options, (admin) => describeTopics(admin, positional ?? options.topic, options)));
  toolOptions(topics.command('alter [topic]').description('add partitions or change configs'))
    .option('--topic <name>', 'the topic')
    .option('--partitions <n>', 'the new, larger, number of partitions')
    .option('--config <key=value>', 'set a topic config (repeatable)', collect, [])
    .action((positional: string | undefined, options: TopicOptions) => withAdmin(options, (admin) => alterTopic(admin, topicName(positional, options), options)));
  toolOptions(topics.command('delete [topic]').description('delete a topic and its data'))
    .option('--topic <name>', 'the topic')
    .option('--if-exists', 'succeed if the topic does not exist')
    .action((positional: string | undefined, options: TopicOptions) => withAdmin(options, (admin) => deleteTopic(admin, topicName(positional, options), options)));
}

async function listTopics(admin: AdminClient, options: TopicOptions): Promise<void> {
  const topics = await admin.listTopics(options.includeInternal ?? false);
  print(options, topics.map((topic) => ({ name: topic.name, partitions: topic.partitions.length, topicId: topic.topicId, internal: topic.internal })), () =>
    topics.length === 0 ? '(no topics)' : table([['TOPIC', 'PARTITIONS'], ...topics.map((topic) => [topic.name, topic.partitions.length])]),
  );
}

async function createTopic(admin: AdminClient, name: string, options: TopicOptions): Promise<void> {
  const partitions = integerOption('--partitions', options.partitions, 1);
  const replicationFactor = integerOption('--replication-factor', options.replicationFactor, 1);
  try {
    await admin.createTopic(name, { partitions, replicationFactor, configs: configsOf(options), validateOnly: options.validateOnly ?? false });
  } catch (error) {
    if (options.ifNotExists && error instanceof KafkaResponseError && error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS) {
      print(options, { topic: name, created: false }, () => `topic '${name}' already exists`);
      return;
    }
    throw error;
  }
  const what = options.validateOnly ? 'would be created (validate only)' : 'created';
  print(options, { topic: name, created: !options.validateOnly }, () => `topic '${name}' ${what}`);
}

interface DescribedTopic {
  name: string;
  topicId: string;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[]; earliestOffset: number; latestOffset: number }[];
  configs: Record<string, string | null>;
}

async function describeOne(admin: AdminClient, topic: TopicInfo): Promise<DescribedTopic> {
  const offsets = await admin.partitionOffsets(topic);
  const configs = await admin.describeConfigs(ConfigResource.topic, topic.name);
  return {
    name: topic.name,
    topicId: topic.topicId,
    partitions: topic.partitions.map((partition, index) => ({
      partition: partition.partition,
      leader: partition.leader,
      replicas: partition.replicas,
      isr: partition.isr,
      earliestOffset: offsets[index]!.earliest,
      latestOffset: offsets[index]!.latest,
    })),
    configs: Object.fromEntries(configs.filter((config) => config.source === 'DYNAMIC_TOPIC_CONFIG').map((config) => [config.name, config.value])),
  };
}

async function describeTopics(admin: AdminClient, name: string | undefined, options: TopicOptions): Promise<void> {
  const topics = name ? [await admin.describeTopic(name)] : await admin.listTopics(options.includeInternal ?? false);
  const described: DescribedTopic[] = [];
  for (const topic of topics) described.push(await describeOne(admin, topic));
  print(options, name ? described[0] : described, () => described.map(describedText).join('\n\n') || '(no topics)');
}

function describedText(topic: DescribedTopic): string {
  const configs = Object.entries(topic.configs).map(([key, value]) => `${key}=${value}`).join(',') || '(defaults)';
  const header = `Topic: ${topic.name}  TopicId: ${topic.topicId}  PartitionCount: ${topic.partitions.length}  Configs: ${configs}`;
  const rows = topic.partitions.map((partition) => [
    partition.partition,
    partition.leader,
    partition.replicas.join(','),
    partition.isr.join(','),
    partition.earliestOffset,
    partition.latestOffset,
    partition.latestOffset - partition.earliestOffset,
  ]);
  return `${header}\n${table([['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'EARLIEST', 'LATEST', 'RECORDS'], ...rows])}`;
}

async function alterTopic(admin: AdminClient, name: string, options: TopicOptions): Promise<void> {
  const partitions = integerOption('--partitions', options.partitions, 1);
  const configs = configsOf(options);
  if (partitions === undefined && Object.keys(configs).length === 0) throw new ToolError('nothing to alter: give --partitions N and/or --config key=value');
  if (partitions !== undefined) await admin.createPartitions(name, partitions);
  if (Object.keys(configs).length > 0) {
    await admin.alterConfigs(ConfigResource.topic, name, Object.entries(configs).map(([key, value]) => ({ name: key, operation: AlterOperation.set, value })));
  }
  print(options, { topic: name, partitions: partitions ?? null, configs }, () => `topic '${name}' altered`);
}

async function deleteTopic(admin: AdminClient, name: string, options: TopicOptions): Promise<void> {
  try {
    await admin.deleteTopic(name);
  } catch (error) {
    if (options.ifExists && error instanceof KafkaResponseError && error.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      print(options, { topic: name, deleted: false }, () => `topic '${name}' does not exist`);
      return;
    }
    throw error;
  }
  print(options, { topic: name, deleted: true }, () => `topic '${name}' deleted`);
}
