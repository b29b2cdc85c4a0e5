// AlterConfigs (key 33), versions 0-2.
// Replaces a resource's whole set of overrides, as Kafka's legacy AlterConfigs does: keys not named
// in the request are removed and fall back to their defaults. Topics (type 2) and dynamic broker
// configs (type 4, name = node id or '' for the cluster default) go through the controller as
// ConfigRecords in the metadata log, so they survive restarts and apply to the logs at once.
// Broker resources accept the keys Kafka 4.x can change at run time (per broker, or as cluster
// default where Kafka allows it; listener-prefixed keys too). Groups (type 32) take their group
// configs, replaced as a whole too, as Kafka 4.2's legacy AlterConfigs does. Unknown keys and bad
// values get INVALID_CONFIG naming the key; a key that cannot change at run time (or not on that
// resource) gets INVALID_REQUEST naming it, as in Kafka; validate_only checks without committing.
// Authorizes each resource as Kafka does (`alterConfigsAuthorized` in 44-incremental-alter-configs.ts):
// ALTER_CONFIGS on the topic (else TOPIC_AUTHORIZATION_FAILED), on the cluster for broker and
// client-metrics resources (else CLUSTER_AUTHORIZATION_FAILED), on the group for group resources
// (else GROUP_AUTHORIZATION_FAILED), after the checks Kafka's broker makes first.
// Version notes: v0-1 identical; v2 is flexible.
import { ConfigOperation, type ConfigResourceChange } from '../../metadata/config-changes.js';
import { AlterConfigsApi } from '../../protocol/messages/index.js';
import { alterConfigsAuthorized } from './44-incremental-alter-configs.js';
import { defineHandler } from './handler.js';

export const alterConfigsHandler = defineHandler({
  api: AlterConfigsApi,
  minVersion: 0,
  maxVersion: 2,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    const changes: ConfigResourceChange[] = request.resources.map((resource) => ({
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
      alterations: resource.configs.map(({ name, value }) => ({ name, value, operation: ConfigOperation.set })),
      replaceAll: true,
    }));
    const results = await alterConfigsAuthorized(broker, connection, changes, request.validateOnly, true);
    return { throttleTimeMs: 0, responses: results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: request.resources.map(({ resourceType, resourceName }) => ({ errorCode, errorMessage: null, resourceType, resourceName })),
    };
  },
});
