// DescribeTransactions (key 65), version 0.
// The state, producer id and epoch, timeout, start time and partitions of each transactional id
// this broker coordinates; TRANSACTIONAL_ID_NOT_FOUND for ids it does not know.
import { DescribeTransactionsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const describeTransactionsHandler = defineHandler({
  api: DescribeTransactionsApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker }) {
    return {
      throttleTimeMs: 0,
      transactionStates: await Promise.all(request.transactionalIds.map(async (transactionalId) => {
        const described = await broker.transactionCoordinator.describe(transactionalId);
        return {
          errorCode: described.errorCode,
          transactionalId,
          transactionState: described.state,
          transactionTimeoutMs: described.transactionTimeoutMs,
          transactionStartTimeMs: BigInt(described.transactionStartTimeMs),
          producerId: BigInt(described.producerId),
          producerEpoch: described.producerEpoch,
          topics: described.topics,
        };
      })),
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
