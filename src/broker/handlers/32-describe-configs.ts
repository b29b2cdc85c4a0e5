// DescribeConfigs (key 32), versions 0-4.
// Describes topic resources (type 2) and this broker (type 4, name = node id) with every config's
// value and source: topic override, dynamic per-broker or cluster-default broker config,
// server.properties, or Kafka's default. A broker name of '' lists the cluster-wide dynamic
// defaults only, as Kafka does. Unknown topics get UNKNOWN_TOPIC_OR_PARTITION; another broker's
// id or an unsupported resource type gets INVALID_REQUEST.
// Groups (type 32, KIP-848/KIP-932): every group config key (src/metadata/group-configs.ts) with
// the group's value (source 8, GROUP_CONFIG) or the broker's (DEFAULT_CONFIG), whether or not the
// group exists, as Kafka 4.2; an empty group name gets INVALID_REQUEST "Group name must not be empty".
// A null or empty configuration_keys list means every key, as in Kafka.
// Authorizes each resource before looking at it, as Kafka's ConfigHelper: DESCRIBE_CONFIGS on the
// topic (else TOPIC_AUTHORIZATION_FAILED), on the cluster for broker, broker-logger and
// client-metrics resources (else CLUSTER_AUTHORIZATION_FAILED), on the group for group resources
// (else GROUP_AUTHORIZATION_FAILED), each with Kafka's message and no configs.
// Version notes: v0 reports is_default instead of a source; v1+ config_source and, when
// include_synonyms is set, the synonyms behind each value (Kafka's order: per-broker dynamic,
// cluster default, server.properties, default, starting at the key itself); v3+ config_type and,
// with include_documentation, one sentence per key from the config definitions; v4 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import { ConfigResourceType } from '../../metadata/metadata-record.js';
import { ConfigSource } from '../../metadata/topic-config.js';
import { topicNameProblem } from '../../metadata/topic-name.js';
import { DescribeConfigsApi, type DescribeConfigsResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { type DescribedConfig, describeBrokerConfigs, describeClusterDefaultConfigs, describeGroupConfigs, describeTopicConfigs } from '../config-resources.js';
import { defineHandler } from './handler.js';

type ResourceResult = DescribeConfigsResponse['results'][number];

export const describeConfigsHandler = defineHandler({
  api: DescribeConfigsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(request, { broker, connection }) {
    const includeSynonyms = request.includeSynonyms ?? false;
    const includeDocumentation = request.includeDocumentation ?? false;
    return {
      throttleTimeMs: 0,
      results: request.resources.map((resource) => {
        const { resourceType, resourceName } = resource;
        const denied = describeConfigsDenial(broker, connection, resourceType, resourceName);
        if (denied) return { errorCode: denied.errorCode, errorMessage: denied.errorMessage, resourceType, resourceName, configs: [] };
        return describe(broker, resource, includeSynonyms, includeDocumentation);
      }),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: request.resources.map(({ resourceType, resourceName }) => ({ errorCode, errorMessage: null, resourceType, resourceName, configs: [] })),
    };
  },
});

/** Kafka's config resource types and the ACL resource each is authorized against. */
const CLUSTER_CONFIG_TYPES: readonly number[] = [4, 8, 16]; // broker, broker logger, client metrics
const TOPIC_CONFIG_TYPE = 2;
const GROUP_CONFIG_TYPE = 32;

/** Kafka's refusal when the principal may not describe the configs of a resource; undefined when it may (or the type is unknown). */
function describeConfigsDenial(broker: BrokerServices, connection: ConnectionInfo, resourceType: number, resourceName: string): { errorCode: number; errorMessage: string } | undefined {
  const { authorization } = broker;
  const { DESCRIBE_CONFIGS } = AclOperation;
  if (resourceType === TOPIC_CONFIG_TYPE) {
    return authorization.topic(connection, DESCRIBE_CONFIGS, resourceName) ? undefined : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' };
  }
  if (CLUSTER_CONFIG_TYPES.includes(resourceType)) {
    return authorization.authorize(connection, DESCRIBE_CONFIGS, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) ? undefined : { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
  }
  if (resourceType === GROUP_CONFIG_TYPE) {
    return authorization.group(connection, DESCRIBE_CONFIGS, resourceName) ? undefined : { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.' };
  }
  return undefined;
}

function describe(
  broker: BrokerServices,
  resource: { resourceType: number; resourceName: string; configurationKeys: string[] | null },
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): ResourceResult {
  const { resourceType, resourceName, configurationKeys } = resource;
  const failure = (errorCode: number, errorMessage: string): ResourceResult => ({ errorCode, errorMessage, resourceType, resourceName, configs: [] });
  let configs: DescribedConfig[];
  if (resourceType === ConfigResourceType.topic) {
    const problem = topicNameProblem(resourceName);
    if (problem) return failure(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (!broker.image.topic(resourceName)) return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${resourceName}' does not exist`);
    configs = describeTopicConfigs(broker, resourceName, configurationKeys);
  } else if (resourceType === ConfigResourceType.broker) {
    if (resourceName === '') {
      configs = describeClusterDefaultConfigs(broker, configurationKeys);
    } else if (resourceName === String(broker.nodeId)) {
      configs = describeBrokerConfigs(broker, configurationKeys);
    } else {
      return failure(ErrorCode.INVALID_REQUEST, `this is broker ${broker.nodeId}; ask broker '${resourceName}' for its own configs, or use '' for the cluster default`);
    }
  } else if (resourceType === ConfigResourceType.group) {
    if (resourceName === '') return failure(ErrorCode.INVALID_REQUEST, 'Group name must not be empty');
    configs = describeGroupConfigs(broker, resourceName, configurationKeys);
  } else {
    return failure(ErrorCode.INVALID_REQUEST, `unsupported config resource type ${resourceType}`);
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType, resourceName, configs: configs.map((config) => entry(config, includeSynonyms, includeDocumentation)) };
}

function entry(config: DescribedConfig, includeSynonyms: boolean, includeDocumentation: boolean): ResourceResult['configs'][number] {
  return {
    name: config.name,
    value: config.value,
    readOnly: config.readOnly,
    isDefault: config.source === ConfigSource.defaultConfig,
    configSource: config.source,
    isSensitive: config.isSensitive,
    synonyms: includeSynonyms ? config.synonyms : [],
    configType: config.configType,
    documentation: includeDocumentation ? config.documentation : null,
  };
}
