// Each DSL operator through the test driver, against the records Kafka Streams would output for
// the same input (its documented semantics: which records are dropped, what keys and timestamps
// outputs carry, what a KTable emits on update and delete).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Branched,
  Consumed,
  Grouped,
  Materialized,
  Named,
  Produced,
  Repartitioned,
  Serdes,
  StreamsBuilder,
  TopologyTestDriver,
  keyValue,
  type KStream,
  type Serde,
  type Topology,
} from '../../../src/streams/index.js';

const S = Serdes.String();
const PROPS = { 'application.id': 'ops', 'default.key.serde': S, 'default.value.serde': S };

async function run(
  topology: Topology,
  input: [string | null, string | null, number?][],
  outputs: string[],
  inputTopic = 'in',
): Promise<Record<string, [unknown, unknown][]>> {
  const driver = new TopologyTestDriver(topology, PROPS, 0);
  try {
    const topic = driver.createInputTopic(inputTopic, S, S);
    for (const [key, value, ts] of input) await topic.pipeInput(key, value, ts ?? 0);
    const out: Record<string, [unknown, unknown][]> = {};
    for (const name of outputs) {
      out[name] = driver.createOutputTopic<string, unknown>(name, S, name.endsWith('-long') ? (Serdes.Long() as Serde<unknown>) : (S as Serde<unknown>)).readKeyValuesToList().map((kv) => [kv.key, kv.value]);
    }
    return out;
  } finally {
    await driver.close();
  }
}

function streamOf(builder: StreamsBuilder): KStream<string, string> {
  return builder.stream('in', Consumed.with(S, S));
}

describe('stateless KStream operators', () => {
  it('filter, filterNot, map, mapValues, selectKey', async () => {
    const b = new StreamsBuilder();
    const s = streamOf(b);
    s.filter((_k, v) => v.startsWith('a')).to('filter');
    s.filterNot((_k, v) => v.startsWith('a')).to('filterNot');
    s.map((k, v) => keyValue(v, k ?? 'none')).to('map');
    s.mapValues((v, k) => `${k}:${v.toUpperCase()}`).to('mapValues');
    s.selectKey((_k, v) => v.slice(0, 1)).to('selectKey');
    const out = await run(b.build(), [['k1', 'apple'], ['k2', 'banana']], ['filter', 'filterNot', 'map', 'mapValues', 'selectKey']);
    assert.deepEqual(out, {
      filter: [['k1', 'apple']],
      filterNot: [['k2', 'banana']],
      map: [['apple', 'k1'], ['banana', 'k2']],
      mapValues: [['k1', 'k1:APPLE'], ['k2', 'k2:BANANA']],
      selectKey: [['a', 'apple'], ['b', 'banana']],
    });
  });

  it('flatMap and flatMapValues emit one record per element, none for an empty list', async () => {
    const b = new StreamsBuilder();
    const s = streamOf(b);
    s.flatMap((k, v) => v.split(',').filter(Boolean).map((part) => keyValue(`${k}-${part}`, part))).to('flatMap');
    s.flatMapValues((v) => v.split(',').filter(Boolean)).to('flatMapValues');
    const out = await run(b.build(), [['k', 'x,y'], ['e', '']], ['flatMap', 'flatMapValues']);
    assert.deepEqual(out, {
      flatMap: [['k-x', 'x'], ['k-y', 'y']],
      flatMapValues: [['k', 'x'], ['k', 'y']],
    });
  });

  it('peek and foreach see every record; peek passes them on', async () => {
    const seen: string[] = [];
    const b = new StreamsBuilder();
    const s = streamOf(b);
    s.peek((k, v) => seen.push(`peek ${k}=${v}`)).to('peeked');
    s.foreach((k, v) => seen.push(`foreach ${k}=${v}`));
    const out = await run(b.build(), [['a', '1']], ['peeked']);
    assert.deepEqual(seen, ['peek a=1', 'foreach a=1']);
    assert.deepEqual(out.peeked, [['a', '1']]);
  });

  it('merge interleaves two streams in arrival order', async () => {
    const b = new StreamsBuilder();
    const left = streamOf(b);
    const right = b.stream('in2', Consumed.with(S, S));
    left.merge(right).to('merged');
    const driver = new TopologyTestDriver(b.build(), PROPS, 0);
    try {
      await driver.createInputTopic('in', S, S).pipeInput('a', '1');
      await driver.createInputTopic('in2', S, S).pipeInput('b', '2');
      await driver.createInputTopic('in', S, S).pipeInput('c', '3');
      assert.deepEqual(driver.createOutputTopic('merged', S, S).readValuesToList(), ['1', '2', '3']);
    } finally {
      await driver.close();
    }
  });

  it('split sends each record to its first matching branch, the rest to the default branch', async () => {
    const b = new StreamsBuilder();
    const branches = streamOf(b)
      .split(Named.as('split-'))
      .branch((_k, v) => v.startsWith('a'), Branched.as('a'))
      .branch((_k, v) => v.startsWith('b'), Branched.withConsumer((stream: KStream<string, string>) => stream.to('b-out')))
      .branch((_k, v) => v.length > 1, Branched.withFunction((stream: KStream<string, string>) => stream.mapValues((v) => v.toUpperCase())))
      .defaultBranch();
    assert.deepEqual([...branches.keys()], ['split-a', 'split-3', 'split-0']);
    branches.get('split-a')!.to('a-out');
    branches.get('split-3')!.to('long-out');
    branches.get('split-0')!.to('rest-out');
    const out = await run(b.build(), [['1', 'ab'], ['2', 'ba'], ['3', 'cc'], ['4', 'c']], ['a-out', 'b-out', 'long-out', 'rest-out']);
    assert.deepEqual(out, {
      'a-out': [['1', 'ab']],
      'b-out': [['2', 'ba']],
      'long-out': [['3', 'CC']],
      'rest-out': [['4', 'c']],
    });
  });

  it('to() with a topic extractor picks the topic per record; Produced serdes encode it', async () => {
    const b = new StreamsBuilder();
    streamOf(b)
      .mapValues((v) => Number(v))
      .to((_k, v) => (v % 2 === 0 ? 'even-long' : 'odd-long'), Produced.with(S, Serdes.Long()));
    const out = await run(b.build(), [['a', '1'], ['b', '2'], ['c', '3']], ['even-long', 'odd-long']);
    assert.deepEqual(out, { 'even-long': [['b', 2]], 'odd-long': [['a', 1], ['c', 3]] });
  });

  it('repartition writes through <app>-<name>-repartition and keeps every record', async () => {
    const b = new StreamsBuilder();
    streamOf(b).selectKey((_k, v) => v).repartition(Repartitioned.as<string, string>('by-value').withNumberOfPartitions(4)).to('out');
    const topology = b.build();
    const metadata = topology.metadata('ops');
    assert.deepEqual(metadata.repartitionTopics, [{ name: 'ops-by-value-repartition', partitions: 4 }]);
    assert.equal(metadata.subtopologies.length, 2);
    const out = await run(topology, [['k', 'x'], [null, 'y']], ['out', 'ops-by-value-repartition']);
    assert.deepEqual(out.out, [['x', 'x'], ['y', 'y']]);
    // The driver keeps what went through the repartition topic, as Kafka's does.
    assert.deepEqual(out['ops-by-value-repartition'], [['x', 'x'], ['y', 'y']]);
  });
});

describe('aggregations and KTable operators', () => {
  it('groupByKey count, reduce and aggregate skip null keys and null values', async () => {
    const b = new StreamsBuilder();
    const grouped = streamOf(b).groupByKey();
    grouped.count().toStream().to('count-long');
    grouped.reduce((agg, v) => `${agg}+${v}`).toStream().to('reduce');
    grouped.aggregate(() => '', (_k, v, agg) => agg + v.length, undefined, Materialized.with(S, S)).toStream().to('aggregate');
    const out = await run(b.build(), [['a', 'x'], ['b', 'yy'], [null, 'z'], ['a', null], ['a', 'zzz']], ['count-long', 'reduce', 'aggregate']);
    assert.deepEqual(out, {
      'count-long': [['a', 1], ['b', 1], ['a', 2]],
      reduce: [['a', 'x'], ['b', 'yy'], ['a', 'x+zzz']],
      aggregate: [['a', '1'], ['b', '2'], ['a', '13']],
    });
  });

  it('groupBy with Grouped.as names the repartition topic; a null new key is dropped before it', async () => {
    const b = new StreamsBuilder();
    streamOf(b)
      .groupBy((_k, v) => (v === 'skip' ? (null as unknown as string) : v.slice(0, 1)), Grouped.as('by-initial'))
      .count()
      .toStream()
      .to('out-long');
    const topology = b.build();
    assert.deepEqual(topology.metadata('ops').repartitionTopics, [{ name: 'ops-by-initial-repartition', partitions: undefined }]);
    const out = await run(topology, [['1', 'apple'], ['2', 'skip'], ['3', 'avocado'], ['4', 'banana']], ['out-long']);
    assert.deepEqual(out['out-long'], [['a', 1], ['a', 2], ['b', 1]]);
  });

  it('toTable, KTable filter, mapValues and toStream emit updates and deletes', async () => {
    const b = new StreamsBuilder();
    const table = streamOf(b).toTable(undefined, Materialized.as('latest'));
    table.filter((_k, v) => v !== 'hidden').toStream().to('filtered');
    table.mapValues((v) => v.length).toStream().to('lengths-long', Produced.with(S, Serdes.Long()));
    const driver = new TopologyTestDriver(b.build(), PROPS, 0);
    try {
      const input = driver.createInputTopic('in', S, S);
      await input.pipeInput('a', 'one', 1);
      await input.pipeInput('b', 'hidden', 2);
      await input.pipeInput('a', null, 3);
      // An unmaterialized filter forwards a filtered-out update as a delete (Kafka does the same).
      assert.deepEqual(driver.createOutputTopic('filtered', S, S).readKeyValuesToList(), [
        { key: 'a', value: 'one' },
        { key: 'b', value: null },
        { key: 'a', value: null },
      ]);
      assert.deepEqual(driver.createOutputTopic('lengths-long', S, Serdes.Long()).readKeyValuesToList(), [
        { key: 'a', value: 3 },
        { key: 'b', value: 6 },
        { key: 'a', value: null },
      ]);
      const store = await driver.getKeyValueStore<string, string>('latest');
      assert.equal(await store.get('a'), null);
      assert.equal(await store.get('b'), 'hidden');
    } finally {
      await driver.close();
    }
  });

  it('KTable groupBy aggregate subtracts the old value from its old group and adds the new one', async () => {
    // user -> region; count users per region, moving a user when its region changes.
    const b = new StreamsBuilder();
    b.table('in', Consumed.with(S, S))
      .groupBy((user, region) => keyValue(region, user), Grouped.with(S, S))
      .count(undefined, Materialized.as('per-region'))
      .toStream()
      .to('out-long');
    const out = await run(b.build(), [['alice', 'eu'], ['bob', 'eu'], ['alice', 'us'], ['bob', null]], ['out-long']);
    assert.deepEqual(out['out-long'], [
      ['eu', 1],
      ['eu', 2],
      ['eu', 1],
      ['us', 1],
      ['eu', 0],
    ]);
  });

  it('KTable groupBy reduce with adder and subtractor keeps a running sum per group', async () => {
    const b = new StreamsBuilder();
    b.table('in', Consumed.with(S, S))
      .groupBy((_item, value) => keyValue(value.split(':')[0]!, value.split(':')[1]!), Grouped.with(S, S))
      .reduce(
        (agg, v) => String(Number(agg) + Number(v)),
        (agg, v) => String(Number(agg) - Number(v)),
      )
      .toStream()
      .to('sums');
    const out = await run(b.build(), [['i1', 'x:5'], ['i2', 'x:3'], ['i1', 'x:10']], ['sums']);
    // The item's group did not change: one record, subtract then add (KIP-904), no intermediate '3'.
    assert.deepEqual(out.sums, [['x', '5'], ['x', '8'], ['x', '13']]);
  });
});

describe('event time', () => {
  it('default.timestamp.extractor gives records their event time; a source extractor overrides it; negative times are dropped', async () => {
    const b = new StreamsBuilder();
    b.stream('in', Consumed.with(S, S)).to('out');
    b.stream('in2', Consumed.with(S, S).withTimestampExtractor((r) => Number(r.value) * 2)).to('out2');
    const fromValue = (record: { value: unknown }) => Number(record.value);
    const driver = new TopologyTestDriver(b.build(), { ...PROPS, 'default.timestamp.extractor': fromValue }, 0);
    try {
      await driver.createInputTopic('in', S, S).pipeInput('k', '42', 1);
      await driver.createInputTopic('in', S, S).pipeInput('k', '-5', 2);
      await driver.createInputTopic('in2', S, S).pipeInput('k', '42', 1);
      assert.deepEqual(driver.createOutputTopic('out', S, S).readRecordsToList().map((r) => r.timestamp), [42]);
      assert.deepEqual(driver.createOutputTopic('out2', S, S).readRecordsToList().map((r) => r.timestamp), [84]);
    } finally {
      await driver.close();
    }
  });
});

describe('describe() of a table regrouped and counted', () => {
  it("prints what Kafka's own describe test expects for table(t).groupBy(...).count()", () => {
    const b = new StreamsBuilder();
    b.table('input-topic')
      .groupBy((key, value) => keyValue(key, value))
      .count();
    assert.equal(
      b.build().describe().toString(),
      `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [input-topic])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [input-topic-STATE-STORE-0000000000])
      --> KTABLE-SELECT-0000000003
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-SELECT-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KTABLE-SOURCE-0000000002
    Sink: KSTREAM-SINK-0000000005 (topic: KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition)
      <-- KTABLE-SELECT-0000000003

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition])
      --> KTABLE-AGGREGATE-0000000007
    Processor: KTABLE-AGGREGATE-0000000007 (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000004])
      --> none
      <-- KSTREAM-SOURCE-0000000006

`,
    );
  });
});
