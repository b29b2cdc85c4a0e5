// Word count, Kafka Streams' canonical example, through the test driver: the golden counts, the
// repartition topic in between, the store's content and changelog, and describe() compared with
// the text Kafka Streams prints for the same program (its quickstart's WordCount).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Consumed, Materialized, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../../../src/streams/index.js';

// As Kafka's WordCount demo sets them: the regrouped words need a key serde.
const WORDCOUNT_PROPS = {
  'application.id': 'wordcount',
  'default.key.serde': Serdes.String(),
  'default.value.serde': Serdes.String(),
};

function wordCount() {
  const builder = new StreamsBuilder();
  builder
    .stream('streams-plaintext-input', Consumed.with(Serdes.String(), Serdes.String()))
    .flatMapValues((line) => line.toLowerCase().split(/\W+/).filter(Boolean))
    .groupBy((_key, word) => word)
    .count(undefined, Materialized.as('counts-store'))
    .toStream()
    .to('streams-wordcount-output', Produced.with(Serdes.String(), Serdes.Long()));
  return builder.build();
}

const KAFKA_WORD_COUNT_DESCRIPTION = `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> counts-store-repartition-filter
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Processor: counts-store-repartition-filter (stores: [])
      --> counts-store-repartition-sink
      <-- KSTREAM-KEY-SELECT-0000000002
    Sink: counts-store-repartition-sink (topic: counts-store-repartition)
      <-- counts-store-repartition-filter

  Sub-topology: 1
    Source: counts-store-repartition-source (topics: [counts-store-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])
      --> KTABLE-TOSTREAM-0000000007
      <-- counts-store-repartition-source
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)
      <-- KTABLE-TOSTREAM-0000000007

`;

describe('word count through TopologyTestDriver', () => {
  it('describes the topology as Kafka Streams prints it', () => {
    assert.equal(wordCount().describe().toString(), KAFKA_WORD_COUNT_DESCRIPTION);
  });

  it('counts words across lines, one update per word occurrence, in order', async () => {
    const driver = new TopologyTestDriver(wordCount(), WORDCOUNT_PROPS, 0);
    try {
      const input = driver.createInputTopic('streams-plaintext-input', Serdes.String(), Serdes.String());
      const output = driver.createOutputTopic('streams-wordcount-output', Serdes.String(), Serdes.Long());
      await input.pipeInput(null, 'all streams lead to kafka', 1000);
      await input.pipeInput(null, 'hello kafka streams', 2000);
      await input.pipeInput(null, 'join kafka summit', 3000);
      assert.deepEqual(output.readKeyValuesToList(), [
        { key: 'all', value: 1 },
        { key: 'streams', value: 1 },
        { key: 'lead', value: 1 },
        { key: 'to', value: 1 },
        { key: 'kafka', value: 1 },
        { key: 'hello', value: 1 },
        { key: 'kafka', value: 2 },
        { key: 'streams', value: 2 },
        { key: 'join', value: 1 },
        { key: 'kafka', value: 3 },
        { key: 'summit', value: 1 },
      ]);
      assert.ok(output.isEmpty());

      const store = await driver.getKeyValueStore<string, number>('counts-store');
      assert.equal(await store.get('kafka'), 3);
      assert.equal(await store.get('absent'), null);
      const all: [string, number][] = [];
      for await (const entry of store.all()) all.push([entry.key, entry.value]);
      assert.deepEqual(all, [['all', 1], ['hello', 1], ['join', 1], ['kafka', 3], ['lead', 1], ['streams', 2], ['summit', 1], ['to', 1]]);

      // The store's writes went to its changelog; the regrouped words through the repartition topic.
      const changelog = driver.createOutputTopic('wordcount-counts-store-changelog', Serdes.String(), Serdes.Long());
      assert.equal(changelog.getQueueSize(), 11);
      const repartition = driver.createOutputTopic('wordcount-counts-store-repartition', Serdes.String(), Serdes.String());
      assert.deepEqual(repartition.readKeyValuesToList().slice(0, 2), [
        { key: 'all', value: 'all' },
        { key: 'streams', value: 'streams' },
      ]);
    } finally {
      await driver.close();
    }
  });

  it('gives each count the latest timestamp of its word', async () => {
    const driver = new TopologyTestDriver(wordCount(), WORDCOUNT_PROPS, 0);
    try {
      const input = driver.createInputTopic('streams-plaintext-input', Serdes.String(), Serdes.String());
      const output = driver.createOutputTopic('streams-wordcount-output', Serdes.String(), Serdes.Long());
      await input.pipeInput(null, 'a', 5000);
      await input.pipeInput(null, 'a', 3000);
      assert.deepEqual(
        output.readRecordsToList().map((r) => [r.key, r.value, r.timestamp]),
        [['a', 1, 5000], ['a', 2, 5000]],
      );
    } finally {
      await driver.close();
    }
  });
});
