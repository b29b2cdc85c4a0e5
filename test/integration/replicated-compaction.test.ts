// A compacted partition replicated after the cleaner ran: compaction drops whole batches, so the
// leader's log has offset gaps, and a replica added later (a reassignment) fetches it from the
// start. Kafka's followers take such batches (offsets only have to move forward); the new replica
// must catch up, join the ISR and hold what the leader holds: the same latest record per key at
// the same offset (each replica compacts on its own, so older batches may differ for a while).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startCluster, type RunningCluster } from '../../src/node/start-cluster.js';
import { readBaseOffset } from '../../src/protocol/records/batch-header.js';
import { readBatches } from '../../src/testing/log-support.js';
import type { PartitionLog } from '../../src/log/partition-log.js';
import { decodeRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { waitFor } from './helpers.js';

/** Each batch's base offset and bytes, through the log's read path. */
async function batchesOf(log: PartitionLog): Promise<{ base: number; bytes: string }[]> {
  return (await readBatches(log)).map((batch) => ({ base: readBaseOffset(batch), bytes: batch.toString('hex') }));
}

/** The latest record of each key: its offset and value. */
async function latestByKey(log: PartitionLog): Promise<Map<string, string>> {
  const latest = new Map<string, string>();
  for (const batch of await readBatches(log)) {
    decodeRecordBatchSync(batch, 0).records.forEach((record, index) => latest.set(record.key!.toString(), `${readBaseOffset(batch) + index}:${record.value!.toString()}`));
  }
  return latest;
}

describe('a compacted partition replicated after cleaning', () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('a replica added later fetches the log with its gaps, joins the ISR and holds the same batches', async () => {
    cluster = await startCluster({ brokers: 3, config: { 'log.cleaner.backoff.ms': 50, 'broker.heartbeat.interval.ms': 200 } });
    const active = cluster;
    const topic = 'compacted-replicated';
    const kafka = new Kafka({ clientId: 'compaction-replication', brokers: active.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });
    const admin = kafka.admin();
    const producer = kafka.producer();
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({
        topics: [{
          topic,
          replicaAssignment: [{ partition: 0, replicas: [1] }],
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '2048' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'min.compaction.lag.ms', value: '0' },
          ],
        }],
      });
      // One record per batch, five keys over and over: compaction leaves one batch per key (the
      // latest) and drops the rest whole.
      for (let index = 0; index < 120; index++) await producer.send({ topic, acks: -1, messages: [{ key: `key-${index % 5}`, value: `value-${index}` }] });
      const leaderLog = () => active.node(1).broker!.services.replicaManager.replica(topic, 0)!.log;
      await waitFor(async () => {
        const log = leaderLog();
        const bases = [log.logStartOffset - 1, ...(await batchesOf(log)).map((batch) => batch.base)];
        return bases.some((base, index) => index > 0 && base > bases[index - 1]! + 1);
      }, 'the cleaner to leave gaps in the leader log', 30_000);

      await admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }] });
      const image = () => active.node(active.activeController()).broker!.services.image.partition(topic, 0)!;
      await waitFor(() => image().isr.length === 3, 'both new replicas in the ISR', 30_000);
      const expected = await latestByKey(leaderLog());
      assert.deepEqual([...expected.keys()].sort(), ['key-0', 'key-1', 'key-2', 'key-3', 'key-4']);
      for (const nodeId of [2, 3]) {
        const replica = await waitFor(() => active.node(nodeId).broker!.services.replicaManager.replica(topic, 0), `a replica on node ${nodeId}`);
        await waitFor(() => replica.log.logEndOffset === leaderLog().logEndOffset, `node ${nodeId} at the leader's end`);
        assert.deepEqual(await latestByKey(replica.log), expected, `node ${nodeId} holds the latest record of each key at the leader's offsets`);
        const leaderBatches = await batchesOf(leaderLog());
        const own = new Map((await batchesOf(replica.log)).map((batch) => [batch.base, batch.bytes]));
        assert.equal(own.get(leaderBatches.at(-1)!.base), leaderBatches.at(-1)!.bytes, 'the newest batch byte for byte');
      }
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
