// Kafka Streams' WordCount, and deterministic input lines for it, shared by the runtime tests and their worker process.
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

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];

/** Deterministic lines (1 to 4 words each, the first upper-cased) and the counts word count ends with. */
export function linesAndCounts(count: number, seed: number): { lines: string[]; counts: Map<string, number> } {
  const lines: string[] = [];
  const counts = new Map<string, number>();
  let state = seed;
  for (let index = 0; index < count; index++) {
    const words: string[] = [];
    for (let w = 0; w < 1 + (index % 4); w++) {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      const word = WORDS[(state >>> 16) % WORDS.length]!;
      words.push(w === 0 ? word.toUpperCase() : word);
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    lines.push(words.join(' '));
  }
  return { lines, counts };
}
