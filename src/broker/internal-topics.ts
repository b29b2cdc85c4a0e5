// Kafka's internal topics (`__consumer_offsets`, `__transaction_state`) are created through the
// controller the first time something needs them, whichever request that is: FindCoordinator,
// AddOffsetsToTxn, a group or transaction operation. Concurrent callers race harmlessly: the loser
// gets TOPIC_ALREADY_EXISTS and finds the topic in the image.
import type { Logger } from '../base/logger.js';
import type { Controller } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';

/** Segment size of the internal topics, as Kafka's offsets.topic.segment.bytes and transaction.state.log.segment.bytes. */
const INTERNAL_TOPIC_SEGMENT_BYTES = 100 * 1024 * 1024;

export interface InternalTopicWiring {
  readonly controller: Controller;
  readonly image: MetadataImage;
  readonly logger: Logger;
}

/** Creates the compacted internal topic `name` unless the image has it; true once it exists. */
export async function ensureInternalTopic(wiring: InternalTopicWiring, name: string, numPartitions: number): Promise<boolean> {
  const { controller, image, logger } = wiring;
  if (image.topic(name)) return true;
  const [result] = await controller.createTopics(
    [
      {
        name,
        numPartitions,
        replicationFactor: -1,
        assignments: [],
        configs: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(INTERNAL_TOPIC_SEGMENT_BYTES) },
        ],
      },
    ],
    false,
  );
  const exists = image.topic(name) !== undefined;
  if (!exists && result) logger.warn(`creating ${name} failed`, { errorCode: result.errorCode, message: result.errorMessage });
  return exists;
}
