// AlterClientQuotas (key 49), versions 0-1: sets and removes client quotas (KIP-546), decided by
// the active controller (forwarded there) as Kafka's ClientQuotaControlManager decides them and
// committed as ClientQuotaRecords; `validateOnly` answers the same without committing. One result
// per distinct entity: INVALID_REQUEST with Kafka's message for a bad entity (type, combination,
// empty name, an ip that is not an address), key or value (not a positive number, a fraction for
// producer_byte_rate, consumer_byte_rate or connection_creation_rate) and for a key or an entity
// given twice; see src/metadata/client-quotas.ts. Needs ALTER_CONFIGS on the cluster, as Kafka's
// ControllerApis: else every entry answers CLUSTER_AUTHORIZATION_FAILED ("Cluster authorization
// failed."), as Kafka's error response does, and nothing changes.
// Version notes: v1 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { AlterClientQuotasApi, type AlterClientQuotasRequest, type AlterClientQuotasResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const alterClientQuotasHandler = defineHandler({
  api: AlterClientQuotasApi,
  minVersion: 0,
  maxVersion: 1,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.ALTER_CONFIGS)) {
      return refusedEntries(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    const entries = await broker.controller.alterClientQuotas(request.entries, request.validateOnly);
    return { throttleTimeMs: 0, entries };
  },
  errorResponse(request, errorCode) {
    return refusedEntries(request, errorCode, null);
  },
});

/** Kafka's error response (AlterClientQuotasRequest.getErrorResponse): every entry as the request gives it, with the error. */
function refusedEntries(request: AlterClientQuotasRequest, errorCode: number, errorMessage: string | null): AlterClientQuotasResponse {
  return {
    throttleTimeMs: 0,
    entries: request.entries.map(({ entity }) => ({ errorCode, errorMessage, entity: entity.map(({ entityType, entityName }) => ({ entityType, entityName })) })),
  };
}
