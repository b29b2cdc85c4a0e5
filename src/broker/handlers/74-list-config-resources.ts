// ListConfigResources (key 74; ListClientMetricsResources before Kafka 4.1), versions 0-1.
// The resources one can describe or alter configs of. v0 lists client-metrics subscriptions only;
// v1 (KIP-1142) lists the types named in ResourceTypes, all of them when the list is empty: groups
// with dynamic group configs (32), client-metrics subscriptions (16), broker loggers (8, one per
// broker), brokers (4) and topics (2, internal ones included), in that order, names sorted within a
// type. Brokers are those with an endpoint for the request's listener. A type outside those five
// fails the whole request with UNSUPPORTED_VERSION, as Kafka does.
// Needs DESCRIBE_CONFIGS on the cluster, checked first, as Kafka 4.1's KafkaApis (and its
// ListClientMetricsResources before): else the top-level error CLUSTER_AUTHORIZATION_FAILED.
// Groups are those with at least one group config in the metadata image; Conveyor has no
// client-metrics subscriptions, so that list is empty.
// Version notes: v0-1 flexible; v1 adds ResourceTypes (request) and ResourceType (each entry).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ListConfigResourcesApi, type ListConfigResourcesResponse } from '../../protocol/messages/index.js';
import { advertisedBrokers } from '../advertised-brokers.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type ConfigResource = ListConfigResourcesResponse['configResources'][number];

/** Kafka's ConfigResource.Type codes. */
export const ConfigResourceTypeCode = { topic: 2, broker: 4, brokerLogger: 8, clientMetrics: 16, group: 32 } as const;

const { topic, broker: brokerType, brokerLogger, clientMetrics, group } = ConfigResourceTypeCode;
/** The types v1 serves, in the order Kafka lists them. */
const V1_TYPES: readonly number[] = [group, clientMetrics, brokerLogger, brokerType, topic];

export const listConfigResourcesHandler = defineHandler({
  api: ListConfigResourcesApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, { broker, apiVersion, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.DESCRIBE_CONFIGS)) return errorBody(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const requested = apiVersion === 0 ? [clientMetrics] : (request.resourceTypes ?? []);
    if (requested.some((type) => !V1_TYPES.includes(type))) return errorBody(ErrorCode.UNSUPPORTED_VERSION);
    const wanted = requested.length === 0 ? V1_TYPES : V1_TYPES.filter((type) => requested.includes(type));
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      configResources: wanted.flatMap((type) => resourceNames(broker, connection.listenerName, type).map((resourceName): ConfigResource => ({ resourceName, resourceType: type }))),
    };
  },
  errorResponse(_request, errorCode) {
    return errorBody(errorCode);
  },
});

function resourceNames(broker: BrokerServices, listenerName: string, type: number): string[] {
  switch (type) {
    case topic:
      return [...broker.image.topicsByName.keys()].sort();
    case brokerType:
    case brokerLogger:
      return advertisedBrokers(broker.image, listenerName).map(({ nodeId }) => String(nodeId));
    case group:
      return groupsWithConfigs(broker);
    default:
      // Client-metrics subscriptions: Conveyor keeps none.
      return [];
  }
}

/** The groups that have group configs (Kafka's GroupConfigManager.groupIds), sorted. */
function groupsWithConfigs(broker: BrokerServices): string[] {
  const names: string[] = [];
  for (const { resourceType, resourceName, configs } of broker.image.configResources()) {
    if (resourceType === group && configs.size > 0) names.push(resourceName);
  }
  return names.sort();
}

function errorBody(errorCode: number): ListConfigResourcesResponse {
  return { throttleTimeMs: 0, errorCode, configResources: [] };
}
