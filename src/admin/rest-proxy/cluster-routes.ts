// Clusters, brokers and their configs, topics, partitions and replicas, and topic configs: the
// resources of Confluent REST Proxy v3 with its paths and field names. Conveyor adds to a
// partition the ids of its leader, replicas and in-sync replicas and its earliest and latest
// offsets (leader_id, replica_ids, isr_ids, earliest_offset, latest_offset).
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaResponseError } from '../../client/cluster-client.js';
import { AlterOperation, ConfigResource, type ConfigEntry, type PartitionInfo, type TopicInfo } from '../../client/admin-client.js';
import { type Params, type RouteContext, type Routes, idParam, jsonObject, list, related } from './context.js';
import { notFound, unprocessable } from './errors.js';

/** How long a create waits for the new topic's metadata before answering. */
const CREATED_TOPIC_WAIT_MS = 3_000;

export function registerClusterRoutes(app: FastifyInstance, routes: Routes): void {
  app.get('/v3/clusters', routes.handler(async (context) => list('KafkaClusterList', `${context.baseUrl}/v3/clusters`, [await clusterData(context)])));
  app.get('/v3/clusters/:cluster_id', routes.handler(clusterData));

  app.get('/v3/clusters/:cluster_id/brokers', routes.handler(async (context) => {
    const brokers = await context.client.admin.describeBrokers();
    return list('KafkaBrokerList', `${context.clusterUrl}/brokers`, brokers.map((broker) => brokerData(context, broker)));
  }));
  app.get('/v3/clusters/:cluster_id/brokers/:broker_id', routes.handler(async (context) => brokerData(context, await brokerOf(context))));
  app.get('/v3/clusters/:cluster_id/brokers/:broker_id/configs', routes.handler(async (context) => {
    const broker = await brokerOf(context);
    const configs = await context.client.admin.describeConfigs(ConfigResource.broker, String(broker.nodeId));
    return list('KafkaBrokerConfigList', `${context.clusterUrl}/brokers/${broker.nodeId}/configs`, configs.map((config) => brokerConfigData(context, broker.nodeId, config)));
  }));
  app.get('/v3/clusters/:cluster_id/brokers/:broker_id/configs/:name', routes.handler(async (context) => {
    const broker = await brokerOf(context);
    const name = (context.request.params as Params).name!;
    const [config] = await context.client.admin.describeConfigs(ConfigResource.broker, String(broker.nodeId), [name]);
    if (!config || config.name !== name) throw notFound(`Config ${name} cannot be found for broker ${broker.nodeId}.`);
    return brokerConfigData(context, broker.nodeId, config);
  }));

  app.get('/v3/clusters/:cluster_id/topics', routes.handler(async (context) => {
    const topics = await context.client.admin.listTopics(true);
    return list('KafkaTopicList', `${context.clusterUrl}/topics`, topics.map((topic) => topicData(context, topic)));
  }));
  app.post('/v3/clusters/:cluster_id/topics', routes.handler(async (context) => createTopic(context)));
  app.get('/v3/clusters/:cluster_id/topics/:topic_name', routes.handler(async (context) => topicData(context, await topicOf(context))));
  app.delete('/v3/clusters/:cluster_id/topics/:topic_name', routes.handler(async (context) => {
    await context.client.admin.deleteTopic(topicName(context));
    context.reply.code(204);
    return '';
  }));

  app.get('/v3/clusters/:cluster_id/topics/:topic_name/partitions', routes.handler(async (context) => {
    const topic = await topicOf(context);
    const offsets = await partitionOffsets(context, topic);
    return list('KafkaPartitionList', `${topicUrl(context, topic.name)}/partitions`, topic.partitions.map((partition) => partitionData(context, topic.name, partition, offsets.get(partition.partition))));
  }));
  app.get('/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id', routes.handler(async (context) => {
    const { topic, partition } = await partitionOf(context);
    const offsets = await partitionOffsets(context, topic);
    return partitionData(context, topic.name, partition, offsets.get(partition.partition));
  }));
  app.get('/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/replicas', routes.handler(async (context) => {
    const { topic, partition } = await partitionOf(context);
    return list('KafkaReplicaList', `${partitionUrl(context, topic.name, partition.partition)}/replicas`, partition.replicas.map((brokerId) => replicaData(context, topic.name, partition, brokerId)));
  }));
  app.get('/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/replicas/:broker_id', routes.handler(async (context) => {
    const { topic, partition } = await partitionOf(context);
    const brokerId = idParam(context.request.params as Params, 'broker_id', 'Replica');
    if (!partition.replicas.includes(brokerId)) throw notFound(`Replica ${brokerId} of ${topic.name}-${partition.partition} cannot be found.`);
    return replicaData(context, topic.name, partition, brokerId);
  }));

  app.get('/v3/clusters/:cluster_id/topics/:topic_name/configs', routes.handler(async (context) => {
    const name = topicName(context);
    const configs = await context.client.admin.describeConfigs(ConfigResource.topic, name);
    return list('KafkaTopicConfigList', `${topicUrl(context, name)}/configs`, configs.map((config) => topicConfigData(context, name, config)));
  }));
  app.get('/v3/clusters/:cluster_id/topics/:topic_name/configs/:name', routes.handler(async (context) => {
    const name = topicName(context);
    const key = (context.request.params as Params).name!;
    const [config] = await context.client.admin.describeConfigs(ConfigResource.topic, name, [key]);
    if (!config || config.name !== key) throw notFound(`Config ${key} cannot be found for topic ${name}.`);
    return topicConfigData(context, name, config);
  }));
  app.put('/v3/clusters/:cluster_id/topics/:topic_name/configs/:name', routes.handler(async (context) => {
    const body = jsonObject(context.request);
    if (typeof body.value !== 'string' && body.value !== null) throw unprocessable('value must be a string');
    const key = (context.request.params as Params).name!;
    await context.client.admin.alterConfigs(ConfigResource.topic, topicName(context), [{ name: key, operation: body.value === null ? AlterOperation.delete : AlterOperation.set, value: body.value as string | null }]);
    context.reply.code(204);
    return '';
  }));
  app.delete('/v3/clusters/:cluster_id/topics/:topic_name/configs/:name', routes.handler(async (context) => {
    const key = (context.request.params as Params).name!;
    await context.client.admin.alterConfigs(ConfigResource.topic, topicName(context), [{ name: key, operation: AlterOperation.delete, value: null }]);
    context.reply.code(204);
    return '';
  }));
  // configs:alter (a literal colon: fastify reads "::" as one).
  app.post('/v3/clusters/:cluster_id/topics/:topic_name/configs::alter', routes.handler(async (context) => {
    const body = jsonObject(context.request);
    const changes = parseConfigChanges(body.data);
    await context.client.admin.alterConfigs(ConfigResource.topic, topicName(context), changes, body.validate_only === true);
    context.reply.code(204);
    return '';
  }));
}

const OPERATIONS: Readonly<Record<string, number>> = { SET: AlterOperation.set, DELETE: AlterOperation.delete, APPEND: AlterOperation.append, SUBTRACT: AlterOperation.subtract };

function parseConfigChanges(data: unknown): { name: string; operation: number; value: string | null }[] {
  if (!Array.isArray(data) || data.length === 0) throw unprocessable('data must be a non-empty list of {"name", "value", "operation"}');
  return data.map((entry, index) => {
    const { name, value, operation } = (entry ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw unprocessable(`data[${index}].name must be a config name`);
    const op = OPERATIONS[typeof operation === 'string' ? operation.toUpperCase() : 'SET'];
    if (op === undefined) throw unprocessable(`data[${index}].operation must be SET, DELETE, APPEND or SUBTRACT`);
    if (op !== AlterOperation.delete && typeof value !== 'string') throw unprocessable(`data[${index}].value must be a string`);
    return { name, operation: op, value: op === AlterOperation.delete ? null : (value as string) };
  });
}

async function clusterData(context: RouteContext): Promise<Record<string, unknown>> {
  const metadata = await context.client.cluster.metadata([]);
  const url = context.clusterUrl;
  return {
    kind: 'KafkaCluster',
    metadata: { self: url, resource_name: `crn:///kafka=${context.clusterId}` },
    cluster_id: context.clusterId,
    controller: metadata.controllerId !== undefined && metadata.controllerId >= 0 ? related(`${url}/brokers/${metadata.controllerId}`) : null,
    acls: related(`${url}/acls`),
    brokers: related(`${url}/brokers`),
    broker_configs: related(`${url}/broker-configs`),
    consumer_groups: related(`${url}/consumer-groups`),
    topics: related(`${url}/topics`),
    partition_reassignments: related(`${url}/topics/-/partitions/-/reassignment`),
  };
}

type Broker = Awaited<ReturnType<RouteContext['client']['admin']['describeBrokers']>>[number];

async function brokerOf(context: RouteContext): Promise<Broker> {
  const id = idParam(context.request.params as Params, 'broker_id', 'Broker');
  const broker = (await context.client.admin.describeBrokers()).find((candidate) => candidate.nodeId === id);
  if (!broker) throw notFound(`Broker ${id} cannot be found.`);
  return broker;
}

function brokerData(context: RouteContext, broker: Broker): Record<string, unknown> {
  const url = `${context.clusterUrl}/brokers/${broker.nodeId}`;
  return {
    kind: 'KafkaBroker',
    metadata: { self: url, resource_name: `crn:///kafka=${context.clusterId}/broker=${broker.nodeId}` },
    cluster_id: context.clusterId,
    broker_id: broker.nodeId,
    host: broker.host,
    port: broker.port,
    rack: broker.rack,
    configs: related(`${url}/configs`),
    partition_replicas: related(`${url}/partition-replicas`),
    // Conveyor: a fenced broker is registered but not serving (null when the cluster cannot tell).
    fenced: broker.fenced,
  };
}

function configFields(config: ConfigEntry): Record<string, unknown> {
  return {
    name: config.name,
    value: config.sensitive ? null : config.value,
    is_default: config.source === 'DEFAULT_CONFIG',
    is_read_only: config.readOnly,
    is_sensitive: config.sensitive,
    source: config.source,
    synonyms: config.synonyms.map((synonym) => ({ name: synonym.name, value: config.sensitive ? null : synonym.value, source: synonym.source })),
  };
}

function brokerConfigData(context: RouteContext, brokerId: number, config: ConfigEntry): Record<string, unknown> {
  return {
    kind: 'KafkaBrokerConfig',
    metadata: { self: `${context.clusterUrl}/brokers/${brokerId}/configs/${encodeURIComponent(config.name)}`, resource_name: `crn:///kafka=${context.clusterId}/broker=${brokerId}/config=${config.name}` },
    cluster_id: context.clusterId,
    broker_id: brokerId,
    ...configFields(config),
  };
}

function topicName(context: RouteContext): string {
  return (context.request.params as Params).topic_name!;
}

export function topicUrl(context: RouteContext, name: string): string {
  return `${context.clusterUrl}/topics/${encodeURIComponent(name)}`;
}

function partitionUrl(context: RouteContext, topic: string, partition: number): string {
  return `${topicUrl(context, topic)}/partitions/${partition}`;
}

/** The path's topic, described; 404 when it does not exist. */
export async function topicOf(context: RouteContext): Promise<TopicInfo> {
  return context.client.admin.describeTopic(topicName(context));
}

/** The path's topic and partition; 404 when either does not exist. */
export async function partitionOf(context: RouteContext): Promise<{ topic: TopicInfo; partition: PartitionInfo }> {
  const topic = await topicOf(context);
  const id = idParam(context.request.params as Params, 'partition_id', 'Partition');
  const partition = topic.partitions.find((candidate) => candidate.partition === id);
  if (!partition) throw notFound(`Partition ${id} of topic ${topic.name} cannot be found.`);
  return { topic, partition };
}

function topicData(context: RouteContext, topic: TopicInfo): Record<string, unknown> {
  const url = topicUrl(context, topic.name);
  return {
    kind: 'KafkaTopic',
    metadata: { self: url, resource_name: `crn:///kafka=${context.clusterId}/topic=${topic.name}` },
    cluster_id: context.clusterId,
    topic_name: topic.name,
    is_internal: topic.internal,
    replication_factor: topic.partitions[0]?.replicas.length ?? 0,
    partitions_count: topic.partitions.length,
    partitions: related(`${url}/partitions`),
    configs: related(`${url}/configs`),
    partition_reassignments: related(`${url}/partitions/-/reassignment`),
    authorized_operations: [],
  };
}

/** Earliest and latest offsets per partition; none when the leader cannot be asked (the partition data leaves them out). */
async function partitionOffsets(context: RouteContext, topic: TopicInfo): Promise<Map<number, { earliest: number; latest: number }>> {
  try {
    const offsets = await context.client.admin.partitionOffsets(topic);
    return new Map(offsets.map(({ partition, earliest, latest }) => [partition, { earliest, latest }]));
  } catch {
    return new Map();
  }
}

function partitionData(context: RouteContext, topic: string, partition: PartitionInfo, offsets: { earliest: number; latest: number } | undefined): Record<string, unknown> {
  const url = partitionUrl(context, topic, partition.partition);
  return {
    kind: 'KafkaPartition',
    metadata: { self: url, resource_name: `crn:///kafka=${context.clusterId}/topic=${topic}/partition=${partition.partition}` },
    cluster_id: context.clusterId,
    topic_name: topic,
    partition_id: partition.partition,
    leader: partition.leader >= 0 ? related(`${url}/replicas/${partition.leader}`) : null,
    replicas: related(`${url}/replicas`),
    reassignment: related(`${url}/reassignment`),
    // Conveyor's additions, so a console needs no request per replica.
    leader_id: partition.leader,
    replica_ids: partition.replicas,
    isr_ids: partition.isr,
    earliest_offset: offsets?.earliest ?? null,
    latest_offset: offsets?.latest ?? null,
  };
}

function replicaData(context: RouteContext, topic: string, partition: PartitionInfo, brokerId: number): Record<string, unknown> {
  const url = `${partitionUrl(context, topic, partition.partition)}/replicas/${brokerId}`;
  return {
    kind: 'KafkaReplica',
    metadata: { self: url, resource_name: `crn:///kafka=${context.clusterId}/topic=${topic}/partition=${partition.partition}/replica=${brokerId}` },
    cluster_id: context.clusterId,
    topic_name: topic,
    partition_id: partition.partition,
    broker_id: brokerId,
    is_leader: partition.leader === brokerId,
    is_in_sync: partition.isr.includes(brokerId),
    broker: related(`${context.clusterUrl}/brokers/${brokerId}`),
  };
}

function topicConfigData(context: RouteContext, topic: string, config: ConfigEntry): Record<string, unknown> {
  return {
    kind: 'KafkaTopicConfig',
    metadata: { self: `${topicUrl(context, topic)}/configs/${encodeURIComponent(config.name)}`, resource_name: `crn:///kafka=${context.clusterId}/topic=${topic}/config=${config.name}` },
    cluster_id: context.clusterId,
    topic_name: topic,
    ...configFields(config),
  };
}

async function createTopic(context: RouteContext): Promise<Record<string, unknown>> {
  const body = jsonObject(context.request);
  const { topic_name: name, partitions_count: partitions, replication_factor: replicationFactor, configs, validate_only: validateOnly } = body;
  if (typeof name !== 'string' || name === '') throw unprocessable('topic_name must be a topic name');
  if (partitions !== undefined && (!Number.isInteger(partitions) || (partitions as number) < 1)) throw unprocessable('partitions_count must be a positive integer');
  if (replicationFactor !== undefined && (!Number.isInteger(replicationFactor) || (replicationFactor as number) < 1)) throw unprocessable('replication_factor must be a positive integer');
  if (body.replicas_assignments !== undefined) throw unprocessable('replicas_assignments is not supported: give partitions_count and replication_factor');
  const configMap: Record<string, string> = {};
  if (configs !== undefined) {
    if (!Array.isArray(configs)) throw unprocessable('configs must be a list of {"name", "value"}');
    configs.forEach((entry, index) => {
      const { name: key, value } = (entry ?? {}) as Record<string, unknown>;
      if (typeof key !== 'string' || typeof value !== 'string') throw unprocessable(`configs[${index}] must be {"name": string, "value": string}`);
      configMap[key] = value;
    });
  }
  await context.client.admin.createTopic(name, {
    ...(partitions === undefined ? {} : { partitions: partitions as number }),
    ...(replicationFactor === undefined ? {} : { replicationFactor: replicationFactor as number }),
    configs: configMap,
    validateOnly: validateOnly === true,
  });
  context.reply.code(201);
  if (validateOnly === true) {
    const count = (partitions as number | undefined) ?? 0;
    const factor = (replicationFactor as number | undefined) ?? 0;
    return topicData(context, { name, topicId: '', internal: false, partitions: Array.from({ length: count }, (_, partition) => ({ partition, leader: -1, leaderEpoch: -1, replicas: new Array(factor).fill(-1), isr: [] })) });
  }
  return topicData(context, await describeCreated(context, name));
}

/** A topic just created: a broker other than the controller may learn of it a moment later, so UNKNOWN_TOPIC_OR_PARTITION is retried briefly. */
async function describeCreated(context: RouteContext, name: string): Promise<TopicInfo> {
  const deadline = Date.now() + CREATED_TOPIC_WAIT_MS;
  while (true) {
    try {
      const topic = await context.client.admin.describeTopic(name);
      if (topic.partitions.every((partition) => partition.leader >= 0) || Date.now() >= deadline) return topic;
    } catch (error) {
      if (!(error instanceof KafkaResponseError) || error.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || Date.now() >= deadline) throw error;
    }
    await delay(50);
  }
}
