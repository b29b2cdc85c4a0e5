// The port between the group coordinator and `__consumer_offsets`: the broker implements it over
// its partition logs; tests implement it in memory. The coordinator never touches files itself.

export interface OffsetsTopicPartitions {
  /** Creates `__consumer_offsets` if it does not exist yet; true once it exists. */
  ensureTopic(): Promise<boolean>;
  /** Whether this broker hosts (leads) `partition` of `__consumer_offsets`. */
  isHosted(partition: number): boolean;
  /** Appends one record batch to `partition` and resolves once it is durable and committed. */
  append(partition: number, batch: Buffer): Promise<void>;
  /** Whole batches of `partition` from `fromOffset` up to the high watermark (a bounded chunk). */
  read(partition: number, fromOffset: number): Promise<{ chunks: Buffer[]; highWatermark: number }>;
}
