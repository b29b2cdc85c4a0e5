// Test doubles for the group coordinator's tests: a clock stepped by the test, an in-memory
// `__consumer_offsets`, and a metadata image with topics. Imported by tests only.
import type { Clock, RandomSource } from '../base/clock.js';
import type { OffsetsTopicPartitions } from '../coordinator/group/offsets-topic.js';
import { MetadataImage } from '../metadata/metadata-image.js';
import { CONSUMER_OFFSETS_TOPIC } from '../metadata/topic-name.js';
import { patchBaseOffsetAndEpoch, readLastOffsetDelta } from '../protocol/records/batch-header.js';

/** Adds a topic with `partitions` partitions led by broker 1. */
export function addTopic(image: MetadataImage, name: string, topicId: string, partitions: number): void {
  image.apply({ type: 'Topic', name, topicId });
  for (let partitionId = 0; partitionId < partitions; partitionId++) {
    image.apply({ type: 'Partition', topicId, partitionId, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
  }
}

/** A clock whose timers fire only when a test advances it, each followed by a turn of the event loop. */
export class StepClock implements Clock {
  now = 1_000_000;
  private timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  nowMs(): number {
    return this.now;
  }
  monotonicMs(): number {
    return this.now;
  }
  schedule(delayMs: number, callback: () => void): () => void {
    const timer = { at: this.now + delayMs, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((timer) => !timer.cancelled && timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.now = due.at;
      due.cancelled = true;
      due.callback();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

export const settle = () => new Promise((resolve) => setImmediate(resolve));

export const random: RandomSource = { nextInt: (bound) => Math.floor(Math.random() * bound), bytes: (length) => Buffer.from(Array.from({ length }, () => Math.floor(Math.random() * 256))) };

/** `__consumer_offsets` in memory: every partition hosted here. */
export class MemoryOffsetsTopic implements OffsetsTopicPartitions {
  readonly logs = new Map<number, Buffer[]>();
  /** The image of these tests always has `__consumer_offsets`: there is nothing to create. */
  async ensureTopic(): Promise<boolean> {
    return true;
  }
  isHosted(): boolean {
    return true;
  }
  async append(partition: number, batch: Buffer): Promise<void> {
    const log = this.logs.get(partition) ?? [];
    const baseOffset = log.reduce((next, stored) => next + readLastOffsetDelta(stored) + 1, 0);
    const copy = Buffer.from(batch);
    patchBaseOffsetAndEpoch(copy, 0, baseOffset, 0);
    log.push(copy);
    this.logs.set(partition, log);
  }
  async read(partition: number, fromOffset: number) {
    const log = this.logs.get(partition) ?? [];
    const highWatermark = log.reduce((next, stored) => next + readLastOffsetDelta(stored) + 1, 0);
    return { chunks: fromOffset === 0 ? log : [], highWatermark };
  }
}

/** An image with `__consumer_offsets` (4 partitions) and `orders` (2). */
export function imageWithTopics(): MetadataImage {
  const image = new MetadataImage();
  addTopic(image, CONSUMER_OFFSETS_TOPIC, 'AAAAAAAAAAAAAAAAAAAAAQ', 4);
  addTopic(image, 'orders', 'AAAAAAAAAAAAAAAAAAAAAg', 2);
  return image;
}
