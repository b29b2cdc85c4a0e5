// Reading the embedded consumer protocol (subscription and assignment blobs of protocol type
// "consumer") for tools and OffsetDelete, tolerant of versions newer than the codecs know.
import { Reader } from '../../protocol/primitives/reader.js';
import {
  type ConsumerProtocolAssignment,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
} from '../../protocol/messages/records/index.js';

const SUBSCRIPTION_MAX_VERSION = 3;
const ASSIGNMENT_MAX_VERSION = 3;

/** Topics a consumer subscription names; empty when the blob does not decode. */
export function subscribedTopics(metadata: Buffer): string[] {
  try {
    const reader = new Reader(metadata);
    const version = reader.readInt16();
    return decodeConsumerProtocolSubscription(reader, Math.min(Math.max(version, 0), SUBSCRIPTION_MAX_VERSION)).topics;
  } catch {
    return [];
  }
}

/** Partitions a consumer assignment hands out; empty when the blob is empty or does not decode. */
export function assignedPartitions(assignment: Buffer): ConsumerProtocolAssignment['assignedPartitions'] {
  if (assignment.length < 2) return [];
  try {
    const reader = new Reader(assignment);
    const version = reader.readInt16();
    return decodeConsumerProtocolAssignment(reader, Math.min(Math.max(version, 0), ASSIGNMENT_MAX_VERSION)).assignedPartitions;
  } catch {
    return [];
  }
}
