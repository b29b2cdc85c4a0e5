// ListOffsets at the ends of its range: v0 (old-style offset lists, removed from Apache Kafka 4.0
// by KIP-896 but served here for old clients) and v10 (KIP-1075's TimeoutMs), the version gate of
// the special timestamps, and kafka-python: v0 through api_version=(0, 10, 0), and what its broker
// version detection makes of this broker.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ApiKey, ApiVersionsApi, DeleteRecordsApi, ListOffsetsApi } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { requireClient } from '../support/clients.js';
import { PYTHON, runChecked } from '../support/process.js';
import type { RawClient } from '../support/raw-client.js';
import { type TestBroker, createTopic, listOffset, produceOk, startTestBroker, uniqueTopic } from './helpers.js';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;
const SEGMENT_BYTES = '1000';

/** A batch of about 600 bytes: with segment.bytes 1000, each batch after a segment's first starts a new one. */
function batchAt(timestamp: number, count = 1): Buffer {
  const value = Buffer.alloc(Math.floor(540 / count), 'x');
  return buildRecordBatchSync(Array.from({ length: count }, () => ({ value, timestamp })));
}

/** One v0 lookup: the error code and the old-style offset list. */
async function listOffsetsV0(client: RawClient, topic: string, partition: number, timestamp: number, maxNumOffsets: number, replicaId = -1): Promise<{ errorCode: number; offsets: number[] }> {
  const response = await client.request(ListOffsetsApi, 0, {
    replicaId,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: BigInt(timestamp), maxNumOffsets }] }],
  });
  const result = response.topics[0]?.partitions[0];
  assert.ok(result, 'list offsets v0 response has no partition');
  return { errorCode: result.errorCode, offsets: (result.oldStyleOffsets ?? []).map(Number) };
}

async function deleteRecordsBefore(client: RawClient, topic: string, offset: number): Promise<void> {
  const response = await client.request(DeleteRecordsApi, 2, { topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: BigInt(offset) }] }], timeoutMs: 5000 });
  assert.equal(response.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE, 'delete records');
}

describe('ListOffsets v0 and v10', () => {
  let broker: TestBroker;
  // Every batch starts a segment of its own (SEGMENT_BYTES holds one batch, not two).
  // Segments: [0-1] max timestamp 1000, [2] 2000, [3] 3000; log end offset 4.
  const segmented = uniqueTopic('segmented');
  const empty = uniqueTopic('empty');
  before(async () => {
    broker = await startTestBroker();
    await createTopic(broker.client, segmented, 1, { 'segment.bytes': SEGMENT_BYTES });
    await createTopic(broker.client, empty);
    await produceOk(broker.client, segmented, 0, batchAt(1000, 2));
    await produceOk(broker.client, segmented, 0, batchAt(2000));
    await produceOk(broker.client, segmented, 0, batchAt(3000));
  });
  after(async () => {
    await broker.close();
  });

  it('advertises ListOffsets 0-10', async () => {
    const response = await broker.client.request(ApiVersionsApi, 3, { clientSoftwareName: 'conveyor-test', clientSoftwareVersion: '1' });
    const entry = response.apiKeys.find((key) => key.apiKey === ApiKey.ListOffsets);
    assert.deepEqual(entry && [entry.minVersion, entry.maxVersion], [0, 10]);
  });

  it('v0 latest: the log end offset, then segment base offsets going back, up to MaxNumOffsets', async () => {
    assert.deepEqual(await listOffsetsV0(broker.client, segmented, 0, LATEST, 1), { errorCode: ErrorCode.NONE, offsets: [4] });
    assert.deepEqual((await listOffsetsV0(broker.client, segmented, 0, LATEST, 2)).offsets, [4, 3]);
    assert.deepEqual((await listOffsetsV0(broker.client, segmented, 0, LATEST, 10)).offsets, [4, 3, 2, 0]);
    assert.deepEqual((await listOffsetsV0(broker.client, segmented, 0, LATEST, 0)).offsets, []);
    // Not from a consumer (a debugging replica id): the same on a single node, where the high
    // watermark is the log end offset.
    assert.deepEqual((await listOffsetsV0(broker.client, segmented, 0, LATEST, 10, -2)).offsets, [4, 3, 2, 0]);
  });

  it('v0 earliest: the log start offset alone, whatever MaxNumOffsets', async () => {
    assert.deepEqual(await listOffsetsV0(broker.client, segmented, 0, EARLIEST, 1), { errorCode: ErrorCode.NONE, offsets: [0] });
    assert.deepEqual((await listOffsetsV0(broker.client, segmented, 0, EARLIEST, 10)).offsets, [0]);
  });

  it('v0 by timestamp: base offsets of the segments whose time is at or before it, descending', async () => {
    const cases: [number, number, number[]][] = [
      [999, 10, []],
      [1000, 10, [0]],
      [1999, 10, [0]],
      [2000, 10, [2, 0]],
      [2500, 1, [2]],
      [3000, 2, [3, 2]],
      [3500, 10, [3, 2, 0]],
      // The log end offset counts as written now.
      [Date.now() + 3_600_000, 10, [4, 3, 2, 0]],
      [Date.now() + 3_600_000, 1, [4]],
    ];
    for (const [timestamp, maxNumOffsets, offsets] of cases) {
      const result = await listOffsetsV0(broker.client, segmented, 0, timestamp, maxNumOffsets);
      assert.deepEqual(result, { errorCode: ErrorCode.NONE, offsets }, `timestamp ${timestamp}, MaxNumOffsets ${maxNumOffsets}`);
    }
  });

  it('v0 on an empty partition, an unknown partition and a timestamp v0 does not know', async () => {
    assert.deepEqual((await listOffsetsV0(broker.client, empty, 0, LATEST, 5)).offsets, [0]);
    assert.deepEqual((await listOffsetsV0(broker.client, empty, 0, EARLIEST, 5)).offsets, [0]);
    assert.deepEqual((await listOffsetsV0(broker.client, empty, 0, 1000, 5)).offsets, []);
    assert.deepEqual(await listOffsetsV0(broker.client, empty, 3, LATEST, 1), { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, offsets: [] });
    assert.deepEqual(await listOffsetsV0(broker.client, uniqueTopic('nope'), 0, LATEST, 1), { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, offsets: [] });
    assert.deepEqual(await listOffsetsV0(broker.client, segmented, 0, MAX_TIMESTAMP, 1), { errorCode: ErrorCode.UNSUPPORTED_VERSION, offsets: [] });
  });

  it('v0 after DeleteRecords: a segment base below the log start offset is raised to it', async () => {
    const topic = uniqueTopic('deleted');
    await createTopic(broker.client, topic, 1, { 'segment.bytes': SEGMENT_BYTES });
    await produceOk(broker.client, topic, 0, batchAt(1000, 3)); // offsets 0-2
    await produceOk(broker.client, topic, 0, batchAt(2000, 2)); // offsets 3-4
    await deleteRecordsBefore(broker.client, topic, 1);
    assert.deepEqual((await listOffsetsV0(broker.client, topic, 0, EARLIEST, 5)).offsets, [1]);
    assert.deepEqual((await listOffsetsV0(broker.client, topic, 0, LATEST, 5)).offsets, [5, 3, 1]);
    assert.deepEqual((await listOffsetsV0(broker.client, topic, 0, 1500, 5)).offsets, [1]);
  });

  it('v10 answers as v9, with TimeoutMs accepted (no remote storage to wait for)', async () => {
    for (const version of [9, 10]) {
      const lookups: [number, bigint, bigint][] = [
        [EARLIEST, 0n, -1n],
        [LATEST, 4n, -1n],
        [MAX_TIMESTAMP, 3n, 3000n],
        [EARLIEST_LOCAL, 0n, -1n],
        [LATEST_TIERED, -1n, -1n],
        [1500, 2n, 2000n],
        [3001, -1n, -1n],
      ];
      for (const [timestamp, offset, found] of lookups) {
        const result = await listOffset(broker.client, segmented, 0, timestamp, version);
        assert.deepEqual([result.errorCode, result.offset, result.timestamp], [ErrorCode.NONE, offset, found], `v${version} timestamp ${timestamp}`);
      }
    }
    const response = await broker.client.request(ListOffsetsApi, 10, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: segmented, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: BigInt(LATEST) }] }],
      timeoutMs: 0,
    });
    assert.deepEqual(
      response.topics[0]?.partitions.map((p) => [p.errorCode, p.offset]),
      [[ErrorCode.NONE, 4n]],
    );
  });

  it('a special timestamp needs the version that introduced it; unknown ones are refused', async () => {
    const cases: [number, number, number][] = [
      [MAX_TIMESTAMP, 6, ErrorCode.UNSUPPORTED_VERSION],
      [MAX_TIMESTAMP, 7, ErrorCode.NONE],
      [EARLIEST_LOCAL, 7, ErrorCode.UNSUPPORTED_VERSION],
      [EARLIEST_LOCAL, 8, ErrorCode.NONE],
      [LATEST_TIERED, 8, ErrorCode.UNSUPPORTED_VERSION],
      [LATEST_TIERED, 9, ErrorCode.NONE],
      [-6, 10, ErrorCode.UNSUPPORTED_VERSION],
      [-100, 1, ErrorCode.UNSUPPORTED_VERSION],
      [LATEST, 1, ErrorCode.NONE],
      [EARLIEST, 1, ErrorCode.NONE],
    ];
    for (const [timestamp, version, errorCode] of cases) {
      const result = await listOffset(broker.client, segmented, 0, timestamp, version);
      assert.equal(result.errorCode, errorCode, `v${version} timestamp ${timestamp}`);
      if (errorCode !== ErrorCode.NONE) assert.equal(result.offset, -1n);
    }
  });
});

// kafka-python reads offsets with ListOffsets v0 when told the broker is older than 0.10.1, and
// otherwise guesses the broker's version from ApiVersions. Its output is one JSON line.
const KAFKA_PYTHON_SCRIPT = `
import json, logging, sys
import kafka
from kafka import KafkaConsumer, TopicPartition
request = json.load(sys.stdin)
messages = []
class Collect(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())
fetcher_log = logging.getLogger('kafka.consumer.fetcher')
fetcher_log.addHandler(Collect())
fetcher_log.setLevel(logging.DEBUG)
detected = KafkaConsumer(bootstrap_servers=request['bootstrap'], api_version=None, group_id=None, enable_auto_commit=False)
guess = list(detected.config['api_version'])
detected.close()
old = KafkaConsumer(bootstrap_servers=request['bootstrap'], api_version=(0, 10, 0), group_id=None, enable_auto_commit=False)
tp = TopicPartition(request['topic'], 0)
beginning = old.beginning_offsets([tp])[tp]
end = old.end_offsets([tp])[tp]
old.close()
v0_answers = sum(1 for m in messages if m.startswith('Handling v0 ListOffsetResponse'))
print(json.dumps({'version': kafka.__version__, 'guess': guess, 'beginning': beginning, 'end': end, 'v0Answers': v0_answers}))
`;

test('kafka-python: ListOffsets v0 through api_version=(0, 10, 0), and its broker version guess', { timeout: 90_000 }, async (t) => {
  const client = await requireClient(t, 'kafka-python');
  if (client === undefined) return;
  const broker = await startTestBroker();
  try {
    const topic = uniqueTopic('kafka-python-v0');
    await createTopic(broker.client, topic);
    await produceOk(broker.client, topic, 0, batchAt(Date.now(), 5));
    await deleteRecordsBefore(broker.client, topic, 2);
    const input = JSON.stringify({ bootstrap: `${broker.running.host}:${broker.running.port}`, topic });
    const result = await runChecked(PYTHON, ['-c', KAFKA_PYTHON_SCRIPT], { input, timeoutMs: 60_000 });
    const answer = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { version: string; guess: number[]; beginning: number; end: number; v0Answers: number };
    t.diagnostic(`kafka-python ${answer.version} guessed broker version ${answer.guess.join('.')}`);
    assert.deepEqual([answer.beginning, answer.end], [2, 5], 'beginning_offsets and end_offsets through v0');
    assert.equal(answer.v0Answers, 2, 'both lookups were answered in v0');
    if (answer.version.startsWith('2.0.')) {
      // kafka-python 2.0.x cannot name a 4.0 broker: its table of probes ends at (2, 5, 0), which
      // DescribeAcls v2 matches (served since the ACL APIs).
      assert.deepEqual(answer.guess, [2, 5, 0]);
    } else {
      // Later kafka-python releases recognise a 4.0 broker by ListOffsets v10 (not verified here:
      // only 2.0.2 is installed).
      assert.ok(answer.guess[0]! >= 4, `a 4.x broker, guessed ${answer.guess.join('.')}`);
    }
  } finally {
    await broker.close();
  }
});
