// Windowed aggregations (tumbling, hopping, session), grace periods with late and out-of-order
// records, suppress(untilWindowCloses) final results, and stream-stream windowed joins, through
// the test driver against the outputs Kafka Streams' documented semantics give.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Consumed,
  JoinWindows,
  Materialized,
  Serdes,
  SessionWindows,
  SlidingWindows,
  StreamJoined,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  TopologyTestDriver,
  WindowedSerdes,
  type Serde,
  type Topology,
  type Windowed,
} from '../../../src/streams/index.js';

const S = Serdes.String();
const PROPS = { 'application.id': 'windows', 'default.key.serde': S, 'default.value.serde': S };

async function drive<K, V>(
  topology: Topology,
  steps: [topic: string, key: string, value: string, timestamp: number][],
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
): Promise<[K | null, V | null, number][]> {
  const driver = new TopologyTestDriver(topology, PROPS, 0);
  try {
    for (const [topic, key, value, ts] of steps) await driver.createInputTopic(topic, S, S).pipeInput(key, value, ts);
    return driver.createOutputTopic('out', keySerde, valueSerde).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
  } finally {
    await driver.close();
  }
}

const w = (key: string, start: number, end: number): Windowed<string> => ({ key, window: { start, end } });

function windowedCount(windows: TimeWindows, suppress = false): Topology {
  const b = new StreamsBuilder();
  let table = b.stream('in', Consumed.with(S, S)).groupByKey().windowedBy(windows).count(undefined, Materialized.as('counts'));
  if (suppress) table = table.suppress(Suppressed.untilWindowCloses());
  table.toStream().to('out');
  return b.build();
}

describe('time windows', () => {
  it('tumbling count: an out-of-order record within the grace period counts, one after it is dropped', async () => {
    const out = await drive(
      windowedCount(TimeWindows.ofSizeAndGrace(10, 5)),
      [
        ['in', 'a', 'x', 1],
        ['in', 'a', 'x', 5],
        ['in', 'a', 'x', 12],
        ['in', 'a', 'x', 8], // stream time 12: [0,10) closes at 10 + 5 = 15, still open
        ['in', 'a', 'x', 20],
        ['in', 'a', 'x', 9], // stream time 20: [0,10) closed, dropped
        ['in', 'a', 'x', 14],
      ],
      WindowedSerdes.timeWindowedSerdeFrom(S, 10),
      Serdes.Long(),
    );
    assert.deepEqual(out, [
      [w('a', 0, 10), 1, 1],
      [w('a', 0, 10), 2, 5],
      [w('a', 10, 20), 1, 12],
      [w('a', 0, 10), 3, 8],
      [w('a', 20, 30), 1, 20],
      [w('a', 10, 20), 2, 14],
    ]);
  });

  it('hopping count: a record counts in every window that contains it', async () => {
    const out = await drive(
      windowedCount(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5)),
      [
        ['in', 'a', 'x', 7],
        ['in', 'a', 'x', 12],
      ],
      WindowedSerdes.timeWindowedSerdeFrom(S, 10),
      Serdes.Long(),
    );
    assert.deepEqual(out, [
      [w('a', 0, 10), 1, 7],
      [w('a', 5, 15), 1, 7],
      [w('a', 5, 15), 2, 12],
      [w('a', 10, 20), 1, 12],
    ]);
  });

  it('suppress(untilWindowCloses) emits one final count per window once stream time passes its end', async () => {
    const out = await drive(
      windowedCount(TimeWindows.ofSizeWithNoGrace(10), true),
      [
        ['in', 'a', 'x', 1],
        ['in', 'a', 'x', 3],
        ['in', 'b', 'x', 4],
        ['in', 'a', 'x', 11],
        ['in', 'a', 'x', 25],
      ],
      WindowedSerdes.timeWindowedSerdeFrom(S, 10),
      Serdes.Long(),
    );
    assert.deepEqual(out, [
      [w('a', 0, 10), 2, 3],
      [w('b', 0, 10), 1, 4],
      [w('a', 10, 20), 1, 11],
    ]);
  });

  it('describes a windowed count with suppress as Kafka does', () => {
    const b = new StreamsBuilder();
    b.stream('in', Consumed.with(S, S))
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(60_000))
      .count()
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('out');
    assert.equal(
      b.build().describe().toString(),
      `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [in])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> KTABLE-SUPPRESS-0000000003
      <-- KSTREAM-SOURCE-0000000000
    Processor: KTABLE-SUPPRESS-0000000003 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000004])
      --> KTABLE-TOSTREAM-0000000005
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000006
      <-- KTABLE-SUPPRESS-0000000003
    Sink: KSTREAM-SINK-0000000006 (topic: out)
      <-- KTABLE-TOSTREAM-0000000005

`,
    );
  });

  it('the window store holds each window with its latest timestamp', async () => {
    const driver = new TopologyTestDriver(windowedCount(TimeWindows.ofSizeWithNoGrace(10)), PROPS, 0);
    try {
      const input = driver.createInputTopic('in', S, S);
      await input.pipeInput('a', 'x', 3);
      await input.pipeInput('a', 'x', 14);
      await input.pipeInput('a', 'x', 2); // late for [0,10): dropped
      const store = await driver.getWindowStore<string, { value: number; timestamp: number }>('counts');
      const windows: [number, number][] = [];
      for await (const entry of store.fetchRange('a', 0, 100)) windows.push([entry.windowStart, entry.value.value]);
      assert.deepEqual(windows, [[0, 1], [10, 1]]);
      // Past the retention (size + grace, kept in 60 s segments as Kafka keeps them) the windows are gone.
      await input.pipeInput('a', 'x', 200_000);
      const later: number[] = [];
      for await (const entry of store.fetchRange('a', 0, 300_000)) later.push(entry.windowStart);
      assert.deepEqual(later, [200_000]);
    } finally {
      await driver.close();
    }
  });
});

describe('sliding windows', () => {
  function slidingCount(windows: SlidingWindows): Topology {
    const b = new StreamsBuilder();
    b.stream('in', Consumed.with(S, S)).groupByKey().windowedBy(windows).count().toStream().to('out');
    return b.build();
  }

  async function counts(windows: SlidingWindows, times: number[]) {
    return drive(slidingCount(windows), times.map((t) => ['in', 'a', 'x', t] as [string, string, string, number]), WindowedSerdes.timeWindowedSerdeFrom(S, 10), Serdes.Long());
  }

  it("in order: each record opens its left window, and the previous record's right window when it falls in it", async () => {
    assert.deepEqual(await counts(SlidingWindows.ofTimeDifferenceWithNoGrace(10), [20, 25, 40]), [
      [w('a', 10, 20), 1, 20],
      [w('a', 21, 31), 1, 25],
      [w('a', 15, 25), 2, 25],
      [w('a', 30, 40), 1, 40],
    ]);
  });

  it('out of order within grace: updates the windows holding it, creates its left and right windows', async () => {
    assert.deepEqual(await counts(SlidingWindows.ofTimeDifferenceAndGrace(10, 10), [20, 30, 25]), [
      [w('a', 10, 20), 1, 20],
      [w('a', 21, 31), 1, 30],
      [w('a', 20, 30), 2, 30],
      [w('a', 20, 30), 3, 30],
      [w('a', 21, 31), 2, 30],
      [w('a', 15, 25), 2, 25],
      [w('a', 26, 36), 1, 30],
    ]);
  });

  it('records earlier than the time difference share the window from 0', async () => {
    assert.deepEqual(await counts(SlidingWindows.ofTimeDifferenceWithNoGrace(10), [2, 5]), [
      [w('a', 0, 10), 1, 2],
      [w('a', 3, 13), 1, 5],
      [w('a', 0, 10), 2, 5],
    ]);
  });
});

describe('session windows', () => {
  it('merges sessions that a record bridges, retracting the merged ones', async () => {
    const b = new StreamsBuilder();
    b.stream('in', Consumed.with(S, S)).groupByKey().windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5)).count().toStream().to('out');
    const out = await drive(
      b.build(),
      [
        ['in', 'a', 'x', 0],
        ['in', 'a', 'x', 3],
        ['in', 'a', 'x', 10],
        ['in', 'a', 'x', 6],
      ],
      WindowedSerdes.sessionWindowedSerdeFrom(S),
      Serdes.Long(),
    );
    assert.deepEqual(out, [
      [w('a', 0, 0), 1, 0],
      [w('a', 0, 0), null, 0],
      [w('a', 0, 3), 2, 3],
      [w('a', 10, 10), 1, 10],
      [w('a', 0, 3), null, 3],
      [w('a', 10, 10), null, 10],
      [w('a', 0, 10), 4, 10],
    ]);
  });
});

describe('stream-stream joins', () => {
  function streamJoin(kind: 'join' | 'leftJoin' | 'outerJoin'): Topology {
    const b = new StreamsBuilder();
    const left = b.stream('l', Consumed.with(S, S));
    const right = b.stream('r', Consumed.with(S, S));
    const joiner = (l: string | null, r: string | null) => `${l}+${r}`;
    const windows = JoinWindows.ofTimeDifferenceWithNoGrace(10);
    const joined =
      kind === 'join' ? left.join(right, joiner, windows) : kind === 'leftJoin' ? left.leftJoin(right, joiner, windows) : left.outerJoin(right, joiner, windows);
    joined.to('out');
    return b.build();
  }

  const STEPS: [string, string, string, number][] = [
    ['l', 'k', 'L1', 0],
    ['r', 'k', 'R1', 5],
    ['r', 'k2', 'R2', 6],
    ['l', 'k', 'L2', 20],
    ['r', 'x', 'R3', 31],
  ];

  it('inner join: records of a key within the window meet, with the later timestamp', async () => {
    assert.deepEqual(await drive(streamJoin('join'), STEPS, S, S), [['k', 'L1+R1', 5]]);
  });

  it('left join: an unmatched left record is joined with null once its window has closed', async () => {
    assert.deepEqual(await drive(streamJoin('leftJoin'), STEPS, S, S), [
      ['k', 'L1+R1', 5],
      ['k', 'L2+null', 20],
    ]);
  });

  it('outer join: unmatched records of both sides, each once its window has closed', async () => {
    assert.deepEqual(await drive(streamJoin('outerJoin'), STEPS, S, S), [
      ['k', 'L1+R1', 5],
      ['k2', 'null+R2', 6],
      ['k', 'L2+null', 20],
    ]);
  });

  it("names a left join's stores as Kafka does, logged, in one sub-topology with the topics co-partitioned", () => {
    const metadata = streamJoin('leftJoin').metadata('windows');
    assert.equal(metadata.subtopologies.length, 1);
    assert.deepEqual(metadata.copartitionGroups, [['l', 'r']]);
    assert.deepEqual(
      metadata.stores.map((s) => s.changelogTopic),
      [
        'windows-KSTREAM-JOINTHIS-0000000004-store-changelog',
        'windows-KSTREAM-OUTEROTHER-0000000005-store-changelog',
        'windows-KSTREAM-OUTERSHARED-0000000004-store-changelog',
      ],
    );
  });

  it("a named left join names its processors after the name and keeps Kafka's generated store names", () => {
    const b = new StreamsBuilder();
    const one = b.stream('one', Consumed.with(S, S));
    const two = b.stream('two', Consumed.with(S, S));
    one.leftJoin(two, (v) => v, JoinWindows.ofTimeDifferenceWithNoGrace(3_600_000), StreamJoined.with(S, S, S).withName('op'));
    const topology = b.build();
    assert.deepEqual([...topology.stores.keys()], [
      'KSTREAM-JOINTHIS-0000000004-store',
      'KSTREAM-OUTEROTHER-0000000005-store',
      'KSTREAM-OUTERSHARED-0000000004-store',
    ]);
    assert.deepEqual([...topology.nodes.keys()], [
      'KSTREAM-SOURCE-0000000000',
      'KSTREAM-SOURCE-0000000001',
      'op-this-windowed',
      'op-other-windowed',
      'op-this-join',
      'op-outer-other-join',
      'op-merge',
    ]);
  });
});
