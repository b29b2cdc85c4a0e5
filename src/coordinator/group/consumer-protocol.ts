// Reading the embedded consumer protocol (subscription and assignment blobs of protocol type
// "consumer") for tools, OffsetDelete and the online migration between the classic and the consumer
// protocols, tolerant of versions newer than the codecs know; and writing an assignment for a
// classic member in the version its subscription was written in, as Kafka does.
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import {
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
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

/** The whole subscription (topics, owned partitions, rack); undefined when the blob does not decode. */
export function decodeSubscription(metadata: Buffer): ConsumerProtocolSubscription | undefined {
  try {
    const reader = new Reader(metadata);
    const version = reader.readInt16();
    if (version < 0) return undefined;
    return decodeConsumerProtocolSubscription(reader, Math.min(version, SUBSCRIPTION_MAX_VERSION));
  } catch {
    return undefined;
  }
}

/** An assignment blob in the version of `subscription` (the one the member speaks), capped at what the codecs write. */
export function encodeAssignment(assignedPartitions: ConsumerProtocolAssignment['assignedPartitions'], subscription: Buffer): Buffer {
  const version = subscription.length >= 2 ? Math.min(Math.max(subscription.readInt16BE(0), 0), ASSIGNMENT_MAX_VERSION) : 0;
  const writer = new Writer(64);
  writer.writeInt16(version);
  encodeConsumerProtocolAssignment(writer, version, { assignedPartitions, userData: null });
  return writer.toBuffer();
}
