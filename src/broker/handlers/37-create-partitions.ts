// CreatePartitions (key 37), versions 0-3.
// Adds partitions to existing topics through the controller (INVALID_PARTITIONS when the count
// does not grow, INVALID_REPLICA_ASSIGNMENT for bad manual assignments); validate_only supported.
// Needs ALTER on each topic, as Kafka's ControllerApis.createPartitions: else the topic answers
// TOPIC_AUTHORIZATION_FAILED (no message) and is not looked at; a topic named twice goes to the
// controller unauthorized, which refuses it (INVALID_REQUEST), as Kafka refuses duplicates first.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { CreatePartitionsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

type TopicResult = { name: string; errorCode: number; errorMessage: string | null };

export const createPartitionsHandler = defineHandler({
  api: CreatePartitionsApi,
  minVersion: 0,
  maxVersion: 3,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    const counts = new Map<string, number>();
    for (const { name } of request.topics) counts.set(name, (counts.get(name) ?? 0) + 1);
    const refusals = request.topics.map(({ name }): TopicResult | undefined =>
      counts.get(name)! > 1 || broker.authorization.topic(connection, AclOperation.ALTER, name) ? undefined : { name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null },
    );
    const allowed = request.topics.filter((_, index) => refusals[index] === undefined);
    const results =
      allowed.length === 0
        ? []
        : await broker.controller.createPartitions(
            allowed.map((topic) => ({
              name: topic.name,
              count: topic.count,
              assignments: topic.assignments ? topic.assignments.map((assignment) => assignment.brokerIds) : null,
            })),
            request.validateOnly,
          );
    let next = 0;
    return {
      throttleTimeMs: 0,
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
