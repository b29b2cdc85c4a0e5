// kcat (librdkafka) against a 3-broker cluster: the shared cluster scenario. kcat -L -J is its
// Metadata (brokers as host:port, the controller id; partitions with leader, replicas, ISR and the
// error librdkafka reports, which has no offline replicas), -P -p to one partition and -C -p -e to
// read one back. kcat has no admin API and no DescribeCluster: topics are created and deleted with
// Conveyor's own admin client (its CreateTopics and DeleteTopics go to the broker it is given,
// which forwards them to the active controller), and kcat checks what it sees of them.
import { test } from 'node:test';
import { ErrorCode } from '../../../src/base/error-codes.js';
import { requireClient } from '../../support/clients.js';
import { runChecked } from '../../support/process.js';
import { type ClusterDriver, type ClusterView, type PartitionView, type Sent, createTopicWithConveyor, deleteTopicWithConveyor, runClusterScenario } from './cluster-scenario.js';

const KCAT = 'kcat';

interface KcatMetadata {
  controllerid: number;
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{ topic: string; error?: string; partitions: Array<{ partition: number; error?: string; leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }> }>;
}

/** librdkafka's texts for the broker errors a partition may carry here, as Kafka's codes. */
const KCAT_ERRORS: Record<string, number> = {
  'Broker: Leader not available': ErrorCode.LEADER_NOT_AVAILABLE,
  'Broker: Replica not available': ErrorCode.REPLICA_NOT_AVAILABLE,
  'Broker: Listener not found': ErrorCode.LISTENER_NOT_FOUND,
};

async function kcatMetadata(bootstrap: string, topic?: string): Promise<KcatMetadata> {
  const { stdout } = await runChecked(KCAT, ['-b', bootstrap, '-L', '-J', ...(topic === undefined ? [] : ['-t', topic])], { timeoutMs: 30_000 });
  return JSON.parse(stdout) as KcatMetadata;
}

const driver: ClusterDriver = {
  client: 'kcat',
  async metadata(bootstraps) {
    const views: ClusterView[] = [];
    for (const bootstrap of bootstraps) {
      const metadata = await kcatMetadata(bootstrap);
      views.push({
        brokers: metadata.brokers.map(({ id, name }) => {
          const colon = name.lastIndexOf(':');
          return { nodeId: id, host: name.slice(0, colon), port: Number(name.slice(colon + 1)) };
        }),
        controllerId: metadata.controllerid,
      });
    }
    return views;
  },
  describeCluster: { missing: 'kcat has no DescribeCluster: its cluster description is -L, the Metadata checked above' },
  listTopics: async (bootstrap) => (await kcatMetadata(bootstrap)).topics.map((topic) => topic.topic),
  async partitions(bootstrap, topic) {
    const [entry] = (await kcatMetadata(bootstrap, topic)).topics;
    if (!entry || entry.error !== undefined) throw new Error(`kcat -L -t ${topic}: ${JSON.stringify(entry)}`);
    return entry.partitions
      .map((partition): PartitionView => ({
        partition: partition.partition,
        errorCode: partition.error === undefined ? 0 : (KCAT_ERRORS[partition.error] ?? -1000),
        leader: partition.leader,
        replicas: partition.replicas.map((replica) => replica.id),
        isr: partition.isrs.map((replica) => replica.id),
      }))
      .sort((a, b) => a.partition - b.partition);
  },
  admin: { via: "Conveyor's admin client" },
  createTopic: createTopicWithConveyor,
  deleteTopic: deleteTopicWithConveyor,
  async produce(bootstrap, topic, records) {
    for (const partition of [...new Set(records.map((record) => record.partition))]) {
      const lines = records.filter((record) => record.partition === partition).map((record) => `${record.value}\n`).join('');
      // kcat exits 0 even when a delivery failed (it prints it), so failures show in the read-back.
      await runChecked(KCAT, ['-b', bootstrap, '-P', '-t', topic, '-p', String(partition), '-X', 'acks=all'], { input: lines, timeoutMs: 30_000 });
    }
  },
  async consume(bootstrap, topic, partitions) {
    const out: Sent[] = [];
    for (const partition of partitions) {
      const { stdout } = await runChecked(KCAT, ['-b', bootstrap, '-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n'], { timeoutMs: 30_000 });
      for (const line of stdout.split('\n')) {
        if (line === '') continue;
        const [read, , value] = line.split(' ');
        out.push({ partition: Number(read), value: value! });
      }
    }
    return out;
  },
};

test('kcat against a 3-broker cluster', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'kcat');
  if (client === undefined) return;
  t.diagnostic(`kcat ${client.version}`);
  await runClusterScenario(t, driver);
});
