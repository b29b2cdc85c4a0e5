/**
 * sendOffsetsToTransaction for exactly_once_v2: AddOffsetsToTxn at the transaction coordinator,
 * then TxnOffsetCommit at the group coordinator with the member's generation (KIP-447), so a
 * zombie whose generation is gone is refused. The client's TransactionalProducer has no such call
 * yet, so this reads its producer id and epoch, and marks the transaction as having something to
 * end (its EndTxn is skipped for a transaction it added no partition to, but the coordinator
 * holds the offsets in it). TODO(core): move this into TransactionalProducer.sendOffsetsToTransaction.
 */
import { ErrorCode, errorName } from '../../base/error-codes.js';
import { AddOffsetsToTxnApi, FindCoordinatorApi, TxnOffsetCommitApi } from '../../protocol/messages/index.js';
import { type ClusterClient, KafkaResponseError, hostPort } from '../../client/cluster-client.js';
import type { TransactionalProducer } from '../../client/transactional-producer.js';

/** The fields of TransactionalProducer this helper reads (private there). */
interface ProducerInternals {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly transactionalId: string;
  readonly partitionsInTransaction: Set<string>;
}

export interface GroupGeneration {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  /** The group coordinator's host:port. */
  readonly coordinator: string;
}

const RETRIABLE = new Set<number>([ErrorCode.CONCURRENT_TRANSACTIONS, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE]);
const ATTEMPTS = 50;

export class TransactionOffsetsError extends Error {
  override name = 'TransactionOffsetsError';
  constructor(readonly errorCode: number, what: string) {
    super(`${what}: ${errorName(errorCode)}`);
  }
}

export async function sendOffsetsToTransaction(
  cluster: ClusterClient,
  producer: TransactionalProducer,
  offsets: ReadonlyMap<string, ReadonlyMap<number, number>>,
  group: GroupGeneration,
): Promise<void> {
  const internals = producer as unknown as ProducerInternals;
  const topics = [...offsets].filter(([, byPartition]) => byPartition.size > 0);
  if (topics.length === 0) return;
  const transactionCoordinator = await findTransactionCoordinator(cluster, internals.transactionalId);
  await retrying(`AddOffsetsToTxn of '${internals.transactionalId}'`, async () => {
    const response = await cluster.request(AddOffsetsToTxnApi, {
      transactionalId: internals.transactionalId,
      producerId: internals.producerId,
      producerEpoch: internals.producerEpoch,
      groupId: group.groupId,
    }, { address: transactionCoordinator, maxVersion: 3 });
    return response.errorCode;
  });
  // EndTxn must now be sent even if no record was written in this transaction.
  internals.partitionsInTransaction.add(`offsets:${group.groupId}`);
  await retrying(`TxnOffsetCommit of group '${group.groupId}'`, async () => {
    const response = await cluster.request(TxnOffsetCommitApi, {
      transactionalId: internals.transactionalId,
      groupId: group.groupId,
      producerId: internals.producerId,
      producerEpoch: internals.producerEpoch,
      generationId: group.generationId,
      memberId: group.memberId,
      groupInstanceId: null,
      topics: topics.map(([name, byPartition]) => ({
        name,
        partitions: [...byPartition].map(([partitionIndex, offset]) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null })),
      })),
    }, { address: group.coordinator, maxVersion: 3 });
    return response.topics.flatMap((topic) => topic.partitions).find((partition) => partition.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
  });
}

async function retrying(what: string, attempt: () => Promise<number>): Promise<void> {
  for (let tries = 0; tries < ATTEMPTS; tries++) {
    const errorCode = await attempt();
    if (errorCode === ErrorCode.NONE) return;
    if (!RETRIABLE.has(errorCode)) throw new TransactionOffsetsError(errorCode, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new TransactionOffsetsError(ErrorCode.REQUEST_TIMED_OUT, what);
}

async function findTransactionCoordinator(cluster: ClusterClient, transactionalId: string): Promise<string> {
  const response = await cluster.request(FindCoordinatorApi, { key: transactionalId, keyType: 1 }, { minVersion: 1, maxVersion: 3 });
  if (response.errorCode) throw new KafkaResponseError(response.errorCode, `finding the transaction coordinator of '${transactionalId}'`);
  return hostPort(response.host ?? '', response.port ?? 0);
}
