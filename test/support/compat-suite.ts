// The scenario every client compatibility suite runs, given a small driver for its client: create a
// 3-partition topic per codec, produce 10,000 keyed records with headers split across the codecs,
// read everything back from the beginning and compare bytes and order, restart the broker on the same
// data directory and read again, then check ListOffsets (earliest, latest, by timestamp).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startTestBroker, type TestBroker } from './broker.js';
import { type ConsumedRecord, generateRecords, PARTITIONS, type PartitionSummary, type TestRecord, timestampQueries, type TimestampQuery, type VerifyOptions, verifyConsumed } from './records.js';

export interface CodecSupport {
  /** Kafka's compression.type name: none, gzip, snappy, lz4, zstd. */
  codec: string;
  /** Why the client cannot use it here; the codec is skipped with this reason. */
  unavailable?: string;
}

export interface OffsetAnswers {
  earliest: number[];
  latest: number[];
  /** One answer per query, in query order. */
  byTimestamp: number[];
}

export interface ClientDriver {
  /** Creates the topics with PARTITIONS partitions each. */
  createTopics(bootstrapServers: string, topics: string[]): Promise<void>;
  /** Partition count the client's metadata reports for `topic`, if it has a metadata API. */
  partitionCount?(bootstrapServers: string, topic: string): Promise<number>;
  produce(bootstrapServers: string, topic: string, codec: string, records: TestRecord[]): Promise<void>;
  /** Every record of every partition, from offset 0 to the end. */
  consume(bootstrapServers: string, topic: string, expectedCount: number): Promise<ConsumedRecord[]>;
  listOffsets(bootstrapServers: string, topic: string, queries: TimestampQuery[]): Promise<OffsetAnswers>;
}

export interface CompatSuiteOptions {
  /** Topic name prefix, e.g. 'kafkajs'. */
  client: string;
  codecs: CodecSupport[];
  driver: ClientDriver;
  totalRecords?: number;
  /** Builds the records for one codec (defaults to binary records with explicit partitions). */
  generate?: (options: { count: number; firstSeq: number; baseTimestamp: number }) => TestRecord[];
  verify: Omit<VerifyOptions, 'partitions' | 'headersOverride'>;
  /** Headers every record of a topic carries instead of the generated ones (kcat's -H). */
  headersFor?: (topic: string) => [string, Buffer];
}

interface TopicState {
  codec: string;
  topic: string;
  records: TestRecord[];
  summaries?: PartitionSummary[];
}

/** Runs the scenario as subtests of `t`, with its own broker. */
export async function runCompatSuite(t: TestContext, options: CompatSuiteOptions): Promise<void> {
  const { driver } = options;
  const usable = options.codecs.filter((c) => c.unavailable === undefined);
  for (const codec of options.codecs) {
    if (codec.unavailable !== undefined) {
      await t.test(`codec ${codec.codec}`, (sub) => sub.skip(codec.unavailable));
      // Also on stdout, so a skipped codec shows up in plain test logs.
      console.log(`# ${options.client}: skipping codec ${codec.codec}: ${codec.unavailable}`);
    }
  }
  assert.ok(usable.length > 0, 'no usable codec');

  const broker: TestBroker = await startTestBroker({ 'num.partitions': 1, 'auto.create.topics.enable': false });
  t.after(() => broker.close());

  const total = options.totalRecords ?? 10_000;
  const perCodec = Math.floor(total / usable.length);
  // Explicit CreateTimes start an hour ago: recent enough that retention never deletes them.
  const baseTimestamp = Date.now() - 3_600_000;
  const generate = options.generate ?? ((o) => generateRecords(o));
  const topics: TopicState[] = usable.map((c, i) => {
    const count = i === usable.length - 1 ? total - perCodec * i : perCodec;
    return { codec: c.codec, topic: `${options.client}-${c.codec}`, records: generate({ count, firstSeq: i * perCodec, baseTimestamp }) };
  });
  const verifyOptionsFor = (topic: string): VerifyOptions => ({
    ...options.verify,
    partitions: PARTITIONS,
    ...(options.headersFor === undefined ? {} : { headersOverride: [options.headersFor(topic)] }),
  });

  await t.test(`creates ${topics.length} topics of ${PARTITIONS} partitions`, async () => {
    await driver.createTopics(broker.bootstrapServers, topics.map((s) => s.topic));
    if (driver.partitionCount !== undefined) {
      for (const state of topics) assert.equal(await driver.partitionCount(broker.bootstrapServers, state.topic), PARTITIONS, `${state.topic} partition count`);
    }
  });

  for (const state of topics) {
    await t.test(`produces ${state.records.length} records with ${state.codec}`, async () => {
      await driver.produce(broker.bootstrapServers, state.topic, state.codec, state.records);
    });
  }

  for (const state of topics) {
    await t.test(`consumes ${state.codec} records from the beginning with equal bytes and order`, async () => {
      const consumed = await driver.consume(broker.bootstrapServers, state.topic, state.records.length);
      state.summaries = verifyConsumed(state.records, consumed, verifyOptionsFor(state.topic));
    });
  }

  await t.test('restarts the broker on the same data directory', async () => {
    await broker.restart();
  });

  for (const state of topics) {
    await t.test(`reads ${state.codec} records again after the restart`, async () => {
      const consumed = await driver.consume(broker.bootstrapServers, state.topic, state.records.length);
      const summaries = verifyConsumed(state.records, consumed, verifyOptionsFor(state.topic));
      if (state.summaries !== undefined) assert.deepEqual(summaries, state.summaries, 'offsets and timestamps changed across the restart');
      state.summaries = summaries;
    });
  }

  for (const state of topics) {
    await t.test(`ListOffsets earliest, latest and by timestamp on ${state.topic}`, async (sub) => {
      const summaries = state.summaries;
      if (summaries === undefined) {
        sub.skip('no verified read to compare against');
        return;
      }
      const queries = timestampQueries(summaries);
      const answers = await driver.listOffsets(broker.bootstrapServers, state.topic, queries);
      assert.deepEqual(answers.earliest, summaries.map(() => 0), 'earliest offsets');
      assert.deepEqual(answers.latest, summaries.map((s) => s.count), 'latest offsets (count per partition)');
      const expected = queries.map((q) => q.expectedOffset);
      assert.deepEqual(answers.byTimestamp, expected, `offsets for timestamps ${JSON.stringify(queries)}`);
    });
  }
}
