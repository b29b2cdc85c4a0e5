// CreatePartitions (key 37), versions 0-3.
// Adds partitions to existing topics through the controller (INVALID_PARTITIONS when the count
// does not grow, INVALID_REPLICA_ASSIGNMENT for bad manual assignments); validate_only supported.
import { CreatePartitionsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const createPartitionsHandler = defineHandler({
  api: CreatePartitionsApi,
  minVersion: 0,
  maxVersion: 3,
  forwardToController: true,
  async handle(request, { broker }) {
    const results = await broker.controller.createPartitions(
      request.topics.map((topic) => ({
        name: topic.name,
        count: topic.count,
        assignments: topic.assignments ? topic.assignments.map((assignment) => assignment.brokerIds) : null,
      })),
      request.validateOnly,
    );
    return {
      throttleTimeMs: 0,
      results: results.map(({ name, errorCode, errorMessage }) => ({ name, errorCode, errorMessage })),
    };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: request.topics.map(({ name }) => ({ name, errorCode, errorMessage: null })) };
  },
});
