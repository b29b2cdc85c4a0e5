// IncrementalAlterConfigs (key 44), versions 0-1.
// Changes single configs of a resource: SET (0), DELETE (1, back to the default), APPEND (2) and
// SUBTRACT (3) on list configs such as cleanup.policy, starting from the override or else the
// default. Topics (type 2) and dynamic broker configs (type 4, name = node id or '' for the
// cluster default) are committed through the controller as ConfigRecords and apply to the logs at
// once. SUBTRACT may empty a list (cleanup.policy with neither delete nor compact, Kafka 4.1+).
// Groups (type 32, name = group id, existing or not) take Kafka 4.2's group configs
// (src/metadata/group-configs.ts), each checked against this broker's group.consumer.* and
// group.share.* min and max keys, also committed as ConfigRecords; an empty group name gets
// INVALID_REQUEST "Default group resources are not allowed.", as Kafka's controller.
// Unknown keys and bad values get INVALID_CONFIG naming the key; broker keys Kafka cannot change at
// run time (or not on that resource) get INVALID_REQUEST naming the key, as in Kafka; a key named
// twice for one resource gets INVALID_REQUEST; validate_only checks without committing. A broker
// resource's change must leave the broker's whole config valid, as Kafka's broker checks it before
// forwarding (ConfigAdminManager): max.connections.per.ip=0 with no max.connections.per.ip.overrides
// at any level is INVALID_REQUEST "requirement failed: max.connections.per.ip can be set to zero
// only if max.connections.per.ip.overrides property is set." (config-resources.ts).
// Authorizes each resource as Kafka does (`alterConfigsAuthorized`, shared with AlterConfigs):
// ALTER_CONFIGS on the topic (else TOPIC_AUTHORIZATION_FAILED), on the cluster for broker,
// broker-logger and client-metrics resources (else CLUSTER_AUTHORIZATION_FAILED), on the group for
// group resources (else GROUP_AUTHORIZATION_FAILED), after the checks Kafka's broker makes first.
// Version notes: v1 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import { ConfigOperation, type ConfigResourceChange, type ConfigResourceResult } from '../../metadata/config-changes.js';
import { IncrementalAlterConfigsApi } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { configSchemaFor } from '../config-resources.js';
import type { ConnectionInfo } from '../network/index.js';
import { defineHandler } from './handler.js';

export const incrementalAlterConfigsHandler = defineHandler({
  api: IncrementalAlterConfigsApi,
  minVersion: 0,
  maxVersion: 1,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    const changes: ConfigResourceChange[] = request.resources.map((resource) => ({
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
      alterations: resource.configs.map(({ name, value, configOperation }) => ({ name, value, operation: configOperation })),
      replaceAll: false,
    }));
    const results = await alterConfigsAuthorized(broker, connection, changes, request.validateOnly, false);
    return { throttleTimeMs: 0, responses: results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: request.resources.map(({ resourceType, resourceName }) => ({ errorCode, errorMessage: null, resourceType, resourceName })),
    };
  },
});

/** Kafka's ConfigResource.Type codes. */
const ConfigType = { topic: 2, broker: 4, brokerLogger: 8, clientMetrics: 16, group: 32 } as const;

/**
 * AlterConfigs (`legacy`) and IncrementalAlterConfigs, authorized per resource as Kafka 4.x does it,
 * one result per resource in request order. What Kafka's broker checks before it forwards the
 * request is checked before authorizing: a resource named twice (the controller refuses both), a
 * config key named twice or a null value other than DELETE's (INVALID_REQUEST with Kafka's
 * message), and for a broker resource the change itself (validated without committing: its error
 * wins over CLUSTER_AUTHORIZATION_FAILED). Then, as ControllerApis.authorizeAlterResource (and, for
 * broker loggers, the broker's own check): ALTER_CONFIGS on the topic, the cluster (broker, client
 * metrics, and broker logger except in the legacy API, where that type is refused as unknown) or
 * the group. Only what is authorized reaches the controller; resource types Kafka does not know
 * go there unauthorized, to be refused.
 */
export async function alterConfigsAuthorized(broker: BrokerServices, connection: ConnectionInfo, changes: ConfigResourceChange[], validateOnly: boolean, legacy: boolean): Promise<ConfigResourceResult[]> {
  const keys = changes.map(({ resourceType, resourceName }) => `${resourceType}:${resourceName}`);
  const refusals = changes.map((change, index): ConfigResourceResult | undefined => {
    if (keys.indexOf(keys[index]!) !== keys.lastIndexOf(keys[index]!)) return undefined;
    const denied = alterConfigsDenial(broker, connection, change, legacy);
    if (denied === undefined) return undefined;
    const refused = (errorCode: number, errorMessage: string) => ({ resourceType: change.resourceType, resourceName: change.resourceName, errorCode, errorMessage });
    const names = change.alterations.map(({ name }) => name);
    if (new Set(names).size !== names.length) return refused(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
    const nullValues = change.alterations.filter(({ operation, value }) => operation !== ConfigOperation.delete && value === null).map(({ name }) => name);
    if (nullValues.length > 0) return refused(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nullValues.join(', ')}`);
    return refused(denied.errorCode, denied.errorMessage);
  });
  // A broker resource's change is validated before it is authorized (Kafka's ConfigAdminManager.preprocess).
  const deniedBrokers = changes.flatMap((change, index) => (change.resourceType === ConfigType.broker && refusals[index]?.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED ? [index] : []));
  const schema = configSchemaFor(broker);
  if (deniedBrokers.length > 0) {
    const validated = await broker.controller.alterConfigs(deniedBrokers.map((index) => changes[index]!), true, schema);
    validated.forEach((result, position) => {
      if (result.errorCode !== ErrorCode.NONE) refusals[deniedBrokers[position]!] = result;
    });
  }
  const allowed = changes.filter((_, index) => refusals[index] === undefined);
  const results = allowed.length === 0 ? [] : await broker.controller.alterConfigs(allowed, validateOnly, schema);
  let next = 0;
  return refusals.map((refused) => refused ?? results[next++]!);
}

/** Kafka's error when the principal may not alter the configs of a resource; undefined when it may, or the type is not one Kafka authorizes. */
function alterConfigsDenial(broker: BrokerServices, connection: ConnectionInfo, change: ConfigResourceChange, legacy: boolean): { errorCode: number; errorMessage: string } | undefined {
  const { authorization } = broker;
  const { ALTER_CONFIGS } = AclOperation;
  const { resourceType, resourceName } = change;
  if (resourceType === ConfigType.topic) {
    return authorization.topic(connection, ALTER_CONFIGS, resourceName) ? undefined : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' };
  }
  // The legacy API knows no broker loggers: refused as an unknown type, before authorization.
  if (resourceType === ConfigType.broker || resourceType === ConfigType.clientMetrics || (resourceType === ConfigType.brokerLogger && !legacy)) {
    const allowed = authorization.authorize(connection, ALTER_CONFIGS, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
    return allowed ? undefined : { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
  }
  if (resourceType === ConfigType.group) {
    return authorization.group(connection, ALTER_CONFIGS, resourceName) ? undefined : { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: 'Group authorization failed.' };
  }
  return undefined;
}
