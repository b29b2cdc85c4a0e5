// EndTxn (key 26), versions 0-4.
// Commits or aborts the producer's ongoing transaction: PrepareCommit/PrepareAbort is recorded,
// a marker is written to every partition of the transaction, then CompleteCommit/CompleteAbort;
// the answer comes once all of it is durable, so a read_committed consumer that starts after the
// answer sees the outcome. Only the current producer id and epoch of an ongoing transaction may
// end it; a retry of an EndTxn that already took effect the same way succeeds; anything else is
// INVALID_TXN_STATE (docs/transactions.md: the delayed-EndTxn guard).
// Authorizes WRITE on the transactional id, as Kafka's KafkaApis: else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
// Version notes: v2+ get PRODUCER_FENCED (older versions INVALID_PRODUCER_EPOCH); v3+ flexible;
// v5 (transactions V2, epoch bump per transaction) is not served: no feature is advertised.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { EndTxnApi } from '../../protocol/messages/index.js';
import { fencedForVersion } from './22-init-producer-id.js';
import { defineHandler } from './handler.js';

const PRODUCER_FENCED_VERSION = 2;

export const endTxnHandler = defineHandler({
  api: EndTxnApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, apiVersion, connection }) {
    if (!broker.authorization.transactionalId(connection, AclOperation.WRITE, request.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    const errorCode = await broker.transactionCoordinator.endTransaction(request.transactionalId, Number(request.producerId), request.producerEpoch, request.committed);
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, apiVersion, PRODUCER_FENCED_VERSION) };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
});
