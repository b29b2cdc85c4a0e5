// Verifying a transactional produce (Kafka 3.6+, KIP-890 part 1): a partition's leader appends a
// producer's first transactional batch of a transaction only if the producer's coordinator has
// the partition in that producer's ongoing transaction, so a stray or late batch cannot open a
// transaction no marker will ever end. Later batches of the same transaction pass on the
// partition's own producer state, as in Kafka. The coordinator may be this broker (asked
// directly) or another: then it is asked with DescribeTransactions, which every broker serves.
// Kafka asks with AddPartitionsToTxn v4 (verifyOnly); Conveyor does not advertise v4 because a
// client would send it (PROTOCOL-NOTES 1.3), and DescribeTransactions carries the same facts.
import { ErrorCode } from '../base/error-codes.js';
import type { TransactionCoordinator } from '../coordinator/transaction/transaction-coordinator.js';
import { transactionalProduceProblem } from '../coordinator/transaction/transaction-coordinator.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { TRANSACTION_STATE_TOPIC } from '../metadata/topic-name.js';
import { DescribeTransactionsApi } from '../protocol/messages/index.js';
import type { Logger } from '../base/logger.js';
import type { Transport } from '../protocol/transport.js';
import type { Partition } from '../replication/partition.js';

/** How long asking another broker's coordinator may take. */
const VERIFY_TIMEOUT_MS = 5000;

export interface TransactionVerifierOptions {
  readonly nodeId: number;
  readonly image: MetadataImage;
  readonly coordinator: TransactionCoordinator;
  /** Reaches the other brokers on their inter-broker listener. */
  readonly transport: Transport;
  /** Where a refusal is logged (which coordinator's state refused which batch), if given. */
  readonly logger?: Logger;
}

export class TransactionVerifier {
  constructor(private readonly options: TransactionVerifierOptions) {}

  /**
   * NONE, or the error a transactional write of `producerId`/`producerEpoch` to `partition` (hosted
   * here, or undefined if it is not) gets. NOT_ENOUGH_REPLICAS: no answer now, retry.
   */
  verify(topic: string, partitionIndex: number, partition: Partition | undefined, transactionalId: string | null, producerId: number, producerEpoch: number): number | Promise<number> {
    const verdict = this.#verify(topic, partitionIndex, partition, transactionalId, producerId, producerEpoch);
    const logged = (errorCode: number) => {
      if (errorCode === ErrorCode.INVALID_TXN_STATE || errorCode === ErrorCode.INVALID_PRODUCER_ID_MAPPING) {
        const coordinatorId = transactionalId === null ? -1 : this.#coordinatorId(transactionalId);
        this.options.logger?.info('transactional produce refused', { topic, partition: partitionIndex, transactionalId, producerId, producerEpoch, errorCode, coordinator: coordinatorId, imageVersion: this.options.image.version });
      }
      return errorCode;
    };
    return typeof verdict === 'number' ? logged(verdict) : verdict.then(logged);
  }

  #coordinatorId(transactionalId: string): number {
    const { coordinator, image } = this.options;
    return image.topic(TRANSACTION_STATE_TOPIC)?.partitions.get(coordinator.partitionFor(transactionalId))?.leader ?? -1;
  }

  #verify(topic: string, partitionIndex: number, partition: Partition | undefined, transactionalId: string | null, producerId: number, producerEpoch: number): number | Promise<number> {
    if (transactionalId === null) return ErrorCode.INVALID_TXN_STATE;
    if (partition?.log.producerState.hasOngoingTransaction(producerId, producerEpoch)) return ErrorCode.NONE;
    const { coordinator, image, nodeId } = this.options;
    const stateLog = image.topic(TRANSACTION_STATE_TOPIC);
    const coordinatorId = stateLog?.partitions.get(coordinator.partitionFor(transactionalId))?.leader;
    if (stateLog === undefined || coordinatorId === nodeId) return coordinator.verifyPartition(transactionalId, producerId, producerEpoch, topic, partitionIndex);
    // No coordinator right now: the producer retries (NOT_ENOUGH_REPLICAS is retriable for every client, as in Kafka).
    if (coordinatorId === undefined || coordinatorId < 0) return ErrorCode.NOT_ENOUGH_REPLICAS;
    return this.#askRemote(coordinatorId, topic, partitionIndex, transactionalId, producerId, producerEpoch);
  }

  async #askRemote(coordinatorId: number, topic: string, partitionIndex: number, transactionalId: string, producerId: number, producerEpoch: number): Promise<number> {
    let response;
    try {
      response = await this.options.transport.send(coordinatorId, DescribeTransactionsApi, 0, { transactionalIds: [transactionalId] }, VERIFY_TIMEOUT_MS);
    } catch {
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    }
    const state = response.transactionStates[0];
    if (state === undefined) return ErrorCode.NOT_ENOUGH_REPLICAS;
    if (state.errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND) return transactionalProduceProblem(undefined, producerId, producerEpoch);
    // The coordinator moved or is loading: retriable for the producer.
    if (state.errorCode !== ErrorCode.NONE) return ErrorCode.NOT_ENOUGH_REPLICAS;
    const ongoingWithPartition = state.transactionState === 'Ongoing' && state.topics.some((entry) => entry.topic === topic && entry.partitions.includes(partitionIndex));
    return transactionalProduceProblem({ producerId: Number(state.producerId), producerEpoch: state.producerEpoch, ongoingWithPartition }, producerId, producerEpoch);
  }
}
