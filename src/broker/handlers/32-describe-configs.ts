// DescribeConfigs (key 32), versions 0-4.
// Describes topic resources (type 2) and this broker (type 4, name = node id) with every config's
// value and source: topic override, dynamic per-broker or cluster-default broker config,
// server.properties, or Kafka's default. A broker name of '' lists the cluster-wide dynamic
// defaults only, as Kafka does. Unknown topics get UNKNOWN_TOPIC_OR_PARTITION; another broker's
// id or an unsupported resource type gets INVALID_REQUEST.
// A null or empty configuration_keys list means every key, as in Kafka.
// Version notes: v0 reports is_default instead of a source; v1+ config_source and, when
// include_synonyms is set, the synonyms behind each value (Kafka's order: per-broker dynamic,
// cluster default, server.properties, default, starting at the key itself); v3+ config_type and,
// with include_documentation, one sentence per key from the config definitions; v4 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { ConfigResourceType } from '../../metadata/metadata-record.js';
import { ConfigSource } from '../../metadata/topic-config.js';
import { topicNameProblem } from '../../metadata/topic-name.js';
import { DescribeConfigsApi, type DescribeConfigsResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { type DescribedConfig, describeBrokerConfigs, describeClusterDefaultConfigs, describeTopicConfigs } from '../config-resources.js';
import { defineHandler } from './handler.js';

type ResourceResult = DescribeConfigsResponse['results'][number];

export const describeConfigsHandler = defineHandler({
  api: DescribeConfigsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(request, { broker }) {
    const includeSynonyms = request.includeSynonyms ?? false;
    const includeDocumentation = request.includeDocumentation ?? false;
    return {
      throttleTimeMs: 0,
      results: request.resources.map((resource) => describe(broker, resource, includeSynonyms, includeDocumentation)),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: request.resources.map(({ resourceType, resourceName }) => ({ errorCode, errorMessage: null, resourceType, resourceName, configs: [] })),
    };
  },
});

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
