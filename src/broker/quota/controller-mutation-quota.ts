// controller_mutation_rate (KIP-599, Kafka's ControllerMutationQuotaManager): the rate at which a
// client (user and client id, resolved as the other client quotas) may create and delete
// partitions on the active controller: CreateTopics counts each new topic's partitions (and so do
// the topics a Metadata request auto-creates, strictly: Kafka's broker sends the controller a
// CreateTopics of the client's at its latest version), CreatePartitions the partitions added,
// DeleteTopics the deleted topic's partitions. Each entity's usage is a TokenBucket
// (token-bucket.ts) over controller.quota.window.num samples of controller.quota.window.size.seconds
// (Kafka's defaults: 11 of 1 s).
//
// The handlers ask for one ControllerMutationQuota per request and record each topic, in request
// order, once it has passed every other check (Kafka's ControllerRequestContext
// .applyPartitionChangeQuota, called by the controller per topic). Two behaviours, by request
// version (Kafka's strictSinceVersion: CreateTopics v6, DeleteTopics v5, CreatePartitions v3):
// - strict: a topic is refused with THROTTLING_QUOTA_EXCEEDED while the bucket is exhausted
//   (negative), and is otherwise admitted whatever its size (the bucket may go negative then: the
//   next one is refused). The answer's throttle time is the refusal's, 0 when nothing was refused.
// - permissive (older clients, which know no THROTTLING_QUOTA_EXCEEDED): every topic is admitted
//   and recorded, and the answer carries the time until the bucket is back at zero.
// The throttle time is decided when it is computed and reported less the time since (Kafka's
// AbstractControllerMutationQuota.throttleTime: the request may wait for the metadata log after
// its topics were recorded).
import type { Clock } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';
import type { Controller, CreateTopicRequest, TopicResult } from '../../metadata/controller.js';
import type { QuotaWindow } from '../../replication/replication-quota.js';
import { type QuotaSource, QuotaSensors } from './quota-sensors.js';
import { TokenBucket, throttleTimeMs } from './token-bucket.js';

/** Errors.THROTTLING_QUOTA_EXCEEDED's message, as Kafka's ApiError carries it for a refused topic. */
export const THROTTLING_QUOTA_EXCEEDED_MESSAGE = 'The throttling quota has been exceeded.';

/** One request's view of its client's controller mutation quota. */
export interface ControllerMutationQuota {
  /**
   * Records `partitions` partition mutations for one topic; false when a strict quota refuses the
   * topic (nothing is recorded then: answer it THROTTLING_QUOTA_EXCEEDED).
   */
  record(partitions: number): boolean;
  /** The answer's throttle time in ms, less the time since it was decided. */
  throttleTimeMs(): number;
}

class BucketQuota implements ControllerMutationQuota {
  #throttleMs = 0;
  #decidedAtMs = 0;

  constructor(
    private readonly bucket: TokenBucket,
    private readonly quota: number,
    private readonly strict: boolean,
    private readonly clock: Clock,
  ) {}

  record(partitions: number): boolean {
    if (this.strict) {
      // Kafka's StrictControllerMutationQuota: the quota is checked before the topic is recorded.
      const tokens = this.bucket.tokens(this.quota);
      if (tokens < 0) {
        this.#decide(throttleTimeMs(tokens, this.quota));
        return false;
      }
      this.bucket.record(this.quota, partitions);
      return true;
    }
    // PermissiveControllerMutationQuota: recorded, then checked.
    this.bucket.record(this.quota, partitions);
    const tokens = this.bucket.tokens(this.quota);
    if (tokens < 0) this.#decide(throttleTimeMs(tokens, this.quota));
    return true;
  }

  throttleTimeMs(): number {
    return Math.max(0, this.#throttleMs - (this.clock.monotonicMs() - this.#decidedAtMs));
  }

  #decide(throttleMs: number): void {
    this.#throttleMs = throttleMs;
    this.#decidedAtMs = this.clock.monotonicMs();
  }
}

export class ControllerMutationQuotaManager {
  readonly #sensors: QuotaSensors<TokenBucket>;

  constructor(
    source: QuotaSource,
    private readonly clock: Clock,
    window: QuotaWindow,
  ) {
    this.#sensors = new QuotaSensors(source, clock, () => new TokenBucket(clock, window));
  }

  /**
   * The quota of one request from the client (`user`: the principal's name; `clientId`: the
   * request's), strict or permissive; undefined when no controller_mutation_rate applies to it (the
   * handler then records nothing).
   */
  quotaFor(user: string, clientId: string, strict: boolean): ControllerMutationQuota | undefined {
    if (!this.#sensors.anySet()) return undefined;
    const resolved = this.#sensors.resolve(user, clientId);
    if (resolved === undefined) return undefined;
    return new BucketQuota(this.#sensors.measureOf(resolved), resolved.bound, strict, this.clock);
  }

  /** Whether a quota applies to the client. */
  appliesTo(user: string, clientId: string): boolean {
    return this.#sensors.anySet() && this.#sensors.resolve(user, clientId) !== undefined;
  }

  /** How many buckets are kept (for tests and metrics). */
  get sensorCount(): number {
    return this.#sensors.size;
  }
}

/**
 * Creates the topics of a client under controller_mutation_rate (CreateTopics, and topics a
 * Metadata request auto-creates): a validate-only pass first tells which topics pass the
 * controller's checks and their partition counts; those are recorded in request order, the ones a
 * strict quota refuses answered THROTTLING_QUOTA_EXCEEDED, and only the admitted ones created.
 * Validate-only requests are recorded too, as Kafka 4's controller records them
 * (ReplicationControlManager applies the quota to each topic before it looks at validateOnly).
 * Kafka records inside the controller's one step; here a topic created by someone else between the
 * two passes has been recorded and then fails (TOPIC_ALREADY_EXISTS).
 */
export async function createTopicsWithinQuota(
  controller: Pick<Controller, 'createTopics'>,
  requests: CreateTopicRequest[],
  validateOnly: boolean,
  quota: ControllerMutationQuota,
): Promise<TopicResult[]> {
  const validated = await controller.createTopics(requests, true);
  const decided = validated.map((result): TopicResult | undefined => {
    if (result.errorCode !== ErrorCode.NONE) return result;
    if (quota.record(result.numPartitions)) return undefined;
    return { name: result.name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLING_QUOTA_EXCEEDED_MESSAGE, topicId: null, numPartitions: -1, replicationFactor: -1 };
  });
  if (validateOnly) return decided.map((result, index) => result ?? validated[index]!);
  const admitted = requests.filter((_, index) => decided[index] === undefined);
  const created = admitted.length === 0 ? [] : await controller.createTopics(admitted, false);
  let next = 0;
  return decided.map((result) => result ?? created[next++]!);
}
