// InitProducerId (key 22), versions 0-5.
// Without a transactional id: a fresh producer id (epoch 0) from a block the controller reserved
// durably (ProducerIdsRecord), so ids are never reused, even after a restart. With one: the
// transaction coordinator bumps the epoch (fencing older instances), aborting an ongoing
// transaction of a previous instance first; past epoch 32766 a new producer id is issued.
// Version notes: v0 is kept for librdkafka 2.0.2 (it looks for InitProducerId v0 to enable
// idempotence); v2+ flexible; v3+ carry the current producer id and epoch (KIP-360); before v4
// PRODUCER_FENCED is reported as INVALID_PRODUCER_EPOCH, which older clients understand.
import { ErrorCode } from '../../base/error-codes.js';
import { InitProducerIdApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

const PRODUCER_FENCED_VERSION = 4;

export const initProducerIdHandler = defineHandler({
  api: InitProducerIdApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker, apiVersion }) {
    const result = await broker.transactionCoordinator.initProducerId({
      transactionalId: request.transactionalId,
      transactionTimeoutMs: request.transactionTimeoutMs,
      producerId: Number(request.producerId ?? -1n),
      producerEpoch: request.producerEpoch ?? -1,
    });
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(result.errorCode, apiVersion, PRODUCER_FENCED_VERSION),
      producerId: BigInt(result.producerId),
      producerEpoch: result.producerEpoch,
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
  },
});

/** Kafka answers PRODUCER_FENCED only to versions that know it; older ones get INVALID_PRODUCER_EPOCH. */
export function fencedForVersion(errorCode: number, apiVersion: number, firstVersionWithFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersionWithFenced ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}
