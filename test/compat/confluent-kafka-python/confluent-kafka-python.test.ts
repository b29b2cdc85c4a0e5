// confluent-kafka-python 1.7 (librdkafka 2.0.2) against a Conveyor broker: AdminClient create_topics
// and list_topics, a Producer per codec (none, gzip, snappy, lz4, zstd) with explicit timestamps and
// partitions, a Consumer with assign() that must never contact a group coordinator, a restart on the
// same data directory, get_watermark_offsets and offsets_for_times. The driver is driver.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireClient } from '../../support/clients.js';
import { type ClientDriver, runCompatSuite } from '../../support/compat-suite.js';
import { runPythonJson } from '../../support/process.js';
import { type JsonConsumedRecord, PARTITIONS, recordsFromJson, recordsToJson } from '../../support/records.js';

const SCRIPT = fileURLToPath(new URL('./driver.py', import.meta.url));

interface ConsumeResult {
  records: JsonConsumedRecord[];
  complete: boolean;
  errors: string[];
  group_requests_sent: string[];
  find_coordinator_sent: number;
  find_coordinator_advertised: boolean;
  fetch_request_lines: number;
}

const driver: ClientDriver = {
  async createTopics(bootstrap, topics) {
    await runPythonJson(SCRIPT, 'create', { bootstrap, topics, partitions: PARTITIONS }, 30_000);
  },

  async partitionCount(bootstrap, topic) {
    const result = await runPythonJson<{ partitions: number }>(SCRIPT, 'partitions', { bootstrap, topic }, 30_000);
    return result.partitions;
  },

  async produce(bootstrap, topic, codec, records) {
    const result = await runPythonJson<{ delivered: number; failures: string[]; undelivered: number }>(SCRIPT, 'produce', { bootstrap, topic, codec, records: recordsToJson(records) }, 60_000);
    assert.deepEqual(result, { delivered: records.length, failures: [], undelivered: 0 }, 'delivery reports');
  },

  async consume(bootstrap, topic) {
    const result = await runPythonJson<ConsumeResult>(SCRIPT, 'consume', { bootstrap, topic, partitions: PARTITIONS, timeout: 60 }, 90_000);
    assert.deepEqual(result.errors, [], 'consumer errors');
    assert.ok(result.complete, 'every partition reached its end (partition EOF)');
    // group.id is set only because the API requires it: with assign() and no commits librdkafka
    // must never join a group or commit. It looks up a coordinator only if the broker advertises
    // FindCoordinator (librdkafka 2.0.2's BrokerGroupCoordinator feature); harmless, but never
    // without the advertisement.
    assert.ok(result.fetch_request_lines > 0, 'librdkafka protocol debug log captured (it lists each FetchRequest sent)');
    assert.deepEqual(result.group_requests_sent, [], 'group membership or commit requests sent');
    if (!result.find_coordinator_advertised) assert.equal(result.find_coordinator_sent, 0, 'FindCoordinator sent although the broker does not advertise it');
    return recordsFromJson(result.records).sort((a, b) => a.partition - b.partition);
  },

  listOffsets: (bootstrap, topic, queries) => runPythonJson(SCRIPT, 'offsets', { bootstrap, topic, partitions: PARTITIONS, queries }, 60_000),
};

test('confluent-kafka-python client compatibility', { timeout: 150_000 }, async (t) => {
  const client = await requireClient(t, 'confluent-kafka-python');
  if (client === undefined) return;
  t.diagnostic(`confluent-kafka-python ${client.version}`);
  await runCompatSuite(t, {
    client: 'confluent-python',
    codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'].map((codec) => ({ codec })),
    driver,
    verify: { checkPartition: true, checkTimestamp: true },
  });
});
