// ListTransactions (key 66), versions 0-1.
// The transactional ids this broker coordinates, filtered by state names (unknown names are
// echoed in UnknownStateFilters, as Kafka does) and producer ids.
// Authorizes as Kafka's KafkaApis: only the transactional ids the principal may DESCRIBE are
// listed (each denial logged, as Kafka's check does).
// Version notes: v1 adds DurationFilter: only transactions open for at least that many ms.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ListTransactionsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const listTransactionsHandler = defineHandler({
  api: ListTransactionsApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, { broker, connection }) {
    const listed = broker.transactionCoordinator.list(request.stateFilters, request.producerIdFilters.map(Number), Number(request.durationFilter ?? -1n));
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      unknownStateFilters: listed.unknownStateFilters,
      transactionStates: listed.transactions
        .filter(({ transactionalId }) => broker.authorization.transactionalId(connection, AclOperation.DESCRIBE, transactionalId))
        .map((transaction) => ({
          transactionalId: transaction.transactionalId,
          producerId: BigInt(transaction.producerId),
          transactionState: transaction.state,
        })),
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, unknownStateFilters: [], transactionStates: [] };
  },
});
