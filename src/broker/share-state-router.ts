// The share-state persister for the whole cluster (Kafka's DefaultStatePersister, KIP-932): each
// share-partition's state lives with the share coordinator that leads its key's partition of
// `__share_group_state`. This broker answers locally when it leads that partition, and otherwise
// sends the matching inter-broker RPC (InitializeShareGroupState 83, ReadShareGroupState 84,
// WriteShareGroupState 85, DeleteShareGroupState 86, ReadShareGroupStateSummary 87) to the
// leader. No leader, or no answer from it, is COORDINATOR_NOT_AVAILABLE: the caller retries. The
// topic is created the first time a share-partition's state is needed.
import { ErrorCode } from '../base/error-codes.js';
import type { Logger } from '../base/logger.js';
import type { ShareStateCoordinator } from '../coordinator/share/share-state-coordinator.js';
import type { PersistedStateBatch } from '../coordinator/share/share-partition.js';
import type { ShareStateKey, ShareStatePersister, ShareStateRead, ShareStateResult, ShareStateSummary, ShareStateWrite } from '../coordinator/share/share-state-persister.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { SHARE_GROUP_STATE_TOPIC } from '../metadata/topic-name.js';
import {
  type ApiDescriptor,
  DeleteShareGroupStateApi,
  InitializeShareGroupStateApi,
  ReadShareGroupStateApi,
  ReadShareGroupStateSummaryApi,
  WriteShareGroupStateApi,
} from '../protocol/messages/index.js';
import type { Transport } from '../protocol/transport.js';

/** How long a share coordinator on another broker may take to answer (Kafka's share.coordinator.write.timeout.ms). */
const REMOTE_TIMEOUT_MS = 5000;

/** The versions sent: the newest of each, which carry DeliveryCompleteCount (KIP-1226). */
const WRITE_VERSION = 1;
const READ_SUMMARY_VERSION = 1;

export interface ShareStateRouterOptions {
  readonly nodeId: number;
  readonly image: MetadataImage;
  /** This broker's share coordinator, which answers the keys of the partitions it leads. */
  readonly local: ShareStateCoordinator;
  /** Reaches the other brokers on their inter-broker listener. */
  readonly transport: Transport;
  /** Creates `__share_group_state` if it does not exist yet; true once it exists. */
  ensureTopic(): Promise<boolean>;
  readonly logger?: Logger;
  readonly timeoutMs?: number;
}

/** Where a key's share coordinator is: here, on another broker, or nowhere right now. */
type Route = { local: true } | { leader: number } | { errorCode: number };

interface PartitionAnswer {
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

export class ShareStateRouter implements ShareStatePersister {
  constructor(private readonly options: ShareStateRouterOptions) {}

  async initialize(key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<ShareStateResult> {
    const route = await this.route(key);
    if ('local' in route) return this.options.local.initialize(key, stateEpoch, startOffset);
    if ('errorCode' in route) return { errorCode: route.errorCode };
    const request = { groupId: key.groupId, topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition, stateEpoch, startOffset: BigInt(startOffset) }] }] };
    return this.ask(route.leader, InitializeShareGroupStateApi, 0, request, key, result, (errorCode) => ({ errorCode }));
  }

  async read(key: ShareStateKey, leaderEpoch: number): Promise<ShareStateRead> {
    const failed = (errorCode: number): ShareStateRead => ({ errorCode, stateEpoch: 0, startOffset: -1, stateBatches: [] });
    const route = await this.route(key);
    if ('local' in route) return this.options.local.read(key, leaderEpoch);
    if ('errorCode' in route) return failed(route.errorCode);
    const request = { groupId: key.groupId, topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition, leaderEpoch }] }] };
    return this.ask(
      route.leader,
      ReadShareGroupStateApi,
      0,
      request,
      key,
      (answer) => ({ ...result(answer), stateEpoch: answer.stateEpoch, startOffset: Number(answer.startOffset), stateBatches: answer.stateBatches.map(stateBatch) }),
      failed,
    );
  }

  async write(key: ShareStateKey, write: ShareStateWrite): Promise<ShareStateResult> {
    const route = await this.route(key);
    if ('local' in route) return this.options.local.write(key, write);
    if ('errorCode' in route) return { errorCode: route.errorCode };
    const partition = {
      partition: key.partition,
      stateEpoch: write.stateEpoch,
      leaderEpoch: write.leaderEpoch,
      startOffset: BigInt(write.startOffset),
      deliveryCompleteCount: write.deliveryCompleteCount,
      stateBatches: write.stateBatches.map((batch) => ({ firstOffset: BigInt(batch.firstOffset), lastOffset: BigInt(batch.lastOffset), deliveryState: batch.deliveryState, deliveryCount: batch.deliveryCount })),
    };
    const request = { groupId: key.groupId, topics: [{ topicId: key.topicId, partitions: [partition] }] };
    return this.ask(route.leader, WriteShareGroupStateApi, WRITE_VERSION, request, key, result, (errorCode) => ({ errorCode }));
  }

  async delete(key: ShareStateKey): Promise<ShareStateResult> {
    const route = await this.route(key);
    if ('local' in route) return this.options.local.delete(key);
    if ('errorCode' in route) return { errorCode: route.errorCode };
    const request = { groupId: key.groupId, topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition }] }] };
    return this.ask(route.leader, DeleteShareGroupStateApi, 0, request, key, result, (errorCode) => ({ errorCode }));
  }

  async readSummary(key: ShareStateKey, leaderEpoch: number): Promise<ShareStateSummary> {
    const failed = (errorCode: number): ShareStateSummary => ({ errorCode, stateEpoch: 0, leaderEpoch: 0, startOffset: -1, deliveryCompleteCount: -1 });
    const route = await this.route(key);
    if ('local' in route) return this.options.local.readSummary(key, leaderEpoch);
    if ('errorCode' in route) return failed(route.errorCode);
    const request = { groupId: key.groupId, topics: [{ topicId: key.topicId, partitions: [{ partition: key.partition, leaderEpoch }] }] };
    return this.ask(
      route.leader,
      ReadShareGroupStateSummaryApi,
      READ_SUMMARY_VERSION,
      request,
      key,
      (answer) => ({ ...result(answer), stateEpoch: answer.stateEpoch, leaderEpoch: answer.leaderEpoch, startOffset: Number(answer.startOffset), deliveryCompleteCount: answer.deliveryCompleteCount ?? -1 }),
      failed,
    );
  }

  /** The broker leading the key's `__share_group_state` partition, creating the topic on first use. */
  private async route(key: ShareStateKey): Promise<Route> {
    const { image, local, nodeId } = this.options;
    // A key that can have no coordinator: the local one answers INVALID_REQUEST, as the remote would.
    if (key.groupId.length === 0 || key.partition < 0) return { local: true };
    if (image.topic(SHARE_GROUP_STATE_TOPIC) === undefined && !(await this.options.ensureTopic().catch(() => false))) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    const leader = image.topic(SHARE_GROUP_STATE_TOPIC)?.partitions.get(local.partitionFor(key))?.leader;
    if (leader === undefined || leader < 0) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    return leader === nodeId ? { local: true } : { leader };
  }

  /** Sends a one-partition request to the leader and reads that partition's answer. */
  private async ask<Request, Answer extends PartitionAnswer, Out>(
    leader: number,
    // biome-ignore lint/suspicious/noExplicitAny: a sender encodes requests and decodes responses only.
    api: ApiDescriptor<any, { results: { topicId: string; partitions: Answer[] }[] }, Request, any>,
    version: number,
    request: Request,
    key: ShareStateKey,
    answered: (answer: Answer) => Out,
    failed: (errorCode: number) => Out,
  ): Promise<Out> {
    let response: { results: { topicId: string; partitions: Answer[] }[] };
    try {
      response = await this.options.transport.send(leader, api, version, request, this.options.timeoutMs ?? REMOTE_TIMEOUT_MS);
    } catch (error) {
      this.options.logger?.info('the share coordinator could not be reached', { api: api.name, leader, error });
      return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
    const answer = response.results.find((entry) => entry.topicId === key.topicId)?.partitions.find((entry) => entry.partition === key.partition);
    // No answer for the partition (the leader found the request malformed): nothing to retry on.
    return answer === undefined ? failed(ErrorCode.UNKNOWN_SERVER_ERROR) : answered(answer);
  }
}

function result(answer: PartitionAnswer): ShareStateResult {
  return { errorCode: answer.errorCode, errorMessage: answer.errorMessage };
}

function stateBatch(batch: { firstOffset: bigint; lastOffset: bigint; deliveryState: number; deliveryCount: number }): PersistedStateBatch {
  return { firstOffset: Number(batch.firstOffset), lastOffset: Number(batch.lastOffset), deliveryState: batch.deliveryState, deliveryCount: batch.deliveryCount };
}
