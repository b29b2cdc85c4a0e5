// DescribeTransactions (key 65), version 0.
// The state, producer id and epoch, timeout, start time and partitions of each transactional id
// this broker coordinates; TRANSACTIONAL_ID_NOT_FOUND for ids it does not know.
// Authorizes as Kafka's KafkaApis: DESCRIBE on each transactional id (else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, with Kafka's zero defaults in the other fields), and only
// the topics the principal may DESCRIBE are listed among a transaction's partitions.
// Brokers ask it of each other to verify transactional writes (transaction-verification.ts), so
// with an authorizer the inter-broker principal needs DESCRIBE on transactional ids and topics.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DescribeTransactionsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const describeTransactionsHandler = defineHandler({
  api: DescribeTransactionsApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, connection }) {
    const { authorization } = broker;
    return {
      throttleTimeMs: 0,
      transactionStates: await Promise.all(
        request.transactionalIds.map(async (transactionalId) => {
          if (!authorization.transactionalId(connection, AclOperation.DESCRIBE, transactionalId)) return transactionError(transactionalId, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
          const described = await broker.transactionCoordinator.describe(transactionalId);
          return {
            errorCode: described.errorCode,
            transactionalId,
            transactionState: described.state,
            transactionTimeoutMs: described.transactionTimeoutMs,
            transactionStartTimeMs: BigInt(described.transactionStartTimeMs),
            producerId: BigInt(described.producerId),
            producerEpoch: described.producerEpoch,
            topics: described.topics.filter(({ topic }) => authorization.topic(connection, AclOperation.DESCRIBE, topic)),
          };
        }),
      ),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((transactionalId) => ({
        errorCode,
        transactionalId,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: -1n,
        producerEpoch: -1,
        topics: [],
      })),
    };
  },
});

/** A refused id as Kafka answers it: the error, the id, and every other field at its default. */
function transactionError(transactionalId: string, errorCode: number) {
  return { errorCode, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: 0n, producerId: 0n, producerEpoch: 0, topics: [] };
}
