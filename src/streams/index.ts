/**
 * Conveyor Streams (`conveyor/streams`): Kafka Streams' DSL and Processor API for TypeScript, the
 * topology and its description, tasks a runtime drives, and a test driver that needs no broker.
 */
export { Serdes, serdeFrom, SerializationError, type Serde, type Serializer, type Deserializer } from './serdes.js';
export { parseStreamsConfig, unknownStreamsKeys, ConfigError, type StreamsConfigValues, type StreamsProperties, type ProcessingGuarantee } from './config.js';
export { StreamsBuilder } from './kstream/streams-builder.js';
export {
  KStream,
  KTable,
  KGroupedStream,
  KGroupedTable,
  BranchedKStream,
  GlobalKTable,
  TimeWindowedKStream,
  SessionWindowedKStream,
} from './kstream/dsl.js';
export {
  TimeWindows,
  SessionWindows,
  SlidingWindows,
  JoinWindows,
  Suppressed,
  BufferConfig,
  WindowedSerdes,
  type Windowed,
  type TimeWindow,
} from './kstream/windows.js';
export type { WindowStore, SessionStore } from './state/window-store.js';
export { Consumed, Produced, Grouped, Joined, Materialized, Named, Repartitioned, Branched, StreamJoined, keyValue, type KeyValue } from './kstream/options.js';
export {
  Topology,
  TopologyError,
  type TimestampExtractor,
  type TopicNameExtractor,
  type StreamPartitioner,
  type RecordContext,
  type TopologyMetadata,
  type SubtopologyInfo,
  type StoreInfo,
  type InternalTopic,
} from './topology/topology.js';
export { TopologyDescription } from './topology/description.js';
export type {
  Processor,
  ProcessorContext,
  ProcessorSupplier,
  StreamRecord,
  RecordMetadata,
  Header,
  Headers,
  Change,
  PunctuationType,
  Punctuator,
  Cancellable,
  TaskId,
} from './processor/api.js';
export { StreamTask, StreamsError, type TaskOptions, type RecordCollector, type OutputRecord } from './processor/task.js';
export { Stores, KeyValueStoreBuilder, type StoreDefinition } from './state/stores.js';
export type {
  KeyValueStore,
  ReadOnlyKeyValueStore,
  TimestampedKeyValueStore,
  ValueAndTimestamp,
  ChangelogSink,
} from './state/key-value-store.js';
export type { KeyValueBytesStore, KeyValueBytesStoreSupplier } from './state/bytes-store.js';
export { TopologyTestDriver, TestInputTopic, TestOutputTopic, type TestRecord } from './test-driver.js';
export { ApplicationShutdownError, InvalidStateStoreError, KafkaStreams, StateDirectoryLockedError, StreamsRuntimeError, type StreamThreadExceptionResponse, type StreamsUncaughtExceptionHandler, type KafkaStreamsOptions, type KafkaStreamsState, type KeyQueryMetadata, type StateListener } from './runtime/index.js';
