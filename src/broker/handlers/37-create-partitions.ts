// CreatePartitions (key 37), versions 0-3.
// Adds partitions to existing topics through the controller (INVALID_PARTITIONS when the count
// does not grow, INVALID_REPLICA_ASSIGNMENT for bad manual assignments); validate_only supported.
// Needs ALTER on each topic, as Kafka's ControllerApis.createPartitions: else the topic answers
// TOPIC_AUTHORIZATION_FAILED (no message) and is not looked at; a topic named twice goes to the
// controller unauthorized, which refuses it (INVALID_REQUEST), as Kafka refuses duplicates first.
// controller_mutation_rate (KIP-599): for a client under it, each topic that passes the
// controller's checks is recorded with the partitions it adds, in request order, validate_only
// requests too (as Kafka 4's controller); from v3 a topic is refused with THROTTLING_QUOTA_EXCEEDED
// while the quota is exhausted (strict), before v3 every topic grows and the answer carries the
// throttle time (permissive). The answer's throttleTimeMs is the quota's; the dispatcher mutes the
// connection for it.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { CreatePartitionsApi } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { type ControllerMutationQuota, THROTTLING_QUOTA_EXCEEDED_MESSAGE } from '../quota/controller-mutation-quota.js';
import { defineHandler } from './handler.js';

type TopicResult = { name: string; errorCode: number; errorMessage: string | null };
type PartitionsRequest = { name: string; count: number; assignments: number[][] | null };

/** Kafka's first strict version (ControllerApis: strictSinceVersion = 3). */
const STRICT_QUOTA_VERSION = 3;

export const createPartitionsHandler = defineHandler({
  api: CreatePartitionsApi,
  minVersion: 0,
  maxVersion: 3,
  forwardToController: true,
  async handle(request, { broker, connection, apiVersion, clientId }) {
    const counts = new Map<string, number>();
    for (const { name } of request.topics) counts.set(name, (counts.get(name) ?? 0) + 1);
    const refusals = request.topics.map(({ name }): TopicResult | undefined =>
      counts.get(name)! > 1 || broker.authorization.topic(connection, AclOperation.ALTER, name) ? undefined : { name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null },
    );
    const allowed: PartitionsRequest[] = request.topics
      .filter((_, index) => refusals[index] === undefined)
      .map((topic) => ({ name: topic.name, count: topic.count, assignments: topic.assignments ? topic.assignments.map((assignment) => assignment.brokerIds) : null }));
    const quota = allowed.length === 0 ? undefined : broker.clientQuotas?.controllerMutationQuota(connection, clientId, apiVersion >= STRICT_QUOTA_VERSION);
    let results: TopicResult[] = [];
    if (quota) results = await growWithinQuota(broker, allowed, request.validateOnly, quota);
    else if (allowed.length > 0) results = await broker.controller.createPartitions(allowed, request.validateOnly);
    let next = 0;
    return {
      throttleTimeMs: quota?.throttleTimeMs() ?? 0,
      results: refusals.map((refused) => {
        if (refused) return refused;
        const { name, errorCode, errorMessage } = results[next++]!;
        return { name, errorCode, errorMessage };
      }),
    };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: request.topics.map(({ name }) => ({ name, errorCode, errorMessage: null })) };
  },
});

/**
 * The topics of a client under controller_mutation_rate: a validate-only pass first tells which
 * topics pass the controller's checks; each is recorded with the partitions it adds (its new count
 * less the count the image has), in request order, the ones a strict quota refuses answered
 * THROTTLING_QUOTA_EXCEEDED, and only the admitted ones grown.
 */
async function growWithinQuota(broker: BrokerServices, requests: PartitionsRequest[], validateOnly: boolean, quota: ControllerMutationQuota): Promise<TopicResult[]> {
  const validated = await broker.controller.createPartitions(requests, true);
  const decided = validated.map((result, index): TopicResult | undefined => {
    if (result.errorCode !== ErrorCode.NONE) return result;
    const added = requests[index]!.count - (broker.image.topic(result.name)?.partitions.size ?? 0);
    return quota.record(added) ? undefined : { name: result.name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLING_QUOTA_EXCEEDED_MESSAGE };
  });
  if (validateOnly) return decided.map((result, index) => result ?? validated[index]!);
  const admitted = requests.filter((_, index) => decided[index] === undefined);
  const grown = admitted.length === 0 ? [] : await broker.controller.createPartitions(admitted, false);
  let next = 0;
  return decided.map((result) => result ?? grown[next++]!);
}
