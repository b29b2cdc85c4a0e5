// Stream-table, stream-globalTable and table-table joins through the test driver, against the
// outputs Kafka Streams' join semantics give (its developer guide's join tables), and the
// describe() text Kafka prints for the same programs (names, stores, node order).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Consumed, Joined, Serdes, StreamsBuilder, TopologyTestDriver, type Topology } from '../../../src/streams/index.js';

const S = Serdes.String();
const PROPS = { 'application.id': 'joins', 'default.key.serde': S, 'default.value.serde': S };

type Step = [topic: string, key: string, value: string | null, timestamp: number];

async function run(topology: Topology, steps: Step[], output = 'out'): Promise<[string | null, string | null, number][]> {
  const driver = new TopologyTestDriver(topology, PROPS, 0);
  try {
    for (const [topic, key, value, timestamp] of steps) await driver.createInputTopic(topic, S, S).pipeInput(key, value, timestamp);
    return driver.createOutputTopic(output, S, S).readRecordsToList().map((r) => [r.key, r.value, r.timestamp]);
  } finally {
    await driver.close();
  }
}

function streamTableJoin(left: boolean): Topology {
  const b = new StreamsBuilder();
  const stream = b.stream('s', Consumed.with(S, S));
  const table = b.table('t', Consumed.with(S, S));
  const joiner = (v: string, t: string | null) => `${v}/${t}`;
  (left ? stream.leftJoin(table, joiner) : stream.join(table, joiner)).to('out');
  return b.build();
}

const STREAM_TABLE_STEPS: Step[] = [
  ['t', 'k1', 'A', 0],
  ['s', 'k1', 's1', 10],
  ['s', 'k2', 's2', 20],
  ['t', 'k1', 'B', 30],
  ['s', 'k1', 's3', 40],
  ['t', 'k1', null, 50],
  ['s', 'k1', 's4', 60],
  ['t', 'k2', 'C', 70],
];

describe('stream-table join', () => {
  it('inner join: a stream record meets the table value of its key at that moment, else is dropped', async () => {
    assert.deepEqual(await run(streamTableJoin(false), STREAM_TABLE_STEPS), [
      ['k1', 's1/A', 10],
      ['k1', 's3/B', 40],
    ]);
  });

  it('left join: a stream record without a table value is joined with null; table updates emit nothing', async () => {
    assert.deepEqual(await run(streamTableJoin(true), STREAM_TABLE_STEPS), [
      ['k1', 's1/A', 10],
      ['k2', 's2/null', 20],
      ['k1', 's3/B', 40],
      ['k1', 's4/null', 60],
    ]);
  });

  it('materializes the table source for the join and describes it as Kafka does', () => {
    const topology = streamTableJoin(false);
    assert.equal(
      topology.describe().toString(),
      `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [s])
      --> KSTREAM-JOIN-0000000004
    Processor: KSTREAM-JOIN-0000000004 (stores: [t-STATE-STORE-0000000001])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-SOURCE-0000000000
    Source: KSTREAM-SOURCE-0000000002 (topics: [t])
      --> KTABLE-SOURCE-0000000003
    Sink: KSTREAM-SINK-0000000005 (topic: out)
      <-- KSTREAM-JOIN-0000000004
    Processor: KTABLE-SOURCE-0000000003 (stores: [t-STATE-STORE-0000000001])
      --> none
      <-- KSTREAM-SOURCE-0000000002

`,
    );
    const metadata = topology.metadata('joins');
    assert.deepEqual(metadata.copartitionGroups, [['s', 't']]);
    assert.deepEqual(metadata.stores, [
      { name: 't-STATE-STORE-0000000001', global: false, changelogTopic: 'joins-t-STATE-STORE-0000000001-changelog', persistent: undefined, subtopology: 0 },
    ]);
  });

  it('repartitions a re-keyed stream before the join (named by Joined), and co-partitions the repartition topic with the table', async () => {
    const b = new StreamsBuilder();
    const table = b.table('t', Consumed.with(S, S));
    b.stream('s', Consumed.with(S, S))
      .selectKey((_k, v) => v.split('@')[1]!)
      .join(table, (v, t) => `${v}->${t}`, Joined.as('orders-by-user'))
      .to('out');
    const topology = b.build();
    const metadata = topology.metadata('joins');
    assert.deepEqual(metadata.repartitionTopics, [{ name: 'joins-orders-by-user-repartition', partitions: undefined }]);
    assert.deepEqual(metadata.copartitionGroups, [['joins-orders-by-user-repartition', 't']]);
    assert.deepEqual(
      await run(topology, [
        ['t', 'ann', 'Ann', 0],
        ['s', 'o1', 'book@ann', 5],
        ['s', 'o2', 'pen@bob', 6],
      ]),
      [['ann', 'book@ann->Ann', 5]],
    );
  });
});

describe('stream-globalTable join', () => {
  function globalJoin(left: boolean): Topology {
    const b = new StreamsBuilder();
    const stream = b.stream('s', Consumed.with(S, S));
    const products = b.globalTable('g', Consumed.with(S, S));
    const selector = (_k: string, v: string) => v.split(':')[0]!;
    const joiner = (v: string, product: string | null) => `${v}=${product}`;
    (left ? stream.leftJoin(products, selector, joiner) : stream.join(products, selector, joiner)).to('out');
    return b.build();
  }

  it('looks the global table up by a key taken from the record', async () => {
    const steps: Step[] = [
      ['g', 'p1', 'Pen', 0],
      ['s', 'o1', 'p1:2', 10],
      ['s', 'o2', 'p9:1', 20],
    ];
    assert.deepEqual(await run(globalJoin(false), steps), [['o1', 'p1:2=Pen', 10]]);
    assert.deepEqual(await run(globalJoin(true), steps), [
      ['o1', 'p1:2=Pen', 10],
      ['o2', 'p9:1=null', 20],
    ]);
  });

  it('describes the global store as its own sub-topology that generates no tasks', () => {
    const topology = globalJoin(false);
    assert.equal(
      topology.describe().toString(),
      `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [s])
      --> KSTREAM-JOIN-0000000004
    Processor: KSTREAM-JOIN-0000000004 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-SOURCE-0000000000
    Sink: KSTREAM-SINK-0000000005 (topic: out)
      <-- KSTREAM-JOIN-0000000004

  Sub-topology: 1 for global store (will not generate tasks)
    Source: KSTREAM-SOURCE-0000000002 (topics: [g])
      --> KTABLE-SOURCE-0000000003
    Processor: KTABLE-SOURCE-0000000003 (stores: [g-STATE-STORE-0000000001])
      --> none
      <-- KSTREAM-SOURCE-0000000002
`,
    );
    const metadata = topology.metadata('joins');
    assert.deepEqual(
      metadata.subtopologies.map((s) => [s.id, s.global, s.sourceTopics]),
      [[0, false, ['s']], [1, true, ['g']]],
    );
    assert.deepEqual(metadata.stores.map((s) => [s.name, s.global, s.changelogTopic]), [['g-STATE-STORE-0000000001', true, undefined]]);
  });
});

describe('table-table join', () => {
  function tableJoin(kind: 'join' | 'leftJoin' | 'outerJoin'): Topology {
    const b = new StreamsBuilder();
    const left = b.table('l', Consumed.with(S, S));
    const right = b.table('r', Consumed.with(S, S));
    const joiner = (a: string | null, c: string | null) => `${a}+${c}`;
    const joined = kind === 'join' ? left.join(right, joiner) : kind === 'leftJoin' ? left.leftJoin(right, joiner) : left.outerJoin(right, joiner);
    joined.toStream().to('out');
    return b.build();
  }

  // One key through: left a, right x, left b, right deleted, left deleted, right y.
  const STEPS: Step[] = [
    ['l', 'k', 'a', 1],
    ['r', 'k', 'x', 2],
    ['l', 'k', 'b', 3],
    ['r', 'k', null, 4],
    ['l', 'k', null, 5],
    ['r', 'k', 'y', 6],
  ];

  it('inner join emits when both sides have a value, and a delete when one side goes', async () => {
    assert.deepEqual(await run(tableJoin('join'), STEPS), [
      ['k', 'a+x', 2],
      ['k', 'b+x', 3],
      ['k', null, 4],
    ]);
  });

  it('left join emits for every left value, with null for a missing right value', async () => {
    assert.deepEqual(await run(tableJoin('leftJoin'), STEPS), [
      ['k', 'a+null', 1],
      ['k', 'a+x', 2],
      ['k', 'b+x', 3],
      ['k', 'b+null', 4],
      ['k', null, 5],
    ]);
  });

  it('outer join emits for a value on either side', async () => {
    assert.deepEqual(await run(tableJoin('outerJoin'), STEPS), [
      ['k', 'a+null', 1],
      ['k', 'a+x', 2],
      ['k', 'b+x', 3],
      ['k', 'b+null', 4],
      ['k', null, 5],
      ['k', 'null+y', 6],
    ]);
  });

  it('describes the join as Kafka does: JOINTHIS and JOINOTHER reading the other side, meeting in MERGE', () => {
    assert.equal(
      tableJoin('join').describe().toString(),
      `Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [l])
      --> KTABLE-SOURCE-0000000002
    Source: KSTREAM-SOURCE-0000000004 (topics: [r])
      --> KTABLE-SOURCE-0000000005
    Processor: KTABLE-SOURCE-0000000002 (stores: [l-STATE-STORE-0000000000])
      --> KTABLE-JOINTHIS-0000000007
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-SOURCE-0000000005 (stores: [r-STATE-STORE-0000000003])
      --> KTABLE-JOINOTHER-0000000008
      <-- KSTREAM-SOURCE-0000000004
    Processor: KTABLE-JOINOTHER-0000000008 (stores: [l-STATE-STORE-0000000000])
      --> KTABLE-MERGE-0000000006
      <-- KTABLE-SOURCE-0000000005
    Processor: KTABLE-JOINTHIS-0000000007 (stores: [r-STATE-STORE-0000000003])
      --> KTABLE-MERGE-0000000006
      <-- KTABLE-SOURCE-0000000002
    Processor: KTABLE-MERGE-0000000006 (stores: [])
      --> KTABLE-TOSTREAM-0000000009
      <-- KTABLE-JOINOTHER-0000000008, KTABLE-JOINTHIS-0000000007
    Processor: KTABLE-TOSTREAM-0000000009 (stores: [])
      --> KSTREAM-SINK-0000000010
      <-- KTABLE-MERGE-0000000006
    Sink: KSTREAM-SINK-0000000010 (topic: out)
      <-- KTABLE-TOSTREAM-0000000009

`,
    );
  });
});

describe('foreign-key table join', () => {
  // orders (order id -> "product:quantity") joined with products (product id -> name) by product id.
  function fkJoin(left: boolean): Topology {
    const b = new StreamsBuilder();
    const orders = b.table('orders', Consumed.with(S, S));
    const products = b.table('products', Consumed.with(S, S));
    const extractor = (order: string) => order.split(':')[0]!;
    const joiner = (order: string, product: string | null) => `${order.split(':')[1]} x ${product}`;
    (left ? orders.leftJoin(products, extractor, joiner) : orders.join(products, extractor, joiner)).toStream().to('out');
    return b.build();
  }

  const STEPS: Step[] = [
    ['products', 'p1', 'pen', 0],
    ['orders', 'o1', 'p1:2', 1], // joins pen
    ['orders', 'o2', 'p2:1', 2], // p2 unknown: an inner join emits nothing for a new row never joined
    ['products', 'p2', 'ink', 3], // o2 now joins
    ['products', 'p1', 'red pen', 4], // o1 updated
    ['orders', 'o1', 'p2:5', 5], // o1 moves to p2
    ['products', 'p1', 'blue pen', 6], // o1 no longer subscribed: nothing
    ['products', 'p2', null, 7], // o1 and o2 lose their product (in subscription order: foreign key, then key)
    ['orders', 'o2', null, 8], // o2 deleted
  ];

  it('inner join follows both sides: a row joins its foreign row, an update of either side updates it', async () => {
    assert.deepEqual(await run(fkJoin(false), STEPS), [
      ['o1', '2 x pen', 1],
      ['o2', '1 x ink', 3],
      ['o1', '2 x red pen', 4],
      ['o1', '5 x ink', 5],
      ['o1', null, 7],
      ['o2', null, 7],
      ['o2', null, 8],
    ]);
  });

  it('left join keeps rows whose foreign row is missing, joined with null', async () => {
    assert.deepEqual(await run(fkJoin(true), STEPS), [
      ['o1', '2 x pen', 1],
      ['o2', '1 x null', 2],
      ['o2', '1 x ink', 3],
      ['o1', '2 x red pen', 4],
      ['o1', '5 x ink', 5],
      ['o1', '5 x null', 7],
      ['o2', '1 x null', 7],
      ['o2', null, 8],
    ]);
  });

  it('routes subscriptions and responses through two internal topics, each co-partitioned with its table', () => {
    const metadata = fkJoin(false).metadata('joins');
    assert.deepEqual(
      metadata.repartitionTopics.map((t) => t.name),
      ['joins-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic', 'joins-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000012-topic'],
    );
    assert.deepEqual(metadata.copartitionGroups, [
      ['joins-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000006-topic', 'products'],
      ['joins-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-0000000012-topic', 'orders'],
    ]);
    assert.equal(metadata.subtopologies.length, 2);
  });
});
