// kafka-python 2.0.2 against a Conveyor broker: KafkaAdminClient create_topics, KafkaProducer with
// every codec (gzip always; snappy, lz4 and zstd need python3-snappy, python3-lz4 and
// python3-zstandard: a missing one is skipped locally and fails under CONVEYOR_REQUIRE_ALL_CLIENTS=1,
// as CI runs), KafkaConsumer with assign() and group_id=None, a restart on the same data directory,
// beginning_offsets/end_offsets and offsets_for_times. The driver is driver.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installedCodecs, requireClient } from '../../support/clients.js';
import { type ClientDriver, runCompatSuite } from '../../support/compat-suite.js';
import { runPythonJson } from '../../support/process.js';
import { type JsonConsumedRecord, PARTITIONS, recordsFromJson, recordsToJson } from '../../support/records.js';

const SCRIPT = fileURLToPath(new URL('./driver.py', import.meta.url));

const driver: ClientDriver = {
  async createTopics(bootstrap, topics) {
    await runPythonJson(SCRIPT, 'create', { bootstrap, topics, partitions: PARTITIONS }, 30_000);
  },

  async partitionCount(bootstrap, topic) {
    return (await runPythonJson<{ partitions: number }>(SCRIPT, 'partitions', { bootstrap, topic }, 30_000)).partitions;
  },

  async produce(bootstrap, topic, codec, records) {
    const result = await runPythonJson<{ delivered: number; failures: string[] }>(SCRIPT, 'produce', { bootstrap, topic, codec, records: recordsToJson(records) }, 90_000);
    assert.deepEqual(result, { delivered: records.length, failures: [] }, 'send futures');
  },

  async consume(bootstrap, topic) {
    const result = await runPythonJson<{ records: JsonConsumedRecord[]; complete: boolean; ends: number[] }>(SCRIPT, 'consume', { bootstrap, topic, partitions: PARTITIONS, timeout: 60 }, 90_000);
    assert.ok(result.complete, `positions reached end offsets ${JSON.stringify(result.ends)}`);
    return recordsFromJson(result.records).sort((a, b) => a.partition - b.partition);
  },

  async listOffsets(bootstrap, topic, queries) {
    const answers = await runPythonJson<{ earliest: number[]; latest: number[]; byTimestamp: Array<number | null> }>(SCRIPT, 'offsets', { bootstrap, topic, partitions: PARTITIONS, queries }, 60_000);
    // offsets_for_times answers None when no record is that recent; -1 keeps the mismatch visible.
    return { ...answers, byTimestamp: answers.byTimestamp.map((o) => o ?? -1) };
  },
};

test('kafka-python client compatibility', { timeout: 150_000 }, async (t) => {
  const client = await requireClient(t, 'kafka-python');
  if (client === undefined) return;
  t.diagnostic(`kafka-python ${client.version}`);
  const codecs = installedCodecs('kafka-python', await runPythonJson<Record<string, string | null>>(SCRIPT, 'codecs', {}, 20_000));
  await runCompatSuite(t, { client: 'kafka-python', codecs, driver, verify: { checkPartition: true, checkTimestamp: true } });
});
