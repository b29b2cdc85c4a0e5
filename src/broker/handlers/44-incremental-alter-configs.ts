// IncrementalAlterConfigs (key 44), versions 0-1.
// Changes single configs of a resource: SET (0), DELETE (1, back to the default), APPEND (2) and
// SUBTRACT (3) on list configs such as cleanup.policy, starting from the override or else the
// default. Topics (type 2) and dynamic broker configs (type 4, name = node id or '' for the
// cluster default) are committed through the controller as ConfigRecords and apply to the logs at
// once. SUBTRACT may empty a list (cleanup.policy with neither delete nor compact, Kafka 4.1+).
// Unknown keys and bad values get INVALID_CONFIG naming the key; broker keys Kafka cannot change at
// run time (or not on that resource) get INVALID_REQUEST naming the key, as in Kafka; a key named
// twice for one resource gets INVALID_REQUEST; validate_only checks without committing.
// Version notes: v1 is flexible.
import type { ConfigResourceChange } from '../../metadata/config-changes.js';
import { IncrementalAlterConfigsApi } from '../../protocol/messages/index.js';
import { configSchema } from '../config-resources.js';
import { defineHandler } from './handler.js';

export const incrementalAlterConfigsHandler = defineHandler({
  api: IncrementalAlterConfigsApi,
  minVersion: 0,
  maxVersion: 1,
  forwardToController: true,
  async handle(request, { broker }) {
    const changes: ConfigResourceChange[] = request.resources.map((resource) => ({
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
      alterations: resource.configs.map(({ name, value, configOperation }) => ({ name, value, operation: configOperation })),
      replaceAll: false,
    }));
    const results = await broker.controller.alterConfigs(changes, request.validateOnly, configSchema);
    return { throttleTimeMs: 0, responses: results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: request.resources.map(({ resourceType, resourceName }) => ({ errorCode, errorMessage: null, resourceType, resourceName })),
    };
  },
});
