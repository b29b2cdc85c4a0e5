// Consumer groups as Confluent REST Proxy v3 shows them: the groups, one group (state, assignor,
// type, coordinator), its consumers with their assignments, its lag per partition and the lag
// summary; classic groups and KIP-848 consumer groups alike.
import type { FastifyInstance } from 'fastify';
import { type Params, type RouteContext, type Routes, list, related } from './context.js';
import { notFound } from './errors.js';
import { type GroupDescription, type GroupMemberInfo, describeGroup, describeListedGroups, groupLags, listGroups } from './groups.js';

export function registerGroupRoutes(app: FastifyInstance, routes: Routes): void {
  app.get('/v3/clusters/:cluster_id/consumer-groups', routes.handler(async (context) => {
    const groups = await listGroups(context.client.admin);
    // ListGroups tells only state and type; the assignor needs DescribeGroups or, for a consumer
    // group, ConsumerGroupDescribe (one of each per coordinator).
    const described = await describeListedGroups(context.client.admin, groups);
    return list('KafkaConsumerGroupList', `${context.clusterUrl}/consumer-groups`, described.map((group) => groupData(context, group)));
  }));
  app.get('/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id', routes.handler(async (context) => groupData(context, await groupOf(context))));
  app.get('/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers', routes.handler(async (context) => {
    const group = await groupOf(context);
    return list('KafkaConsumerList', `${groupUrl(context, group.groupId)}/consumers`, group.members.map((member) => consumerData(context, group.groupId, member)));
  }));
  app.get('/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id', routes.handler(async (context) => {
    const group = await groupOf(context);
    const id = (context.request.params as Params).consumer_id!;
    const member = group.members.find((candidate) => candidate.memberId === id);
    if (!member) throw notFound(`Consumer ${id} of group ${group.groupId} cannot be found.`);
    return consumerData(context, group.groupId, member);
  }));
  app.get('/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/consumers/:consumer_id/assignments', routes.handler(async (context) => {
    const group = await groupOf(context);
    const id = (context.request.params as Params).consumer_id!;
    const member = group.members.find((candidate) => candidate.memberId === id);
    if (!member) throw notFound(`Consumer ${id} of group ${group.groupId} cannot be found.`);
    const url = `${groupUrl(context, group.groupId)}/consumers/${encodeURIComponent(member.memberId)}/assignments`;
    return list('KafkaConsumerAssignmentList', url, member.assignments.map(({ topic, partition }) => ({
      kind: 'KafkaConsumerAssignment',
      metadata: { self: `${url}/${encodeURIComponent(topic)}/partitions/${partition}`, resource_name: `crn:///kafka=${context.clusterId}/consumer-group=${group.groupId}/consumer=${member.memberId}/assignment=${topic}/partition=${partition}` },
      cluster_id: context.clusterId,
      consumer_group_id: group.groupId,
      consumer_id: member.memberId,
      topic_name: topic,
      partition_id: partition,
      partition: related(`${context.clusterUrl}/topics/${encodeURIComponent(topic)}/partitions/${partition}`),
    })));
  }));
  app.get('/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/lags', routes.handler(async (context) => {
    const group = await groupOf(context);
    const lags = await groupLags(context.client.admin, group);
    return list('KafkaConsumerLagList', `${groupUrl(context, group.groupId)}/lags`, lags.map((lag) => ({
      kind: 'KafkaConsumerLag',
      metadata: { self: `${groupUrl(context, group.groupId)}/lags/${encodeURIComponent(lag.topic)}/partitions/${lag.partition}`, resource_name: `crn:///kafka=${context.clusterId}/consumer-group=${group.groupId}/lag=${lag.topic}/partition=${lag.partition}` },
      cluster_id: context.clusterId,
      consumer_group_id: group.groupId,
      topic_name: lag.topic,
      partition_id: lag.partition,
      current_offset: lag.currentOffset,
      log_end_offset: lag.logEndOffset,
      lag: lag.lag,
      consumer_id: lag.member?.memberId ?? '',
      instance_id: lag.member?.instanceId ?? null,
      client_id: lag.member?.clientId ?? '',
    })));
  }));
  app.get('/v3/clusters/:cluster_id/consumer-groups/:consumer_group_id/lag-summary', routes.handler(async (context) => {
    const group = await groupOf(context);
    const lags = await groupLags(context.client.admin, group);
    const max = lags.reduce<(typeof lags)[number] | undefined>((best, lag) => (best === undefined || lag.lag > best.lag ? lag : best), undefined);
    const url = groupUrl(context, group.groupId);
    return {
      kind: 'KafkaConsumerGroupLagSummary',
      metadata: { self: `${url}/lag-summary`, resource_name: `crn:///kafka=${context.clusterId}/consumer-group=${group.groupId}/lag-summary` },
      cluster_id: context.clusterId,
      consumer_group_id: group.groupId,
      max_lag_consumer_id: max?.member?.memberId ?? '',
      max_lag_instance_id: max?.member?.instanceId ?? null,
      max_lag_client_id: max?.member?.clientId ?? '',
      max_lag_topic_name: max?.topic ?? '',
      max_lag_partition_id: max?.partition ?? 0,
      max_lag: max?.lag ?? 0,
      total_lag: lags.reduce((sum, lag) => sum + lag.lag, 0),
      max_lag_consumer: max?.member ? related(`${url}/consumers/${encodeURIComponent(max.member.memberId)}`) : null,
      max_lag_partition: max ? related(`${context.clusterUrl}/topics/${encodeURIComponent(max.topic)}/partitions/${max.partition}`) : null,
    };
  }));
}

async function groupOf(context: RouteContext): Promise<GroupDescription> {
  return describeGroup(context.client.admin, (context.request.params as Params).consumer_group_id!);
}

function groupUrl(context: RouteContext, groupId: string): string {
  return `${context.clusterUrl}/consumer-groups/${encodeURIComponent(groupId)}`;
}

function groupData(context: RouteContext, group: GroupDescription): Record<string, unknown> {
  const url = groupUrl(context, group.groupId);
  return {
    kind: 'KafkaConsumerGroup',
    metadata: { self: url, resource_name: `crn:///kafka=${context.clusterId}/consumer-group=${group.groupId}` },
    cluster_id: context.clusterId,
    consumer_group_id: group.groupId,
    // Confluent's "simple" group: one that only commits offsets, with no protocol (no members ever joined).
    is_simple: group.protocolType === '',
    partition_assignor: group.protocol,
    // Classic states (PREPARING_REBALANCE...) and KIP-848 ones (ASSIGNING, RECONCILING), as Confluent's enum.
    state: group.state.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase(),
    // Confluent Cloud's v3 ConsumerGroupData has `type` and `is_mixed_consumer_group` (its docs name
    // the fields; the type's values are taken as Kafka's GroupType names upper-cased, CLASSIC or
    // CONSUMER, unconfirmed). Conveyor's consumer groups never hold classic-protocol members: not mixed.
    type: group.type.toUpperCase(),
    is_mixed_consumer_group: false,
    coordinator: group.coordinator >= 0 ? related(`${context.clusterUrl}/brokers/${group.coordinator}`) : null,
    consumers: related(`${url}/consumers`),
    lag_summary: related(`${url}/lag-summary`),
  };
}

function consumerData(context: RouteContext, groupId: string, member: GroupMemberInfo): Record<string, unknown> {
  const url = `${groupUrl(context, groupId)}/consumers/${encodeURIComponent(member.memberId)}`;
  return {
    kind: 'KafkaConsumer',
    metadata: { self: url, resource_name: `crn:///kafka=${context.clusterId}/consumer-group=${groupId}/consumer=${member.memberId}` },
    cluster_id: context.clusterId,
    consumer_group_id: groupId,
    consumer_id: member.memberId,
    instance_id: member.instanceId,
    client_id: member.clientId,
    assignments: related(`${url}/assignments`),
    // Conveyor: the assigned partitions inline, and the member's host.
    host: member.host,
    assigned_partitions: member.assignments.map(({ topic, partition }) => ({ topic_name: topic, partition_id: partition })),
  };
}
