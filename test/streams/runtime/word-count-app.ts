// Kafka Streams' WordCount, shared by the runtime tests and their worker process.
import { Consumed, Materialized, Produced, Serdes, StreamsBuilder, type Topology } from '../../../src/streams/index.js';

/** `onCount` sees each count on its way out (a test's hook to kill the instance mid-stream). */
export function wordCount(input: string, output: string, onCount: () => void = () => {}): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
    .groupBy((_key, word) => word)
    .count(undefined, Materialized.as('counts-store'))
    .toStream()
    .peek(onCount)
    .to(output, Produced.with(Serdes.String(), Serdes.Long()));
  return builder.build();
}
