// kafka-python 2.0.2 against a 3-broker cluster: the shared cluster scenario. Metadata as its
// KafkaClient reads it (v1: brokers and controller), KafkaAdminClient.describe_cluster (Metadata v5,
// with the cluster id), describe_topics (v5: partition errors, offline replicas), create_topics and
// delete_topics, KafkaProducer to chosen partitions, KafkaConsumer with assign(). Driver:
// kafka_python_cluster.py.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireClient } from '../../support/clients.js';
import { runPythonJson } from '../../support/process.js';
import { type ClusterDriver, type ClusterView, type PartitionView, type Sent, runClusterScenario } from './cluster-scenario.js';

const SCRIPT = fileURLToPath(new URL('./kafka_python_cluster.py', import.meta.url));
const call = <T>(command: string, payload: unknown) => runPythonJson<T>(SCRIPT, command, payload, 60_000);

const driver: ClusterDriver = {
  client: 'kafka-python',
  metadata: (bootstraps) => call<ClusterView[]>('metadata', { bootstraps }),
  describeCluster: { api: 'KafkaAdminClient.describe_cluster (Metadata)', run: (bootstraps) => call<ClusterView[]>('describe_cluster', { bootstraps }) },
  listTopics: (bootstrap) => call<string[]>('list_topics', { bootstrap }),
  partitions: (bootstrap, topic) => call<PartitionView[]>('partitions', { bootstrap, topic }),
  admin: 'client',
  createTopic: async (bootstrap, topic, partitions) => {
    await call('create', { bootstrap, topic, partitions });
  },
  deleteTopic: async (bootstrap, topic) => {
    await call('delete', { bootstrap, topic });
  },
  produce: async (bootstrap, topic, records) => {
    await call('produce', { bootstrap, topic, records });
  },
  consume: (bootstrap, topic, partitions) => call<Sent[]>('consume', { bootstrap, topic, partitions }),
};

test('kafka-python against a 3-broker cluster', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'kafka-python');
  if (client === undefined) return;
  t.diagnostic(`kafka-python ${client.version}`);
  await runClusterScenario(t, driver);
});
