// StreamTask driven as the live runtime will drive it: records in one at a time, output to a
// RecordCollector, store writes to a ChangelogSink, a restore from changelog records, punctuations,
// commit and close.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inMemoryBytesStoreSupplier } from '../state/in-memory-bytes-store.js';
import { Serdes } from '../serdes.js';
import { Stores } from '../state/stores.js';
import { Topology } from '../topology/topology.js';
import { StreamsBuilder } from '../kstream/streams-builder.js';
import { Materialized, Produced } from '../kstream/options.js';
import { Suppressed, TimeWindows, WindowedSerdes } from '../kstream/windows.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { ProcessorContext } from './api.js';
import { StreamTask, type OutputRecord } from './task.js';

const S = Serdes.String();
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

function harness(topology: Topology, subtopologyIndex = 0) {
  const sent: OutputRecord[] = [];
  const logged: [string, string | null, string | null, number][] = [];
  const metadata = topology.metadata('app');
  const task = new StreamTask({
    topology,
    subtopology: metadata.subtopologies[subtopologyIndex]!,
    partition: 3,
    applicationId: 'app',
    collector: { send: (r) => void sent.push(r) },
    changelog: { logChange: (store, key, value, ts) => void logged.push([store, text(key), value === null ? null : Buffer.from(value).toString('hex'), ts]) },
    defaultStoreSupplier: (def) => inMemoryBytesStoreSupplier(def.name),
    defaultKeySerde: S,
    defaultValueSerde: S,
  });
  return { task, sent, logged, metadata };
}

describe('StreamTask', () => {
  it('sends output to the collector with internal topics prefixed, and logs store writes with the value timestamp', async () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in')
      .groupBy((_k, v) => v)
      .count(undefined, Materialized.as('counts'))
      .toStream()
      .to('out', Produced.with(S, Serdes.Long()));
    const topology = b.build();
    const first = harness(topology, 0);
    await first.task.initialize();
    await first.task.process('in', 3, 0, 100, bytes('k'), bytes('w'), [{ key: 'h', value: bytes('1') }]);
    assert.equal(first.sent.length, 1);
    assert.equal(first.sent[0]!.topic, 'app-counts-repartition');
    assert.equal(text(first.sent[0]!.key), 'w');
    assert.deepEqual(first.sent[0]!.headers, [{ key: 'h', value: bytes('1') }]);
    assert.equal(first.task.streamTimeMs, 100);

    const second = harness(topology, 1);
    assert.deepEqual(second.task.subtopology.sourceTopics, ['app-counts-repartition']);
    await second.task.initialize();
    await second.task.process('app-counts-repartition', 3, 0, 100, bytes('w'), bytes('w'));
    await second.task.process('app-counts-repartition', 3, 1, 90, bytes('w'), bytes('w'));
    assert.deepEqual(second.logged, [
      ['counts', 'w', '0000000000000001', 100],
      ['counts', 'w', '0000000000000002', 100],
    ]);
    assert.deepEqual(second.sent.map((r) => [r.topic, text(r.key), r.timestamp]), [['out', 'w', 100], ['out', 'w', 100]]);
    assert.equal(second.task.streamTimeMs, 100, 'stream time never goes back');
    await second.task.commit();
    await second.task.close();
  });

  it('restores a store from changelog records before processing', async () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in').groupByKey().count(undefined, Materialized.as('counts')).toStream().to('out', Produced.with(S, Serdes.Long()));
    const { task, sent, metadata } = harness(b.build());
    assert.equal(metadata.stores[0]!.changelogTopic, 'app-counts-changelog');
    await task.initialize();
    await task.restore('counts', [
      { key: bytes('a'), value: Serdes.Long().serialize('', 41), timestamp: 7 },
      { key: bytes('gone'), value: Serdes.Long().serialize('', 1), timestamp: 7 },
      { key: bytes('gone'), value: null, timestamp: 8 },
    ]);
    await task.process('in', 3, 5, 50, bytes('a'), bytes('x'));
    assert.equal(Serdes.Long().deserialize('', sent[0]!.value), 42);
    const store = task.stateStore<KeyValueStore<string, { value: number; timestamp: number }>>('counts')!;
    assert.deepEqual(await store.get('a'), { value: 42, timestamp: 50 });
    assert.equal(await store.get('gone'), null);
  });

  it('runs a Processor API topology: stores, punctuations by stream time and wall-clock time, record metadata', async () => {
    const topology = new Topology();
    const seen: string[] = [];
    topology.addSource('src', 'in', { keySerde: S, valueSerde: S });
    topology.addProcessor(
      'proc',
      () => {
        let ctx!: ProcessorContext<string, string>;
        let store!: KeyValueStore<string, string>;
        return {
          init(context) {
            ctx = context;
            store = context.getStateStore<KeyValueStore<string, string>>('last');
            context.schedule(10, 'STREAM_TIME', async (t) => {
              seen.push(`stream ${t}`);
              for await (const e of store.all()) await ctx.forward({ key: e.key, value: e.value, timestamp: t, headers: [] });
            });
            context.schedule(1000, 'WALL_CLOCK_TIME', (t) => void seen.push(`wall ${t}`));
          },
          async process(record) {
            const meta = ctx.recordMetadata()!;
            seen.push(`${meta.topic}-${meta.partition}@${meta.offset}`);
            await store.put(record.key as string, record.value as string);
          },
        };
      },
      'src',
    );
    topology.addStateStore(Stores.keyValueStoreBuilder('last', S, S).withLoggingDisabled(), 'proc');
    topology.addSink('sink', 'out', { keySerde: S, valueSerde: S, partitioner: (_t, key) => (key === 'a' ? 1 : 0) }, 'proc');
    let wall = 0;
    const sent: OutputRecord[] = [];
    const logged: unknown[] = [];
    const task = new StreamTask({
      topology,
      subtopology: topology.metadata('app').subtopologies[0]!,
      partition: 0,
      applicationId: 'app',
      collector: { send: (r) => void sent.push(r) },
      changelog: { logChange: (...args) => void logged.push(args) },
      defaultStoreSupplier: (def) => inMemoryBytesStoreSupplier(def.name),
      wallClock: () => wall,
    });
    await task.initialize();
    await task.process('in', 0, 0, 5, bytes('a'), bytes('1'));
    assert.equal(await task.punctuate('STREAM_TIME'), false);
    await task.process('in', 0, 1, 12, bytes('b'), bytes('2'));
    assert.equal(await task.punctuate('STREAM_TIME'), true);
    wall = 1500;
    await task.punctuate('WALL_CLOCK_TIME');
    assert.deepEqual(seen, ['in-0@0', 'in-0@1', 'stream 12', 'wall 1500']);
    assert.deepEqual(sent.map((r) => [r.topic, text(r.key), text(r.value), r.timestamp, r.partitioner?.(4)]), [
      ['out', 'a', '1', 12, 1],
      ['out', 'b', '2', 12, 0],
    ]);
    assert.deepEqual(logged, [], 'logging disabled');
    await task.close();
  });

  it('refuses a topic it does not read and a store its processor is not connected to', async () => {
    const topology = new Topology()
      .addSource('src', 'in', { keySerde: S, valueSerde: S })
      .addProcessor('p', () => ({ init: (ctx) => void ctx.getStateStore('other'), process() {} }), 'src');
    const { task } = harness(topology);
    await task.initialize();
    await assert.rejects(task.start(), /no access to StateStore other/);
    const plain = harness(new Topology().addSource('src', 'in', { keySerde: S, valueSerde: S }));
    await plain.task.initialize();
    await assert.rejects(plain.task.process('nope', 0, 0, 0, null, null), /reads no topic nope/);
  });

  it('a restarted task restored from the changelog goes on where the first stopped (window store and suppression buffer)', async () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in')
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count()
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('out', Produced.with(WindowedSerdes.timeWindowedSerdeFrom(S, 10), Serdes.Long()));
    const topology = b.build();
    const changelog: { store: string; key: Uint8Array; value: Uint8Array | null; timestamp: number }[] = [];
    const run = async (records: [string, number][], restoreFrom: typeof changelog) => {
      const sent: OutputRecord[] = [];
      const task = new StreamTask({
        topology,
        subtopology: topology.metadata('app').subtopologies[0]!,
        partition: 0,
        applicationId: 'app',
        collector: { send: (r) => void sent.push(r) },
        changelog: { logChange: (store, key, value, timestamp) => void changelog.push({ store, key, value, timestamp }) },
        defaultStoreSupplier: (def) => inMemoryBytesStoreSupplier(def.name),
        defaultKeySerde: S,
        defaultValueSerde: S,
      });
      await task.initialize();
      for (const store of task.storeNames) await task.restore(store, restoreFrom.filter((r) => r.store === store));
      let offset = 0;
      for (const [key, ts] of records) await task.process('in', 0, offset++, ts, bytes(key), bytes('v'));
      await task.close();
      const serde = WindowedSerdes.timeWindowedSerdeFrom(S, 10);
      return sent.map((r) => [serde.deserialize('out', r.key)!.key, serde.deserialize('out', r.key)!.window.start, Serdes.Long().deserialize('out', r.value)]);
    };
    assert.deepEqual(await run([['a', 1], ['a', 2], ['b', 3]], []), [], 'nothing final yet');
    assert.deepEqual(
      new Set(changelog.map((r) => r.store)),
      new Set(['KSTREAM-AGGREGATE-STATE-STORE-0000000001', 'KTABLE-SUPPRESS-STATE-STORE-0000000004']),
    );
    // The second run starts from the changelog: a's window holds 2 (plus 1 now), b's buffered count 1.
    assert.deepEqual(await run([['a', 4], ['c', 12]], [...changelog]), [
      ['a', 0, 3],
      ['b', 0, 1],
    ]);
  });

  it('a task restored after it ran (kept as a standby, then active again) restarts its processors on the restored state', async () => {
    const b = new StreamsBuilder();
    b.stream<string, string>('in')
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count()
      .suppress(Suppressed.untilWindowCloses())
      .toStream()
      .to('out', Produced.with(WindowedSerdes.timeWindowedSerdeFrom(S, 10), Serdes.Long()));
    const { task, sent } = harness(b.build());
    await task.initialize();
    await task.process('in', 3, 0, 1, bytes('a'), bytes('v'));
    // Another instance buffered b's window meanwhile; its changelog records arrive here.
    const windowed = WindowedSerdes.timeWindowedSerdeFrom(S, 10).serialize('', { key: 'b', window: { start: 0, end: 10 } })!;
    const buffered = new Uint8Array(24 + 5 + 8);
    const view = new DataView(buffered.buffer);
    view.setBigInt64(0, 2n);
    view.setBigInt64(8, 10n);
    view.setBigInt64(16, 9n);
    buffered[24] = 1;
    view.setUint32(25, 8);
    buffered.set(Serdes.Long().serialize('', 7)!, 29);
    await task.restore('KTABLE-SUPPRESS-STATE-STORE-0000000004', [{ key: windowed, value: buffered, timestamp: 2 }]);
    await task.process('in', 3, 1, 15, bytes('c'), bytes('v'));
    const serde = WindowedSerdes.timeWindowedSerdeFrom(S, 10);
    assert.deepEqual(
      sent.map((r) => [serde.deserialize('out', r.key)!.key, Serdes.Long().deserialize('out', r.value)]),
      [['a', 1], ['b', 7]],
    );
  });
});
