// Test doubles for the share coordinator's tests: an in-memory `__share_group_state` whose
// hosting, appends and loads a test can steer, and a metadata image with that topic and a data
// topic. Imported by tests only.
import { MetadataImage } from '../metadata/metadata-image.js';
import { SHARE_GROUP_STATE_TOPIC } from '../metadata/topic-name.js';
import type { ShareStateTopicPartitions } from '../coordinator/share/share-state-coordinator.js';
import { addTopic } from './group-support.js';
import { patchBaseOffsetAndEpoch, readLastOffsetDelta } from '../protocol/records/batch-header.js';

export const DATA_TOPIC = 'orders';
export const DATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAg';
export const SHARE_STATE_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAw';

/** An image with `__share_group_state` (`statePartitions` partitions, led by broker 1) and `orders` (4). */
export function imageWithShareStateTopic(statePartitions = 4): MetadataImage {
  const image = new MetadataImage();
  addTopic(image, SHARE_GROUP_STATE_TOPIC, SHARE_STATE_TOPIC_ID, statePartitions);
  addTopic(image, DATA_TOPIC, DATA_TOPIC_ID, 4);
  return image;
}

/** `__share_group_state` in memory: every partition hosted unless a test says otherwise. */
export class MemoryShareStateTopic implements ShareStateTopicPartitions {
  readonly logs = new Map<number, Buffer[]>();
  readonly notHosted = new Set<number>();
  /** The next appends fail with this error (each failure consumes one entry). */
  readonly appendFailures: Error[] = [];
  /** While set, loads wait for it to resolve before reading. */
  loadGate: Promise<void> | undefined;
  appends = 0;

  async ensureTopic(): Promise<boolean> {
    return true;
  }
  isHosted(partition: number): boolean {
    return !this.notHosted.has(partition);
  }
  async append(partition: number, batch: Buffer): Promise<void> {
    const failure = this.appendFailures.shift();
    if (failure !== undefined) throw failure;
    const log = this.logs.get(partition) ?? [];
    const copy = Buffer.from(batch);
    patchBaseOffsetAndEpoch(copy, 0, this.endOffset(partition), 0);
    log.push(copy);
    this.logs.set(partition, log);
    this.appends++;
  }
  async read(partition: number, fromOffset: number) {
    if (this.loadGate !== undefined) await this.loadGate;
    return { chunks: fromOffset === 0 ? (this.logs.get(partition) ?? []) : [], highWatermark: this.endOffset(partition) };
  }
  /** How many records the partition holds. */
  endOffset(partition: number): number {
    return (this.logs.get(partition) ?? []).reduce((next, stored) => next + readLastOffsetDelta(stored) + 1, 0);
  }
}
