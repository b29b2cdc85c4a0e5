// Transaction markers: how a COMMIT or ABORT control batch reaches a partition. The partition's
// leader writes it (this broker's own partitions directly, others through WriteTxnMarkers), waits
// until every in-sync replica has it, and only then does the coordinator count the marker written:
// a marker lost with a failed leader would leave the transaction open on that partition forever.
// As Kafka's TransactionMarkerChannelManager, markers for one broker queue up and go out together,
// one WriteTxnMarkers in flight per destination; errors go back to the coordinator, which retries.
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import type { TransactionMarker, TransactionMarkerWriter } from '../coordinator/transaction/transaction-ports.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { CONSUMER_OFFSETS_TOPIC } from '../metadata/topic-name.js';
import { type WriteTxnMarkersRequest, type WriteTxnMarkersResponse, WriteTxnMarkersApi } from '../protocol/messages/index.js';
import { buildControlBatchSync, ControlRecordType } from '../protocol/records/control-record.js';
import type { Transport } from '../protocol/transport.js';
import { type BrokerServices, notLedHereError } from './broker-services.js';
import { producePolicy } from './produce-policy.js';

/** v1: flexible; the only change from v0. */
const WRITE_TXN_MARKERS_VERSION = 1;

/** How long one marker may wait for the in-sync replicas (Kafka uses the request timeout). */
export const MARKER_COMMIT_TIMEOUT_MS = 30_000;

/**
 * Writes `marker` on this broker, which must lead its partition, and resolves once it is committed.
 * Throws a KafkaError the sender can act on: NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION
 * (look up the leader again), NOT_ENOUGH_REPLICAS (an acks=all write would be refused too),
 * INVALID_PRODUCER_EPOCH or TRANSACTION_COORDINATOR_FENCED (a newer producer or coordinator wrote).
 */
export async function writeMarkerHere(broker: BrokerServices, marker: TransactionMarker): Promise<void> {
  const { topic, partition: index } = marker;
  if (topic === CONSUMER_OFFSETS_TOPIC) {
    // The group coordinator writes it: a commit also makes the transaction's offsets visible.
    if (!broker.groupCoordinator.isOffsetsPartitionHosted(index)) throw new KafkaError(notLedHereError(broker, topic, index), `${topic}-${index} is not led by broker ${broker.nodeId}`);
    await broker.groupCoordinator.writeTransactionMarker(index, marker.producerId, marker.producerEpoch, marker.committed, marker.coordinatorEpoch);
    return;
  }
  const partition = broker.replicaManager.get(topic, index);
  if (!partition) throw new KafkaError(notLedHereError(broker, topic, index), `${topic}-${index} is not led by broker ${broker.nodeId}`);
  const { minInsyncReplicas } = producePolicy(broker, topic);
  if (partition.isr.length < minInsyncReplicas) {
    throw new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, `${topic}-${index} has ${partition.isr.length} in-sync replica(s), fewer than min.insync.replicas ${minInsyncReplicas}`);
  }
  const batch = buildControlBatchSync({
    type: marker.committed ? ControlRecordType.commit : ControlRecordType.abort,
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    coordinatorEpoch: marker.coordinatorEpoch,
    timestamp: broker.clock.nowMs(),
  });
  const appended = await broker.replicaManager.append(partition, batch, broker.clock.nowMs());
  await broker.replicaManager.whenCommitted(partition, appended.lastOffset, MARKER_COMMIT_TIMEOUT_MS, broker.clock);
}

export interface TransactionMarkerChannelOptions {
  readonly nodeId: number;
  readonly image: MetadataImage;
  /** Reaches the other brokers on their inter-broker listener. */
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Writes a marker whose partition this broker leads (writeMarkerHere). */
  readonly writeHere: (marker: TransactionMarker) => Promise<void>;
}

interface QueuedMarker {
  readonly marker: TransactionMarker;
  readonly resolve: (written: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/** The coordinator's TransactionMarkerWriter: each marker goes to its partition's current leader. */
export class TransactionMarkerChannel implements TransactionMarkerWriter {
  readonly #queues = new Map<number, QueuedMarker[]>();
  readonly #sending = new Set<number>();

  constructor(private readonly options: TransactionMarkerChannelOptions) {}

  async writeMarker(marker: TransactionMarker): Promise<boolean> {
    const assignment = this.options.image.partition(marker.topic, marker.partition);
    // The topic was deleted: no partition is left to end the transaction on.
    if (assignment === undefined) return false;
    const leaderId = assignment.leader;
    if (leaderId < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${marker.topic}-${marker.partition} has no leader`);
    if (leaderId === this.options.nodeId) {
      await this.options.writeHere(marker);
      return true;
    }
    return new Promise<boolean>((resolve, reject) => {
      let queue = this.#queues.get(leaderId);
      if (!queue) this.#queues.set(leaderId, (queue = []));
      queue.push({ marker, resolve, reject });
      this.#drain(leaderId);
    });
  }

  /** Sends everything queued for `brokerId` in one request, unless one is in flight already. */
  #drain(brokerId: number): void {
    const queued = this.#queues.get(brokerId);
    if (this.#sending.has(brokerId) || !queued || queued.length === 0) return;
    this.#queues.delete(brokerId);
    this.#sending.add(brokerId);
    void this.#send(brokerId, queued).finally(() => {
      this.#sending.delete(brokerId);
      this.#drain(brokerId);
    });
  }

  async #send(brokerId: number, queued: readonly QueuedMarker[]): Promise<void> {
    let response: WriteTxnMarkersResponse;
    try {
      response = await this.options.transport.send(brokerId, WriteTxnMarkersApi, WRITE_TXN_MARKERS_VERSION, markersRequest(queued), MARKER_COMMIT_TIMEOUT_MS + 5000);
    } catch (error) {
      for (const entry of queued) entry.reject(error);
      return;
    }
    const codes = new Map<string, number>();
    for (const result of response.markers) {
      for (const topic of result.topics) {
        for (const partition of topic.partitions) codes.set(markerKey(Number(result.producerId), topic.name, partition.partitionIndex), partition.errorCode);
      }
    }
    for (const entry of queued) {
      const { marker } = entry;
      const code = codes.get(markerKey(marker.producerId, marker.topic, marker.partition)) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      if (code === ErrorCode.NONE) entry.resolve(true);
      else if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && this.options.image.partition(marker.topic, marker.partition) === undefined) entry.resolve(false);
      else entry.reject(new KafkaError(code, `broker ${brokerId} did not write the marker on ${marker.topic}-${marker.partition}`));
    }
  }
}

function markerKey(producerId: number, topic: string, partition: number): string {
  return `${producerId}:${partition}:${topic}`;
}

/** One entry per transaction outcome, its partitions grouped by topic. */
function markersRequest(queued: readonly QueuedMarker[]): WriteTxnMarkersRequest {
  const byTransaction = new Map<string, WriteTxnMarkersRequest['markers'][number]>();
  for (const { marker } of queued) {
    const id = `${marker.producerId}:${marker.producerEpoch}:${marker.committed}:${marker.coordinatorEpoch}`;
    let entry = byTransaction.get(id);
    if (!entry) {
      entry = { producerId: BigInt(marker.producerId), producerEpoch: marker.producerEpoch, transactionResult: marker.committed, coordinatorEpoch: marker.coordinatorEpoch, topics: [] };
      byTransaction.set(id, entry);
    }
    let topic = entry.topics.find((candidate) => candidate.name === marker.topic);
    if (!topic) entry.topics.push((topic = { name: marker.topic, partitionIndexes: [] }));
    topic.partitionIndexes.push(marker.partition);
  }
  return { markers: [...byTransaction.values()] };
}
