/** The live runtime of Conveyor Streams: KafkaStreams over a Kafka-protocol cluster. */
export { ApplicationShutdownError, InvalidStateStoreError, KafkaStreams, StreamsRuntimeError, type KafkaStreamsOptions, type KafkaStreamsState, type KeyQueryMetadata, type StateListener, type StreamThreadExceptionResponse, type StreamsUncaughtExceptionHandler } from './kafka-streams.js';
export { StateDirectoryLockedError } from './state-directory.js';
export { assignTasks, taskName, type MemberAssignment, type MemberInfo, type TaskName } from './assignor.js';
