// kcat (librdkafka) against a Conveyor broker: producing text lines with a key separator and one
// header through every codec librdkafka has (none, gzip, snappy, lz4, zstd), reading back with -C -J
// (JSON keeps the bytes comparable), a restart on the same data directory, -Q for offsets by time and
// -L -J for metadata. kcat has no admin API, so topics are created with kafkajs.
import { test } from 'node:test';
import { requireClient } from '../../support/clients.js';
import { type ClientDriver, runCompatSuite } from '../../support/compat-suite.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { runChecked } from '../../support/process.js';
import { type ConsumedRecord, generateTextRecords, PARTITIONS } from '../../support/records.js';

const KCAT = 'kcat';
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
// kcat's -H applies to every record of one run; each codec's run gets its own value.
const headerFor = (topic: string): [string, Buffer] => ['source', Buffer.from(`kcat ${topic}`)];

interface KcatJsonRecord {
  partition: number;
  offset: number;
  ts: number;
  headers?: string[];
  key: string | null;
  payload: string | null;
}

const driver: ClientDriver = {
  createTopics: (bootstrap, topics) => createTopicsWithKafkajs(bootstrap, topics, PARTITIONS),

  async partitionCount(bootstrap, topic) {
    const { stdout } = await runChecked(KCAT, ['-b', bootstrap, '-L', '-J', '-t', topic], { timeoutMs: 30_000 });
    const metadata = JSON.parse(stdout) as { topics: Array<{ topic: string; partitions: unknown[] }> };
    return metadata.topics.find((t) => t.topic === topic)!.partitions.length;
  },

  async produce(bootstrap, topic, codec, records) {
    const lines = records.map((r) => `${r.key.toString('utf8')}\t${r.value.toString('utf8')}\n`).join('');
    const [name, value] = headerFor(topic);
    // kcat exits 0 even if some deliveries failed (it only prints them), so failures are caught by
    // the consume step's count and byte checks.
    await runChecked(KCAT, ['-b', bootstrap, '-P', '-t', topic, '-K', '\t', '-H', `${name}=${value.toString('utf8')}`, '-z', codec, '-X', 'linger.ms=5'], {
      input: lines,
      timeoutMs: 60_000,
    });
  },

  async consume(bootstrap, topic) {
    const { stdout } = await runChecked(KCAT, ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q'], { timeoutMs: 60_000 });
    const out: ConsumedRecord[] = [];
    for (const line of stdout.split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as KcatJsonRecord;
      const headers: Array<[string, Buffer | null]> = [];
      const list = record.headers ?? [];
      for (let i = 0; i < list.length; i += 2) headers.push([list[i]!, list[i + 1] === null ? null : Buffer.from(list[i + 1]!, 'utf8')]);
      out.push({
        partition: record.partition,
        offset: record.offset,
        key: record.key === null ? null : Buffer.from(record.key, 'utf8'),
        value: record.payload === null ? null : Buffer.from(record.payload, 'utf8'),
        headers,
        timestamp: record.ts,
      });
    }
    // kcat prints partitions interleaved; order within each partition is what the checks need.
    return out.sort((a, b) => a.partition - b.partition);
  },

  async listOffsets(bootstrap, topic, queries) {
    // -Q takes topic:partition:timestamp, with -2 and -1 meaning earliest and latest.
    const query = async (pairs: Array<[number, number]>) => {
      const args = pairs.flatMap(([partition, timestamp]) => ['-t', `${topic}:${partition}:${timestamp}`]);
      const { stdout } = await runChecked(KCAT, ['-b', bootstrap, '-Q', '-J', ...args], { timeoutMs: 30_000 });
      const answer = JSON.parse(stdout) as Record<string, Record<string, { partition: number; offset: number }>>;
      return answer[topic]!;
    };
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
    const earliest = await query(partitions.map((p) => [p, -2]));
    const latest = await query(partitions.map((p) => [p, -1]));
    // -Q answers once per partition, so lookups go in rounds with each partition at most once.
    const byTimestamp: number[] = new Array<number>(queries.length);
    const remaining = queries.map((q, index) => ({ ...q, index }));
    while (remaining.length > 0) {
      const round = remaining.filter((q, i) => remaining.findIndex((other) => other.partition === q.partition) === i);
      const answer = await query(round.map((q) => [q.partition, q.timestamp]));
      for (const q of round) {
        byTimestamp[q.index] = answer[String(q.partition)]!.offset;
        remaining.splice(remaining.indexOf(q), 1);
      }
    }
    return { earliest: partitions.map((p) => earliest[String(p)]!.offset), latest: partitions.map((p) => latest[String(p)]!.offset), byTimestamp };
  },
};

test('kcat client compatibility', { timeout: 150_000 }, async (t) => {
  const client = await requireClient(t, 'kcat');
  if (client === undefined) return;
  t.diagnostic(`kcat ${client.version}`);
  await runCompatSuite(t, {
    client: 'kcat',
    codecs: CODECS.map((codec) => ({ codec })),
    driver,
    generate: (options) => generateTextRecords(options),
    // kcat picks partitions with librdkafka's key hash and stamps the send time itself; one
    // header per codec run replaces the generated headers.
    verify: { checkPartition: false, checkTimestamp: false },
    headersFor: headerFor,
  });
});
